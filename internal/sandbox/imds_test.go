package sandbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func (ts *coreSandbox) imdsClient(optFns ...func(*imds.Options)) *imds.Client {
	return imds.New(imds.Options{
		Endpoint:       ts.url,
		HTTPClient:     ts.http.Client(),
		EnableFallback: aws.FalseTernary,
	}, optFns...)
}

func TestIMDSRoleCredentialsAcceptedBySTS(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()

	provider := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = ts.imdsClient() })
	creds, err := provider.Retrieve(ctx)
	if err != nil {
		t.Fatalf("ec2rolecreds Retrieve: %v", err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SessionToken == "" || !creds.CanExpire {
		t.Errorf("credentials %s (token %t, can expire %t) are not temporary", creds.AccessKeyID, creds.SessionToken != "", creds.CanExpire)
	}
	// The SDK caps the expiry it reports at one hour, to refresh early.
	if left := time.Until(creds.Expires); left < 50*time.Minute {
		t.Errorf("credentials expire in %v, want an hour", left)
	}

	identity, err := ts.stsClient(aws.NewCredentialsCache(provider)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with instance role credentials: %v", err)
	}
	if got, want := aws.ToString(identity.Arn), "arn:aws:sts::123456789012:assumed-role/awsssm-sandbox-role/i-0123456789abcdef0"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	if ts.srv.Faults().Calls("GetToken") == 0 {
		t.Error("the SDK fetched credentials without an IMDSv2 token")
	}

	// Metadata hands out the same credentials until they near expiry.
	again, err := provider.Retrieve(ctx)
	if err != nil {
		t.Fatalf("second Retrieve: %v", err)
	}
	if again.AccessKeyID != creds.AccessKeyID {
		t.Errorf("second Retrieve returned new credentials %s, want %s", again.AccessKeyID, creds.AccessKeyID)
	}
	ts.clock.Advance(5*time.Hour + 30*time.Minute)
	rotated, err := provider.Retrieve(ctx)
	if err != nil {
		t.Fatalf("Retrieve near expiry: %v", err)
	}
	if rotated.AccessKeyID == creds.AccessKeyID {
		t.Error("credentials 30 minutes from expiry were not rotated")
	}
}

func TestIMDSEndpointFromEnvironment(t *testing.T) {
	ts := startCore(t)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ts.url)
	client := imds.New(imds.Options{})
	region, err := client.GetRegion(context.Background(), &imds.GetRegionInput{})
	if err != nil {
		t.Fatalf("GetRegion through AWS_EC2_METADATA_SERVICE_ENDPOINT: %v", err)
	}
	if region.Region != DefaultRegion {
		t.Errorf("Region = %q, want %q", region.Region, DefaultRegion)
	}
}

func TestIMDSInstanceIdentityDocument(t *testing.T) {
	ts := startCore(t)
	doc, err := ts.imdsClient().GetInstanceIdentityDocument(context.Background(), &imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		t.Fatalf("GetInstanceIdentityDocument: %v", err)
	}
	if doc.InstanceID != DefaultInstanceID || doc.Region != DefaultRegion || doc.AccountID != DefaultAccountID {
		t.Errorf("document = instance %q, region %q, account %q", doc.InstanceID, doc.Region, doc.AccountID)
	}
}

func TestIMDSTokenRules(t *testing.T) {
	ts := startCore(t)
	putToken := func(ttl string, extra ...string) (*http.Response, string) {
		req := newRequest(t, "PUT", ts.url+"/latest/api/token", "", extra...)
		if ttl != "" {
			req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", ttl)
		}
		return ts.do(t, req)
	}
	get := func(token string) *http.Response {
		req := newRequest(t, "GET", ts.url+"/latest/meta-data/placement/region", "")
		if token != "" {
			req.Header.Set("X-aws-ec2-metadata-token", token)
		}
		resp, _ := ts.do(t, req)
		return resp
	}

	for _, ttl := range []string{"", "0", "21601", "ten"} {
		if resp, _ := putToken(ttl); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("token with TTL %q: status %d, want 400", ttl, resp.StatusCode)
		}
	}
	if resp, _ := putToken("60", "X-Forwarded-For", "10.0.0.1"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("token through a proxy: status %d, want 403", resp.StatusCode)
	}

	resp, token := putToken("60")
	if resp.StatusCode != http.StatusOK || token == "" {
		t.Fatalf("token with TTL 60: status %d, body %q", resp.StatusCode, token)
	}
	if got := resp.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"); got != "60" {
		t.Errorf("TTL header = %q, want 60", got)
	}
	if _, longest := putToken("21600"); longest == "" {
		t.Error("no token for the longest TTL")
	}

	if resp := get(token); resp.StatusCode != http.StatusOK {
		t.Errorf("GET with a valid token: status %d", resp.StatusCode)
	}
	if resp := get(""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET without a token: status %d, want 401", resp.StatusCode)
	}
	if resp := get(token + "x"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET with a wrong token: status %d, want 401", resp.StatusCode)
	}
	ts.clock.Advance(61 * time.Second)
	if resp := get(token); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET with an expired token: status %d, want 401", resp.StatusCode)
	}
}

func TestIMDSUnknownPaths(t *testing.T) {
	ts := startCore(t)
	_, err := ts.imdsClient().GetMetadata(context.Background(), &imds.GetMetadataInput{Path: "iam/security-credentials/some-other-role"})
	if err == nil {
		t.Fatal("credentials of an unknown role were served")
	}
	_, err = ts.imdsClient().GetMetadata(context.Background(), &imds.GetMetadataInput{Path: "no/such/item"})
	if err == nil {
		t.Fatal("an unknown metadata path was served")
	}
	list, err := ts.imdsClient().GetMetadata(context.Background(), &imds.GetMetadataInput{Path: "iam/security-credentials/"})
	if err != nil {
		t.Fatalf("list roles: %v", err)
	}
	defer list.Content.Close()
	roles, _ := io.ReadAll(list.Content)
	if string(roles) != InstanceRoleName {
		t.Errorf("roles = %q, want %q", roles, InstanceRoleName)
	}
}

func TestIMDSTokenNoAnswer(t *testing.T) {
	ts := startCore(t)
	ts.srv.Faults().IMDSTokenNoAnswer(true)

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	_, err := ts.imdsClient().GetRegion(ctx, &imds.GetRegionInput{})
	if err == nil {
		t.Fatal("GetRegion succeeded while the token request gets no answer")
	}
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline") && !strings.Contains(err.Error(), "timeout") {
		t.Errorf("got %v, want a timeout", err)
	}
	// Measured against the context's own deadline, so that a pause between
	// creating the context and sending the request cannot fail this check.
	if early := time.Until(deadline); early > 0 {
		t.Errorf("gave up %v before the deadline; the token request answered early", early)
	}
	if ts.srv.Faults().Calls("GetToken") == 0 {
		t.Error("no token request arrived")
	}

	ts.srv.Faults().IMDSTokenNoAnswer(false)
	if _, err := ts.imdsClient().GetRegion(context.Background(), &imds.GetRegionInput{}); err != nil {
		t.Fatalf("GetRegion after the fault is off: %v", err)
	}
}

func TestIMDSTokenNoAnswerReleasedByClose(t *testing.T) {
	ts := startCore(t)
	ts.srv.Faults().IMDSTokenNoAnswer(true)

	done := make(chan error, 1)
	go func() {
		req := newRequest(t, "PUT", ts.url+"/latest/api/token", "", "X-aws-ec2-metadata-token-ttl-seconds", "60")
		resp, err := ts.http.Client().Do(req)
		if err == nil {
			resp.Body.Close()
			err = errors.New("the token request got a response: " + resp.Status)
		}
		done <- err
	}()

	// Wait until the request is held, then close the sandbox.
	deadline := time.Now().Add(10 * time.Second)
	for ts.srv.Faults().Calls("GetToken") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the token request did not arrive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.srv.Close()
	select {
	case err := <-done:
		if !strings.Contains(err.Error(), "EOF") {
			t.Logf("held request ended with: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not release the held token request")
	}
}
