package awsconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsssm/awsssm/internal/sandbox"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// These tests run the clients that New builds against the sandbox, which
// checks every SigV4 signature, so a wrong key, secret or session token
// fails the call.

func sandboxAsset(sb *sandboxtest.Sandbox) Asset {
	return Asset{
		Region:      "US East (N. Virginia)",
		AccessKey:   sandbox.ExampleAccessKeyID,
		SecretKey:   sandbox.ExampleSecretAccessKey,
		EndpointURL: sb.URL,
	}
}

// callerARN returns the ARN that STS GetCallerIdentity returns for c.
func callerARN(t *testing.T, c *Clients) string {
	t.Helper()
	out, err := c.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with %s: %v", c.Source, err)
	}
	return aws.ToString(out.Arn)
}

func TestSandboxAssetKeys(t *testing.T) {
	sb := sandboxtest.Start(t)
	clients, err := New(context.Background(), Request{Asset: sandboxAsset(sb)})
	if err != nil {
		t.Fatal(err)
	}

	if arn := callerARN(t, clients); arn != "arn:aws:iam::123456789012:user/"+sandbox.ExampleUserName {
		t.Errorf("caller = %q, want the example user", arn)
	}
	if _, err := clients.SSM.DescribeInstanceInformation(context.Background(), &ssm.DescribeInstanceInformationInput{}); err != nil {
		t.Errorf("SSM DescribeInstanceInformation: %v", err)
	}
}

func TestSandboxCredentialsParameter(t *testing.T) {
	sb := sandboxtest.Start(t)
	keyID, secret, token, expiration := sb.Server.IssueCredentials(time.Hour)
	if !strings.ContainsAny(token, "/+") || !strings.HasSuffix(token, "==") {
		t.Fatalf("sandbox token %q lacks '/', '+' or '==', so the test proves nothing", token)
	}

	// The two forms a playbook passes: Python repr() and JSON.
	texts := map[string]string{
		"python dict": fmt.Sprintf(`{'Credentials': {'AccessKeyId': '%s', 'SecretAccessKey': '%s', 'SessionToken': '%s', 'Expiration': %s}, 'ResponseMetadata': {'HTTPStatusCode': 200}}`,
			keyID, secret, token, pythonDatetime(expiration)),
		"json": fmt.Sprintf(`{"AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s", "Expiration": "%s"}`,
			keyID, secret, token, expiration.Format(time.RFC3339)),
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			// The asset's own keys must lose to the parameter.
			clients, err := New(context.Background(), Request{Asset: sandboxAsset(sb), Credentials: text})
			if err != nil {
				t.Fatal(err)
			}
			if arn := callerARN(t, clients); !strings.Contains(arn, ":assumed-role/"+sandbox.InstanceRoleName+"/") {
				t.Errorf("caller = %q, want the issued role session", arn)
			}
		})
	}
}

func TestSandboxExpiredParameter(t *testing.T) {
	sb := sandboxtest.Start(t)
	keyID, secret, token, expiration := sb.Server.IssueCredentials(15 * time.Minute)
	text := fmt.Sprintf(`{'AccessKeyId': '%s', 'SecretAccessKey': '%s', 'SessionToken': '%s', 'Expiration': %s}`,
		keyID, secret, token, pythonDatetime(expiration))
	later := func() time.Time { return expiration.Add(time.Second) }

	_, err := New(context.Background(), Request{Asset: sandboxAsset(sb), Credentials: text, Now: later})
	var paramErr *ParameterError
	if !errors.As(err, &paramErr) {
		t.Fatalf("New = %v, want a *ParameterError", err)
	}
	if want := "expired at " + expiration.UTC().Format("2006-01-02 15:04:05") + " UTC"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	for _, op := range []string{"GetCallerIdentity", "AssumeRole", "GetToken"} {
		if n := sb.Server.Faults().Calls(op); n != 0 {
			t.Errorf("%d %s calls before the expiry check, want none", n, op)
		}
	}
}

func TestSandboxInstanceRole(t *testing.T) {
	sb := sandboxtest.Start(t)
	t.Setenv(imdsEndpointVariable, sb.URL)
	asset := sandboxAsset(sb)
	asset.AccessKey, asset.SecretKey, asset.UseRole = "", "", true

	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}
	if clients.Source != SourceInstanceRole {
		t.Errorf("Source = %q, want %q", clients.Source, SourceInstanceRole)
	}
	if arn := callerARN(t, clients); !strings.Contains(arn, ":assumed-role/"+sandbox.InstanceRoleName+"/") {
		t.Errorf("caller = %q, want the instance role", arn)
	}
	if n := sb.Server.Faults().Calls("GetToken"); n < 1 {
		t.Errorf("%d IMDSv2 token requests, want at least 1", n)
	}
}

func TestSandboxInstanceRoleHopLimit(t *testing.T) {
	sb := sandboxtest.Start(t)
	t.Setenv(imdsEndpointVariable, sb.URL)
	sb.Server.Faults().IMDSTokenNoAnswer(true)
	asset := sandboxAsset(sb)
	asset.UseRole = true

	start := time.Now()
	_, err := New(context.Background(), Request{Asset: asset})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("New succeeded without a response to the token request")
	}
	for _, part := range []string{"use_role: the instance metadata service at " + sb.URL, "did not respond to the IMDSv2 token request", "hop limit must be 2", "--http-put-response-hop-limit 2"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	// The wait is bounded. The margin is wide for a loaded machine.
	if limit := imdsWait + 10*time.Second; elapsed > limit {
		t.Errorf("New took %v, more than %v", elapsed, limit)
	}
	if n := sb.Server.Faults().Calls("GetMetadata"); n != 0 {
		t.Errorf("%d metadata requests without a token, want none", n)
	}
}

func TestSandboxAssumeRole(t *testing.T) {
	sb := sandboxtest.Start(t)
	t.Setenv(imdsEndpointVariable, sb.URL)
	const roleARN = "arn:aws:iam::123456789012:role/soar/ssm-operator"

	cases := map[string]func(*Asset){
		"from the asset's keys": func(a *Asset) {},
		"from the instance role": func(a *Asset) {
			a.AccessKey, a.SecretKey, a.UseRole = "", "", true
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			asset := sandboxAsset(sb)
			asset.RoleARN = roleARN
			asset.ExternalID = "soar-42"
			change(&asset)

			clients, err := New(context.Background(), Request{Asset: asset})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(clients.Source, " then role "+roleARN) {
				t.Errorf("Source = %q", clients.Source)
			}
			if arn := callerARN(t, clients); arn != "arn:aws:sts::123456789012:assumed-role/ssm-operator/awsssm" {
				t.Errorf("caller = %q, want the role session awsssm", arn)
			}
		})
	}
}

func TestSandboxAssumeRoleDenied(t *testing.T) {
	sb := sandboxtest.Start(t)
	asset := sandboxAsset(sb)
	asset.RoleARN = "arn:aws:iam::210987654321:role/elsewhere"

	_, err := New(context.Background(), Request{Asset: asset})
	if err == nil {
		t.Fatal("New succeeded with a role of another account")
	}
	for _, part := range []string{"assume role " + asset.RoleARN + " with the asset's access key", "AccessDenied", "trust policy"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}

func TestSandboxThrottlingRetried(t *testing.T) {
	sb := sandboxtest.Start(t)
	clients, err := New(context.Background(), Request{Asset: sandboxAsset(sb)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	faults := sb.Server.Faults()
	bucket := aws.String("awsssm-throttle")
	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatalf("S3 CreateBucket: %v", err)
	}

	// Each service's throttling error: STS Throttling, SSM
	// ThrottlingException and S3 SlowDown.
	calls := []struct {
		op   string
		call func() error
	}{
		{"GetCallerIdentity", func() error {
			_, err := clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}},
		{"DescribeInstanceInformation", func() error {
			_, err := clients.SSM.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
			return err
		}},
		{"HeadBucket", func() error {
			_, err := clients.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bucket})
			return err
		}},
	}
	for _, c := range calls {
		faults.Throttle(c.op, 2)
		before := faults.Calls(c.op)
		if err := c.call(); err != nil {
			t.Errorf("%s after 2 throttled attempts: %v", c.op, err)
			continue
		}
		if n := faults.Calls(c.op) - before; n != 3 {
			t.Errorf("%s took %d attempts, want 3", c.op, n)
		}
	}
}

func TestSandboxS3Checksums(t *testing.T) {
	sb := sandboxtest.Start(t)
	clients, err := New(context.Background(), Request{Asset: sandboxAsset(sb)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bucket, key := aws.String("awsssm-output"), aws.String("prefix/cmd/i-1/out/stdout")
	body := bytes.Repeat([]byte("output line\n"), 1000)

	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if _, err := clients.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := clients.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read object: %v", err)
	}
	if !bytes.Equal(got, body) {
		t.Errorf("object is %d bytes, want the %d bytes written", len(got), len(body))
	}
}

func TestSandboxThroughProxy(t *testing.T) {
	sb := sandboxtest.Start(t)
	proxy := newRecordingProxy(t, sb.URL)
	asset := sandboxAsset(sb)
	asset.EndpointURL = "http://" + proxiedHost

	clients, err := New(context.Background(), Request{Asset: asset, Env: map[string]string{"http_proxy": proxy.URL}})
	if err != nil {
		t.Fatal(err)
	}
	callerARN(t, clients)
	if _, err := clients.SSM.DescribeInstanceInformation(context.Background(), &ssm.DescribeInstanceInformationInput{}); err != nil {
		t.Errorf("SSM DescribeInstanceInformation through the proxy: %v", err)
	}
	if _, err := clients.S3.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Errorf("S3 ListBuckets through the proxy: %v", err)
	}

	seen := proxy.requests()
	if len(seen) != 3 {
		t.Errorf("proxy saw %d requests, want 3: %+v", len(seen), seen)
	}
	if i := slices.IndexFunc(seen, func(r proxiedRequest) bool { return r.URLHost != proxiedHost }); i >= 0 {
		t.Errorf("proxy saw a request for host %q, want only %s", seen[i].URLHost, proxiedHost)
	}
}
