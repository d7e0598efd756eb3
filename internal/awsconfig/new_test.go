package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsssm/awsssm/internal/sandbox"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// credentialsText returns the credentials parameter for the temporary
// credentials, expiring at expiration.
func credentialsText(expiration time.Time) string {
	return credentialsParameter(tempAccessKeyID, exampleSecretAccessKey, tempSessionToken, expiration)
}

// credentialsParameter returns the credentials parameter that a playbook
// passes: the repr() of a boto3 AssumeRole response.
func credentialsParameter(accessKeyID, secret, token string, expiration time.Time) string {
	return `{'Credentials': {'AccessKeyId': '` + accessKeyID + `', 'SecretAccessKey': '` + secret +
		`', 'SessionToken': '` + token + `', 'Expiration': ` + pythonDatetime(expiration) + `}}`
}

// pythonDatetime returns the repr() of t as a Python datetime in UTC.
func pythonDatetime(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("datetime.datetime(%d, %d, %d, %d, %d, %d, tzinfo=tzutc())", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second())
}

// The caller ARNs that GetCallerIdentity returns for the sandbox's example
// key, its instance role and the playbook role session.
const (
	exampleUserARN        = "arn:aws:iam::123456789012:user/" + sandbox.ExampleUserName
	instanceRoleCallerARN = "arn:aws:sts::123456789012:assumed-role/" + sandbox.InstanceRoleName + "/" + sandbox.DefaultInstanceID
	playbookRoleCallerARN = "arn:aws:sts::123456789012:assumed-role/playbook/playbook-run"
)

// playbookRoleARN is the role of the credentials that playbookCredentials
// returns.
const playbookRoleARN = "arn:aws:iam::123456789012:role/playbook"

// playbookCredentials returns a credentials parameter as a playbook gets
// it: from STS AssumeRole of the role playbook, called on the sandbox with
// the example key.
func playbookCredentials(t *testing.T, sb *sandboxtest.Sandbox) string {
	t.Helper()
	out, err := sts.NewFromConfig(sb.Config()).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String(playbookRoleARN),
		RoleSessionName: aws.String("playbook-run"),
	})
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", playbookRoleARN, err)
	}
	c := out.Credentials
	return credentialsParameter(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken), aws.ToTime(c.Expiration))
}

// The sandbox accepts a temporary key only with its exact session token,
// and the long-term example key only without one. So the caller ARN that
// GetCallerIdentity returns shows both the key and the token that signed.

func TestNewCredentialPrecedence(t *testing.T) {
	sb := sandboxtest.Start(t)
	t.Setenv(imdsEndpointVariable, sb.URL)
	fresh := playbookCredentials(t, sb)

	cases := []struct {
		name        string
		useRole     bool
		keys        bool
		credentials string
		source      string
		caller      string
	}{
		{"parameter over role and keys", true, true, fresh, SourceParameter, playbookRoleCallerARN},
		{"parameter over keys", false, true, fresh, SourceParameter, playbookRoleCallerARN},
		{"parameter alone", false, false, fresh, SourceParameter, playbookRoleCallerARN},
		{"role over keys", true, true, "", SourceInstanceRole, instanceRoleCallerARN},
		{"role over blank parameter", true, false, " \n", SourceInstanceRole, instanceRoleCallerARN},
		{"keys", false, true, "", SourceAccessKey, exampleUserARN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			asset := Asset{Region: "us-east-1", UseRole: c.useRole, EndpointURL: sb.URL}
			if c.keys {
				asset.AccessKey, asset.SecretKey = exampleAccessKeyID, exampleSecretAccessKey
			}

			clients, err := New(context.Background(), Request{Asset: asset, Credentials: c.credentials})
			if err != nil {
				t.Fatal(err)
			}
			if clients.Source != c.source {
				t.Errorf("Source = %q, want %q", clients.Source, c.source)
			}
			if arn := callerARN(t, clients); arn != c.caller {
				t.Errorf("caller = %q, want %q", arn, c.caller)
			}
		})
	}
}

func TestNewWithoutCredentialSource(t *testing.T) {
	_, err := New(context.Background(), Request{Asset: Asset{Region: "us-east-1"}, HasCredentialsParameter: true})
	var assetErr *AssetError
	if !errors.As(err, &assetErr) {
		t.Fatalf("New = %v, want an *AssetError", err)
	}
	for _, field := range []string{"access_key", "secret_key", "use_role", "credentials parameter"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}

func TestNewRejectsExpiredCredentials(t *testing.T) {
	sb := sandboxtest.Start(t)
	t.Setenv(imdsEndpointVariable, sb.URL)
	keyID, secret, token, expiration := sb.Server.IssueCredentials(time.Hour)
	text := credentialsParameter(keyID, secret, token, expiration)
	asset := sandboxAsset(sb)
	asset.UseRole = true
	asset.RoleARN = "arn:aws:iam::123456789012:role/ops"

	// An hour after the expiry, and 30 seconds before it, within the margin.
	for _, now := range []time.Time{expiration.Add(time.Hour), expiration.Add(-30 * time.Second)} {
		_, err := New(context.Background(), Request{Asset: asset, Credentials: text, Now: func() time.Time { return now }})
		var paramErr *ParameterError
		if !errors.As(err, &paramErr) || paramErr.Parameter != "credentials" {
			t.Errorf("now %v: New = %v, want a *ParameterError for credentials", now, err)
			continue
		}
		if want := expiration.Format("2006-01-02 15:04:05 UTC"); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not give the expiry time %s", err, want)
		}
	}

	// The credentials are valid in the sandbox, so any call that New sent
	// would have counted.
	for _, op := range []string{"GetToken", "GetMetadata", "AssumeRole", "GetCallerIdentity"} {
		if n := sb.Server.Faults().Calls(op); n != 0 {
			t.Errorf("expired credentials sent %d %s calls, want none", n, op)
		}
	}
}

func TestNewRegion(t *testing.T) {
	asset := validAsset()
	asset.Region = "\tEU (Paris)"

	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}
	if clients.Region != "eu-west-3" || clients.Config.Region != "eu-west-3" || clients.SSM.Options().Region != "eu-west-3" {
		t.Errorf("regions = %q, %q, %q, want eu-west-3", clients.Region, clients.Config.Region, clients.SSM.Options().Region)
	}

	// The region parameter overrides the asset's region.
	clients, err = New(context.Background(), Request{Asset: asset, Region: "Asia Pacific (Tokyo)"})
	if err != nil {
		t.Fatal(err)
	}
	if clients.Region != "ap-northeast-1" {
		t.Errorf("Region = %q, want ap-northeast-1", clients.Region)
	}

	_, err = New(context.Background(), Request{Asset: asset, Region: "us-east-1a"})
	var paramErr *ParameterError
	if !errors.As(err, &paramErr) || paramErr.Parameter != "region" {
		t.Fatalf("New with region us-east-1a = %v, want a *ParameterError for region", err)
	}
	if !strings.Contains(err.Error(), `invalid parameter "region": unknown region "us-east-1a"; did you mean us-east-1?`) {
		t.Errorf("error = %q", err)
	}
}

func TestNewIgnoresAmbientSettings(t *testing.T) {
	sb := sandboxtest.Start(t)
	recorder := newRecordingProxy(t, sb.URL)
	// Settings that config.LoadDefaultConfig would pick up.
	ambient := map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIAAMBIENTAMBIENT00",
		"AWS_SECRET_ACCESS_KEY":       "ambient-secret",
		"AWS_SESSION_TOKEN":           "ambient-token",
		"AWS_REGION":                  "eu-west-1",
		"AWS_DEFAULT_REGION":          "eu-west-1",
		"AWS_ENDPOINT_URL":            "http://127.0.0.1:9",
		"AWS_ENDPOINT_URL_STS":        "http://127.0.0.1:9",
		"AWS_ENDPOINT_URL_SSM":        "http://127.0.0.1:9",
		"AWS_PROFILE":                 "ambient",
		"AWS_CONFIG_FILE":             "/nonexistent/config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
	}
	for k, v := range ambient {
		t.Setenv(k, v)
	}

	// The recorder, as the endpoint, shows the credential scope.
	asset := validAsset()
	asset.EndpointURL = recorder.URL
	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}
	if arn := callerARN(t, clients); arn != exampleUserARN {
		t.Errorf("caller = %q, want the asset's key without a session token", arn)
	}
	seen := recorder.requests()
	if len(seen) != 1 {
		t.Fatalf("GetCallerIdentity sent %d requests, want 1: %+v", len(seen), seen)
	}
	if seen[0].Region != "us-east-1" || seen[0].Service != "sts" {
		t.Errorf("credential scope region %q, service %q, want us-east-1 and sts", seen[0].Region, seen[0].Service)
	}

	// Without endpoint_url the clients keep the SDK's own endpoints.
	clients, err = New(context.Background(), Request{Asset: validAsset()})
	if err != nil {
		t.Fatal(err)
	}
	for name, endpoint := range map[string]*string{
		"SSM": clients.SSM.Options().BaseEndpoint,
		"S3":  clients.S3.Options().BaseEndpoint,
		"STS": clients.STS.Options().BaseEndpoint,
	} {
		if endpoint != nil {
			t.Errorf("%s BaseEndpoint = %q, want none", name, *endpoint)
		}
	}
	if clients.Region != "us-east-1" {
		t.Errorf("Region = %q, want the asset's us-east-1", clients.Region)
	}
}

func TestNewEndpoint(t *testing.T) {
	asset := validAsset()
	asset.EndpointURL = " http://127.0.0.1:4566 "
	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}
	for name, endpoint := range map[string]*string{
		"SSM": clients.SSM.Options().BaseEndpoint,
		"S3":  clients.S3.Options().BaseEndpoint,
		"STS": clients.STS.Options().BaseEndpoint,
	} {
		if endpoint == nil || *endpoint != "http://127.0.0.1:4566" {
			t.Errorf("%s BaseEndpoint = %v, want http://127.0.0.1:4566", name, endpoint)
		}
	}
	if !clients.S3.Options().UsePathStyle {
		t.Error("S3 does not use path-style addressing with endpoint_url")
	}

	clients, err = New(context.Background(), Request{Asset: validAsset()})
	if err != nil {
		t.Fatal(err)
	}
	if clients.S3.Options().UsePathStyle {
		t.Error("S3 uses path-style addressing without endpoint_url")
	}
}

func TestNewAssumesRole(t *testing.T) {
	sb := sandboxtest.Start(t)
	recorder := newRecordingProxy(t, sb.URL)
	const arn = "arn:aws:iam::123456789012:role/ops"
	asset := validAsset()
	asset.EndpointURL = recorder.URL
	asset.RoleARN = arn
	asset.ExternalID = "ext-42"

	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}
	if want := SourceAccessKey + " then role " + arn; clients.Source != want {
		t.Errorf("Source = %q, want %q", clients.Source, want)
	}

	seen := recorder.requests()
	if len(seen) != 1 || seen[0].Form.Get("Action") != "AssumeRole" {
		t.Fatalf("New sent %+v, want one AssumeRole", seen)
	}
	assume := seen[0]
	if assume.AccessKeyID != exampleAccessKeyID || assume.SecurityToken != "" {
		t.Errorf("AssumeRole signed with %q and token %q, want the asset's key and no token", assume.AccessKeyID, assume.SecurityToken)
	}
	wantForm := map[string]string{"RoleArn": arn, "ExternalId": "ext-42", "RoleSessionName": "awsssm", "DurationSeconds": "3600"}
	for k, v := range wantForm {
		if got := assume.Form.Get(k); got != v {
			t.Errorf("AssumeRole %s = %q, want %q", k, got, v)
		}
	}

	if got := callerARN(t, clients); got != "arn:aws:sts::123456789012:assumed-role/ops/awsssm" {
		t.Errorf("caller = %q, want the role session awsssm", got)
	}
}

func TestNewAssumesRoleWithParameterCredentials(t *testing.T) {
	sb := sandboxtest.Start(t)
	recorder := newRecordingProxy(t, sb.URL)
	keyID, secret, token, expiration := sb.Server.IssueCredentials(time.Hour)
	asset := validAsset()
	asset.EndpointURL = recorder.URL
	asset.RoleARN = "arn:aws:iam::123456789012:role/ops"
	asset.RoleSessionName = "playbook-7"
	asset.SessionDuration = 1800

	clients, err := New(context.Background(), Request{Asset: asset, Credentials: credentialsParameter(keyID, secret, token, expiration)})
	if err != nil {
		t.Fatal(err)
	}
	if want := SourceParameter + " then role " + asset.RoleARN; clients.Source != want {
		t.Errorf("Source = %q, want %q", clients.Source, want)
	}

	seen := recorder.requests()
	if len(seen) != 1 || seen[0].Form.Get("Action") != "AssumeRole" {
		t.Fatalf("New sent %+v, want one AssumeRole", seen)
	}
	assume := seen[0]
	if assume.AccessKeyID != keyID || assume.SecurityToken != token {
		t.Errorf("AssumeRole signed with %q and token %q, want the parameter's", assume.AccessKeyID, assume.SecurityToken)
	}
	if assume.Form.Get("RoleSessionName") != "playbook-7" || assume.Form.Get("DurationSeconds") != "1800" {
		t.Errorf("AssumeRole form = %v", assume.Form)
	}
	if assume.Form.Has("ExternalId") {
		t.Errorf("AssumeRole sent ExternalId %q, want none", assume.Form.Get("ExternalId"))
	}

	if got := callerARN(t, clients); got != "arn:aws:sts::123456789012:assumed-role/ops/playbook-7" {
		t.Errorf("caller = %q, want the role session playbook-7", got)
	}
}

func TestNewAssumeRoleDenied(t *testing.T) {
	sb := sandboxtest.Start(t)
	// The role is in the sandbox's account, so only the fault denies it, as
	// a trust policy that leaves out the caller does.
	sb.Server.Faults().Fail("AssumeRole", "AccessDenied", http.StatusForbidden, 1)
	asset := sandboxAsset(sb)
	asset.RoleARN = "arn:aws:iam::123456789012:role/ops"

	_, err := New(context.Background(), Request{Asset: asset})
	if err == nil {
		t.Fatal("New succeeded, want an error")
	}
	for _, part := range []string{"assume role arn:aws:iam::123456789012:role/ops with the asset's access key", "AccessDenied", "trust policy"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	if strings.Contains(err.Error(), exampleSecretAccessKey) {
		t.Errorf("error %q contains the secret key", err)
	}
	// AccessDenied is final, so New must not retry it.
	if n := sb.Server.Faults().Calls("AssumeRole"); n != 1 {
		t.Errorf("%d AssumeRole calls, want 1", n)
	}
}

func TestNewBoundsAttempts(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the retryer's backoff, several seconds")
	}
	sb := sandboxtest.Start(t)
	sb.Server.Faults().Throttle("GetCallerIdentity", 1000)
	clients, err := New(context.Background(), Request{Asset: sandboxAsset(sb)})
	if err != nil {
		t.Fatal(err)
	}

	_, err = clients.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Fatalf("GetCallerIdentity = %v, want a Throttling error", err)
	}
	if n := sb.Server.Faults().Calls("GetCallerIdentity"); n != MaxAttempts {
		t.Errorf("GetCallerIdentity took %d attempts, want %d", n, MaxAttempts)
	}
}
