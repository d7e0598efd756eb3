package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsssm/awsssm/internal/sandbox"
)

// runAsMainEnv makes the test binary, run again as a child process, behave
// as the awsssm-sandbox command.
const runAsMainEnv = "AWSSSM_SANDBOX_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

const repoInstances = "../../testdata/sandbox/instances.json"

func TestRejectsNonLoopbackAddress(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.10:8080", "[::]:0", "example.com:80", "127.0.0.1"} {
		t.Run(addr, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run([]string{"--addr", addr}, &stdout, &stderr, nil)
			if status != 2 {
				t.Errorf("exit status = %d, want 2", status)
			}
			if !strings.Contains(stderr.String(), "invalid --addr") {
				t.Errorf("stderr = %q, want an invalid --addr message", stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestRejectsBadArguments(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown flag":        {"--port", "80"},
		"positional argument": {"serve"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if status := run(args, &stdout, &stderr, nil); status != 2 {
				t.Errorf("exit status = %d, want 2; stderr: %s", status, stderr.String())
			}
		})
	}
}

func TestMissingInstancesFileFails(t *testing.T) {
	var stdout, stderr bytes.Buffer
	status := run([]string{"--instances", filepath.Join(t.TempDir(), "missing.json")}, &stdout, &stderr, nil)
	if status != 1 {
		t.Errorf("exit status = %d, want 1", status)
	}
	if !strings.Contains(stderr.String(), "missing.json") {
		t.Errorf("stderr = %q, want the file name", stderr.String())
	}
}

// lockedBuffer collects output written by another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServesUntilStopped(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "state")
	stdoutReader, stdoutWriter := io.Pipe()
	stderr := &lockedBuffer{}
	stop := make(chan os.Signal, 1)
	status := make(chan int, 1)
	go func() {
		status <- run([]string{"--addr", "localhost:0", "--instances", repoInstances, "--state-dir", stateDir, "--verbose"}, stdoutWriter, stderr, stop)
		stdoutWriter.Close()
	}()

	firstLine := make(chan string, 1)
	go func() {
		reader := bufio.NewReader(stdoutReader)
		line, _ := reader.ReadString('\n')
		firstLine <- line
		io.Copy(io.Discard, reader)
	}()
	endpoint := readEndpoint(t, firstLine, stderr)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Errorf("endpoint = %q, want http://127.0.0.1:PORT", endpoint)
	}

	cfg := aws.Config{
		Region:       sandbox.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(sandbox.ExampleAccessKeyID, sandbox.ExampleSecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
	ctx := context.Background()
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	info, err := ssm.NewFromConfig(cfg).DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
	if err != nil {
		t.Fatalf("DescribeInstanceInformation: %v", err)
	}
	if len(info.InstanceInformationList) == 0 {
		t.Error("no instances from the instances file")
	}

	stop <- syscall.SIGTERM
	select {
	case got := <-status:
		if got != 0 {
			t.Errorf("exit status = %d, want 0; stderr:\n%s", got, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sandbox did not stop after the signal")
	}
	logs := stderr.String()
	for _, want := range []string{"sandbox started", "service=sts operation=GetCallerIdentity status=200", "sandbox stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, sandbox.ExampleSecretAccessKey) {
		t.Error("log contains the secret key")
	}
	if _, err := os.Stat(stateDir); err != nil {
		t.Errorf("the given state directory is gone after exit: %v", err)
	}
}

func TestBinaryStopsOnSIGTERM(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--instances", repoInstances)
	cmd.Env = append(os.Environ(), runAsMainEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	// Read the endpoint line, then the rest of the output, then wait for
	// the exit. A deferred kill ends the process if the test fails first.
	firstLine := make(chan string, 1)
	exited := make(chan struct{})
	var exitErr error
	go func() {
		reader := bufio.NewReader(stdout)
		line, _ := reader.ReadString('\n')
		firstLine <- line
		io.Copy(io.Discard, reader)
		exitErr = cmd.Wait()
		close(exited)
	}()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	endpoint := readEndpoint(t, firstLine, stderr)

	cfg := aws.Config{
		Region:       sandbox.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(sandbox.ExampleAccessKeyID, sandbox.ExampleSecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	stateDir := stateDirFromLog(t, stderr)
	if stateDir == "" {
		t.Fatalf("the log does not name the state directory:\n%s", stderr.String())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if exitErr != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", exitErr, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sandbox did not exit after SIGTERM")
	}
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("temporary state directory %s was not removed: %v", stateDir, err)
	}
}

// readEndpoint returns the endpoint from the first line of the sandbox's
// output.
func readEndpoint(t *testing.T, firstLine <-chan string, stderr *lockedBuffer) string {
	t.Helper()
	select {
	case line := <-firstLine:
		endpoint, ok := strings.CutPrefix(strings.TrimSpace(line), "endpoint=")
		if !ok {
			t.Fatalf("first line = %q, want endpoint=...; stderr:\n%s", line, stderr.String())
		}
		return endpoint
	case <-time.After(30 * time.Second):
		t.Fatalf("no endpoint line within 30 seconds; stderr:\n%s", stderr.String())
		return ""
	}
}

// stateDirFromLog returns the state directory named in the start-up log
// line. The process writes that line before it serves, but exec copies a
// non-file stderr through a goroutine that can lag behind an answered
// request, so this waits for the line to arrive.
func stateDirFromLog(t *testing.T, stderr *lockedBuffer) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, field := range strings.Fields(stderr.String()) {
			if dir, ok := strings.CutPrefix(field, "state_dir="); ok {
				return dir
			}
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(10 * time.Millisecond)
	}
}
