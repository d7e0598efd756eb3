package actions

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/awsconfig"
	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// The sandbox returns an empty list for an unknown ID in Filters, as the
// end-to-end tests check. SSM returns InvalidInstanceId for one in the older
// InstanceInformationFilterList, and this test pins that the action gives
// the same advice if SSM ever returns it for Filters too.
func TestDescribeInstanceInvalidInstanceIDGivesAdvice(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.Faults().Fail("DescribeInstanceInformation", "InvalidInstanceId", http.StatusBadRequest, 1)
	clients, err := awsconfig.New(context.Background(), awsconfig.Request{Asset: awsconfig.Asset{
		Region:      "us-east-1",
		AccessKey:   sandbox.ExampleAccessKeyID,
		SecretKey:   sandbox.ExampleSecretAccessKey,
		EndpointURL: sb.URL,
	}})
	require.NoError(t, err)
	env := &connector.Env{AWS: clients, Log: slog.New(slog.DiscardHandler)}

	outcome, err := describeInstance(context.Background(), env, describeInstanceParams{InstanceID: "i-0123456789abcdef1"})
	require.Error(t, err)
	assert.Nil(t, outcome)
	assert.Contains(t, err.Error(), "i-0123456789abcdef1 is not a managed instance in us-east-1")
	assert.Contains(t, err.Error(), "AmazonSSMManagedInstanceCore")
	assert.Contains(t, err.Error(), "InvalidInstanceId")
	// InvalidInstanceId is final, so the action must not call again.
	assert.Equal(t, 1, sb.Server.Faults().Calls("DescribeInstanceInformation"))
}
