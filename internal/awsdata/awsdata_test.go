package awsdata

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
)

func TestMapFollowsBoto3Shape(t *testing.T) {
	requested := time.Date(2026, 12, 4, 19, 47, 33, 500, time.FixedZone("CET", 3600))
	out := &ssm.SendCommandOutput{Command: &types.Command{
		CommandId:         aws.String("5d1f"),
		Comment:           aws.String(""),
		CompletedCount:    0,
		InstanceIds:       []string{"i-0123456789abcdef0"},
		Parameters:        map[string][]string{"commands": {"uname -a"}},
		RequestedDateTime: &requested,
		Status:            types.CommandStatusPending,
		NotificationConfig: &types.NotificationConfig{
			NotificationArn:    aws.String(""),
			NotificationEvents: []types.NotificationEvent{},
		},
	}}

	m := Object(out)
	cmd, ok := m["Command"].(map[string]any)
	if !ok {
		t.Fatalf("Command missing or not an object: %#v", m)
	}

	assert.Equal(t, "5d1f", cmd["CommandId"])
	assert.Equal(t, "", cmd["Comment"], "an empty string that AWS sent is kept")
	assert.Equal(t, int64(0), cmd["CompletedCount"])
	assert.Equal(t, []any{"i-0123456789abcdef0"}, cmd["InstanceIds"])
	assert.Equal(t, map[string]any{"commands": []any{"uname -a"}}, cmd["Parameters"])
	assert.Equal(t, "2026-12-04 18:47:33", cmd["RequestedDateTime"], "timestamps are UTC without fractions")
	assert.Equal(t, "Pending", cmd["Status"])
	assert.NotContains(t, cmd, "ServiceRole", "a member AWS did not send is left out")
	assert.NotContains(t, cmd, "Targets", "a nil list is left out")
	assert.Equal(t, []any{}, cmd["NotificationConfig"].(map[string]any)["NotificationEvents"], "an empty list is kept")
	assert.NotContains(t, m, "ResultMetadata")
}
