package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Output streams of a step.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

func asError[T error](err error, target *T) bool { return errors.As(err, target) }

// joinKey joins S3 key segments with "/", skipping empty ones and trimming
// stray slashes, so that a key never has an empty segment.
func joinKey(segments ...string) string {
	parts := make([]string, 0, len(segments))
	for _, s := range segments {
		if s = strings.Trim(s, "/"); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "/")
}

// stepOutputPrefix returns the S3 key prefix of a step's output objects,
// <prefix>/<command id>/<instance id>/<plugin>/<step>, where plugin and step
// are written without ':' (aws:runShellScript becomes awsrunShellScript).
//
// For a schema 1.2 document such as AWS-RunShellScript, the plugin's Name is
// the plugin itself and the step is its runtime id, "0.awsrunShellScript".
// For schema 2.x documents the Name is the step's name, and the plugin
// comes from the OutputS3KeyPrefix that SSM reports for it, which ends in
// <command id>/<instance id>/<plugin>.
func stepOutputPrefix(sent *Sent, instanceID string, cp types.CommandPlugin) string {
	name := aws.ToString(cp.Name)
	if key, ok := keyFromURL(aws.ToString(cp.StandardOutputUrl), Stdout); ok {
		return key
	}
	if strings.Contains(name, ":") {
		plugin := strings.ReplaceAll(name, ":", "")
		return joinKey(sent.KeyPrefix, sent.CommandID, instanceID, plugin, "0."+plugin)
	}
	if prefix := aws.ToString(cp.OutputS3KeyPrefix); strings.Contains(prefix, sent.CommandID+"/"+instanceID+"/") {
		return joinKey(prefix, name)
	}
	return joinKey(sent.KeyPrefix, sent.CommandID, instanceID, "awsrunShellScript", name)
}

// keyFromURL extracts the key prefix from a StandardOutputUrl such as
// https://s3.us-east-1.amazonaws.com/bucket/prefix/…/stdout (path style) or
// https://bucket.s3.amazonaws.com/prefix/…/stdout (virtual-hosted style).
func keyFromURL(raw, stream string) (string, bool) {
	if raw == "" {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	path := strings.TrimPrefix(u.Path, "/")
	if strings.HasPrefix(u.Host, "s3.") || strings.HasPrefix(u.Host, "s3-") {
		_, path, _ = strings.Cut(path, "/") // drop the bucket
	}
	prefix, ok := strings.CutSuffix(path, "/"+stream)
	return prefix, ok && prefix != ""
}

// Key returns the S3 key of one stream of a step.
func (s Step) Key(stream string) string {
	if s.OutputPrefix == "" {
		return ""
	}
	return s.OutputPrefix + "/" + stream
}

// StreamText is one output stream, ready for the JSON result.
type StreamText struct {
	Text      string // valid UTF-8: invalid bytes are replaced with U+FFFD
	Size      int64  // bytes of the whole stream
	S3Key     string // empty when the output was read inline
	Truncated bool   // Text holds less than the whole stream
}

// ReadStream reads one stream of a step. With a bucket it reads the S3
// object and keeps at most maxText bytes as text, while the whole stream
// goes to sink when sink is not nil. A missing object is empty output.
// Without a bucket it reads SSM's inline output, which SSM cuts at 24,000
// characters.
func (e *Engine) ReadStream(ctx context.Context, commandID string, inv Invocation, step Step, stream string, maxText int64, sink io.Writer) (StreamText, error) {
	if step.Bucket == "" || step.OutputPrefix == "" {
		return e.readInline(ctx, commandID, inv, step, stream, sink)
	}

	key := step.Key(stream)
	body, err := e.OpenObject(ctx, step.Bucket, key)
	if err != nil {
		return StreamText{S3Key: key}, err
	}
	if body == nil {
		return StreamText{S3Key: key}, nil
	}
	defer body.Close()

	var text bytes.Buffer
	var w io.Writer = &limitedBuffer{buf: &text, max: maxText}
	if sink != nil {
		w = io.MultiWriter(w, sink)
	}
	n, err := io.Copy(w, body)
	if err != nil {
		return StreamText{S3Key: key}, fmt.Errorf("read s3://%s/%s: %w", step.Bucket, key, err)
	}
	kept := text.Bytes()
	truncated := int64(len(kept)) < n
	if truncated {
		kept = trimPartialRune(kept)
	}
	return StreamText{
		Text:      toText(kept),
		Size:      n,
		S3Key:     key,
		Truncated: truncated,
	}, nil
}

func (e *Engine) readInline(ctx context.Context, commandID string, inv Invocation, step Step, stream string, sink io.Writer) (StreamText, error) {
	in := &ssm.GetCommandInvocationInput{
		CommandId:  aws.String(commandID),
		InstanceId: aws.String(inv.InstanceID),
	}
	if len(inv.Steps) > 1 {
		in.PluginName = aws.String(step.Name)
	}
	out, err := e.SSM.GetCommandInvocation(ctx, in)
	if err != nil {
		return StreamText{}, fmt.Errorf("get command invocation %s on %s: %w", commandID, inv.InstanceID, Explain(err))
	}
	content := aws.ToString(out.StandardOutputContent)
	if stream == Stderr {
		content = aws.ToString(out.StandardErrorContent)
	}
	if sink != nil {
		if _, err := io.WriteString(sink, content); err != nil {
			return StreamText{}, err
		}
	}
	return StreamText{
		Text:      toText([]byte(content)),
		Size:      int64(len(content)),
		Truncated: utf8.RuneCountInString(content) >= InlineOutputMax,
	}, nil
}

// OpenObject opens an S3 object for reading. It returns a nil body, and no
// error, when the object does not exist.
func (e *Engine) OpenObject(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	client, err := e.s3Client(ctx, bucket)
	if err != nil {
		return nil, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if e.AccountID != "" {
		in.ExpectedBucketOwner = aws.String(e.AccountID)
	}
	out, err := client.GetObject(ctx, in)
	var noKey *s3types.NoSuchKey
	if asError(err, &noKey) || ErrorCode(err) == "NoSuchKey" || ErrorCode(err) == "NotFound" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, Explain(err))
	}
	return out.Body, nil
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b, left
// where a cut fell inside a character.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// toText returns b as valid UTF-8.
func toText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// limitedBuffer keeps the first max bytes written to it and discards the
// rest while reporting every write as complete.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int64
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - int64(l.buf.Len()); room > 0 {
		if int64(len(p)) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}
