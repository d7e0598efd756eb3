package command

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/awsconfig"
	"github.com/awsssm/awsssm/internal/sandbox"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

const testInstance = "i-0123456789abcdef0"

// progressLog collects an engine's progress lines.
type progressLog struct {
	mu    sync.Mutex
	lines []string
}

func (p *progressLog) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, fmt.Sprintf(format, args...))
}

func (p *progressLog) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// newTestEngine returns an engine whose clients talk to a new sandbox.
func newTestEngine(t *testing.T) (*Engine, *sandboxtest.Sandbox, *progressLog) {
	t.Helper()
	sb := sandboxtest.Start(t)
	clients, err := awsconfig.New(context.Background(), awsconfig.Request{Asset: awsconfig.Asset{
		Region: "us-east-1", AccessKey: sandbox.ExampleAccessKeyID, SecretKey: sandbox.ExampleSecretAccessKey, EndpointURL: sb.URL,
	}})
	require.NoError(t, err)
	log := &progressLog{}
	return &Engine{SSM: clients.SSM, S3: clients.S3, STS: clients.STS, Region: clients.Region, Progress: log.add}, sb, log
}

func sendEcho(t *testing.T, e *Engine) *Sent {
	t.Helper()
	sent, err := e.Send(context.Background(), Request{
		InstanceIDs:  []string{testInstance},
		DocumentName: DocumentShell,
		Parameters:   map[string][]string{"commands": {"echo engine"}},
	})
	require.NoError(t, err)
	return sent
}

func TestWaitOutlastsThrottling(t *testing.T) {
	e, sb, _ := newTestEngine(t)
	// More throttled responses than the SDK's 5 attempts of one call, so the
	// engine itself must treat throttling as pending.
	sb.Server.Faults().Throttle("GetCommandInvocation", 6)

	sent := sendEcho(t, e)
	invocations, err := e.Wait(context.Background(), sent, []string{testInstance}, time.Minute)
	require.NoError(t, err)
	require.Len(t, invocations, 1)
	assert.True(t, invocations[0].Succeeded())
	assert.Greater(t, sb.Server.Faults().Calls("GetCommandInvocation"), 6)
}

func TestWaitReportsLongWaits(t *testing.T) {
	e, sb, log := newTestEngine(t)
	sb.Server.HangCommands(true)

	// A clock that moves 20 s a reading makes a long wait of a short one.
	var mu sync.Mutex
	now := time.Now()
	e.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(20 * time.Second)
		return now
	}

	sent := sendEcho(t, e)
	_, err := e.Wait(context.Background(), sent, []string{testInstance}, 5*time.Minute)
	var timeout *WaitTimeoutError
	require.ErrorAs(t, err, &timeout)
	assert.Equal(t, sent.CommandID, timeout.CommandID)
	assert.Contains(t, log.text(), "Still waiting for command "+sent.CommandID)
}

func TestReadStreamMissingObjectIsEmpty(t *testing.T) {
	e, sb, _ := newTestEngine(t)
	require.NoError(t, sb.Server.CreateBucket("engine-output", "us-east-1"))
	step := Step{Name: "aws:runShellScript", Bucket: "engine-output", OutputPrefix: "none/such/prefix"}

	text, err := e.ReadStream(context.Background(), "c", Invocation{InstanceID: testInstance, Steps: []Step{step}}, step, Stderr, 1024, nil)
	require.NoError(t, err)
	assert.Equal(t, "", text.Text)
	assert.Equal(t, int64(0), text.Size)
	assert.Equal(t, "none/such/prefix/stderr", text.S3Key)
}

func TestWaitOutlastsAShortOutage(t *testing.T) {
	e, sb, log := newTestEngine(t)
	sent := sendEcho(t, e)
	// Seven HTTP 500s: the first poll fails after the SDK's 5 attempts, and
	// the next gets two more 500s and then a response.
	sb.Server.Faults().ServerError("GetCommandInvocation", 7)

	invocations, err := e.Wait(context.Background(), sent, []string{testInstance}, time.Minute)
	require.NoError(t, err)
	require.Len(t, invocations, 1)
	assert.True(t, invocations[0].Succeeded())
	assert.Contains(t, log.text(), "Polling command "+sent.CommandID+" failed")
	assert.Contains(t, log.text(), "SSM responds again")
}

func TestWaitStopsAfterTheOutageLimit(t *testing.T) {
	e, sb, _ := newTestEngine(t)
	e.OutageLimit = time.Second
	// A clock that moves 1 s a reading outlasts the limit in a few polls.
	var mu sync.Mutex
	now := time.Now()
	e.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	sent := sendEcho(t, e)
	sb.Server.Faults().ServerError("GetCommandInvocation", 1000)

	_, err := e.Wait(context.Background(), sent, []string{testInstance}, time.Hour)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "polling SSM failed for")
	assert.Contains(t, err.Error(), "command_id "+sent.CommandID)
}
