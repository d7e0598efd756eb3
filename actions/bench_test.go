package actions

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/awsssm/awsssm/internal/awsconfig"
	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
	"github.com/awsssm/awsssm/internal/vault"
)

// benchEnv builds a handler environment against a sandbox, as the
// connector would for one parameter set.
func benchEnv(b *testing.B, sb *sandboxtest.Sandbox) *connector.Env {
	b.Helper()
	clients, err := awsconfig.New(context.Background(), awsconfig.Request{
		Asset: awsconfig.Asset{
			Region:      "us-east-1",
			AccessKey:   sandbox.ExampleAccessKeyID,
			SecretKey:   sandbox.ExampleSecretAccessKey,
			EndpointURL: sb.URL,
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return &connector.Env{
		AWS:             clients,
		DefaultS3Bucket: "awsssm-bench-output",
		Vault:           vault.New(filepath.Join(b.TempDir(), "vault")),
		Log:             slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:             time.Now,
	}
}

// BenchmarkGetFile copies a random file from the sandbox instance into the
// vault through the whole get file action: the instance's sha256sum and
// base64, the S3 output, and the streaming decode. The peak-heap metric is
// the most the Go heap held during one copy (sandbox included, since it
// runs in this process), which shows whether memory stays flat as the file
// grows.
func BenchmarkGetFile(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"1MiB", 1 << 20}, {"64MiB", 64 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			sb := sandboxtest.Start(b)
			env := benchEnv(b, sb)
			path := filepath.Join(b.TempDir(), "payload.bin")
			writeRandomFile(b, path, size.bytes)
			handler := connector.HandlerFunc[getFileParams](getFile)
			params := map[string]any{
				"instance_id": "i-0123456789abcdef0", "platform_type": "Linux", "file_path": path,
				"max_bytes": int64(1 << 30), "wait_seconds": int64(600),
			}

			b.SetBytes(int64(size.bytes))
			b.ReportAllocs()
			var peak uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				stop := sampleHeap(&peak)
				_, err := handler.Run(context.Background(), env, params)
				stop()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

func writeRandomFile(b *testing.B, path string, size int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, int64(size)); err != nil {
		b.Fatal(err)
	}
}

// sampleHeap records the largest HeapAlloc seen every 10 ms until stop is
// called. It is a sample, so a short spike between two readings can be
// missed.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var m runtime.MemStats
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > *peak {
				*peak = m.HeapAlloc
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// BenchmarkExecuteProgram runs a short command through the whole execute
// program action. Its time per operation is the latency a playbook gets
// for a quick command: the sandbox hides a new invocation for 500 ms, as
// SSM does for a moment, and the polling backoff decides how soon after
// that the result is read.
func BenchmarkExecuteProgram(b *testing.B) {
	sb := sandboxtest.Start(b)
	env := benchEnv(b, sb)
	handler := connector.HandlerFunc[executeProgramParams](executeProgram)
	params := map[string]any{
		"instance_id": "i-0123456789abcdef0", "platform_type": "Linux", "command": "echo bench",
		"execution_timeout": int64(60), "wait_seconds": int64(60),
	}

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := handler.Run(context.Background(), env, params); err != nil {
			b.Fatal(err)
		}
	}
}
