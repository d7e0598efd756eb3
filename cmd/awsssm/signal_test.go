package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// liveRun is the binary running one action in the background, for tests
// that signal it.
type liveRun struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr io.ReadCloser
	vault  string
}

// startRun starts the binary on one parameter set of action, with stderr
// left for the test to read.
func startRun(t *testing.T, sb *sandboxtest.Sandbox, action string, params map[string]any) *liveRun {
	t.Helper()
	doc, err := json.Marshal(map[string]any{
		"identifier": action,
		"config":     testAsset(sb),
		"parameters": []map[string]any{params},
	})
	require.NoError(t, err)

	r := &liveRun{vault: filepath.Join(t.TempDir(), "vault")}
	r.cmd = exec.Command(binaryPath, "--vault-dir", r.vault)
	r.cmd.Stdin = bytes.NewReader(doc)
	r.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, sb.Env()...)
	r.cmd.Stdout = &r.stdout
	r.stderr, err = r.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, r.cmd.Start())
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
	return r
}

// signalAfter sends sig once a stderr line contains text. It reads stderr
// to the end either way, so that the process never blocks on it.
func (r *liveRun) signalAfter(t *testing.T, text string, sig syscall.Signal) {
	t.Helper()
	lines := bufio.NewScanner(r.stderr)
	for lines.Scan() {
		if strings.Contains(lines.Text(), text) {
			require.NoError(t, r.cmd.Process.Signal(sig))
			break
		}
	}
	for lines.Scan() {
	}
}

// failedResult waits for the run, requires exit status 1 and one JSON
// document on stdout, and returns its single result.
func (r *liveRun) failedResult(t *testing.T) connector.ActionResult {
	t.Helper()
	err := r.cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the run must fail, got %v", err)
	assert.Equal(t, 1, exit.ExitCode())

	var out connector.Output
	require.NoError(t, json.Unmarshal(r.stdout.Bytes(), &out), "stdout: %q", r.stdout.String())
	require.Len(t, out.ResultData, 1)
	return out.ResultData[0]
}

// A signal while the connector waits for a command still yields one JSON
// result that states that the command goes on running, and leaves the vault clean.
func TestSignalDuringWaitGivesResult(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.HangCommands(true)

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			run := startRun(t, sb, "execute_program", map[string]any{
				"instance_id": linuxInstance, "command": "sleep 30", "save_output_to_vault": true,
			})
			run.signalAfter(t, "Sent command", sig)
			res := run.failedResult(t)

			assert.Contains(t, res.Message, "the run was cancelled ("+sig.String()+" signal received)")
			assert.Contains(t, res.Message, "keeps running on the instance")
			assert.NotContains(t, res.Message, "context canceled", "no Go error text")
			assert.Empty(t, vaultFiles(t, run.vault), "nothing partial in the vault")
			// The command goes on, so a playbook needs its ID to follow it.
			commandID, _ := res.Summary.Get("command_id")
			assert.NotEmpty(t, commandID, "summary.command_id after a stopped wait")
			assert.Contains(t, res.Message, fmt.Sprint(commandID))
		})
	}
}

// A signal while an AWS call is in flight, before any command is sent,
// gives a plain message rather than the SDK's error text.
func TestSignalDuringAWSCallMessage(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.Server.Faults().Latency("GetCallerIdentity", time.Minute)

	run := startRun(t, sb, "execute_program", map[string]any{"instance_id": linuxInstance, "command": "echo hi"})
	// The bucket check reads the account with GetCallerIdentity, after the
	// instance lookup reports the platform.
	run.signalAfter(t, "runs Linux", syscall.SIGTERM)
	res := run.failedResult(t)

	assert.Contains(t, res.Message, "cancelled before AWS responded")
	assert.Contains(t, res.Message, "the run was cancelled (")
	assert.NotContains(t, res.Message, "context canceled")
	assert.NotContains(t, res.Message, "operation error")
	assert.Zero(t, sb.Server.Faults().Calls("SendCommand"))
}

// A signal in the middle of a get file download gives a message that the
// download stopped and names the signal, and leaves nothing in the vault.
func TestSignalDuringDownload(t *testing.T) {
	sb := sandboxtest.Start(t)
	path := filepath.Join(t.TempDir(), "evidence.bin")
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("evidence"), 128<<10), 0o644))
	sb.Server.Faults().StallResponse("GetObject", 100_000)

	run := startRun(t, sb, "get_file", map[string]any{"instance_id": linuxInstance, "file_path": path})
	// Drain stderr until the process exits; Wait must come after that.
	drained := make(chan struct{})
	go func() {
		io.Copy(io.Discard, run.stderr)
		close(drained)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for sb.Server.Faults().Stalled("GetObject") == 0 {
		require.True(t, time.Now().Before(deadline), "the download never reached the stall")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, run.cmd.Process.Signal(syscall.SIGTERM))
	<-drained
	res := run.failedResult(t)

	assert.Contains(t, res.Message, "stopped after")
	assert.Contains(t, res.Message, "the run was cancelled (terminated signal received)")
	assert.NotContains(t, res.Message, "before AWS responded", "AWS had responded")
	commandID, _ := res.Summary.Get("command_id")
	assert.NotEmpty(t, commandID)
	assert.Empty(t, vaultFiles(t, run.vault))
}
