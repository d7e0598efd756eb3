package actions

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/awsconfig"
	"github.com/awsssm/awsssm/internal/connector"
)

// The sandbox returns an empty list for an unknown ID in Filters, as the
// end-to-end tests check. SSM returns InvalidInstanceId for one in the older
// InstanceInformationFilterList, and this test pins that the action gives
// the same advice if SSM ever returns it for Filters too.
func TestDescribeInstanceInvalidInstanceIDGivesAdvice(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", "4f6a2c1e-0000-4000-8000-000000000000")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"InvalidInstanceId","message":"Instances [[i-0123456789abcdef1]] not in a valid state for account 123456789012"}`)
	}))
	defer srv.Close()

	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
	}
	env := &connector.Env{
		AWS: &awsconfig.Clients{Region: "us-east-1", SSM: ssm.NewFromConfig(cfg)},
		Log: slog.New(slog.DiscardHandler),
	}

	outcome, err := describeInstance(context.Background(), env, describeInstanceParams{InstanceID: "i-0123456789abcdef1"})
	require.Error(t, err)
	assert.Nil(t, outcome)
	assert.Contains(t, err.Error(), "i-0123456789abcdef1 is not a managed instance in us-east-1")
	assert.Contains(t, err.Error(), "AmazonSSMManagedInstanceCore")
	assert.Contains(t, err.Error(), "InvalidInstanceId")
}
