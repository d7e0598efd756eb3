package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

func TestExecuteProgramReturnsWholeOutput(t *testing.T) {
	sb := sandboxtest.Start(t)

	// 60,000 characters: 59,991 'x' and then RESULT=ok.
	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     `head -c 59991 /dev/zero | tr '\0' x; printf 'RESULT=ok'`,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assert.Equal(t, connector.StatusSuccess, run.out.Status)

	data := run.data(t)
	output, _ := lookup(data, "File.output")
	text, _ := output.(string)
	assert.Len(t, text, 60000, "File.output holds the whole stdout, beyond SSM's 24,000-character inline limit")
	assert.True(t, strings.HasSuffix(text, "RESULT=ok"), "the output's end is kept")

	step := firstStep(t, data)
	assert.Equal(t, text, step["StandardOutputContent"])
	assert.EqualValues(t, 60000, step["StandardOutputSize"])
	assert.Equal(t, false, step["StandardOutputTruncated"])
	assert.Equal(t, "Success", lookupString(data, "Command.Status"), "Command shows the final status")
}

func TestExecuteProgramWaitsForLateInvocation(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.SetInvocationDelay(1500 * time.Millisecond)

	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     "echo late",
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assert.Equal(t, "late\n", lookupString(run.data(t), "File.output"))

	// The first poll comes right after SendCommand, well within the 1.5 s
	// in which the invocation does not exist, so several polls were needed.
	assert.Greater(t, sb.Server.Faults().Calls("GetCommandInvocation"), 1)
}

func TestExecuteProgramExitCodeFailsAction(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     "echo some output; echo 'disk is full' >&2; exit 3",
	})
	assert.Equal(t, 1, run.code)
	assert.Equal(t, connector.StatusFailed, run.out.Status)

	res := run.result(t)
	assert.Equal(t, connector.StatusFailed, res.Status)
	assert.Contains(t, res.Message, "exit code 3")
	assert.Contains(t, res.Message, "disk is full")

	step := firstStep(t, run.data(t))
	assert.EqualValues(t, 3, step["ResponseCode"])
	// SSM Agent appends its own line to a failed step's stderr.
	assert.True(t, strings.HasPrefix(step["StandardErrorContent"].(string), "disk is full\n"), "stderr: %q", step["StandardErrorContent"])
	assert.Equal(t, "some output\n", step["StandardOutputContent"])
	exitCode, _ := res.Summary.Get("exit_code")
	assert.EqualValues(t, 3, exitCode)
}

func TestGetFileCopiesHostilePathExactly(t *testing.T) {
	sb := sandboxtest.Start(t)
	home := sb.Server.InstanceHome(linuxInstance)

	// 3 MiB that holds every byte value, at a path that would run two more
	// commands if the shell ever interpreted it.
	content := make([]byte, 3<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		if i < 256 {
			content[i] = byte(i)
		} else {
			content[i] = byte(rng.UintN(256))
		}
	}
	dir := filepath.Join(t.TempDir(), "case 1's $(touch pwned-subst) ; touch pwned-semi")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "it's evidence; $(id).bin")
	require.NoError(t, os.WriteFile(path, content, 0o644))
	want := sha256.Sum256(content)

	scriptsBefore := len(sb.Server.CommandScripts(linuxInstance))
	run := runAction(t, sb, "get_file", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"file_path":   path,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)

	files := vaultFiles(t, run.vault)
	require.Len(t, files, 1)
	stored, err := os.ReadFile(filepath.Join(run.vault, files[0]))
	require.NoError(t, err)
	got := sha256.Sum256(stored)
	assert.Equal(t, hex.EncodeToString(want[:]), hex.EncodeToString(got[:]), "the vault file is the source file, byte for byte")
	assert.Equal(t, "it's evidence; $(id).bin", filepath.Base(files[0]))
	assert.Equal(t, hex.EncodeToString(want[:]), lookupString(run.data(t), "File.sha256"))

	assert.Len(t, sb.Server.CommandScripts(linuxInstance), scriptsBefore+1, "exactly one command ran on the instance")
	for _, marker := range []string{"pwned-subst", "pwned-semi"} {
		for _, where := range []string{home, dir, filepath.Dir(dir)} {
			assert.NoFileExists(t, filepath.Join(where, marker), "the path ran a command")
		}
	}
}

func TestGetFileMissingOrDirectoryFailsCleanly(t *testing.T) {
	sb := sandboxtest.Start(t)
	dir := t.TempDir()

	cases := map[string]struct {
		path string
		want string
	}{
		"missing":   {filepath.Join(dir, "no such file.txt"), "no such file"},
		"directory": {dir, "directory"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			run := runAction(t, sb, "get_file", testAsset(sb), map[string]any{
				"instance_id": linuxInstance,
				"file_path":   c.path,
			})
			assert.Equal(t, 1, run.code)
			res := run.result(t)
			assert.Equal(t, connector.StatusFailed, res.Status)
			assert.Contains(t, res.Message, c.want)
			assert.Contains(t, res.Message, "nothing was stored in the vault")
			assert.Empty(t, vaultFiles(t, run.vault), "a failed get file leaves nothing in the vault")
		})
	}
}

func TestGetFileRejectsLineBreakBeforeSending(t *testing.T) {
	sb := sandboxtest.Start(t)
	run := runAction(t, sb, "get_file", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"file_path":   "/tmp/a\n/bin/reboot",
	})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, "line break")
	assert.Zero(t, sb.Server.Faults().Calls("SendCommand"), "nothing was sent")
}

// pythonCredentials is the text that SOAR's STS app puts in a playbook for
// an AssumeRole result.
func pythonCredentials(keyID, secret, token, expiration string) string {
	return fmt.Sprintf(`{'Credentials': {'AccessKeyId': '%s', 'SecretAccessKey': '%s', 'SessionToken': '%s', 'Expiration': %s}, 'AssumedRoleUser': {'AssumedRoleId': 'AROAEXAMPLE:soar', 'Arn': 'arn:aws:sts::123456789012:assumed-role/soar/soar'}, 'ResponseMetadata': {'RetryAttempts': 0, 'HTTPHeaders': {}}, 'Flag': True, 'Nothing': None}`,
		keyID, secret, token, expiration)
}

// assetWithoutKeys points at the sandbox but carries no credentials, so
// only a credentials parameter can make calls succeed.
func assetWithoutKeys(sb *sandboxtest.Sandbox) map[string]any {
	asset := testAsset(sb)
	delete(asset, "access_key")
	delete(asset, "secret_key")
	return asset
}

func TestCredentialsParameterAsPythonDict(t *testing.T) {
	sb := sandboxtest.Start(t)
	keyID, secret, token, _ := sb.Server.IssueCredentials(time.Hour)
	require.Contains(t, token, "/", "the sandbox's tokens must contain / + and == to test byte-exact handling")

	run := runAction(t, sb, "execute_program", assetWithoutKeys(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     "echo with assumed role",
		"credentials": pythonCredentials(keyID, secret, token, "datetime.datetime(2030, 1, 1, 0, 0, tzinfo=tzutc())"),
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assert.Equal(t, "with assumed role\n", lookupString(run.data(t), "File.output"))
}

func TestExpiredCredentialsFailBeforeAnyCall(t *testing.T) {
	sb := sandboxtest.Start(t)
	keyID, secret, token, _ := sb.Server.IssueCredentials(time.Hour)

	run := runAction(t, sb, "execute_program", assetWithoutKeys(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     "echo never",
		"credentials": pythonCredentials(keyID, secret, token, "datetime.datetime(2020, 1, 1, 0, 0, tzinfo=tzutc())"),
	})
	assert.Equal(t, 1, run.code)
	msg := run.result(t).Message
	assert.Contains(t, msg, "expired")
	assert.Contains(t, msg, "2020-01-01")
	for _, op := range []string{"GetCallerIdentity", "DescribeInstanceInformation", "HeadBucket", "SendCommand"} {
		assert.Zero(t, sb.Server.Faults().Calls(op), "%s was called with expired credentials", op)
	}
}

func TestRegionNamesAndCodes(t *testing.T) {
	sb := sandboxtest.Start(t)
	for given, want := range map[string]string{
		"EU (Paris)":   "eu-west-3",
		" us-east-1\t": "us-east-1",
		"\tEU (Paris)": "eu-west-3",
	} {
		asset := testAsset(sb)
		asset["region"] = given
		run := runAction(t, sb, "test_connectivity", asset)
		require.Equal(t, 0, run.code, "region %q: %s %s", given, run.stdout, run.stderr)
		assert.Equal(t, want, lookupString(run.data(t), "Region"), "region %q", given)
	}

	for _, bad := range []string{"us_east_1", "us-east-1a"} {
		asset := testAsset(sb)
		asset["region"] = bad
		run := runAction(t, sb, "test_connectivity", asset)
		assert.Equal(t, 2, run.code, "region %q", bad)
		assert.Equal(t, connector.StatusFailed, run.out.Status)
		assert.Contains(t, run.out.Message, bad)
		assert.Contains(t, run.out.Message, "did you mean us-east-1?", "the message guesses the region")
		assert.NotContains(t, run.out.Message, "eu-west-3", "a guess leaves the list of codes out")
	}
}

func TestOutputBucketCreatedInRegion(t *testing.T) {
	sb := sandboxtest.Start(t)
	for region, bucket := range map[string]string{"us-east-1": "awsssm-e2e-use1", "eu-west-1": "awsssm-e2e-euw1"} {
		_, exists := sb.Server.BucketRegion(bucket)
		require.False(t, exists)

		asset := testAsset(sb)
		asset["region"] = region
		asset["default_s3_bucket"] = bucket
		run := runAction(t, sb, "execute_program", asset, map[string]any{
			"instance_id": linuxInstance,
			"command":     "echo bucket",
		})
		require.Equal(t, 0, run.code, "region %s: %s %s", region, run.stdout, run.stderr)

		got, exists := sb.Server.BucketRegion(bucket)
		assert.True(t, exists, "bucket %s was created", bucket)
		assert.Equal(t, region, got)
		assert.Equal(t, "bucket\n", lookupString(run.data(t), "File.output"), "output was read from the new bucket")
	}
}

func TestMalformedInputExitsTwo(t *testing.T) {
	run := runBinary(t, nil, []byte(`{"identifier": "execute_program", "parameters": [`))
	assert.Equal(t, 2, run.code)
	assert.Equal(t, connector.StatusFailed, run.out.Status)
	assert.Contains(t, run.out.Message, "malformed JSON")
	assert.NotContains(t, run.stderr, "panic")
}

func TestMissingParameterExitsOne(t *testing.T) {
	sb := sandboxtest.Start(t)
	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{"instance_id": linuxInstance})
	assert.Equal(t, 1, run.code)
	assert.Equal(t, connector.StatusFailed, run.out.Status)
	assert.Contains(t, run.result(t).Message, `missing required parameter "command"`)
	assert.Zero(t, sb.Server.Faults().Calls("SendCommand"))
}

func TestSecretsNeverPrinted(t *testing.T) {
	sb := sandboxtest.Start(t)
	keyID, secret, token, _ := sb.Server.IssueCredentials(time.Hour)

	runs := []*runResult{
		// The asset's keys, with a failing command so that errors are logged too.
		runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
			"instance_id": linuxInstance,
			"command":     "echo fail >&2; exit 1",
		}),
		runAction(t, sb, "test_connectivity", testAsset(sb)),
		// A credentials parameter, as JSON this time, also on a failing run.
		runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
			"instance_id": linuxInstance,
			"command":     "echo ok",
			"credentials": fmt.Sprintf(`{"AccessKeyId": %q, "SecretAccessKey": %q, "SessionToken": %q, "Expiration": "2030-01-01T00:00:00Z"}`, keyID, secret, token),
		}),
		runAction(t, sb, "get_file", testAsset(sb), map[string]any{
			"instance_id": linuxInstance,
			"file_path":   "/nonexistent/file",
			"credentials": pythonCredentials(keyID, secret, token, "datetime.datetime(2030, 1, 1, 0, 0, tzinfo=tzutc())"),
		}),
	}
	for i, run := range runs {
		for _, s := range []string{sandbox.ExampleSecretAccessKey, secret, token} {
			assert.NotContains(t, run.stdout, s, "run %d: secret in stdout", i)
			assert.NotContains(t, run.stderr, s, "run %d: secret in stderr", i)
		}
	}
	assert.Contains(t, runs[2].stdout, connector.Mask, "the echoed credentials parameter is masked")
}

func lookupString(m map[string]any, path string) string {
	v, _ := lookup(m, path)
	s, _ := v.(string)
	return s
}

func TestCredentialsEchoAlwaysMasked(t *testing.T) {
	sb := sandboxtest.Start(t)
	keyID, secret, token, _ := sb.Server.IssueCredentials(time.Hour)
	// JSON may escape characters that the decoded secret holds plainly, so
	// the text never contains the secret as such.
	escaped := func(s string) string {
		return strings.NewReplacer("/", `\/`, "+", `\u002B`).Replace(s)
	}

	inputs := map[string]any{
		"escaped JSON text": fmt.Sprintf(`{"AccessKeyId": %q, "SecretAccessKey": "%s", "SessionToken": "%s"}`, keyID, escaped(secret), escaped(token)),
		"JSON object":       map[string]any{"AccessKeyId": keyID, "SecretAccessKey": secret, "SessionToken": token},
	}
	for name, credentials := range inputs {
		t.Run(name, func(t *testing.T) {
			run := runAction(t, sb, "describe_instance", assetWithoutKeys(sb), map[string]any{
				"instance_id": linuxInstance,
				"credentials": credentials,
			})
			assert.Equal(t, connector.Mask, run.result(t).Parameter["credentials"])
			for _, s := range []string{secret, token, escaped(secret), escaped(token)} {
				assert.NotContains(t, run.stdout, s)
				assert.NotContains(t, run.stderr, s)
			}
		})
	}
}

func TestUnwritableVaultFailsBeforeSending(t *testing.T) {
	sb := sandboxtest.Start(t)
	notADir := filepath.Join(t.TempDir(), "afile")
	require.NoError(t, os.WriteFile(notADir, nil, 0o600))

	cases := map[string]map[string]any{
		"execute_program": {"instance_id": linuxInstance, "command": "echo ran", "save_output_to_vault": true},
		"get_file":        {"instance_id": linuxInstance, "file_path": "/etc/passwd"},
	}
	for action, params := range cases {
		t.Run(action, func(t *testing.T) {
			doc, err := json.Marshal(map[string]any{"identifier": action, "config": testAsset(sb), "parameters": []any{params}})
			require.NoError(t, err)
			run := runBinary(t, sb, doc, "--vault-dir", notADir)
			assert.Equal(t, 1, run.code)
			assert.Contains(t, run.result(t).Message, "not usable")
			assert.Contains(t, run.result(t).Message, "--vault-dir")
		})
	}
	assert.Zero(t, sb.Server.Faults().Calls("SendCommand"), "nothing ran on the instance")
}

func TestBucketInOtherRegionIsFollowed(t *testing.T) {
	sb := sandboxtest.Start(t)
	require.NoError(t, sb.Server.CreateBucket(testBucket, "us-east-1"))

	// The action runs in eu-west-3 while the asset's bucket is in us-east-1.
	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     "echo across regions",
		"region":      "eu-west-3",
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assert.Equal(t, "across regions\n", lookupString(run.data(t), "File.output"))
	assert.Contains(t, run.stderr, "is in us-east-1")
}

func TestHugeOutputCutWithWarning(t *testing.T) {
	sb := sandboxtest.Start(t)
	// 5 MiB of stdout, more than the 4 MiB a result carries.
	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id":          linuxInstance,
		"command":              "head -c 5242880 /dev/zero | tr '\\0' y",
		"save_output_to_vault": true,
	})
	require.Equal(t, 0, run.code, "stderr: %s", run.stderr)

	step := firstStep(t, run.data(t))
	assert.Equal(t, true, step["StandardOutputTruncated"])
	assert.EqualValues(t, 5<<20, step["StandardOutputSize"], "the size is the whole stream's")
	assert.Len(t, step["StandardOutputContent"], 4<<20)
	assert.Contains(t, run.stderr, "holds it whole")
	// The platform shows the message, not stderr, so the cut is named there.
	msg := run.result(t).Message
	assert.Contains(t, msg, "Status: Successfully executed program")
	assert.Contains(t, msg, "Warning: the stdout of aws:runShellScript on "+linuxInstance+" is 5242880 bytes")
	assert.Contains(t, msg, "and so does the vault copy")

	vaultID := lookupString(run.data(t), "File.vault_id")
	stored, err := os.ReadFile(filepath.Join(run.vault, vaultID, lookupString(run.data(t), "File.filename")))
	require.NoError(t, err)
	assert.Len(t, stored, 5<<20, "the vault copy is whole")
}

func TestUnknownParameterValueMasked(t *testing.T) {
	sb := sandboxtest.Start(t)
	keyID, secret, token, _ := sb.Server.IssueCredentials(time.Hour)
	text := fmt.Sprintf(`{"AccessKeyId": %q, "SecretAccessKey": %q, "SessionToken": %q}`, keyID, secret, token)

	// A misspelled name is unknown, so the connector cannot tell that its
	// value is secret.
	run := runAction(t, sb, "describe_instance", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"Credentials": text,
	})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, `unknown parameter "Credentials"`)
	assert.Equal(t, connector.Mask, run.result(t).Parameter["Credentials"])
	assert.NotContains(t, run.stdout, secret)
	assert.NotContains(t, run.stdout, token)
}

func TestConnectivityFollowsBucketRegion(t *testing.T) {
	sb := sandboxtest.Start(t)
	require.NoError(t, sb.Server.CreateBucket(testBucket, "us-east-1"))
	asset := testAsset(sb)
	asset["region"] = "eu-west-3"

	run := runAction(t, sb, "test_connectivity", asset)
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	exists, _ := lookup(run.data(t), "DefaultS3BucketExists")
	assert.Equal(t, true, exists)
	assert.Contains(t, run.stderr, "is in us-east-1")
}

func TestOutputCutOnCharacterBoundary(t *testing.T) {
	sb := sandboxtest.Start(t)
	// "x" and then two-byte characters, so 4 MiB falls inside one of them.
	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     "printf x; yes é | head -c 6600000 | tr -d '\\n'",
	})
	require.Equal(t, 0, run.code, "stderr: %s", run.stderr)
	text := firstStep(t, run.data(t))["StandardOutputContent"].(string)
	assert.LessOrEqual(t, len(text), 4<<20)
	assert.False(t, strings.HasSuffix(text, "\uFFFD"), "no replacement character where the cut fell")
	assert.True(t, strings.HasSuffix(text, "é"))
}

func TestMissingWorkingDirectoryExplained(t *testing.T) {
	sb := sandboxtest.Start(t)
	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id":       linuxInstance,
		"command":           "pwd",
		"working_directory": filepath.Join(t.TempDir(), "no-such-dir"),
	})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, "working_directory does not exist on the instance")
}

func TestInstanceLookupPagesPastEmptyPage(t *testing.T) {
	sb := sandboxtest.Start(t)
	// SSM may answer a filtered DescribeInstanceInformation with an empty
	// page that still carries a NextToken.
	sb.Server.SetPagePlan("DescribeInstanceInformation", []int{0})

	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     "echo found",
	})
	require.Equal(t, 0, run.code, "stdout: %s", run.stdout)
	assert.Equal(t, "found\n", lookupString(run.data(t), "File.output"))
}

// Only an action that takes the credentials parameter suggests it when the
// asset has no credentials.
func TestNoCredentialsMessagePerAction(t *testing.T) {
	asset := map[string]any{"region": "us-east-1"}
	run := runAction(t, nil, "test_connectivity", asset, map[string]any{})
	assert.Equal(t, 1, run.code)
	msg := run.result(t).Message
	assert.Contains(t, msg, "no credentials: fill in access_key and secret_key")
	assert.NotContains(t, msg, "credentials parameter")

	run = runAction(t, nil, "describe_instance", asset, map[string]any{"instance_id": linuxInstance})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, "or pass the credentials parameter")
}
