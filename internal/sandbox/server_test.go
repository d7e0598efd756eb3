package sandbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// coreClock is a clock that tests move forward.
type coreClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *coreClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *coreClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// coreLogBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type coreLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *coreLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *coreLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// coreSandbox is a Server served on loopback for one test.
type coreSandbox struct {
	srv   *Server
	url   string
	clock *coreClock
	logs  *coreLogBuffer
	http  *httptest.Server
}

// startCore starts a sandbox with its own clock, state directory and
// debug log. setup runs after New and before the server accepts requests.
func startCore(t testing.TB, setup ...func(*Server)) *coreSandbox {
	t.Helper()
	ts := &coreSandbox{clock: &coreClock{}, logs: &coreLogBuffer{}}
	srv, err := New(Options{
		StateDir: t.TempDir(),
		Logger:   slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:      ts.clock.Now,
	})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	for _, fn := range setup {
		fn(srv)
	}
	ts.srv = srv
	ts.http = httptest.NewServer(srv)
	ts.url = ts.http.URL
	t.Cleanup(func() {
		ts.http.CloseClientConnections()
		ts.http.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	return ts
}

func exampleKeyProvider() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(ExampleAccessKeyID, ExampleSecretAccessKey, "")
}

// config returns an SDK configuration for the sandbox in us-east-1, with
// the checksum defaults that config.LoadDefaultConfig sets.
func (ts *coreSandbox) config(creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:                     DefaultRegion,
		Credentials:                creds,
		BaseEndpoint:               aws.String(ts.url),
		HTTPClient:                 ts.http.Client(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
}

func (ts *coreSandbox) ssmClient(creds aws.CredentialsProvider, optFns ...func(*ssm.Options)) *ssm.Client {
	return ssm.NewFromConfig(ts.config(creds), optFns...)
}

func (ts *coreSandbox) stsClient(creds aws.CredentialsProvider, optFns ...func(*sts.Options)) *sts.Client {
	return sts.NewFromConfig(ts.config(creds), optFns...)
}

func (ts *coreSandbox) s3Client(creds aws.CredentialsProvider, region string, optFns ...func(*s3.Options)) *s3.Client {
	cfg := ts.config(creds)
	cfg.Region = region
	optFns = append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}, optFns...)
	return s3.NewFromConfig(cfg, optFns...)
}

// awsErrorCode returns the AWS error code of err, or "" when it has none.
func awsErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func wantAWSError(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := awsErrorCode(err); got != code {
		t.Fatalf("got error code %q (%v), want %s", got, err, code)
	}
}

// tamperAfterSigning returns an SDK stack option that changes each request after it
// has been signed.
func tamperAfterSigning(change func(*smithyhttp.Request) *smithyhttp.Request) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("tamperAfterSigning",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					in.Request = change(req)
				}
				return next.HandleDeserialize(ctx, in)
			}), middleware.Before)
	}
}

// signedRequest builds a request to the sandbox signed by the SDK's own
// SigV4 signer.
func (ts *coreSandbox) signedRequest(t testing.TB, method, target string, body []byte, header http.Header, creds aws.Credentials, service, region string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+target, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	payloadHash := sha256Hex(body)
	if v := req.Header.Get("X-Amz-Content-Sha256"); v != "" {
		payloadHash = v
	}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, service, region, ts.clock.Now(), func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = service == "s3"
	})
	if err != nil {
		t.Fatalf("sign request: %v", err)
	}
	return req
}

// do sends req and returns the response with its body read.
func (ts *coreSandbox) do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response of %s %s: %v", req.Method, req.URL, err)
	}
	return resp, string(body)
}

func exampleKey() aws.Credentials {
	return aws.Credentials{AccessKeyID: ExampleAccessKeyID, SecretAccessKey: ExampleSecretAccessKey}
}

func credentialsOf(keyID, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(keyID, secret, token)
}

func base64Of(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func wantContains(t testing.TB, text, want string) {
	t.Helper()
	if !strings.Contains(text, want) {
		t.Fatalf("%q does not contain %q", text, want)
	}
}

func TestRequestLogHasNoSecrets(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	keyID, secret, token, _ := ts.srv.IssueCredentials(time.Hour)
	creds := credentialsOf(keyID, secret, token)
	calls := serviceCalls{ts}
	if err := ts.srv.CreateBucket("sigv4-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	if err := calls.ssm(creds); err != nil {
		t.Fatal(err)
	}
	if err := calls.sts(creds); err != nil {
		t.Fatal(err)
	}
	if err := calls.s3(creds); err != nil {
		t.Fatal(err)
	}
	// A signature mismatch logs the canonical request, with the token hidden.
	wantAWSError(t, calls.sts(credentialsOf(keyID, "wrong-secret", token)), "SignatureDoesNotMatch")

	logs := ts.logs.String()
	for _, line := range []string{
		"service=ssm operation=GetCommandInvocation status=200",
		"service=sts operation=GetCallerIdentity status=200",
		"service=s3 operation=PutObject status=200",
		"service=sts operation=GetCallerIdentity status=403",
	} {
		wantContains(t, logs, line)
	}
	wantContains(t, logs, "request_id=")
	for name, secretText := range map[string]string{"secret": secret, "token": token, "token, URI-encoded": uriEncode(token), "example secret": ExampleSecretAccessKey, "signature": "Signature="} {
		if strings.Contains(logs, secretText) {
			t.Errorf("log contains the %s", name)
		}
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := srv.opts.StateDir
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("temporary state directory: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary state directory %s is still there: %v", dir, err)
	}
}

func TestUnknownServiceInScope(t *testing.T) {
	ts := startCore(t)
	req := ts.signedRequest(t, "POST", "/", []byte("Action=DescribeInstances"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, exampleKey(), "ec2", DefaultRegion)
	resp, body := ts.do(t, req)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", resp.StatusCode)
	}
	wantContains(t, body, "UnrecognizedService")
}

func TestBucketNamedLatestIsNotMetadata(t *testing.T) {
	ts := startCore(t)
	if err := ts.srv.CreateBucket("latest", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.putObject(context.Background(), "latest", "meta-data/x", strings.NewReader("object")); err != nil {
		t.Fatal(err)
	}
	req := ts.signedRequest(t, "GET", "/latest/meta-data/x", nil, http.Header{"X-Amz-Content-Sha256": {emptySHA256}}, exampleKey(), "s3", DefaultRegion)
	if resp, body := ts.do(t, req); resp.StatusCode != http.StatusOK || body != "object" {
		t.Errorf("signed GET /latest/...: status %d, body %q", resp.StatusCode, body)
	}
}
