package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// documentHash reads a document's current SHA-256 hash through the SDK.
func documentHash(t *testing.T, sb *sandboxtest.Sandbox, name string) string {
	t.Helper()
	out, err := ssm.NewFromConfig(sb.Config()).DescribeDocument(context.Background(), &ssm.DescribeDocumentInput{Name: aws.String(name)})
	require.NoError(t, err)
	require.Equal(t, ssmtypes.DocumentHashTypeSha256, out.Document.HashType)
	return aws.ToString(out.Document.Hash)
}

// documentSteps returns the steps of the only invocation in a result.
func documentSteps(t *testing.T, data map[string]any) []map[string]any {
	t.Helper()
	invocations, ok := data["Invocations"].([]any)
	require.True(t, ok && len(invocations) == 1, "one invocation expected: %#v", data["Invocations"])
	list, ok := invocations[0].(map[string]any)["Steps"].([]any)
	require.True(t, ok, "steps expected: %#v", invocations[0])
	steps := make([]map[string]any, 0, len(list))
	for _, s := range list {
		steps = append(steps, s.(map[string]any))
	}
	return steps
}

func summaryValue(t *testing.T, res connector.ActionResult, key string) any {
	t.Helper()
	v, ok := res.Summary.Get(key)
	require.True(t, ok, "summary has no %s: %#v", key, res.Summary)
	return v
}

func TestRunDocumentReadsHashAndWaits(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
		"instance_id":   linuxInstance,
		"document_name": "AWS-RunShellScript",
		"parameters":    `{"commands": ["echo hi"]}`,
		"wait_seconds":  120,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assert.Equal(t, connector.StatusSuccess, run.out.Status)

	data := run.data(t)
	steps := documentSteps(t, data)
	require.Len(t, steps, 1)
	assert.Equal(t, "hi\n", steps[0]["StandardOutputContent"])
	assert.Equal(t, "Success", steps[0]["Status"])
	assert.EqualValues(t, 0, steps[0]["ResponseCode"])
	assert.Equal(t, "Success", lookupString(data, "Command.Status"), "Command shows the final status")

	assert.Equal(t, 1, sb.Server.Faults().Calls("DescribeDocument"), "the action read the hash once")
	res := run.result(t)
	assert.Equal(t, "Successfully ran document", summaryValue(t, res, "status"))
	assert.Equal(t, documentHash(t, sb, "AWS-RunShellScript"), summaryValue(t, res, "document_hash"), "the hash sent is the current one")
	assert.Equal(t, lookupString(data, "Command.CommandId"), summaryValue(t, res, "command_id"))
}

func TestRunDocumentWrongHashFails(t *testing.T) {
	sb := sandboxtest.Start(t)
	current := documentHash(t, sb, "AWS-RunShellScript")

	for _, wrong := range []string{strings.Repeat("0", 64), strings.Repeat("0", 40)} {
		run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
			"instance_id":   linuxInstance,
			"document_name": "AWS-RunShellScript",
			"document_hash": wrong,
			"parameters":    `{"commands": ["echo should not run"]}`,
			"wait_seconds":  60,
		})
		assert.Equal(t, 1, run.code)
		assert.Equal(t, connector.StatusFailed, run.out.Status)

		msg := run.result(t).Message
		assert.Contains(t, msg, "does not match")
		assert.Contains(t, msg, wrong, "the message names the given hash")
		assert.Contains(t, msg, current, "the message names the current hash")
		assert.Contains(t, msg, "leave document_hash empty")
		assert.Contains(t, msg, "update the playbook")
		assert.NotContains(t, msg, "operation error", "the message is plain words, not the SDK's error")
	}

	assert.Empty(t, sb.Server.CommandScripts(linuxInstance), "nothing ran on the instance")
	assert.Equal(t, 2, sb.Server.Faults().Calls("SendCommand"))
}

func TestRunDocumentRightHashesRun(t *testing.T) {
	sb := sandboxtest.Start(t)
	sha256Hash := documentHash(t, sb, "AWS-RunShellScript")

	// The sandbox computes the SHA-1 hash over the content that GetDocument
	// returns.
	doc, err := ssm.NewFromConfig(sb.Config()).GetDocument(context.Background(), &ssm.GetDocumentInput{Name: aws.String("AWS-RunShellScript")})
	require.NoError(t, err)
	sum := sha1.Sum([]byte(aws.ToString(doc.Content)))
	sha1Hash := hex.EncodeToString(sum[:])
	describeCalls := sb.Server.Faults().Calls("DescribeDocument")

	for _, hash := range []string{sha256Hash, strings.ToUpper(sha256Hash), sha1Hash} {
		run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
			"instance_id":   linuxInstance,
			"document_name": "AWS-RunShellScript",
			"document_hash": hash,
			"parameters":    `{"commands": ["echo pinned"]}`,
			"wait_seconds":  120,
		})
		require.Equal(t, 0, run.code, "hash %s: stdout: %s\nstderr: %s", hash, run.stdout, run.stderr)
		assert.Equal(t, "pinned\n", documentSteps(t, run.data(t))[0]["StandardOutputContent"])
		assert.Equal(t, strings.ToLower(hash), summaryValue(t, run.result(t), "document_hash"))
	}
	assert.Equal(t, describeCalls, sb.Server.Faults().Calls("DescribeDocument"), "a given hash needs no DescribeDocument")
}

func TestRunDocumentPythonDictParameters(t *testing.T) {
	sb := sandboxtest.Start(t)

	// None leaves repeat to its default of 1; True becomes the string
	// "true", here the last of the extra commands.
	run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
		"instance_id":   linuxInstance,
		"document_name": "Sandbox-TwoStepReport",
		"parameters":    `{'message': "it's python", 'repeat': None, 'extraCommands': ['echo extra', True]}`,
		"wait_seconds":  120,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)

	steps := documentSteps(t, run.data(t))
	require.Len(t, steps, 2)
	assert.Equal(t, "prepare it's python\n", steps[0]["StandardOutputContent"])
	assert.Equal(t, "report it's python 1\nextra\n", steps[1]["StandardOutputContent"])

	params, ok := lookup(run.data(t), "Command.Parameters")
	require.True(t, ok)
	assert.Equal(t, map[string]any{
		"message":       []any{"it's python"},
		"extraCommands": []any{"echo extra", "true"},
	}, params, "the command carries the converted parameters, without the None one")

	scripts := sb.Server.CommandScripts(linuxInstance)
	require.Len(t, scripts, 2)
	assert.True(t, strings.HasSuffix(scripts[1], "\necho extra\ntrue\n"), "script: %q", scripts[1])
}

func TestRunDocumentReportsEveryStep(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
		"instance_id":   linuxInstance,
		"document_name": "Sandbox-TwoStepReport",
		"parameters":    `{"message": "two", "repeat": "2", "extraCommands": ["echo warn >&2"]}`,
		"wait_seconds":  120,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)

	steps := documentSteps(t, run.data(t))
	require.Len(t, steps, 2)

	assert.Equal(t, "prepare", steps[0]["Name"])
	assert.Equal(t, "Success", steps[0]["Status"])
	assert.Equal(t, "prepare two\n", steps[0]["StandardOutputContent"])
	assert.Equal(t, "", steps[0]["StandardErrorContent"])

	assert.Equal(t, "report", steps[1]["Name"])
	assert.Equal(t, "Success", steps[1]["Status"])
	assert.Equal(t, "report two 1\nreport two 2\n", steps[1]["StandardOutputContent"])
	assert.Equal(t, "warn\n", steps[1]["StandardErrorContent"])

	// Each step has its own S3 objects.
	assert.NotEqual(t, steps[0]["StandardOutputS3Key"], steps[1]["StandardOutputS3Key"])
	assert.Contains(t, steps[1]["StandardOutputS3Key"], "/report/stdout")
}

func TestRunDocumentFailingStepFails(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
		"instance_id":   linuxInstance,
		"document_name": "Sandbox-StopOnFailure",
		"wait_seconds":  120,
	})
	assert.Equal(t, 1, run.code)
	assert.Equal(t, connector.StatusFailed, run.out.Status)

	res := run.result(t)
	assert.Contains(t, res.Message, "step check")
	assert.Contains(t, res.Message, "exit code 4")
	assert.Equal(t, "Command failed", summaryValue(t, res, "status"))

	steps := documentSteps(t, run.data(t))
	require.Len(t, steps, 2)
	assert.Equal(t, "Failed", steps[0]["Status"])
	assert.EqualValues(t, 4, steps[0]["ResponseCode"])
	assert.Equal(t, "checking\n", steps[0]["StandardOutputContent"])
	assert.Equal(t, "apply", steps[1]["Name"])
	assert.NotContains(t, steps[1]["StandardOutputContent"], "applying", "the step after the failed one did not run")
}

func TestRunDocumentFailingCommandNamesStep(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
		"instance_id":   linuxInstance,
		"document_name": "AWS-RunShellScript",
		"parameters":    `{"commands": ["echo 'disk is full' >&2", "exit 3"]}`,
		"wait_seconds":  120,
	})
	assert.Equal(t, 1, run.code)

	msg := run.result(t).Message
	assert.Contains(t, msg, "step aws:runShellScript")
	assert.Contains(t, msg, "exit code 3")
	assert.Contains(t, msg, "disk is full")
}

func TestRunDocumentWithoutWaitReturnsCommandID(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
		"instance_id":   linuxInstance,
		"document_name": "AWS-RunShellScript",
		"parameters":    `{"commands": ["echo later"]}`,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)

	res := run.result(t)
	assert.Equal(t, "Command sent", summaryValue(t, res, "status"))
	commandID, _ := summaryValue(t, res, "command_id").(string)
	require.NotEmpty(t, commandID)
	assert.Contains(t, res.Message, commandID, "the message shows the command ID")

	data := run.data(t)
	assert.Equal(t, commandID, lookupString(data, "Command.CommandId"))
	assert.NotContains(t, data, "Invocations", "nothing was waited for")
	assert.Zero(t, sb.Server.Faults().Calls("GetCommandInvocation"))
	assert.Zero(t, sb.Server.Faults().Calls("ListCommandInvocations"))

	// A later action can read the result with the command ID.
	client := ssm.NewFromConfig(sb.Config())
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := client.GetCommandInvocation(context.Background(), &ssm.GetCommandInvocationInput{
			CommandId: aws.String(commandID), InstanceId: aws.String(linuxInstance),
		})
		if err == nil && out.Status == ssmtypes.CommandInvocationStatusSuccess {
			assert.Equal(t, "later\n", aws.ToString(out.StandardOutputContent))
			break
		}
		require.True(t, time.Now().Before(deadline), "command %s did not finish: %v", commandID, err)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRunDocumentRejectsBadInput(t *testing.T) {
	sb := sandboxtest.Start(t)

	cases := []struct {
		name     string
		params   map[string]any
		contains []string
	}{
		{"parameters not a dict", map[string]any{"parameters": `{"commands": ["echo hi"`}, []string{`invalid parameter "parameters"`, "JSON object or Python dict"}},
		{"parameters a list", map[string]any{"parameters": `["echo hi"]`}, []string{`invalid parameter "parameters"`, "got a list"}},
		{"nested object", map[string]any{"parameters": `{"commands": {"a": "b"}}`}, []string{`invalid parameter "parameters"`, `"commands"`, "an object"}},
		{"hash of wrong length", map[string]any{"document_hash": "abc123"}, []string{`invalid parameter "document_hash"`, "SHA-256", "SHA-1"}},
		{"hash not hex", map[string]any{"document_hash": strings.Repeat("z", 64)}, []string{`invalid parameter "document_hash"`}},
		{"working directory with line break", map[string]any{"working_directory": "/tmp\nrm -rf /"}, []string{`invalid parameter "working_directory"`, "line break"}},
		{"delivery timeout too short", map[string]any{"timeout_seconds": 5}, []string{`invalid parameter "timeout_seconds"`, "30 to 2592000"}},
		{"wait of zero", map[string]any{"wait_seconds": 0}, []string{`invalid parameter "wait_seconds"`}},
		{"bad version", map[string]any{"document_version": "latest"}, []string{`invalid parameter "document_version"`, "$LATEST"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			params := map[string]any{
				"instance_id":   linuxInstance,
				"document_name": "AWS-RunShellScript",
				"parameters":    `{"commands": ["echo hi"]}`,
				"wait_seconds":  60,
			}
			for k, v := range c.params {
				params[k] = v
			}
			run := runAction(t, sb, "run_document", testAsset(sb), params)
			assert.Equal(t, 1, run.code)
			msg := run.result(t).Message
			for _, want := range c.contains {
				assert.Contains(t, msg, want)
			}
		})
	}
	// Every case fails before any AWS call.
	assert.Zero(t, sb.Server.Faults().Calls("DescribeInstanceInformation"))
	assert.Zero(t, sb.Server.Faults().Calls("SendCommand"))
}

func TestRunDocumentChecksDocumentFirst(t *testing.T) {
	sb := sandboxtest.Start(t)

	cases := []struct {
		name     string
		params   map[string]any
		contains []string
	}{
		{"unknown document", map[string]any{"document_name": "No-Such-Document"}, []string{"document No-Such-Document does not exist", "document_name"}},
		{"unknown version", map[string]any{"document_name": "Sandbox-VersionedGreeting", "document_version": "9", "parameters": ""}, []string{"has no version 9", "document_version"}},
		{"undeclared parameter", map[string]any{"parameters": `{"commands": ["echo hi"], "timeout": "5"}`}, []string{`invalid parameter "parameters"`, "no parameter timeout", "commands, workingDirectory, executionTimeout"}},
		{"no working directory parameter", map[string]any{"document_name": "Sandbox-VersionedGreeting", "parameters": "", "working_directory": "/tmp"}, []string{`invalid parameter "working_directory"`, "no workingDirectory parameter"}},
		{"automation runbook", map[string]any{"document_name": "Sandbox-RestartService", "parameters": ""}, []string{"Automation", "Command documents only"}},
		{"unmanaged instance", map[string]any{"instance_id": "i-00000000000000000"}, []string{"not a managed instance"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			params := map[string]any{
				"instance_id":   linuxInstance,
				"document_name": "AWS-RunShellScript",
				"parameters":    `{"commands": ["echo hi"]}`,
			}
			for k, v := range c.params {
				params[k] = v
			}
			run := runAction(t, sb, "run_document", testAsset(sb), params)
			assert.Equal(t, 1, run.code)
			msg := run.result(t).Message
			for _, want := range c.contains {
				assert.Contains(t, msg, want)
			}
		})
	}
	assert.Zero(t, sb.Server.Faults().Calls("SendCommand"))
}

func TestRunDocumentVersionAndWorkingDirectory(t *testing.T) {
	sb := sandboxtest.Start(t)
	dir := t.TempDir()

	run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
		"instance_id":       linuxInstance,
		"document_name":     "AWS-RunShellScript",
		"parameters":        `{'commands': ['pwd']}`,
		"working_directory": dir,
		"timeout_seconds":   120,
		"comment":           "version check",
		"wait_seconds":      120,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	data := run.data(t)
	assert.Equal(t, dir+"\n", documentSteps(t, data)[0]["StandardOutputContent"])
	assert.Equal(t, "SOAR container 345: version check", lookupString(data, "Command.Comment"))

	// Version 2 of the document runs only when asked for.
	for version, want := range map[string]string{"": "one", "1": "one", "2": "two", "$LATEST": "two"} {
		run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
			"instance_id":      linuxInstance,
			"document_name":    "Sandbox-VersionedGreeting",
			"document_version": version,
			"wait_seconds":     120,
		})
		require.Equal(t, 0, run.code, "version %q: stdout: %s\nstderr: %s", version, run.stdout, run.stderr)
		assert.Equal(t, "greeting from version "+want+"\n", documentSteps(t, run.data(t))[0]["StandardOutputContent"], "version %q", version)
	}
}

func TestRunDocumentStepsWithoutBucket(t *testing.T) {
	sb := sandboxtest.Start(t)
	asset := testAsset(sb)
	delete(asset, "default_s3_bucket")

	// Without a bucket, each step's output comes from GetCommandInvocation
	// with the step's name as PluginName.
	run := runAction(t, sb, "run_document", asset, map[string]any{
		"instance_id":   linuxInstance,
		"document_name": "Sandbox-TwoStepReport",
		"parameters":    `{"message": "inline", "repeat": "2"}`,
		"wait_seconds":  120,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assert.Contains(t, run.stderr, "no S3 bucket is set")

	steps := documentSteps(t, run.data(t))
	require.Len(t, steps, 2)
	assert.Equal(t, "prepare inline\n", steps[0]["StandardOutputContent"])
	assert.Equal(t, "report inline 1\nreport inline 2\n", steps[1]["StandardOutputContent"])
	assert.Equal(t, "", steps[1]["StandardOutputS3Key"])
	assert.Empty(t, sb.Server.ObjectKeys(testBucket))
}

func TestRunDocumentWaitRunsOut(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.HangCommands(true)

	run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
		"instance_id":   linuxInstance,
		"document_name": "AWS-RunShellScript",
		"parameters":    `{"commands": ["echo never"]}`,
		"wait_seconds":  1,
	})
	assert.Equal(t, 1, run.code)

	res := run.result(t)
	assert.Contains(t, res.Message, "did not finish within 1s")
	assert.Contains(t, res.Message, "follow it with list commands")
	assert.Equal(t, "Command still running", summaryValue(t, res, "status"))
	commandID, _ := summaryValue(t, res, "command_id").(string)
	assert.Equal(t, lookupString(run.data(t), "Command.CommandId"), commandID)
}

// Run document has no save_output_to_vault, so its truncation warning
// does not suggest that parameter.
func TestRunDocumentTruncationWarning(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "run_document", testAsset(sb), map[string]any{
		"instance_id":   linuxInstance,
		"document_name": "AWS-RunShellScript",
		"parameters":    `{"commands": ["head -c 5000000 /dev/zero | tr '\\0' e >&2"]}`,
		"wait_seconds":  120,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	msg := run.result(t).Message
	assert.Contains(t, msg, "Warning: the stderr of aws:runShellScript on "+linuxInstance+" is 5000000 bytes")
	assert.Contains(t, msg, "holds it whole")
	assert.NotContains(t, msg, "save_output_to_vault")
}
