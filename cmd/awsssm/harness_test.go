package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// The end-to-end tests run the built binary, as a SOAR platform does,
// against the sandbox started in this test process.

var binaryPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "awsssm-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binaryPath = filepath.Join(dir, "awsssm")
	build := exec.Command("go", "build", "-o", binaryPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build awsssm:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	linuxInstance = "i-0123456789abcdef0"
	testBucket    = "awsssm-e2e-output"
)

// testAsset is an asset configuration that points at the sandbox.
func testAsset(sb *sandboxtest.Sandbox) map[string]any {
	return map[string]any{
		"region":            "US East (N. Virginia)",
		"access_key":        sandbox.ExampleAccessKeyID,
		"secret_key":        sandbox.ExampleSecretAccessKey,
		"default_s3_bucket": testBucket,
		"endpoint_url":      sb.URL,
	}
}

// runResult is one run of the binary.
type runResult struct {
	code   int
	stdout string
	stderr string
	out    connector.Output
	vault  string
}

// result returns the only action result.
func (r *runResult) result(t *testing.T) connector.ActionResult {
	t.Helper()
	require.Len(t, r.out.ResultData, 1, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return r.out.ResultData[0]
}

// data returns the first data item of the only action result.
func (r *runResult) data(t *testing.T) map[string]any {
	t.Helper()
	res := r.result(t)
	require.NotEmpty(t, res.Data, "result has no data: %s", r.stdout)
	item, ok := res.Data[0].(map[string]any)
	require.True(t, ok, "data item is not an object: %#v", res.Data[0])
	return item
}

// runAction runs the binary with a connector-run document on stdin.
func runAction(t *testing.T, sb *sandboxtest.Sandbox, identifier string, asset map[string]any, params ...map[string]any) *runResult {
	t.Helper()
	if params == nil {
		params = []map[string]any{}
	}
	doc, err := json.Marshal(map[string]any{
		"identifier":   identifier,
		"container_id": 345,
		"config":       asset,
		"parameters":   params,
	})
	require.NoError(t, err)
	return runBinary(t, sb, doc, "--verbose")
}

// runBinary runs the binary with stdin and args, in an environment that
// holds nothing that could reach real AWS, and decodes its output.
func runBinary(t *testing.T, sb *sandboxtest.Sandbox, stdin []byte, args ...string) *runResult {
	t.Helper()
	vaultDir := filepath.Join(t.TempDir(), "vault")
	cmd := exec.Command(binaryPath, append([]string{"--vault-dir", vaultDir}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if proxy := os.Getenv("HTTPS_PROXY"); proxy != "" {
		cmd.Env = append(cmd.Env, "HTTPS_PROXY="+proxy, "HTTP_PROXY="+proxy)
	}
	if sb != nil {
		cmd.Env = append(cmd.Env, sb.Env()...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	err := cmd.Run()
	r := &runResult{stdout: stdout.String(), stderr: stderr.String(), vault: vaultDir}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("run awsssm: %v", err)
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &r.out), "stdout must be one JSON document; got %q (stderr %q)", r.stdout, r.stderr)
	require.Equal(t, 1, strings.Count(strings.TrimSpace(r.stdout), "\n")+1, "stdout must be exactly one line of JSON")
	return r
}

// vaultFiles lists the files in a run's vault, relative to it.
func vaultFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		return nil
	})
	require.NoError(t, err)
	return files
}

// lookup follows a dotted path ("File.output") through nested objects.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, key := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func firstStep(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	invocations, ok := data["Invocations"].([]any)
	require.True(t, ok && len(invocations) == 1, "one invocation expected: %#v", data["Invocations"])
	steps, ok := invocations[0].(map[string]any)["Steps"].([]any)
	require.True(t, ok && len(steps) >= 1, "steps expected: %#v", invocations[0])
	return steps[0].(map[string]any)
}
