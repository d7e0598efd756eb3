package sandbox

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// waitFile waits until a file exists and is not empty.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if info, err := os.Stat(path); err == nil && info.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not written within 30s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// expectProcessGone checks that the process whose pid a script wrote to
// pidFile no longer exists. A killed child may linger for a moment until
// init reaps it, so this polls.
func expectProcessGone(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("read pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file holds %q: %v", data, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists (kill 0: %v)", pid, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCloseKillsRunningProcesses(t *testing.T) {
	ts := newSSMTestServer(t)
	pidFile := t.TempDir() + "/sleep.pid"
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"sleep 300 &", "echo $! > " + pidFile, "wait"}})
	waitFile(t, pidFile)

	closed := make(chan error, 1)
	go func() { closed <- ts.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("close: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Close did not return within 60s while a command was running")
	}
	expectProcessGone(t, pidFile)
	_ = id
}

func TestStepsWaitForAProcessSlot(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	marker := t.TempDir() + "/release"
	// Fill every slot with a step that waits for the marker file.
	var ids []string
	for range maxConcurrentSteps {
		ids = append(ids, ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"while [ ! -e " + marker + " ]; do sleep 0.05; done"}}))
	}
	queued := ts.sendShell(t, secondLinuxInstance, map[string][]string{"commands": {"echo ran"}})
	for _, id := range ids {
		ts.waitStatus(t, id, linuxInstance, types.CommandInvocationStatusInProgress, 30*time.Second)
	}
	out, err := ts.Client.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(queued), InstanceId: aws.String(secondLinuxInstance)})
	if err != nil {
		t.Fatalf("get command invocation: %v", err)
	}
	if out.Status != types.CommandInvocationStatusPending {
		t.Errorf("the step beyond the %d slots is %s, want Pending", maxConcurrentSteps, out.Status)
	}

	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	inv := ts.waitInvocation(t, queued, secondLinuxInstance, "", 60*time.Second)
	if aws.ToString(inv.StandardOutputContent) != "ran\n" {
		t.Errorf("queued step printed %q", aws.ToString(inv.StandardOutputContent))
	}
}

func TestHangCommandsStayInProgressUntilCancel(t *testing.T) {
	ts := newSSMTestServer(t)
	ts.HangCommands(true)
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"echo never"}})
	ts.waitStatus(t, id, linuxInstance, types.CommandInvocationStatusInProgress, 30*time.Second)
	if len(ts.CommandScripts(linuxInstance)) != 0 {
		t.Error("a hung command ran its script")
	}
	if _, err := ts.Client.CancelCommand(context.Background(), &ssm.CancelCommandInput{CommandId: aws.String(id)}); err != nil {
		t.Fatalf("cancel command: %v", err)
	}
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)
	if inv.Status != types.CommandInvocationStatusCancelled {
		t.Errorf("status %s, want Cancelled", inv.Status)
	}
}

func TestHangCommandsTimeOut(t *testing.T) {
	t.Parallel()
	ts := newSSMTestServer(t)
	ts.HangCommands(true)
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"echo never"}, "executionTimeout": {"5"}})
	inv := ts.waitInvocation(t, id, linuxInstance, "", 60*time.Second)
	if inv.Status != types.CommandInvocationStatusTimedOut || aws.ToString(inv.StatusDetails) != "ExecutionTimedOut" {
		t.Errorf("status %s/%s, want TimedOut/ExecutionTimedOut", inv.Status, aws.ToString(inv.StatusDetails))
	}
	ts.HangCommands(false)
	id = ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"echo runs again"}})
	if inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second); inv.Status != types.CommandInvocationStatusSuccess {
		t.Errorf("after HangCommands(false) status %s, want Success", inv.Status)
	}
}

func TestOutputFilesStayOnDisk(t *testing.T) {
	ts := newSSMTestServer(t)
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"echo kept"}})
	ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)
	dir := ts.InstanceHome(linuxInstance) + "/orchestration/" + id + "/0.awsrunShellScript"
	for name, want := range map[string]string{"_script.sh": "echo kept\n", "stdout": "kept\n", "stderr": ""} {
		data, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			t.Errorf("read %s: %v", name, err)
			continue
		}
		if string(data) != want {
			t.Errorf("%s holds %q, want %q", name, data, want)
		}
	}
}

func TestPluginOutputFollowsAgent(t *testing.T) {
	long := strings.Repeat("o", 3000)
	longErr := strings.Repeat("e", 3000)
	cases := []struct {
		name, stdout, stderr, want string
	}{
		{"empty", "", "", ""},
		{"stdout only", "out", "", "out"},
		{"stderr only", "", "err", "\n----------ERROR-------\nerr"},
		{"both", "out", "err", "out\n----------ERROR-------\nerr"},
		{"long stdout", long, "", long[:2500-len(pluginOutTruncated)] + "\n---Output truncated---"},
		{"long stderr", "out", longErr, "out\n----------ERROR-------\n" + longErr[:2500-len(pluginErrorTitle)-len(pluginErrTruncated)-3] + "\n---Error truncated----"},
	}
	for _, c := range cases {
		got := pluginOutput(c.stdout, c.stderr, pluginOutputLimit)
		if got != c.want {
			t.Errorf("%s: got %d bytes %q..., want %d bytes", c.name, len(got), got[:min(len(got), 40)], len(c.want))
		}
		if len(got) > pluginOutputLimit {
			t.Errorf("%s: %d bytes exceed %d", c.name, len(got), pluginOutputLimit)
		}
	}
	both := pluginOutput(long, longErr, pluginOutputLimit)
	if !strings.Contains(both, "\n---Output truncated---\n----------ERROR-------\n") || !strings.HasSuffix(both, "\n---Error truncated----") || len(both) > pluginOutputLimit {
		t.Errorf("both long: %d bytes, markers missing", len(both))
	}
}

func TestReadPrefixCutsAtLimit(t *testing.T) {
	dir := t.TempDir()
	for size, wantLen := range map[int]int{100: 100, inlineOutputLimit - 1: inlineOutputLimit - 1, inlineOutputLimit: inlineOutputLimit, 50000: inlineOutputLimit} {
		path := dir + "/out"
		if err := os.WriteFile(path, []byte(strings.Repeat("x", size)), 0o644); err != nil {
			t.Fatal(err)
		}
		got := readPrefix(path, inlineOutputLimit, inlineTruncated)
		if len(got) != wantLen {
			t.Errorf("%d bytes read as %d, want %d", size, len(got), wantLen)
		}
		// Like the agent, output that reaches the limit is marked cut.
		if cut := size >= inlineOutputLimit; cut != strings.HasSuffix(got, inlineTruncated) {
			t.Errorf("%d bytes: marker present %v, want %v", size, !cut, cut)
		}
	}
	if got := readPrefix(dir+"/missing", inlineOutputLimit, inlineTruncated); got != "" {
		t.Errorf("missing file read as %q", got)
	}
}

func TestS3KeyPathHasNoEmptySegments(t *testing.T) {
	cases := []struct {
		prefix, want string
	}{
		{"", "cmd/i-1/awsrunShellScript/0.awsrunShellScript"},
		{"out", "out/cmd/i-1/awsrunShellScript/0.awsrunShellScript"},
		{"/out/", "out/cmd/i-1/awsrunShellScript/0.awsrunShellScript"},
		{"a//b", "a/b/cmd/i-1/awsrunShellScript/0.awsrunShellScript"},
	}
	for _, c := range cases {
		if got := s3KeyPath(c.prefix, "cmd", "i-1", "awsrunShellScript", "0.awsrunShellScript"); got != c.want {
			t.Errorf("prefix %q: %q, want %q", c.prefix, got, c.want)
		}
	}
}

func TestAppendFailureStartsOwnLine(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"":       "failed",
		"boom\n": "boom\nfailed",
		"boom":   "boom\nfailed",
	} {
		path := dir + "/stderr"
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		appendFailure(path, "failed")
		got, _ := os.ReadFile(path)
		if string(got) != want {
			t.Errorf("after %q: %q, want %q", content, got, want)
		}
	}
}
