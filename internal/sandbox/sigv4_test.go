package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// serviceCalls makes one call to each service with creds, through the SDK,
// with stack options applied to every client.
type serviceCalls struct {
	ts *coreSandbox
}

func (c serviceCalls) ssm(creds aws.CredentialsProvider, apiOptions ...func(*middleware.Stack) error) error {
	_, err := c.ts.ssmClient(creds, func(o *ssm.Options) {
		o.RetryMaxAttempts = 1
		o.APIOptions = append(o.APIOptions, apiOptions...)
	}).GetCommandInvocation(context.Background(), &ssm.GetCommandInvocationInput{
		CommandId: aws.String("cmd-found"), InstanceId: aws.String("i-0123456789abcdef0"),
	})
	return err
}

func (c serviceCalls) sts(creds aws.CredentialsProvider, apiOptions ...func(*middleware.Stack) error) error {
	_, err := c.ts.stsClient(creds, func(o *sts.Options) {
		o.RetryMaxAttempts = 1
		o.APIOptions = append(o.APIOptions, apiOptions...)
	}).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	return err
}

func (c serviceCalls) s3(creds aws.CredentialsProvider, apiOptions ...func(*middleware.Stack) error) error {
	_, err := c.ts.s3Client(creds, DefaultRegion, func(o *s3.Options) {
		o.RetryMaxAttempts = 1
		o.APIOptions = append(o.APIOptions, apiOptions...)
	}).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("sigv4-bucket"), Key: aws.String("dir/object.txt"), Body: strings.NewReader("signed body"),
	})
	return err
}

func TestSigV4AcceptsKnownKeys(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	if err := ts.srv.CreateBucket("sigv4-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	calls := serviceCalls{ts}
	keyID, secret, token, _ := ts.srv.IssueCredentials(time.Hour)
	temporary := credentials.NewStaticCredentialsProvider(keyID, secret, token)

	for name, creds := range map[string]aws.CredentialsProvider{"example key": exampleKeyProvider(), "issued credentials": temporary} {
		if err := calls.ssm(creds); err != nil {
			t.Errorf("SSM with %s: %v", name, err)
		}
		if err := calls.sts(creds); err != nil {
			t.Errorf("STS with %s: %v", name, err)
		}
		if err := calls.s3(creds); err != nil {
			t.Errorf("S3 with %s: %v", name, err)
		}
	}
}

func TestSigV4RejectsBadCredentials(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	if err := ts.srv.CreateBucket("sigv4-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	calls := serviceCalls{ts}
	keyID, secret, token, _ := ts.srv.IssueCredentials(time.Hour)
	otherID, otherSecret, otherToken, _ := ts.srv.IssueCredentials(time.Hour)

	tests := []struct {
		name              string
		creds             aws.CredentialsProvider
		ssm, sts, s3Error string
	}{
		{
			name:  "wrong secret",
			creds: credentials.NewStaticCredentialsProvider(ExampleAccessKeyID, "not-the-secret", ""),
			ssm:   "InvalidSignatureException", sts: "SignatureDoesNotMatch", s3Error: "SignatureDoesNotMatch",
		},
		{
			name:  "unknown key",
			creds: credentials.NewStaticCredentialsProvider("AKIAI44QH8DHBEXAMPLE", ExampleSecretAccessKey, ""),
			ssm:   "UnrecognizedClientException", sts: "InvalidClientTokenId", s3Error: "InvalidAccessKeyId",
		},
		{
			name:  "token of other credentials",
			creds: credentials.NewStaticCredentialsProvider(keyID, secret, otherToken),
			ssm:   "UnrecognizedClientException", sts: "InvalidClientTokenId", s3Error: "InvalidToken",
		},
		{
			name:  "temporary key without token",
			creds: credentials.NewStaticCredentialsProvider(otherID, otherSecret, ""),
			ssm:   "UnrecognizedClientException", sts: "InvalidClientTokenId", s3Error: "InvalidToken",
		},
		{
			name:  "token truncated",
			creds: credentials.NewStaticCredentialsProvider(keyID, secret, strings.TrimSuffix(token, "==")),
			ssm:   "UnrecognizedClientException", sts: "InvalidClientTokenId", s3Error: "InvalidToken",
		},
		{
			name:  "long-term key with a token",
			creds: credentials.NewStaticCredentialsProvider(ExampleAccessKeyID, ExampleSecretAccessKey, token),
			ssm:   "UnrecognizedClientException", sts: "InvalidClientTokenId", s3Error: "InvalidToken",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAWSError(t, calls.ssm(tt.creds), tt.ssm)
			wantAWSError(t, calls.sts(tt.creds), tt.sts)
			wantAWSError(t, calls.s3(tt.creds), tt.s3Error)
		})
	}
}

func TestSigV4RejectsExpiredToken(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	if err := ts.srv.CreateBucket("sigv4-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	calls := serviceCalls{ts}
	keyID, secret, token, _ := ts.srv.IssueCredentials(15 * time.Minute)
	creds := credentials.NewStaticCredentialsProvider(keyID, secret, token)
	if err := calls.sts(creds); err != nil {
		t.Fatalf("STS before expiry: %v", err)
	}

	ts.clock.Advance(16 * time.Minute)
	wantAWSError(t, calls.ssm(creds), "ExpiredTokenException")
	wantAWSError(t, calls.sts(creds), "ExpiredToken")
	wantAWSError(t, calls.s3(creds), "ExpiredToken")
}

func TestSigV4RejectsTamperedRequest(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	if err := ts.srv.CreateBucket("sigv4-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	calls := serviceCalls{ts}
	creds := exampleKeyProvider()

	// Same length, different bytes, so only the hash can tell.
	changeBody := tamperAfterSigning(func(req *smithyhttp.Request) *smithyhttp.Request {
		body, _ := io.ReadAll(req.GetStream())
		body = bytes.Replace(body, []byte("i-0123456789abcdef0"), []byte("i-0fedcba987654321f"), 1)
		body = bytes.Replace(body, []byte("GetCallerIdentity"), []byte("GetCallerIdentitY"), 1)
		body = bytes.Replace(body, []byte("signed body"), []byte("forged body"), 1)
		changed, err := req.SetStream(bytes.NewReader(body))
		if err != nil {
			panic(err)
		}
		return changed
	})
	t.Run("changed body", func(t *testing.T) {
		wantAWSError(t, calls.ssm(creds, changeBody), "InvalidSignatureException")
		wantAWSError(t, calls.sts(creds, changeBody), "SignatureDoesNotMatch")
		wantAWSError(t, calls.s3(creds, changeBody), "XAmzContentSHA256Mismatch")
	})

	changeSignedHeader := tamperAfterSigning(func(req *smithyhttp.Request) *smithyhttp.Request {
		date, _ := time.Parse(amzDateFormat, req.Header.Get("X-Amz-Date"))
		req.Header.Set("X-Amz-Date", date.Add(time.Second).Format(amzDateFormat))
		return req
	})
	t.Run("changed signed header", func(t *testing.T) {
		wantAWSError(t, calls.ssm(creds, changeSignedHeader), "InvalidSignatureException")
		wantAWSError(t, calls.sts(creds, changeSignedHeader), "SignatureDoesNotMatch")
		wantAWSError(t, calls.s3(creds, changeSignedHeader), "SignatureDoesNotMatch")
	})

	changeTarget := tamperAfterSigning(func(req *smithyhttp.Request) *smithyhttp.Request {
		req.Header.Set("X-Amz-Target", "AmazonSSM.ListCommands")
		return req
	})
	t.Run("changed operation", func(t *testing.T) {
		wantAWSError(t, calls.ssm(creds, changeTarget), "InvalidSignatureException")
	})

	lyingHash := tamperAfterSigning(func(req *smithyhttp.Request) *smithyhttp.Request {
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		return req
	})
	t.Run("content hash header that does not match the body", func(t *testing.T) {
		wantAWSError(t, calls.ssm(creds, lyingHash), "InvalidSignatureException")
		wantAWSError(t, calls.sts(creds, lyingHash), "SignatureDoesNotMatch")
	})

	// An unsigned header may change: the SDK does not sign User-Agent.
	changeUnsignedHeader := tamperAfterSigning(func(req *smithyhttp.Request) *smithyhttp.Request {
		req.Header.Set("User-Agent", "changed-after-signing")
		return req
	})
	t.Run("changed unsigned header", func(t *testing.T) {
		if err := calls.ssm(creds, changeUnsignedHeader); err != nil {
			t.Errorf("SSM: %v", err)
		}
		if err := calls.sts(creds, changeUnsignedHeader); err != nil {
			t.Errorf("STS: %v", err)
		}
	})
}

func TestSigV4ClockSkew(t *testing.T) {
	ts := startCore(t, withInvocationOp)
	body := []byte(`{"CommandId":"cmd-found","InstanceId":"i-0123456789abcdef0"}`)
	header := http.Header{"X-Amz-Target": {"AmazonSSM.GetCommandInvocation"}, "Content-Type": {"application/x-amz-json-1.1"}}

	req := ts.signedRequest(t, "POST", "/", body, header, exampleKey(), "ssm", DefaultRegion)
	if resp, text := ts.do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d before the clock moved: %s", resp.StatusCode, text)
	}

	// The sandbox's clock runs 20 minutes ahead of the signature.
	req = ts.signedRequest(t, "POST", "/", body, header, exampleKey(), "ssm", DefaultRegion)
	ts.clock.Advance(20 * time.Minute)
	resp, text := ts.do(t, req)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", resp.StatusCode)
	}
	wantContains(t, text, "InvalidSignatureException")
	wantContains(t, text, "Signature expired")
}

func TestSigV4SDKCorrectsClockSkew(t *testing.T) {
	// The SDK reads the server's Date header after a skew error and signs
	// again with the server's time, as it does with AWS.
	ts := startCore(t, withInvocationOp)
	ts.clock.Advance(30 * time.Minute)
	if _, err := getInvocation(ts, "cmd-found"); err != nil {
		t.Fatalf("GetCommandInvocation with the server 30 minutes ahead: %v", err)
	}
}

func TestSigV4MissingAuthentication(t *testing.T) {
	ts := startCore(t)
	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantBody   string
	}{
		{"SSM", newRequest(t, "POST", ts.url+"/", "{}", "X-Amz-Target", "AmazonSSM.ListCommands"), 400, "MissingAuthenticationTokenException"},
		{"STS", newRequest(t, "POST", ts.url+"/", "Action=GetCallerIdentity", "Content-Type", "application/x-www-form-urlencoded"), 403, "<Code>MissingAuthenticationToken</Code>"},
		{"S3", newRequest(t, "GET", ts.url+"/some-bucket/key", ""), 403, "<Code>AccessDenied</Code>"},
		{"unsupported algorithm", newRequest(t, "GET", ts.url+"/some-bucket/key", "", "Authorization", "AWS AKIAIOSFODNN7EXAMPLE:c2lnbmF0dXJl"), 400, "AuthorizationHeaderMalformed"},
		{"malformed credential", newRequest(t, "POST", ts.url+"/", "{}", "X-Amz-Target", "AmazonSSM.ListCommands",
			"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/aws4_request, SignedHeaders=host, Signature=00"), 400, "IncompleteSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ts.do(t, tt.req)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			wantContains(t, body, tt.wantBody)
		})
	}
}

func newRequest(t testing.TB, method, target, body string, headerPairs ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headerPairs); i += 2 {
		req.Header.Set(headerPairs[i], headerPairs[i+1])
	}
	return req
}

func TestSigV4CanonicalRequestMatchesSDKSigner(t *testing.T) {
	ts := startCore(t)
	if err := ts.srv.CreateBucket("canonical-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}

	// Paths and queries that need escaping, signed by the SDK's signer and
	// sent as Go's HTTP client sends them. Any status but a signature error
	// means that both sides built the same canonical request.
	tests := []struct {
		name, method, path string
		header             http.Header
	}{
		{"S3 key with spaces and symbols", "GET", "/canonical-bucket/" + escapeKey("dir/a b+c=d&e@f!g'(h)*~.txt"), nil},
		{"S3 key with UTF-8", "GET", "/canonical-bucket/" + escapeKey("données/ünïcode ☃.log"), nil},
		{"S3 key with encoded slash", "GET", "/canonical-bucket/a%2Fb", nil},
		{"S3 query with repeated and empty values", "GET", "/canonical-bucket?list-type=2&prefix=" + url.QueryEscape("a b/") + "&delimiter=%2F&fetch-owner", nil},
		{"S3 header with runs of spaces", "GET", "/canonical-bucket/key", http.Header{"X-Amz-Meta-Note": {"  two  spaces   inside "}}},
		{"S3 header with several values", "GET", "/canonical-bucket/key", http.Header{"X-Amz-Meta-List": {"one", "two"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{"X-Amz-Content-Sha256": {emptySHA256}}
			for name, values := range tt.header {
				header[name] = values
			}
			req := ts.signedRequest(t, tt.method, tt.path, nil, header, exampleKey(), "s3", DefaultRegion)
			resp, body := ts.do(t, req)
			if strings.Contains(body, "SignatureDoesNotMatch") || resp.StatusCode == http.StatusForbidden {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
		})
	}

	t.Run("SSM path with characters to escape", func(t *testing.T) {
		req := ts.signedRequest(t, "POST", "/a%20path/~x", []byte("{}"), http.Header{"X-Amz-Target": {"AmazonSSM.NoSuchOperation"}}, exampleKey(), "ssm", DefaultRegion)
		resp, body := ts.do(t, req)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "UnknownOperationException") {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
}

// escapeKey escapes an object key as the SDK puts it in the path.
func escapeKey(key string) string {
	segments := strings.Split(key, "/")
	for i, segment := range segments {
		segments[i] = uriEncode(segment)
	}
	return strings.Join(segments, "/")
}

func TestSigV4PresignedURL(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("presign-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.putObject(ctx, "presign-bucket", "reports/out put.txt", strings.NewReader("presigned content")); err != nil {
		t.Fatal(err)
	}

	presigner := s3.NewPresignClient(ts.s3Client(exampleKeyProvider(), DefaultRegion))
	signed, err := presigner.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("presign-bucket"), Key: aws.String("reports/out put.txt"),
	}, s3.WithPresignExpires(10*time.Minute))
	if err != nil {
		t.Fatalf("PresignGetObject: %v", err)
	}

	get := func(target string) (*http.Response, string) {
		req, err := http.NewRequest(signed.Method, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, values := range signed.SignedHeader {
			req.Header[name] = values
		}
		return ts.do(t, req)
	}

	resp, body := get(signed.URL)
	if resp.StatusCode != http.StatusOK || body != "presigned content" {
		t.Fatalf("GET presigned URL: status %d, body %q", resp.StatusCode, body)
	}

	forged := strings.Replace(signed.URL, "X-Amz-Signature=", "X-Amz-Signature=0", 1)
	if resp, body := get(forged); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("forged signature: status %d, body %s", resp.StatusCode, body)
	}

	ts.clock.Advance(11 * time.Minute)
	if resp, body := get(signed.URL); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Request has expired") {
		t.Errorf("expired URL: status %d, body %s", resp.StatusCode, body)
	}
}
