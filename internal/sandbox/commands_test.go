package sandbox

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

const (
	linuxInstance       = "i-0123456789abcdef0"
	secondLinuxInstance = "i-0abcdef1234567890"
	windowsInstance     = "i-0fedcba9876543210"
	lostInstance        = "i-0a1b2c3d4e5f60718"
	inactiveInstance    = "i-0deadbeef00000001"
	hybridInstance      = "mi-0123456789abcdef0"
)

func TestSendCommandReturnsCommandAsAWS(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()

	before := time.Now()
	out, err := ts.Client.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: aws.String("AWS-RunShellScript"),
		InstanceIds:  []string{linuxInstance},
		Parameters:   map[string][]string{"commands": {"true"}},
		Comment:      aws.String("container 345"),
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	cmd := out.Command
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(aws.ToString(cmd.CommandId)) {
		t.Errorf("CommandId %q is not a UUID", aws.ToString(cmd.CommandId))
	}
	if cmd.Status != types.CommandStatusPending || aws.ToString(cmd.StatusDetails) != "Pending" {
		t.Errorf("status %s/%s, want Pending/Pending", cmd.Status, aws.ToString(cmd.StatusDetails))
	}
	if aws.ToString(cmd.DocumentVersion) != "1" {
		t.Errorf("DocumentVersion %q, want the default version 1", aws.ToString(cmd.DocumentVersion))
	}
	if got := cmd.InstanceIds; len(got) != 1 || got[0] != linuxInstance {
		t.Errorf("InstanceIds %v", got)
	}
	if cmd.TargetCount != 1 {
		t.Errorf("TargetCount %d, want 1", cmd.TargetCount)
	}
	if aws.ToString(cmd.MaxConcurrency) != "50" || aws.ToString(cmd.MaxErrors) != "0" {
		t.Errorf("MaxConcurrency/MaxErrors %s/%s, want 50/0", aws.ToString(cmd.MaxConcurrency), aws.ToString(cmd.MaxErrors))
	}
	if aws.ToInt32(cmd.TimeoutSeconds) != 3600 {
		t.Errorf("TimeoutSeconds %d, want 3600", aws.ToInt32(cmd.TimeoutSeconds))
	}
	if aws.ToString(cmd.Comment) != "container 345" {
		t.Errorf("Comment %q", aws.ToString(cmd.Comment))
	}
	requested := aws.ToTime(cmd.RequestedDateTime)
	if requested.Before(before.Add(-time.Second)) || requested.After(time.Now().Add(time.Second)) {
		t.Errorf("RequestedDateTime %s is not now", requested)
	}
	// The delivery timeout plus the default executionTimeout of 3600 s.
	if got := aws.ToTime(cmd.ExpiresAfter).Sub(requested); got != 7200*time.Second {
		t.Errorf("ExpiresAfter is %s after the request, want 2h", got)
	}
	if cmd.NotificationConfig == nil || aws.ToString(cmd.NotificationConfig.NotificationArn) != "" || cmd.NotificationConfig.NotificationEvents == nil {
		t.Errorf("NotificationConfig %+v, want empty members", cmd.NotificationConfig)
	}
	if cmd.CloudWatchOutputConfig == nil || aws.ToString(cmd.CloudWatchOutputConfig.CloudWatchLogGroupName) != "" || cmd.CloudWatchOutputConfig.CloudWatchOutputEnabled {
		t.Errorf("CloudWatchOutputConfig %+v, want empty members", cmd.CloudWatchOutputConfig)
	}
	if cmd.ServiceRole == nil || *cmd.ServiceRole != "" {
		t.Errorf("ServiceRole %v, want an empty string", cmd.ServiceRole)
	}
	if aws.ToString(cmd.OutputS3Region) != DefaultRegion {
		t.Errorf("OutputS3Region %q", aws.ToString(cmd.OutputS3Region))
	}
	if got := cmd.Parameters["commands"]; len(got) != 1 || got[0] != "true" || len(cmd.Parameters) != 1 {
		t.Errorf("Parameters %v, want only the parameters sent", cmd.Parameters)
	}
}

func TestSendCommandWireMembers(t *testing.T) {
	ts := newSSMTestServer(t)
	out := ts.raw(t, "SendCommand", map[string]any{
		"DocumentName": "AWS-RunShellScript",
		"InstanceIds":  []string{linuxInstance},
		"Parameters":   map[string][]string{"commands": {"true"}},
	})
	cmd := out["Command"].(map[string]any)
	for member, want := range map[string]any{
		"Comment": "", "OutputS3BucketName": "", "OutputS3KeyPrefix": "", "ServiceRole": "",
		"CompletedCount": float64(0), "ErrorCount": float64(0), "DeliveryTimedOutCount": float64(0),
	} {
		if got, ok := cmd[member]; !ok || got != want {
			t.Errorf("member %s = %v (present %v), want %v", member, got, ok, want)
		}
	}
	if targets, ok := cmd["Targets"].([]any); !ok || len(targets) != 0 {
		t.Errorf("Targets = %v, want []", cmd["Targets"])
	}
	notification := cmd["NotificationConfig"].(map[string]any)
	if notification["NotificationArn"] != "" || notification["NotificationType"] != "" {
		t.Errorf("NotificationConfig %v", notification)
	}
	if events, ok := notification["NotificationEvents"].([]any); !ok || len(events) != 0 {
		t.Errorf("NotificationEvents = %v, want []", notification["NotificationEvents"])
	}
	if _, ok := cmd["TriggeredAlarms"]; ok {
		t.Error("TriggeredAlarms is present")
	}
	if _, ok := cmd["RequestedDateTime"].(float64); !ok {
		t.Errorf("RequestedDateTime %v is not epoch seconds", cmd["RequestedDateTime"])
	}
}

func TestInvocationHiddenRightAfterSend(t *testing.T) {
	ts := newSSMTestServer(t)
	ts.SetInvocationDelay(time.Minute)
	ctx := context.Background()
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"true"}})

	_, err := ts.Client.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(id), InstanceId: aws.String(linuxInstance)})
	var missing *types.InvocationDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("got %v, want InvocationDoesNotExist", err)
	}
	list, err := ts.Client.ListCommandInvocations(ctx, &ssm.ListCommandInvocationsInput{CommandId: aws.String(id)})
	if err != nil {
		t.Fatalf("list command invocations: %v", err)
	}
	if len(list.CommandInvocations) != 0 {
		t.Errorf("ListCommandInvocations shows %d invocations before the delay", len(list.CommandInvocations))
	}
	cmds, err := ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(id)})
	if err != nil {
		t.Fatalf("list commands: %v", err)
	}
	if len(cmds.Commands) != 1 || cmds.Commands[0].Status != types.CommandStatusPending {
		t.Errorf("ListCommands %+v, want the command Pending", cmds.Commands)
	}
}

func TestInvocationAppearsAfterDefaultDelay(t *testing.T) {
	ts := newSSMTestServer(t)
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"echo visible"}})
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)
	if inv.Status != types.CommandInvocationStatusSuccess {
		t.Errorf("status %s, want Success", inv.Status)
	}
}

func TestCommandPrintsAndSucceeds(t *testing.T) {
	ts := newSSMTestServer(t)
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"echo hello", "echo to-stderr >&2"}})
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)

	if inv.Status != types.CommandInvocationStatusSuccess || aws.ToString(inv.StatusDetails) != "Success" {
		t.Errorf("status %s/%s, want Success/Success", inv.Status, aws.ToString(inv.StatusDetails))
	}
	if inv.ResponseCode != 0 {
		t.Errorf("ResponseCode %d, want 0", inv.ResponseCode)
	}
	if got := aws.ToString(inv.StandardOutputContent); got != "hello\n" {
		t.Errorf("stdout %q, want %q", got, "hello\n")
	}
	if got := aws.ToString(inv.StandardErrorContent); got != "to-stderr\n" {
		t.Errorf("stderr %q, want %q", got, "to-stderr\n")
	}
	if aws.ToString(inv.PluginName) != "aws:runShellScript" {
		t.Errorf("PluginName %q", aws.ToString(inv.PluginName))
	}
	if aws.ToString(inv.StandardOutputUrl) != "" || aws.ToString(inv.StandardErrorUrl) != "" {
		t.Errorf("output URLs %q %q without a bucket", aws.ToString(inv.StandardOutputUrl), aws.ToString(inv.StandardErrorUrl))
	}

	timestamp := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	if !timestamp.MatchString(aws.ToString(inv.ExecutionStartDateTime)) || !timestamp.MatchString(aws.ToString(inv.ExecutionEndDateTime)) {
		t.Errorf("execution times %q %q are not in AWS's format", aws.ToString(inv.ExecutionStartDateTime), aws.ToString(inv.ExecutionEndDateTime))
	}
	if !regexp.MustCompile(`^PT(\d+H)?(\d+M)?(\d+(\.\d+)?S)?$`).MatchString(aws.ToString(inv.ExecutionElapsedTime)) {
		t.Errorf("ExecutionElapsedTime %q is not an ISO 8601 duration", aws.ToString(inv.ExecutionElapsedTime))
	}

	scripts := ts.CommandScripts(linuxInstance)
	if len(scripts) != 1 || scripts[0] != "echo hello\necho to-stderr >&2\n" {
		t.Errorf("CommandScripts %q", scripts)
	}
}

func TestCommandExitCodeThreeFails(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"echo out", "echo err >&2", "exit 3"}})
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)

	if inv.Status != types.CommandInvocationStatusFailed || aws.ToString(inv.StatusDetails) != "Failed" {
		t.Errorf("status %s/%s, want Failed/Failed", inv.Status, aws.ToString(inv.StatusDetails))
	}
	if inv.ResponseCode != 3 {
		t.Errorf("ResponseCode %d, want 3", inv.ResponseCode)
	}
	if got, want := aws.ToString(inv.StandardErrorContent), "err\nfailed to run commands: exit status 3"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}

	list, err := ts.Client.ListCommandInvocations(ctx, &ssm.ListCommandInvocationsInput{CommandId: aws.String(id), Details: true})
	if err != nil {
		t.Fatalf("list command invocations: %v", err)
	}
	if len(list.CommandInvocations) != 1 || len(list.CommandInvocations[0].CommandPlugins) != 1 {
		t.Fatalf("ListCommandInvocations %+v, want one invocation with one plugin", list.CommandInvocations)
	}
	plugin := list.CommandInvocations[0].CommandPlugins[0]
	if got, want := aws.ToString(plugin.Output), "out\n\n----------ERROR-------\nerr\nfailed to run commands: exit status 3"; got != want {
		t.Errorf("plugin Output %q, want %q", got, want)
	}
	if plugin.ResponseCode != 3 || plugin.Status != types.CommandPluginStatusFailed {
		t.Errorf("plugin %s code %d, want Failed 3", plugin.Status, plugin.ResponseCode)
	}
	if plugin.ResponseStartDateTime == nil || plugin.ResponseFinishDateTime == nil {
		t.Error("plugin start or finish time is missing")
	}
	if aws.ToString(plugin.OutputS3Region) != DefaultRegion || plugin.OutputS3BucketName == nil || *plugin.OutputS3BucketName != "" {
		t.Errorf("plugin S3 members %q %v", aws.ToString(plugin.OutputS3Region), plugin.OutputS3BucketName)
	}

	cmds, err := ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(id)})
	if err != nil {
		t.Fatalf("list commands: %v", err)
	}
	cmd := cmds.Commands[0]
	if cmd.Status != types.CommandStatusFailed || cmd.ErrorCount != 1 || cmd.CompletedCount != 1 || cmd.TargetCount != 1 {
		t.Errorf("command %s errors %d completed %d targets %d, want Failed 1 1 1", cmd.Status, cmd.ErrorCount, cmd.CompletedCount, cmd.TargetCount)
	}
}

func TestCommandEnvironmentAndDefaultDirectory(t *testing.T) {
	ts := newSSMTestServer(t)
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {
		`echo "pwd=$(pwd)"`, `echo "home=$HOME"`, `echo "id=$AWS_SSM_INSTANCE_ID"`, `echo "region=$AWS_SSM_REGION_NAME"`,
	}})
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)
	home := ts.InstanceHome(linuxInstance)
	want := "pwd=" + home + "\nhome=" + home + "\nid=" + linuxInstance + "\nregion=" + DefaultRegion + "\n"
	if got := aws.ToString(inv.StandardOutputContent); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

func TestCommandWorkingDirectory(t *testing.T) {
	ts := newSSMTestServer(t)
	dir := t.TempDir()
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"pwd"}, "workingDirectory": {dir}})
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)
	if got := aws.ToString(inv.StandardOutputContent); got != dir+"\n" {
		t.Errorf("pwd printed %q, want %q", got, dir+"\n")
	}

	missing := dir + "/does-not-exist"
	id = ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"pwd"}, "workingDirectory": {missing}})
	inv = ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)
	if inv.Status != types.CommandInvocationStatusFailed || inv.ResponseCode != 1 {
		t.Errorf("missing directory gave %s code %d, want Failed 1", inv.Status, inv.ResponseCode)
	}
	// The agent starts the shell in its own process group, so Go reports a
	// missing directory as a failed fork/exec.
	if got := aws.ToString(inv.StandardErrorContent); !strings.HasPrefix(got, "failed to run commands: ") || !strings.HasSuffix(got, "no such file or directory") {
		t.Errorf("stderr %q, want the agent's failure for a missing directory", got)
	}
}

func TestCommandExecutionTimeout(t *testing.T) {
	ts := newSSMTestServer(t)
	pidFile := t.TempDir() + "/sleep.pid"
	started := time.Now()
	id := ts.sendShell(t, linuxInstance, map[string][]string{
		"commands":         {"sleep 120 &", "echo $! > " + pidFile, "wait"},
		"executionTimeout": {"5"},
	})
	inv := ts.waitInvocation(t, id, linuxInstance, "", 60*time.Second)
	if inv.Status != types.CommandInvocationStatusTimedOut || aws.ToString(inv.StatusDetails) != "ExecutionTimedOut" {
		t.Errorf("status %s/%s, want TimedOut/ExecutionTimedOut", inv.Status, aws.ToString(inv.StatusDetails))
	}
	if inv.ResponseCode != killedExitCode {
		t.Errorf("ResponseCode %d, want %d", inv.ResponseCode, killedExitCode)
	}
	if elapsed := time.Since(started); elapsed > 100*time.Second {
		t.Errorf("the timeout took %s", elapsed)
	}
	expectProcessGone(t, pidFile)

	cmds, err := ts.Client.ListCommands(context.Background(), &ssm.ListCommandsInput{CommandId: aws.String(id)})
	if err != nil {
		t.Fatalf("list commands: %v", err)
	}
	if c := cmds.Commands[0]; c.Status != types.CommandStatusTimedOut || aws.ToString(c.StatusDetails) != "ExecutionTimedOut" || c.ErrorCount != 1 {
		t.Errorf("command %s/%s errors %d, want TimedOut/ExecutionTimedOut 1", c.Status, aws.ToString(c.StatusDetails), c.ErrorCount)
	}
}

func TestLargeOutputCutInline(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	// 30,000 bytes of output: "0123456789" 3,000 times.
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {`i=0; while [ $i -lt 3000 ]; do printf 0123456789; i=$((i+1)); done`}})
	inv := ts.waitInvocation(t, id, linuxInstance, "", 60*time.Second)
	stdout := aws.ToString(inv.StandardOutputContent)
	if len(stdout) != inlineOutputLimit {
		t.Errorf("inline stdout has %d bytes, want %d", len(stdout), inlineOutputLimit)
	}
	if !strings.HasSuffix(stdout, "--output truncated--") {
		t.Errorf("inline stdout ends with %q, want the truncation marker", stdout[len(stdout)-30:])
	}
	if want := strings.Repeat("0123456789", 2398); !strings.HasPrefix(stdout, want) {
		t.Error("inline stdout does not start with the output")
	}

	list, err := ts.Client.ListCommandInvocations(ctx, &ssm.ListCommandInvocationsInput{CommandId: aws.String(id), Details: true})
	if err != nil {
		t.Fatalf("list command invocations: %v", err)
	}
	output := aws.ToString(list.CommandInvocations[0].CommandPlugins[0].Output)
	if len(output) != pluginOutputLimit || !strings.HasSuffix(output, "\n---Output truncated---") {
		t.Errorf("plugin Output has %d bytes ending %q, want %d ending with the marker", len(output), output[len(output)-25:], pluginOutputLimit)
	}
}

func TestCancelCommandKillsProcess(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	pidFile := t.TempDir() + "/sleep.pid"
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"sleep 120 &", "echo $! > " + pidFile, "wait"}})
	ts.waitStatus(t, id, linuxInstance, types.CommandInvocationStatusInProgress, 30*time.Second)
	waitFile(t, pidFile)

	if _, err := ts.Client.CancelCommand(ctx, &ssm.CancelCommandInput{CommandId: aws.String(id)}); err != nil {
		t.Fatalf("cancel command: %v", err)
	}
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)
	if inv.Status != types.CommandInvocationStatusCancelled || inv.ResponseCode != killedExitCode {
		t.Errorf("status %s code %d, want Cancelled %d", inv.Status, inv.ResponseCode, killedExitCode)
	}
	expectProcessGone(t, pidFile)

	cmds, err := ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(id)})
	if err != nil {
		t.Fatalf("list commands: %v", err)
	}
	if cmds.Commands[0].Status != types.CommandStatusCancelled {
		t.Errorf("command status %s, want Cancelled", cmds.Commands[0].Status)
	}

	_, err = ts.Client.CancelCommand(ctx, &ssm.CancelCommandInput{CommandId: aws.String("00000000-0000-4000-8000-000000000000")})
	expectError(t, err, "InvalidCommandId")
}

func TestCancelPendingInvocation(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	id := ts.sendShell(t, lostInstance, map[string][]string{"commands": {"true"}})
	if _, err := ts.Client.CancelCommand(ctx, &ssm.CancelCommandInput{CommandId: aws.String(id), InstanceIds: []string{lostInstance}}); err != nil {
		t.Fatalf("cancel command: %v", err)
	}
	inv := ts.waitInvocation(t, id, lostInstance, "", 30*time.Second)
	if inv.Status != types.CommandInvocationStatusCancelled || inv.ResponseCode != -1 {
		t.Errorf("status %s code %d, want Cancelled -1", inv.Status, inv.ResponseCode)
	}
	if aws.ToString(inv.ExecutionStartDateTime) != "" {
		t.Errorf("ExecutionStartDateTime %q for an invocation that never ran", aws.ToString(inv.ExecutionStartDateTime))
	}
}

func TestDeliveryTimeout(t *testing.T) {
	t.Parallel()
	ts := newSSMTestServer(t)
	ctx := context.Background()
	// The command expires after TimeoutSeconds plus the executionTimeout:
	// the minimum 30 s plus the agent's minimum of 5 s.
	out, err := ts.Client.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName:   aws.String("AWS-RunShellScript"),
		InstanceIds:    []string{lostInstance},
		Parameters:     map[string][]string{"commands": {"true"}, "executionTimeout": {"5"}},
		TimeoutSeconds: aws.Int32(30),
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	id := aws.ToString(out.Command.CommandId)
	if got := aws.ToTime(out.Command.ExpiresAfter).Sub(aws.ToTime(out.Command.RequestedDateTime)); got != 35*time.Second {
		t.Errorf("ExpiresAfter is %s after the request, want 35s", got)
	}

	ts.waitStatus(t, id, lostInstance, types.CommandInvocationStatusPending, 30*time.Second)
	inv := ts.waitInvocation(t, id, lostInstance, "", 90*time.Second)
	if inv.Status != types.CommandInvocationStatusTimedOut || aws.ToString(inv.StatusDetails) != "DeliveryTimedOut" {
		t.Errorf("status %s/%s, want TimedOut/DeliveryTimedOut", inv.Status, aws.ToString(inv.StatusDetails))
	}
	if inv.ResponseCode != -1 {
		t.Errorf("ResponseCode %d, want -1", inv.ResponseCode)
	}
	if len(ts.CommandScripts(lostInstance)) != 0 {
		t.Error("a script ran on an instance whose connection is lost")
	}

	cmds, err := ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(id)})
	if err != nil {
		t.Fatalf("list commands: %v", err)
	}
	c := cmds.Commands[0]
	if c.Status != types.CommandStatusTimedOut || aws.ToString(c.StatusDetails) != "DeliveryTimedOut" || c.DeliveryTimedOutCount != 1 || c.ErrorCount != 0 {
		t.Errorf("command %s/%s delivery timeouts %d errors %d, want TimedOut/DeliveryTimedOut 1 0", c.Status, aws.ToString(c.StatusDetails), c.DeliveryTimedOutCount, c.ErrorCount)
	}
}

func TestSendCommandRejectsBadRequests(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	shell := func(edit func(*ssm.SendCommandInput)) *ssm.SendCommandInput {
		in := &ssm.SendCommandInput{
			DocumentName: aws.String("AWS-RunShellScript"),
			InstanceIds:  []string{linuxInstance},
			Parameters:   map[string][]string{"commands": {"true"}},
		}
		edit(in)
		return in
	}
	tooMany := make([]string, 51)
	for i := range tooMany {
		tooMany[i] = "i-0123456789abcdef0"
	}
	sha1sum := sha1.Sum([]byte(runShellScriptContent))

	cases := []struct {
		name      string
		in        *ssm.SendCommandInput
		code      string
		fragments []string
	}{
		{"unknown document", shell(func(in *ssm.SendCommandInput) { in.DocumentName = aws.String("No-Such-Document") }), "InvalidDocument", []string{"No-Such-Document"}},
		{"automation document", shell(func(in *ssm.SendCommandInput) { in.DocumentName = aws.String("Sandbox-RestartService") }), "InvalidDocument", nil},
		{"unknown version", shell(func(in *ssm.SendCommandInput) { in.DocumentVersion = aws.String("7") }), "InvalidDocumentVersion", nil},
		{"unknown instance", shell(func(in *ssm.SendCommandInput) { in.InstanceIds = []string{"i-0000000000000000a"} }), "InvalidInstanceId", []string{"i-0000000000000000a", "not in a valid state"}},
		{"inactive instance", shell(func(in *ssm.SendCommandInput) { in.InstanceIds = []string{inactiveInstance} }), "InvalidInstanceId", nil},
		{"malformed instance id", shell(func(in *ssm.SendCommandInput) { in.InstanceIds = []string{"web-1"} }), "ValidationException", nil},
		{"51 instances", shell(func(in *ssm.SendCommandInput) { in.InstanceIds = tooMany }), "ValidationException", []string{"50"}},
		{"no instances or targets", shell(func(in *ssm.SendCommandInput) { in.InstanceIds = nil }), "ValidationException", nil},
		{"six targets", shell(func(in *ssm.SendCommandInput) {
			in.InstanceIds = nil
			for range 6 {
				in.Targets = append(in.Targets, types.Target{Key: aws.String("tag:Env"), Values: []string{"prod"}})
			}
		}), "ValidationException", nil},
		{"timeout below 30", shell(func(in *ssm.SendCommandInput) { in.TimeoutSeconds = aws.Int32(29) }), "ValidationException", []string{"timeoutSeconds"}},
		{"timeout above 30 days", shell(func(in *ssm.SendCommandInput) { in.TimeoutSeconds = aws.Int32(2592001) }), "ValidationException", nil},
		{"comment of 101", shell(func(in *ssm.SendCommandInput) { in.Comment = aws.String(strings.Repeat("c", 101)) }), "ValidationException", []string{"comment"}},
		{"bad MaxConcurrency", shell(func(in *ssm.SendCommandInput) { in.MaxConcurrency = aws.String("0") }), "ValidationException", nil},
		{"unknown parameter", shell(func(in *ssm.SendCommandInput) { in.Parameters["command"] = []string{"x"} }), "InvalidParameters", []string{"command"}},
		{"missing required parameter", shell(func(in *ssm.SendCommandInput) { in.Parameters = map[string][]string{"workingDirectory": {"/tmp"}} }), "InvalidParameters", []string{"commands"}},
		{"timeout not a number", shell(func(in *ssm.SendCommandInput) { in.Parameters["executionTimeout"] = []string{"soon"} }), "InvalidParameters", []string{"executionTimeout"}},
		{"two working directories", shell(func(in *ssm.SendCommandInput) { in.Parameters["workingDirectory"] = []string{"/a", "/b"} }), "InvalidParameters", nil},
		{"hash mismatch", shell(func(in *ssm.SendCommandInput) { in.DocumentHash = aws.String(strings.Repeat("0", 64)) }), "InvalidDocument", []string{"does not match"}},
		{"sha1 hash given as sha256", shell(func(in *ssm.SendCommandInput) { in.DocumentHash = aws.String(hex.EncodeToString(sha1sum[:])) }), "InvalidDocument", []string{"does not match"}},
		{"shell document on Windows", shell(func(in *ssm.SendCommandInput) { in.InstanceIds = []string{windowsInstance} }), "UnsupportedPlatformType", nil},
		{"missing ssm parameter", shell(func(in *ssm.SendCommandInput) { in.Parameters["commands"] = []string{"echo {{ssm:/no/such}}"} }), "InvalidParameters", []string{"/no/such"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ts.Client.SendCommand(ctx, c.in)
			expectError(t, err, c.code, c.fragments...)
		})
	}
	if scripts := ts.CommandScripts(linuxInstance); len(scripts) != 0 {
		t.Errorf("rejected commands ran scripts: %q", scripts)
	}
}

func TestSendCommandAcceptsDocumentHash(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	desc, err := ts.Client.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("AWS-RunShellScript")})
	if err != nil {
		t.Fatalf("describe document: %v", err)
	}
	sha1sum := sha1.Sum([]byte(runShellScriptContent))
	for hashType, hash := range map[types.DocumentHashType]string{
		types.DocumentHashTypeSha256: aws.ToString(desc.Document.Hash),
		types.DocumentHashTypeSha1:   hex.EncodeToString(sha1sum[:]),
	} {
		_, err := ts.Client.SendCommand(ctx, &ssm.SendCommandInput{
			DocumentName:     aws.String("AWS-RunShellScript"),
			DocumentHash:     aws.String(hash),
			DocumentHashType: hashType,
			InstanceIds:      []string{linuxInstance},
			Parameters:       map[string][]string{"commands": {"true"}},
		})
		if err != nil {
			t.Errorf("send command with its %s hash: %v", hashType, err)
		}
	}
}

func TestSendCommandResolvesParameterStoreReference(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	if _, err := ts.Client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/greeting"), Value: aws.String("hi there"), Type: types.ParameterTypeString}); err != nil {
		t.Fatalf("put parameter: %v", err)
	}
	id := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"echo '{{ssm:/app/greeting}}'"}})
	inv := ts.waitInvocation(t, id, linuxInstance, "", 30*time.Second)
	if got := aws.ToString(inv.StandardOutputContent); got != "hi there\n" {
		t.Errorf("stdout %q, want the parameter's value", got)
	}
	cmds, err := ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(id)})
	if err != nil {
		t.Fatalf("list commands: %v", err)
	}
	if got := cmds.Commands[0].Parameters["commands"][0]; got != "echo '{{ssm:/app/greeting}}'" {
		t.Errorf("the command reports %q, want the reference as sent", got)
	}
}

func TestTwoStepDocumentRunsStepsInOrder(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	out, err := ts.Client.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: aws.String("Sandbox-TwoStepReport"),
		InstanceIds:  []string{linuxInstance},
		Parameters:   map[string][]string{"message": {"hi"}, "repeat": {"2"}, "extraCommands": {"echo extra one", "echo extra two"}},
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	id := aws.ToString(out.Command.CommandId)

	prepare := ts.waitInvocation(t, id, linuxInstance, "prepare", 30*time.Second)
	report := ts.waitInvocation(t, id, linuxInstance, "report", 30*time.Second)
	if got := aws.ToString(prepare.StandardOutputContent); got != "prepare hi\n" {
		t.Errorf("prepare printed %q", got)
	}
	if got, want := aws.ToString(report.StandardOutputContent), "report hi 1\nreport hi 2\nextra one\nextra two\n"; got != want {
		t.Errorf("report printed %q, want %q", got, want)
	}

	_, err = ts.Client.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(id), InstanceId: aws.String(linuxInstance)})
	expectError(t, err, "InvalidPluginName")
	_, err = ts.Client.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(id), InstanceId: aws.String(linuxInstance), PluginName: aws.String("nonexistent")})
	expectError(t, err, "InvalidPluginName")

	scripts := ts.CommandScripts(linuxInstance)
	if len(scripts) != 2 || !strings.HasPrefix(scripts[0], `echo "prepare hi"`) || !strings.Contains(scripts[1], "report hi") {
		t.Errorf("scripts ran in the wrong order or form: %q", scripts)
	}
}

func TestFailedStepWithExitSkipsTheRest(t *testing.T) {
	ts := newSSMTestServer(t)
	out, err := ts.Client.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName: aws.String("Sandbox-StopOnFailure"),
		InstanceIds:  []string{linuxInstance},
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	id := aws.ToString(out.Command.CommandId)
	check := ts.waitInvocation(t, id, linuxInstance, "check", 30*time.Second)
	apply := ts.waitInvocation(t, id, linuxInstance, "apply", 30*time.Second)
	if check.Status != types.CommandInvocationStatusFailed || check.ResponseCode != 4 {
		t.Errorf("check %s code %d, want Failed 4", check.Status, check.ResponseCode)
	}
	if apply.Status != types.CommandInvocationStatusSuccess || !strings.Contains(aws.ToString(apply.StandardOutputContent), "skipped") {
		t.Errorf("apply %s printed %q, want a skipped step", apply.Status, aws.ToString(apply.StandardOutputContent))
	}
	if scripts := ts.CommandScripts(linuxInstance); len(scripts) != 1 {
		t.Errorf("%d scripts ran, want only the first step's", len(scripts))
	}
	list, err := ts.Client.ListCommandInvocations(context.Background(), &ssm.ListCommandInvocationsInput{CommandId: aws.String(id)})
	if err != nil {
		t.Fatalf("list command invocations: %v", err)
	}
	if list.CommandInvocations[0].Status != types.CommandInvocationStatusFailed {
		t.Errorf("invocation status %s, want Failed", list.CommandInvocations[0].Status)
	}
}

func TestPreconditionSkipsOtherPlatformStep(t *testing.T) {
	ts := newSSMTestServer(t)
	out, err := ts.Client.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName: aws.String("Sandbox-PerPlatformInfo"),
		InstanceIds:  []string{linuxInstance},
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	id := aws.ToString(out.Command.CommandId)
	linux := ts.waitInvocation(t, id, linuxInstance, "linuxInfo", 30*time.Second)
	windows := ts.waitInvocation(t, id, linuxInstance, "windowsInfo", 30*time.Second)
	if got := aws.ToString(linux.StandardOutputContent); got != "Linux\n" {
		t.Errorf("linuxInfo printed %q", got)
	}
	want := `Step execution skipped due to unsatisfied preconditions: '"StringEquals": [platformType, Windows]'. Step name: windowsInfo`
	if windows.Status != types.CommandInvocationStatusSuccess || aws.ToString(windows.StandardOutputContent) != want {
		t.Errorf("windowsInfo %s printed %q, want Success with %q", windows.Status, aws.ToString(windows.StandardOutputContent), want)
	}
}

func TestPowerShellStepWithoutPwsh(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ts := newSSMTestServer(t)
	out, err := ts.Client.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName: aws.String("AWS-RunPowerShellScript"),
		InstanceIds:  []string{windowsInstance},
		Parameters:   map[string][]string{"commands": {"Get-Date"}},
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	inv := ts.waitInvocation(t, aws.ToString(out.Command.CommandId), windowsInstance, "", 30*time.Second)
	if inv.Status != types.CommandInvocationStatusFailed || inv.ResponseCode != 1 {
		t.Errorf("status %s code %d, want Failed 1", inv.Status, inv.ResponseCode)
	}
	if !strings.Contains(aws.ToString(inv.StandardErrorContent), "PowerShell is not installed on this sandbox host") {
		t.Errorf("stderr %q does not say PowerShell is missing", aws.ToString(inv.StandardErrorContent))
	}
}

func TestSendCommandByTagTargets(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	out, err := ts.Client.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: aws.String("AWS-RunShellScript"),
		Targets:      []types.Target{{Key: aws.String("tag:Role"), Values: []string{"web"}}},
		Parameters:   map[string][]string{"commands": {"echo $AWS_SSM_INSTANCE_ID"}},
	})
	if err != nil {
		t.Fatalf("send command: %v", err)
	}
	if len(out.Command.InstanceIds) != 0 || len(out.Command.Targets) != 1 || out.Command.TargetCount != 0 {
		t.Errorf("command InstanceIds %v Targets %v TargetCount %d, want [] the target 0", out.Command.InstanceIds, out.Command.Targets, out.Command.TargetCount)
	}
	id := aws.ToString(out.Command.CommandId)
	for _, instanceID := range []string{linuxInstance, secondLinuxInstance} {
		inv := ts.waitInvocation(t, id, instanceID, "", 30*time.Second)
		if got := aws.ToString(inv.StandardOutputContent); got != instanceID+"\n" {
			t.Errorf("%s printed %q", instanceID, got)
		}
	}
	cmds, err := ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String(id)})
	if err != nil {
		t.Fatalf("list commands: %v", err)
	}
	if c := cmds.Commands[0]; c.TargetCount != 2 || c.CompletedCount != 2 || c.Status != types.CommandStatusSuccess {
		t.Errorf("command targets %d completed %d status %s, want 2 2 Success", c.TargetCount, c.CompletedCount, c.Status)
	}
	if len(ts.CommandScripts(windowsInstance)) != 0 {
		t.Error("the command ran on an instance without the tag")
	}
}

func TestVersionedDocumentRunsRequestedVersion(t *testing.T) {
	ts := newSSMTestServer(t)
	for version, want := range map[string]string{"": "greeting from version one\n", "$LATEST": "greeting from version two\n", "1": "greeting from version one\n"} {
		in := &ssm.SendCommandInput{DocumentName: aws.String("Sandbox-VersionedGreeting"), InstanceIds: []string{linuxInstance}}
		if version != "" {
			in.DocumentVersion = aws.String(version)
		}
		out, err := ts.Client.SendCommand(context.Background(), in)
		if err != nil {
			t.Fatalf("send command with version %q: %v", version, err)
		}
		wantVersion := version
		if version == "" {
			wantVersion = "1"
		}
		if got := aws.ToString(out.Command.DocumentVersion); got != wantVersion {
			t.Errorf("DocumentVersion %q, want %q", got, wantVersion)
		}
		inv := ts.waitInvocation(t, aws.ToString(out.Command.CommandId), linuxInstance, "", 30*time.Second)
		if got := aws.ToString(inv.StandardOutputContent); got != want {
			t.Errorf("version %q printed %q, want %q", version, got, want)
		}
	}
}

func TestListCommandsFilters(t *testing.T) {
	ts := newSSMTestServer(t)
	ctx := context.Background()
	ok := ts.sendShell(t, linuxInstance, map[string][]string{"commands": {"true"}})
	bad := ts.sendShell(t, secondLinuxInstance, map[string][]string{"commands": {"false"}})
	ts.waitInvocation(t, ok, linuxInstance, "", 30*time.Second)
	ts.waitInvocation(t, bad, secondLinuxInstance, "", 30*time.Second)

	ids := func(filters []types.CommandFilter, instanceID string) []string {
		in := &ssm.ListCommandsInput{Filters: filters}
		if instanceID != "" {
			in.InstanceId = aws.String(instanceID)
		}
		out, err := ts.Client.ListCommands(ctx, in)
		if err != nil {
			t.Fatalf("list commands: %v", err)
		}
		var got []string
		for _, c := range out.Commands {
			got = append(got, aws.ToString(c.CommandId))
		}
		return got
	}
	if got := ids(nil, ""); len(got) != 2 || got[0] != bad || got[1] != ok {
		t.Errorf("all commands %v, want newest first [%s %s]", got, bad, ok)
	}
	if got := ids([]types.CommandFilter{{Key: types.CommandFilterKeyStatus, Value: aws.String("Failed")}}, ""); len(got) != 1 || got[0] != bad {
		t.Errorf("Failed commands %v, want [%s]", got, bad)
	}
	if got := ids(nil, linuxInstance); len(got) != 1 || got[0] != ok {
		t.Errorf("commands on %s: %v, want [%s]", linuxInstance, got, ok)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if got := ids([]types.CommandFilter{{Key: types.CommandFilterKeyInvokedAfter, Value: aws.String(future)}}, ""); len(got) != 0 {
		t.Errorf("commands invoked after an hour from now: %v", got)
	}
	if got := ids([]types.CommandFilter{{Key: types.CommandFilterKeyExecutionStage, Value: aws.String("Complete")}}, ""); len(got) != 2 {
		t.Errorf("complete commands %v, want both", got)
	}

	_, err := ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{CommandId: aws.String("00000000-0000-4000-8000-000000000000")})
	expectError(t, err, "InvalidCommandId")
	_, err = ts.Client.ListCommands(ctx, &ssm.ListCommandsInput{Filters: []types.CommandFilter{{Key: "Colour", Value: aws.String("red")}}})
	expectError(t, err, "InvalidFilterKey")
	_, err = ts.Client.ListCommandInvocations(ctx, &ssm.ListCommandInvocationsInput{Filters: []types.CommandFilter{{Key: types.CommandFilterKeyExecutionStage, Value: aws.String("Complete")}}})
	expectError(t, err, "InvalidFilterKey")
}

func TestIsoDuration(t *testing.T) {
	cases := map[time.Duration]string{
		0:                                  "PT0S",
		56 * time.Millisecond:              "PT0.056S",
		2440 * time.Millisecond:            "PT2.44S",
		time.Hour + 271*time.Millisecond:   "PT1H0.271S",
		time.Hour:                          "PT1H",
		90 * time.Second:                   "PT1M30S",
		2*time.Hour + 3*time.Minute + 4500: "PT2H3M",
	}
	for d, want := range cases {
		if got := isoDuration(d); got != want {
			t.Errorf("isoDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestExecutionEndKeepsStartMilliseconds(t *testing.T) {
	start := time.Date(2024, 3, 1, 20, 8, 56, 792e6, time.UTC)
	p := &pluginState{Start: start, End: start.Add(2440 * time.Millisecond)}
	gotStart, elapsed, end := executionTimes(p, time.Now())
	if gotStart != "2024-03-01T20:08:56.792Z" || elapsed != "PT2.44S" || end != "2024-03-01T20:08:58.792Z" {
		t.Errorf("executionTimes = %q %q %q", gotStart, elapsed, end)
	}
}

func TestExecutionTimeoutSecondsFollowsAgent(t *testing.T) {
	cases := map[any]int{"600": 600, "5": 5, "4": 3600, "172800": 172800, "172801": 3600, "soon": 3600, nil: 3600, float64(90): 90, "12.7": 12}
	for in, want := range cases {
		if got := executionTimeoutSeconds(in); got != want {
			t.Errorf("executionTimeoutSeconds(%v) = %d, want %d", in, got, want)
		}
	}
}
