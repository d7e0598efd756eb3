package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

func TestRelativePathsRejected(t *testing.T) {
	sb := sandboxtest.Start(t)
	cases := map[string]map[string]any{
		"get_file":        {"instance_id": linuxInstance, "file_path": "etc/passwd"},
		"execute_program": {"instance_id": linuxInstance, "command": "pwd", "working_directory": "tmp"},
		"run_document": {"instance_id": linuxInstance, "document_name": "AWS-RunShellScript",
			"parameters": `{"commands": ["pwd"]}`, "working_directory": "tmp"},
	}
	for action, params := range cases {
		t.Run(action, func(t *testing.T) {
			run := runAction(t, sb, action, testAsset(sb), params)
			assert.Equal(t, 1, run.code)
			assert.Contains(t, run.result(t).Message, "is not an absolute path; expected one that starts with /")
		})
	}
	assert.Zero(t, sb.Server.Faults().Calls("SendCommand"))
}

func TestGetFileKeepsBackslashInLinuxName(t *testing.T) {
	sb := sandboxtest.Start(t)
	path := filepath.Join(t.TempDir(), `back\slash\n.txt`)
	require.NoError(t, os.WriteFile(path, []byte("x"), 0o644))

	run := runAction(t, sb, "get_file", testAsset(sb), map[string]any{"instance_id": linuxInstance, "file_path": path})
	require.Equal(t, 0, run.code, run.stdout)
	assert.Equal(t, "back_slash_n.txt", lookupString(run.data(t), "File.filename"))
}

func TestLongPathShortenedInMessage(t *testing.T) {
	sb := sandboxtest.Start(t)
	path := "/" + strings.Repeat("a", 200000)
	run := runAction(t, sb, "get_file", testAsset(sb), map[string]any{"instance_id": linuxInstance, "file_path": path})
	assert.Equal(t, 1, run.code)
	msg := run.result(t).Message
	assert.Less(t, len(msg), 2000, "the message quotes the path's start and end only")
	assert.Contains(t, msg, "(200001 bytes)")
}

func TestLongCommentCutWithWarning(t *testing.T) {
	sb := sandboxtest.Start(t)
	run := runAction(t, sb, "execute_program", testAsset(sb), map[string]any{
		"instance_id": linuxInstance, "command": "true", "comment": strings.Repeat("é", 150),
	})
	require.Equal(t, 0, run.code, run.stdout)
	assert.Contains(t, run.stderr, "longer than SSM's 100 characters")
	assert.Len(t, []rune(lookupString(run.data(t), "Command.Comment")), 100)
}

func TestDefaultVaultPathIsAbsolute(t *testing.T) {
	sb := sandboxtest.Start(t)
	workDir := t.TempDir()
	doc, err := json.Marshal(map[string]any{
		"identifier": "get_file", "config": testAsset(sb),
		"parameters": []any{map[string]any{"instance_id": linuxInstance, "file_path": "/etc/passwd"}},
	})
	require.NoError(t, err)

	cmd := exec.Command(binaryPath)
	cmd.Dir = workDir
	cmd.Stdin = bytes.NewReader(doc)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, sb.Env()...)
	out, err := cmd.Output()
	require.NoError(t, err)

	var result connector.Output
	require.NoError(t, json.Unmarshal(out, &result))
	item := result.ResultData[0].Data[0].(map[string]any)
	path := lookupString(item, "File.path")
	assert.True(t, filepath.IsAbs(path), "File.path %q", path)
	assert.True(t, strings.HasPrefix(path, filepath.Join(workDir, "vault")), "File.path %q", path)
}

func TestUnwritableStdoutExitsTwo(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("/dev/full is not available: ", err)
	}
	defer full.Close()

	cmd := exec.Command(binaryPath)
	cmd.Stdin = strings.NewReader(`{"identifier": "test_connectivity"`)
	cmd.Stdout = full
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	err = cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit))
	assert.Equal(t, 2, exit.ExitCode())
}
