package actions

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/quote"
	"github.com/awsssm/awsssm/internal/vault"
)

type getFileParams struct {
	InstanceID         string `json:"instance_id"`
	PlatformType       string `json:"platform_type"`
	FilePath           string `json:"file_path"`
	OutputS3BucketName string `json:"output_s3_bucket_name"`
	MaxBytes           int64  `json:"max_bytes"`
	WaitSeconds        int64  `json:"wait_seconds"`
}

// Exit codes of the get file scripts, one per failure the instance detects.
const (
	exitNoSuchFile     = 10
	exitDirectory      = 11
	exitPermission     = 12
	exitTooLarge       = 13
	exitNotRegular     = 14
	exitNoTool         = 15
	exitReadFailed     = 16
	headerMaxBytes     = 256
	maxFileBytesLimit  = 1 << 40 // 1 TiB: far above what one action should move
	fileHeaderSentinel = "awsssm-file"
)

var fileFailures = map[int32]string{
	exitNoSuchFile: "no such file",
	exitDirectory:  "the path is a directory, not a file",
	exitPermission: "permission denied",
	exitTooLarge:   "the file is larger than max_bytes",
	exitNotRegular: "the path is not a regular file (a device, FIFO or socket)",
	exitNoTool:     "the instance has no tool to compute SHA-256 or base64 (sha256sum, shasum, openssl, base64)",
	exitReadFailed: "the file could not be read",
}

// getFile copies a file from an instance into the vault:
//
//  1. The path goes to the instance as one quoted literal, so it can never
//     run a second command.
//  2. The instance checks the file and prints a header line with its size
//     and SHA-256, then its content as base64, into the S3 output (the
//     inline output would be cut at 24,000 characters).
//  3. The connector decodes the S3 object as a stream into the vault, so
//     memory stays flat whatever the size, and commits the file only when
//     its size and SHA-256 match the instance's.
func getFile(ctx context.Context, env *connector.Env, p getFileParams) (*connector.Outcome, error) {
	if err := checkInstanceID(p.InstanceID); err != nil {
		return nil, err
	}
	if err := quote.CheckPath(p.FilePath); err != nil {
		return nil, fmt.Errorf("invalid parameter \"file_path\": %v; nothing was sent to the instance", err)
	}
	if err := checkRange("max_bytes", p.MaxBytes, 1, maxFileBytesLimit, "bytes"); err != nil {
		return nil, err
	}
	if err := checkRange("wait_seconds", p.WaitSeconds, 1, maxWaitSeconds, "seconds"); err != nil {
		return nil, err
	}
	if err := env.Vault.Check(); err != nil {
		return nil, err
	}
	engine := newEngine(env)

	platform, err := resolvePlatform(ctx, env, p.InstanceID, p.PlatformType)
	if err != nil {
		return nil, err
	}
	if err := checkAbsolutePath("file_path", p.FilePath, platform); err != nil {
		return nil, err
	}
	bucket, err := outputBucket(ctx, env, engine, p.OutputS3BucketName)
	if err != nil {
		return nil, err
	}
	if bucket == "" {
		return nil, errors.New("get file needs an S3 bucket, because SSM cuts inline output at 24,000 characters; set default_s3_bucket in the asset or output_s3_bucket_name")
	}

	script := shellFileScript(p.FilePath, p.MaxBytes)
	if platform == types.PlatformTypeWindows {
		script = powerShellFileScript(p.FilePath, p.MaxBytes)
	}
	sent, err := engine.Send(ctx, command.Request{
		InstanceIDs:  []string{p.InstanceID},
		DocumentName: command.DocumentFor(platform),
		Parameters:   map[string][]string{"commands": {script}},
		Comment:      commandComment(env, "get file"),
		Bucket:       bucket,
	})
	if err != nil {
		return nil, err
	}
	// Until the file is in the vault, the summary names the command, so
	// that a playbook can follow it.
	data := map[string]any{"Command": sent.Command, "ResponseMetadata": sent.ResponseMetadata}
	outcome := &connector.Outcome{Data: []any{data}, Summary: sentSummary(sent.CommandID)}
	invocations, err := engine.Wait(ctx, sent, []string{p.InstanceID}, waitDuration(p.WaitSeconds))
	if err != nil {
		return outcome, err
	}
	if final, err := engine.Describe(ctx, sent.CommandID); err == nil {
		data["Command"] = final
	}
	if len(invocations) == 0 || len(invocations[0].Steps) == 0 {
		return outcome, fmt.Errorf("command %s: SSM lists no output for %s", sent.CommandID, p.InstanceID)
	}
	inv := invocations[0]
	step := inv.Steps[0]
	outcome.Summary = connector.Summary{}
	outcome.Summary.Set("status", "Command ran, file not stored")
	outcome.Summary.Set("command_id", sent.CommandID)

	if !inv.Succeeded() {
		stderr, _ := engine.ReadStream(ctx, sent.CommandID, inv, step, command.Stderr, 64<<10, nil)
		reason, known := fileFailures[step.ResponseCode]
		if !known {
			return outcome, fmt.Errorf("%s", failureMessage(sent.CommandID, inv, []stepOutput{{step: step, stderr: stderr}}))
		}
		return outcome, fmt.Errorf("get file %s from %s: %s (%s); nothing was stored in the vault", displayText(p.FilePath), p.InstanceID, reason, lastLines(stderr.Text, 3, 300))
	}

	rec, err := receiveFile(ctx, env, engine, step, fileName(p.FilePath, platform))
	if err != nil {
		return outcome, fmt.Errorf("get file %s from %s (command %s): %w; nothing was stored in the vault", displayText(p.FilePath), p.InstanceID, sent.CommandID, err)
	}
	env.Progress("Stored %s in the vault: %s (%d bytes, SHA-256 %s)", rec.FileName, rec.VaultID, rec.Size, rec.SHA256)

	data["File"] = map[string]any{
		"filename":      rec.FileName,
		"vault_id":      rec.VaultID,
		"s3_object_key": step.Key(command.Stdout),
		"size":          rec.Size,
		"sha256":        rec.SHA256,
		"path":          rec.Path,
	}
	summary := connector.Summary{}
	summary.Set("status", "Successfully retrieved file")
	summary.Set("created_vault_id", rec.VaultID)
	summary.Set("command_id", sent.CommandID)
	summary.Set("size", rec.Size)
	summary.Set("sha256", rec.SHA256)
	outcome.Summary = summary
	return outcome, nil
}

// fileName returns the last element of path as the instance's platform
// reads it. On Linux and macOS a backslash is an ordinary character, so it
// becomes "_" rather than a separator that would cut the name short.
func fileName(path string, platform types.PlatformType) string {
	if platform == types.PlatformTypeWindows {
		return path[strings.LastIndexAny(path, `\/`)+1:]
	}
	return strings.ReplaceAll(path[strings.LastIndex(path, "/")+1:], `\`, "_")
}

var headerPattern = regexp.MustCompile(`^` + fileHeaderSentinel + ` size=([0-9]+) sha256=([0-9a-f]{64})\r?\n$`)

// receiveFile streams the step's stdout from S3 into the vault: a header
// line, then base64 whose line breaks the decoder skips.
func receiveFile(ctx context.Context, env *connector.Env, engine *command.Engine, step command.Step, name string) (vault.Record, error) {
	key := step.Key(command.Stdout)
	body, err := engine.OpenObject(ctx, step.Bucket, key)
	if err != nil {
		return vault.Record{}, err
	}
	if body == nil {
		return vault.Record{}, fmt.Errorf("the command's output s3://%s/%s does not exist", step.Bucket, key)
	}
	defer body.Close()

	src := &downloadReader{r: body}
	r := bufio.NewReaderSize(src, 64<<10)
	header, err := readHeader(r)
	if err != nil {
		return vault.Record{}, err
	}
	m := headerPattern.FindStringSubmatch(header)
	if m == nil {
		return vault.Record{}, fmt.Errorf("the instance's output does not start with the expected size and SHA-256 line")
	}
	size, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return vault.Record{}, fmt.Errorf("the instance reported an invalid size %q", m[1])
	}
	wantSHA := m[2]

	w, err := env.Vault.Create(name)
	if err != nil {
		return vault.Record{}, err
	}
	defer w.Abort()

	// Read one byte more than announced, to notice a file that grew.
	decoded := io.LimitReader(base64.NewDecoder(base64.StdEncoding, r), size+1)
	if _, err := io.Copy(w, decoded); err != nil {
		if ctx.Err() != nil {
			return vault.Record{}, fmt.Errorf("download of s3://%s/%s stopped after %d bytes", step.Bucket, key, src.n)
		}
		if src.err != nil {
			return vault.Record{}, fmt.Errorf("download of s3://%s/%s failed after %d bytes: %w", step.Bucket, key, src.n, command.Explain(src.err))
		}
		return vault.Record{}, fmt.Errorf("decode the file's base64 content: %w", err)
	}
	if w.Size() != size {
		return vault.Record{}, fmt.Errorf("received %d bytes but the instance reported %d; the file may have changed while it was read", w.Size(), size)
	}
	if got := w.SHA256(); got != wantSHA {
		return vault.Record{}, fmt.Errorf("SHA-256 mismatch: received %s, the instance reported %s; the file may have changed while it was read", got, wantSHA)
	}
	return w.Commit()
}

// downloadReader records the error of the S3 download it reads, so that a
// broken connection is not reported as bad base64.
type downloadReader struct {
	r   io.Reader
	n   int64
	err error // the first error other than io.EOF
}

func (d *downloadReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.n += int64(n)
	if err != nil && err != io.EOF && d.err == nil {
		d.err = err
	}
	return n, err
}

// readHeader reads the first line, refusing one longer than any valid header.
func readHeader(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			return "", fmt.Errorf("the instance's output ends before its size and SHA-256 line")
		}
		line = append(line, b)
		if b == '\n' {
			return string(line), nil
		}
		if len(line) > headerMaxBytes {
			return "", fmt.Errorf("the instance's output does not start with the expected size and SHA-256 line")
		}
	}
}

// shellFileScript is the sh script that reports a file and prints it as
// base64. The path appears once, quoted, and is only ever expanded inside
// double quotes, so the shell never interprets it.
func shellFileScript(path string, maxBytes int64) string {
	return fmt.Sprintf(`p=%s
max=%d
if [ ! -e "$p" ]; then echo "no such file: $p" >&2; exit %d; fi
if [ -d "$p" ]; then echo "is a directory: $p" >&2; exit %d; fi
if [ ! -f "$p" ]; then echo "not a regular file: $p" >&2; exit %d; fi
if [ ! -r "$p" ]; then echo "permission denied: $p" >&2; exit %d; fi
size=$(wc -c < "$p") || exit %d
size=$((size + 0))
if [ "$size" -gt "$max" ]; then echo "file is $size bytes, more than max_bytes $max" >&2; exit %d; fi
if command -v sha256sum >/dev/null 2>&1; then sum=$(sha256sum < "$p") || exit %d
elif command -v shasum >/dev/null 2>&1; then sum=$(shasum -a 256 < "$p") || exit %d
elif command -v openssl >/dev/null 2>&1; then sum=$(openssl dgst -sha256 < "$p" | sed 's/^.*= *//') || exit %d
else echo "no sha256sum, shasum or openssl" >&2; exit %d; fi
sum=${sum%%%% *}
echo "%s size=$size sha256=$sum"
if command -v base64 >/dev/null 2>&1; then base64 < "$p" || exit %d
elif command -v openssl >/dev/null 2>&1; then openssl base64 < "$p" || exit %d
else echo "no base64 or openssl" >&2; exit %d; fi
`,
		quote.Sh(path), maxBytes,
		exitNoSuchFile, exitDirectory, exitNotRegular, exitPermission, exitPermission, exitTooLarge,
		exitReadFailed, exitReadFailed, exitReadFailed, exitNoTool,
		fileHeaderSentinel,
		exitReadFailed, exitReadFailed, exitNoTool)
}

// powerShellFileScript is the PowerShell counterpart of shellFileScript.
// The path is a single-quoted literal passed with -LiteralPath, so neither
// wildcards nor expressions in it are evaluated.
//
// NOTE: no PowerShell runs in this project's tests, so this script is
// checked by reading only.
func powerShellFileScript(path string, maxBytes int64) string {
	return fmt.Sprintf(`$ErrorActionPreference = 'Stop'
$p = %s
$max = %d
if (-not (Test-Path -LiteralPath $p)) { [Console]::Error.WriteLine("no such file: $p"); exit %d }
$item = Get-Item -LiteralPath $p -Force
if ($item.PSIsContainer) { [Console]::Error.WriteLine("is a directory: $p"); exit %d }
if ($item.Length -gt $max) { [Console]::Error.WriteLine("file is $($item.Length) bytes, more than max_bytes $max"); exit %d }
try {
  $stream = [System.IO.File]::Open($item.FullName, 'Open', 'Read', 'ReadWrite')
} catch { [Console]::Error.WriteLine("permission denied: $p"); exit %d }
try {
  $sha = [System.Security.Cryptography.SHA256]::Create()
  $hash = -join ($sha.ComputeHash($stream) | ForEach-Object { $_.ToString('x2') })
  [Console]::Out.WriteLine("%s size=$($item.Length) sha256=$hash")
  $null = $stream.Seek(0, 'Begin')
  $buffer = New-Object byte[] 57000
  while (($n = $stream.Read($buffer, 0, $buffer.Length)) -gt 0) {
    [Console]::Out.WriteLine([Convert]::ToBase64String($buffer, 0, $n))
  }
} catch { [Console]::Error.WriteLine("read failed: $($_.Exception.Message)"); exit %d }
finally { $stream.Dispose() }
`,
		quote.PowerShell(path), maxBytes,
		exitNoSuchFile, exitDirectory, exitTooLarge, exitPermission,
		fileHeaderSentinel, exitReadFailed)
}
