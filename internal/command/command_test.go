package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
)

func TestJoinKeyHasNoEmptySegments(t *testing.T) {
	assert.Equal(t, "cmd/i-1/awsrunShellScript/0.awsrunShellScript", joinKey("", "cmd", "i-1", "awsrunShellScript", "0.awsrunShellScript"))
	assert.Equal(t, "soar/out/cmd/i-1", joinKey("/soar/out/", "cmd", "", "i-1/"))
}

func TestStepOutputPrefixLayouts(t *testing.T) {
	sent := &Sent{CommandID: "c0ffee00-0000-4000-8000-000000000001", KeyPrefix: "soar"}
	inst := "i-0123456789abcdef0"

	// Schema 1.2: the plugin name is the plugin itself.
	got := stepOutputPrefix(sent, inst, types.CommandPlugin{Name: aws.String("aws:runShellScript")})
	assert.Equal(t, "soar/"+sent.CommandID+"/"+inst+"/awsrunShellScript/0.awsrunShellScript", got)

	// Schema 2.2: the name is the step's, the plugin comes from the prefix
	// that SSM reports.
	got = stepOutputPrefix(sent, inst, types.CommandPlugin{
		Name:              aws.String("report"),
		OutputS3KeyPrefix: aws.String("soar/" + sent.CommandID + "/" + inst + "/awsrunPowerShellScript"),
	})
	assert.Equal(t, "soar/"+sent.CommandID+"/"+inst+"/awsrunPowerShellScript/report", got)

	// The stdout URL, when SSM gives one, is the most direct source.
	got = stepOutputPrefix(sent, inst, types.CommandPlugin{
		Name:              aws.String("report"),
		StandardOutputUrl: aws.String("https://s3.eu-west-1.amazonaws.com/bucket/x/y%20z/report/stdout"),
	})
	assert.Equal(t, "x/y z/report", got)
}

func TestKeyFromURLStyles(t *testing.T) {
	for raw, want := range map[string]string{
		"https://s3.us-east-1.amazonaws.com/bucket/p/cmd/i-1/awsrunShellScript/0.awsrunShellScript/stdout": "p/cmd/i-1/awsrunShellScript/0.awsrunShellScript",
		"https://bucket.s3.amazonaws.com/cmd/i-1/awsrunShellScript/step/stdout":                            "cmd/i-1/awsrunShellScript/step",
	} {
		got, ok := keyFromURL(raw, Stdout)
		assert.True(t, ok, raw)
		assert.Equal(t, want, got, raw)
	}
	for _, raw := range []string{"", "https://s3.amazonaws.com/bucket/stdout", "https://s3.amazonaws.com/bucket/a/stderr", "::"} {
		_, ok := keyFromURL(raw, Stdout)
		assert.False(t, ok, raw)
	}
}

func TestCommentCarriesContainerAndFits(t *testing.T) {
	comment, cut := Comment(" triage ", "345")
	assert.Equal(t, "SOAR container 345: triage", comment)
	assert.False(t, cut)
	comment, _ = Comment("", "345")
	assert.Equal(t, "SOAR container 345", comment)
	comment, _ = Comment("by hand", "")
	assert.Equal(t, "by hand", comment)

	long, cut := Comment(strings.Repeat("é", 150), "7")
	assert.Equal(t, MaxCommentLength, len([]rune(long)), "cut to 100 characters, not bytes")
	assert.True(t, cut)
}

func TestInvocationExitCode(t *testing.T) {
	inv := Invocation{Status: "Failed", Steps: []Step{{ResponseCode: 0}, {ResponseCode: 3}, {ResponseCode: 1}}}
	assert.EqualValues(t, 3, inv.ResponseCode(), "the first step that did not succeed")
	assert.False(t, inv.Succeeded())
	assert.EqualValues(t, -1, (&Invocation{}).ResponseCode(), "no step reported one")

	ok := Invocation{Status: "Success", Steps: []Step{{ResponseCode: 0}}}
	assert.True(t, ok.Succeeded())
}

func TestFinalStatuses(t *testing.T) {
	for _, s := range []string{"Success", "Failed", "TimedOut", "Cancelled"} {
		assert.True(t, Final(s), s)
	}
	for _, s := range []string{"", "Pending", "InProgress", "Delayed", "Cancelling"} {
		assert.False(t, Final(s), s)
	}
}

func TestBackoffGrowsToCap(t *testing.T) {
	b := (&Engine{PollStart: 100 * time.Millisecond, PollMax: 3 * time.Second}).newBackoff()
	var seen []time.Duration
	for i := 0; i < 12; i++ {
		seen = append(seen, b.next)
		// A zero budget returns at once and still advances the backoff.
		assert.NoError(t, b.sleep(context.Background(), 0))
	}
	assert.Equal(t, 100*time.Millisecond, seen[0])
	assert.Equal(t, 150*time.Millisecond, seen[1])
	assert.Equal(t, 3*time.Second, seen[len(seen)-1], "the delay is capped")
}

func TestBackoffStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := (&Engine{PollStart: time.Hour, PollMax: time.Hour}).newBackoff()
	assert.ErrorIs(t, b.sleep(ctx, time.Hour), context.Canceled)
}

func TestExplainAWSErrorAddsHint(t *testing.T) {
	err := Explain(&smithy.GenericAPIError{Code: "InvalidInstanceId", Message: "Instances not in a valid state"})
	assert.Contains(t, err.Error(), "InvalidInstanceId: Instances not in a valid state (the instance is not a managed instance")
	assert.Equal(t, "InvalidInstanceId", ErrorCode(err), "the code stays reachable through the wrapper")

	plain := errors.New("something else")
	assert.Equal(t, plain, Explain(plain))
	assert.Nil(t, Explain(nil))
}

func TestWaitTimeoutMessageSaysWhatToDo(t *testing.T) {
	err := &WaitTimeoutError{CommandID: "c1", Waited: "10s", Pending: []string{"i-1 (InProgress)"}}
	assert.Contains(t, err.Error(), "command c1 did not finish within 10s")
	assert.Contains(t, err.Error(), "i-1 (InProgress)")
	assert.Contains(t, err.Error(), "raise wait_seconds or follow it with list commands (command_id c1)")
}

func TestWaitTimeoutMessageTellsUndeliveredCommand(t *testing.T) {
	err := &WaitTimeoutError{CommandID: "c1", Waited: "5s", Pending: []string{"i-1 (Pending)"}}
	assert.Contains(t, err.Error(), "command c1 was not delivered within 5s (waiting: i-1 (Pending))")
	assert.Contains(t, err.Error(), "ping status")
	assert.NotContains(t, err.Error(), "keeps running", "a command that never arrived does not run")

	mixed := &WaitTimeoutError{CommandID: "c1", Waited: "5s", Pending: []string{"i-1 (Pending)", "i-2 (InProgress)"}}
	assert.Contains(t, mixed.Error(), "did not finish within 5s")
}

func TestExplainCancelledCall(t *testing.T) {
	err := Explain(fmt.Errorf("operation error STS: GetCallerIdentity, %w", context.Canceled))
	assert.Equal(t, "cancelled before AWS responded", err.Error())
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTrimPartialRune(t *testing.T) {
	assert.Equal(t, []byte("xé"), trimPartialRune([]byte("xé")))
	assert.Equal(t, []byte("x"), trimPartialRune([]byte("x\xc3")), "half of é is dropped")
	assert.Equal(t, []byte("x"), trimPartialRune([]byte("x\xe2\x82")), "two thirds of € are dropped")
	assert.Equal(t, []byte("ab"), trimPartialRune([]byte("ab")))
	assert.Equal(t, []byte{}, trimPartialRune([]byte{}))
}

func TestPendingLabel(t *testing.T) {
	assert.Equal(t, "InProgress", pendingLabel("InProgress", "Pending", nil))
	assert.Equal(t, "not yet visible", pendingLabel("", "", nil))
	assert.Equal(t, "InProgress, no longer listed", pendingLabel("", "InProgress", nil))
	assert.Equal(t, "poll failed", pendingLabel("", "InProgress", errors.New("connection refused")))
}
