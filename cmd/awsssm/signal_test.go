package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// A signal while the connector waits for a command still yields one JSON
// result that states that the command goes on running, and leaves the vault clean.
func TestSignalDuringWaitGivesResult(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.HangCommands(true)

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			doc, err := json.Marshal(map[string]any{
				"identifier": "execute_program",
				"config":     testAsset(sb),
				"parameters": []map[string]any{{
					"instance_id": linuxInstance, "command": "sleep 30", "save_output_to_vault": true,
				}},
			})
			require.NoError(t, err)

			vaultDir := filepath.Join(t.TempDir(), "vault")
			cmd := exec.Command(binaryPath, "--vault-dir", vaultDir)
			cmd.Stdin = bytes.NewReader(doc)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, sb.Env()...)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())

			// Signal once the command has been sent, then drain stderr.
			lines := bufio.NewScanner(stderr)
			for lines.Scan() {
				if strings.Contains(lines.Text(), "Sent command") {
					require.NoError(t, cmd.Process.Signal(sig))
					break
				}
			}
			for lines.Scan() {
			}

			err = cmd.Wait()
			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "the run must fail, got %v", err)
			assert.Equal(t, 1, exit.ExitCode())

			var out connector.Output
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), "stdout: %q", stdout.String())
			require.Len(t, out.ResultData, 1)
			msg := out.ResultData[0].Message
			assert.Contains(t, msg, "the run was cancelled ("+sig.String()+" signal received)")
			assert.Contains(t, msg, "keeps running on the instance")
			assert.NotContains(t, msg, "context canceled", "no Go error text")
			assert.Empty(t, vaultFiles(t, vaultDir), "nothing partial in the vault")
			// The command goes on, so a playbook needs its ID to follow it.
			commandID, _ := out.ResultData[0].Summary.Get("command_id")
			assert.NotEmpty(t, commandID, "summary.command_id after a stopped wait")
			assert.Contains(t, msg, fmt.Sprint(commandID))
		})
	}
}

// A signal while an AWS call is in flight, before any command is sent,
// gives a plain message rather than the SDK's error text.
func TestSignalDuringAWSCallMessage(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.Faults().Latency("GetCallerIdentity", time.Minute)

	doc, err := json.Marshal(map[string]any{
		"identifier": "execute_program",
		"config":     testAsset(sb),
		"parameters": []map[string]any{{"instance_id": linuxInstance, "command": "echo hi"}},
	})
	require.NoError(t, err)
	cmd := exec.Command(binaryPath, "--vault-dir", filepath.Join(t.TempDir(), "vault"))
	cmd.Stdin = bytes.NewReader(doc)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, sb.Env()...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	// The bucket check reads the account with GetCallerIdentity, after the
	// instance lookup reports the platform.
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "runs Linux") {
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			break
		}
	}
	for lines.Scan() {
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the run must fail, got %v", err)

	var out connector.Output
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), "stdout: %q", stdout.String())
	require.Len(t, out.ResultData, 1)
	msg := out.ResultData[0].Message
	assert.Contains(t, msg, "cancelled before AWS responded")
	assert.Contains(t, msg, "the run was cancelled (")
	assert.NotContains(t, msg, "context canceled")
	assert.NotContains(t, msg, "operation error")
	assert.Zero(t, sb.Server.Faults().Calls("SendCommand"))
}

// A signal in the middle of a get file download says the download stopped,
// names the signal, and leaves nothing in the vault.
func TestSignalDuringDownload(t *testing.T) {
	sb := sandboxtest.Start(t)
	path := filepath.Join(t.TempDir(), "evidence.bin")
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("evidence"), 128<<10), 0o644))
	sb.Server.Faults().StallResponse("GetObject", 100_000)

	doc, err := json.Marshal(map[string]any{
		"identifier": "get_file",
		"config":     testAsset(sb),
		"parameters": []map[string]any{{"instance_id": linuxInstance, "file_path": path}},
	})
	require.NoError(t, err)
	vaultDir := filepath.Join(t.TempDir(), "vault")
	cmd := exec.Command(binaryPath, "--vault-dir", vaultDir)
	cmd.Stdin = bytes.NewReader(doc)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, sb.Env()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())

	deadline := time.Now().Add(30 * time.Second)
	for sb.Server.Faults().Stalled("GetObject") == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the download never reached the stall; stderr:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the run must fail, got %v", err)

	var out connector.Output
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), "stdout: %q", stdout.String())
	require.Len(t, out.ResultData, 1)
	msg := out.ResultData[0].Message
	assert.Contains(t, msg, "stopped after")
	assert.Contains(t, msg, "the run was cancelled (terminated signal received)")
	assert.NotContains(t, msg, "before AWS responded", "AWS had responded")
	commandID, _ := out.ResultData[0].Summary.Get("command_id")
	assert.NotEmpty(t, commandID)
	assert.Empty(t, vaultFiles(t, vaultDir))
}
