package main

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// When polling fails for good after SendCommand, the command may still run,
// so the result names it for a playbook to follow.
func TestExecuteProgramPollingFailureKeepsCommandID(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.Faults().Fail("GetCommandInvocation", "AccessDeniedException", 400, 100)

	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     "echo hi",
	})
	assert.Equal(t, 1, run.code)
	res := run.result(t)
	assert.Equal(t, connector.StatusFailed, res.Status)
	assert.Contains(t, res.Message, "AccessDeniedException")
	commandID, ok := res.Summary.Get("command_id")
	require.True(t, ok, "summary.command_id is missing: %s", run.stdout)
	assert.NotEmpty(t, commandID)
	data, _ := res.Data[0].(map[string]any)
	assert.Equal(t, commandID, lookupString(data, "Command.CommandId"))
}

// A download from S3 that breaks off is reported as such, not as bad
// base64 content, and leaves nothing in the vault.
func TestGetFileBrokenDownload(t *testing.T) {
	sb := sandboxtest.Start(t)
	content := make([]byte, 1<<20)
	_, err := rand.Read(content)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "evidence.bin")
	require.NoError(t, os.WriteFile(path, content, 0o644))
	sb.Server.Faults().BreakResponse("GetObject", 200_000)

	run := runAction(t, sb, "get_file", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"file_path":   path,
	})
	assert.Equal(t, 1, run.code)
	res := run.result(t)
	assert.Contains(t, res.Message, "failed after")
	assert.NotContains(t, res.Message, "base64")
	assert.Contains(t, res.Message, "nothing was stored in the vault")
	commandID, _ := res.Summary.Get("command_id")
	assert.NotEmpty(t, commandID, "summary.command_id")
	assert.Empty(t, vaultFiles(t, run.vault))
}

// SendCommand sends nothing to an Inactive instance, so the action fails
// before sending instead of promising that the command waits.
func TestInactiveInstanceFailsBeforeSending(t *testing.T) {
	sb := sandboxtest.Start(t)
	const inactive = "i-0deadbeef00000001"

	for _, action := range []string{"execute_program", "run_document"} {
		t.Run(action, func(t *testing.T) {
			params := map[string]any{"instance_id": inactive, "command": "id"}
			if action == "run_document" {
				params = map[string]any{"instance_id": inactive, "document_name": "AWS-RunShellScript", "parameters": `{"commands": ["id"]}`}
			}
			run := runAction(t, sb, action, testAsset(sb), params)
			assert.Equal(t, 1, run.code)
			msg := run.result(t).Message
			assert.Contains(t, msg, "ping status Inactive, so SSM sends it no commands")
			assert.NotContains(t, msg, "waits for it")
		})
	}
	assert.Zero(t, sb.Server.Faults().Calls("SendCommand"))

	run := runAction(t, sb, "describe_instance", testAsset(sb), map[string]any{"instance_id": inactive})
	assert.Equal(t, 0, run.code)
	msg := run.result(t).Message
	assert.Contains(t, msg, "SSM sends it no commands")
	assert.NotContains(t, msg, "wait until it is back")
}

// Without a bucket SSM returns only the first 24,000 characters, and the
// vault contains whole files only.
func TestInlineCutOutputNotStoredInVault(t *testing.T) {
	sb := sandboxtest.Start(t)
	asset := testAsset(sb)
	delete(asset, "default_s3_bucket")

	run := runAction(t, sb, "execute_program", asset, map[string]any{
		"instance_id":          linuxInstance,
		"command":              `head -c 30000 /dev/zero | tr '\0' a; echo err >&2`,
		"save_output_to_vault": true,
	})
	require.Equal(t, 0, run.code, "stderr: %s", run.stderr)
	assert.Contains(t, run.result(t).Message, "SSM cut the stdout of aws:runShellScript on "+linuxInstance+" at 24,000 characters, so the vault has no copy of it")
	files := vaultFiles(t, run.vault)
	require.Len(t, files, 1, "only the whole stderr is stored")
	assert.Contains(t, files[0], "-stderr.txt")
}

// A comment within SSM's 100 characters is cut only because of the SOAR
// container prefix, and the warning names the prefix.
func TestCommentCutByContainerPrefix(t *testing.T) {
	sb := sandboxtest.Start(t)
	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id": linuxInstance,
		"command":     "true",
		"comment":     strings.Repeat("c", 100),
	})
	require.Equal(t, 0, run.code, "stderr: %s", run.stderr)
	assert.Contains(t, run.result(t).Message, `Warning: the comment with its prefix "SOAR container 345: " is longer than SSM's 100 characters`)
}
