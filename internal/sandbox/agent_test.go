package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
	marker := t.TempDir() + "/release"
	// Fill every slot with a step that waits for the marker file. An
	// invocation turns InProgress only once it holds a slot, and slots are
	// not handed out in the order the commands were sent, so the next
	// command goes out only after all of these hold one.
	var ids []string
	for range maxConcurrentSteps {
		ids = append(ids, ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"while [ ! -e " + marker + " ]; do sleep 0.05; done"}}))
	}
	for _, id := range ids {
		ts.waitStatus(t, id, linuxInstance, types.CommandInvocationStatusInProgress, 30*time.Second)
	}
	queued := ts.sendShell(t, secondLinuxInstance, map[string][]string{"commands": {"echo ran"}})
	out := ts.waitVisible(t, queued, secondLinuxInstance, 30*time.Second)
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

// readObject returns the content of an S3 object of the sandbox.
func readObject(t *testing.T, ts *ssmTestServer, bucket, key string) []byte {
	t.Helper()
	out, err := ts.S3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read s3://%s/%s: %v", bucket, key, err)
	}
	return data
}

func TestOutputUploadedWithAgentKeyLayout(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	if err := ts.CreateBucket("ssm-output", ""); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	out, err := ts.Client.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName:       aws.String("AWS-RunShellScript"),
		InstanceIds:        []string{linuxInstance},
		Parameters:         map[string][]string{"commands": {"echo hi", "echo oops >&2"}},
		OutputS3BucketName: aws.String("ssm-output"),
		OutputS3KeyPrefix:  aws.String("/runs/today/"),
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	id := aws.ToString(out.Command.CommandId)
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)

	base := "runs/today/" + id + "/" + linuxInstance + "/awsrunShellScript/0.awsrunShellScript"
	if got, want := ts.ObjectKeys("ssm-output"), []string{base + "/stderr", base + "/stdout"}; !slices.Equal(got, want) {
		t.Errorf("objects %q, want %q", got, want)
	}
	if got := string(readObject(t, ts, "ssm-output", base+"/stdout")); got != "hi\n" {
		t.Errorf("stdout object %q", got)
	}
	if got := string(readObject(t, ts, "ssm-output", base+"/stderr")); got != "oops\n" {
		t.Errorf("stderr object %q", got)
	}
	if got, want := aws.ToString(inv.StandardOutputUrl), "https://s3.us-east-1.amazonaws.com/ssm-output/"+base+"/stdout"; got != want {
		t.Errorf("StandardOutputUrl %q, want %q", got, want)
	}
	if got, want := aws.ToString(inv.StandardErrorUrl), "https://s3.us-east-1.amazonaws.com/ssm-output/"+base+"/stderr"; got != want {
		t.Errorf("StandardErrorUrl %q, want %q", got, want)
	}

	list, err := ts.Client.ListCommandInvocations(ctx, &ssm.ListCommandInvocationsInput{CommandId: aws.String(id), Details: true})
	if err != nil {
		t.Fatalf("list command invocations: %v", err)
	}
	invocation := list.CommandInvocations[0]
	plugin := invocation.CommandPlugins[0]
	if aws.ToString(plugin.OutputS3BucketName) != "ssm-output" || aws.ToString(plugin.OutputS3KeyPrefix) != "runs/today/"+id+"/"+linuxInstance+"/awsrunShellScript" {
		t.Errorf("plugin bucket %q prefix %q", aws.ToString(plugin.OutputS3BucketName), aws.ToString(plugin.OutputS3KeyPrefix))
	}
	if aws.ToString(invocation.StandardOutputUrl) != aws.ToString(inv.StandardOutputUrl) || aws.ToString(plugin.StandardOutputUrl) != aws.ToString(inv.StandardOutputUrl) {
		t.Errorf("invocation URL %q and plugin URL %q differ from %q", aws.ToString(invocation.StandardOutputUrl), aws.ToString(plugin.StandardOutputUrl), aws.ToString(inv.StandardOutputUrl))
	}
}

func TestOutputKeysWithoutPrefixOrStderr(t *testing.T) {
	ts := newSSMTestServer(t)
	if err := ts.CreateBucket("ssm-output", ""); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	out, err := ts.Client.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName:       aws.String("AWS-RunShellScript"),
		InstanceIds:        []string{linuxInstance},
		Parameters:         map[string][]string{"commands": {"echo quiet"}},
		OutputS3BucketName: aws.String("ssm-output"),
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	id := aws.ToString(out.Command.CommandId)
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)

	base := id + "/" + linuxInstance + "/awsrunShellScript/0.awsrunShellScript"
	if got := ts.ObjectKeys("ssm-output"); !slices.Equal(got, []string{base + "/stdout"}) {
		t.Errorf("objects %q, want only %s/stdout", got, base)
	}
	// The stderr URL names an object that was never written, as in AWS.
	if got := aws.ToString(inv.StandardErrorUrl); got != "https://s3.us-east-1.amazonaws.com/ssm-output/"+base+"/stderr" {
		t.Errorf("StandardErrorUrl %q", got)
	}
}

func TestOutputKeysOfSchema22Steps(t *testing.T) {
	ts := newSSMTestServer(t)
	if err := ts.CreateBucket("ssm-output", ""); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	out, err := ts.Client.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName:       aws.String("Sandbox-TwoStepReport"),
		InstanceIds:        []string{linuxInstance},
		Parameters:         map[string][]string{"message": {"s3"}},
		OutputS3BucketName: aws.String("ssm-output"),
		OutputS3KeyPrefix:  aws.String("two-step"),
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	id := aws.ToString(out.Command.CommandId)
	report := ts.waitInvocation(t, id, linuxInstance, "report", 30*time.Second)
	ts.waitInvocation(t, id, linuxInstance, "prepare", 30*time.Second)

	base := "two-step/" + id + "/" + linuxInstance + "/awsrunShellScript/"
	if got, want := ts.ObjectKeys("ssm-output"), []string{base + "prepare/stdout", base + "report/stdout"}; !slices.Equal(got, want) {
		t.Errorf("objects %q, want %q", got, want)
	}
	if got := string(readObject(t, ts, "ssm-output", base+"report/stdout")); got != "report s3 1\n" {
		t.Errorf("report object %q", got)
	}
	if !strings.HasSuffix(aws.ToString(report.StandardOutputUrl), "/"+base+"report/stdout") {
		t.Errorf("report URL %q", aws.ToString(report.StandardOutputUrl))
	}

	list, err := ts.Client.ListCommandInvocations(context.Background(), &ssm.ListCommandInvocationsInput{CommandId: aws.String(id), Details: true})
	if err != nil {
		t.Fatalf("list command invocations: %v", err)
	}
	if inv := list.CommandInvocations[0]; aws.ToString(inv.StandardOutputUrl) != "" {
		t.Errorf("a two-step invocation has StandardOutputUrl %q, want it empty", aws.ToString(inv.StandardOutputUrl))
	}
}

func TestLargeOutputWholeInS3(t *testing.T) {
	ts := newSSMTestServer(t)
	if err := ts.CreateBucket("ssm-output", ""); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	out, err := ts.Client.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName:       aws.String("AWS-RunShellScript"),
		InstanceIds:        []string{linuxInstance},
		Parameters:         map[string][]string{"commands": {`i=0; while [ $i -lt 3000 ]; do printf 0123456789; i=$((i+1)); done`}},
		OutputS3BucketName: aws.String("ssm-output"),
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	id := aws.ToString(out.Command.CommandId)
	inv := ts.waitInvocation(t, id, linuxInstance, "", 60*time.Second)
	if len(aws.ToString(inv.StandardOutputContent)) != inlineOutputLimit {
		t.Errorf("inline stdout has %d bytes", len(aws.ToString(inv.StandardOutputContent)))
	}
	object := readObject(t, ts, "ssm-output", id+"/"+linuxInstance+"/awsrunShellScript/0.awsrunShellScript/stdout")
	if string(object) != strings.Repeat("0123456789", 3000) {
		t.Errorf("S3 stdout has %d bytes, want the whole 30000", len(object))
	}
}

func TestMissingBucketLeavesURLsEmpty(t *testing.T) {
	ts := newSSMTestServer(t)
	out, err := ts.Client.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName:       aws.String("AWS-RunShellScript"),
		InstanceIds:        []string{linuxInstance},
		Parameters:         map[string][]string{"commands": {"echo fine"}},
		OutputS3BucketName: aws.String("no-such-bucket"),
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	inv := ts.waitInvocation(t, aws.ToString(out.Command.CommandId), linuxInstance, "", 30*time.Second)
	if inv.Status != types.CommandInvocationStatusSuccess || aws.ToString(inv.StandardOutputContent) != "fine\n" {
		t.Errorf("status %s stdout %q", inv.Status, aws.ToString(inv.StandardOutputContent))
	}
	if aws.ToString(inv.StandardOutputUrl) != "" || aws.ToString(inv.StandardErrorUrl) != "" {
		t.Errorf("URLs %q %q for a bucket that does not exist", aws.ToString(inv.StandardOutputUrl), aws.ToString(inv.StandardErrorUrl))
	}
}

func TestHugeOutputUsesLittleMemory(t *testing.T) {
	ts := newSSMTestServer(t)
	if err := ts.CreateBucket("ssm-output", ""); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	const size = 64 << 20
	var id string
	allocated := allocatedDuring(func() {
		out, err := ts.Client.SendCommand(context.Background(), &ssm.SendCommandInput{
			DocumentName:       aws.String("AWS-RunShellScript"),
			InstanceIds:        []string{linuxInstance},
			Parameters:         map[string][]string{"commands": {fmt.Sprintf("head -c %d /dev/zero", size)}},
			OutputS3BucketName: aws.String("ssm-output"),
		})
		if err != nil {
			t.Fatalf("send command: %v", err)
		}
		id = aws.ToString(out.Command.CommandId)
		ts.waitInvocation(t, id, linuxInstance, "", 120*time.Second)
	})
	t.Logf("a %d-byte output allocated %d bytes in the sandbox", size, allocated)
	if allocated > size/4 {
		t.Errorf("a %d-byte output allocated %d bytes in the sandbox", size, allocated)
	}
	head, err := ts.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("ssm-output"), Key: aws.String(id + "/" + linuxInstance + "/awsrunShellScript/0.awsrunShellScript/stdout")})
	if err != nil {
		t.Fatalf("head stdout object: %v", err)
	}
	if aws.ToInt64(head.ContentLength) != size {
		t.Errorf("stdout object has %d bytes, want %d", aws.ToInt64(head.ContentLength), size)
	}
}
