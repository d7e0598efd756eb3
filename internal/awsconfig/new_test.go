package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// credentialsText returns the credentials parameter for the temporary
// credentials, expiring at expiration.
func credentialsText(expiration time.Time) string {
	return `{'Credentials': {'AccessKeyId': '` + tempAccessKeyID + `', 'SecretAccessKey': '` + exampleSecretAccessKey +
		`', 'SessionToken': '` + tempSessionToken + `', 'Expiration': ` + pythonDatetime(expiration) + `}}`
}

// pythonDatetime returns the repr() of t as a Python datetime in UTC.
func pythonDatetime(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("datetime.datetime(%d, %d, %d, %d, %d, %d, tzinfo=tzutc())", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second())
}

// callerIdentity calls GetCallerIdentity with c and returns the request
// that fake saw.
func callerIdentity(t *testing.T, c *Clients, fake *fakeAWS) fakeRequest {
	t.Helper()
	before := len(fake.recorded())
	if _, err := c.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	requests := fake.recorded()[before:]
	if len(requests) != 1 {
		t.Fatalf("GetCallerIdentity sent %d requests, want 1: %+v", len(requests), requests)
	}
	return requests[0]
}

func TestNewCredentialPrecedence(t *testing.T) {
	fake := newFakeAWS(t)
	t.Setenv(imdsEndpointVariable, fake.URL)
	fresh := credentialsText(time.Now().Add(time.Hour))

	cases := []struct {
		name        string
		useRole     bool
		keys        bool
		credentials string
		source      string
		accessKeyID string
		token       string
	}{
		{"parameter over role and keys", true, true, fresh, SourceParameter, tempAccessKeyID, tempSessionToken},
		{"parameter over keys", false, true, fresh, SourceParameter, tempAccessKeyID, tempSessionToken},
		{"parameter alone", false, false, fresh, SourceParameter, tempAccessKeyID, tempSessionToken},
		{"role over keys", true, true, "", SourceInstanceRole, fakeRoleAccessKeyID, fakeRoleToken},
		{"role over blank parameter", true, false, " \n", SourceInstanceRole, fakeRoleAccessKeyID, fakeRoleToken},
		{"keys", false, true, "", SourceAccessKey, exampleAccessKeyID, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			asset := Asset{Region: "us-east-1", UseRole: c.useRole, EndpointURL: fake.URL}
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

			got := callerIdentity(t, clients, fake)
			if got.AccessKeyID != c.accessKeyID {
				t.Errorf("request signed with %q, want %q", got.AccessKeyID, c.accessKeyID)
			}
			if got.SecurityToken != c.token {
				t.Errorf("request session token = %q, want %q", got.SecurityToken, c.token)
			}
		})
	}
}

func TestNewWithoutCredentialSource(t *testing.T) {
	_, err := New(context.Background(), Request{Asset: Asset{Region: "us-east-1"}})
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
	fake := newFakeAWS(t)
	t.Setenv(imdsEndpointVariable, fake.URL)
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	asset := Asset{Region: "us-east-1", UseRole: true, AccessKey: exampleAccessKeyID, SecretKey: exampleSecretAccessKey, EndpointURL: fake.URL,
		RoleARN: "arn:aws:iam::123456789012:role/ops"}

	for _, expiration := range []time.Time{now.Add(-time.Hour), now.Add(30 * time.Second)} {
		_, err := New(context.Background(), Request{Asset: asset, Credentials: credentialsText(expiration), Now: func() time.Time { return now }})
		var paramErr *ParameterError
		if !errors.As(err, &paramErr) || paramErr.Parameter != "credentials" {
			t.Errorf("expiration %v: New = %v, want a *ParameterError for credentials", expiration, err)
			continue
		}
		if want := expiration.Format("2006-01-02 15:04:05 UTC"); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not give the expiry time %s", err, want)
		}
	}
	if n := len(fake.recorded()); n != 0 {
		t.Errorf("expired credentials sent %d requests, want none", n)
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
	if !strings.Contains(err.Error(), "region parameter: unknown region \"us-east-1a\"; did you mean us-east-1?") {
		t.Errorf("error = %q", err)
	}
}

func TestNewIgnoresAmbientSettings(t *testing.T) {
	fake := newFakeAWS(t)
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

	asset := validAsset()
	asset.EndpointURL = fake.URL
	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}
	got := callerIdentity(t, clients, fake)
	if got.AccessKeyID != exampleAccessKeyID || got.SecurityToken != "" {
		t.Errorf("request signed with %q and token %q, want the asset's key and no token", got.AccessKeyID, got.SecurityToken)
	}
	if got.Region != "us-east-1" || got.Service != "sts" {
		t.Errorf("credential scope region %q, service %q, want us-east-1 and sts", got.Region, got.Service)
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
	fake := newFakeAWS(t)
	const arn = "arn:aws:iam::123456789012:role/ops"
	asset := validAsset()
	asset.EndpointURL = fake.URL
	asset.RoleARN = arn
	asset.ExternalID = "ext-42"

	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}
	if want := SourceAccessKey + " then role " + arn; clients.Source != want {
		t.Errorf("Source = %q, want %q", clients.Source, want)
	}

	requests := fake.recorded()
	if len(requests) != 1 || requests[0].Action != "AssumeRole" {
		t.Fatalf("New sent %+v, want one AssumeRole", requests)
	}
	assume := requests[0]
	if assume.AccessKeyID != exampleAccessKeyID {
		t.Errorf("AssumeRole signed with %q, want the asset's key", assume.AccessKeyID)
	}
	wantForm := map[string]string{"RoleArn": arn, "ExternalId": "ext-42", "RoleSessionName": "awsssm", "DurationSeconds": "3600"}
	for k, v := range wantForm {
		if assume.Form[k] != v {
			t.Errorf("AssumeRole %s = %q, want %q", k, assume.Form[k], v)
		}
	}

	got := callerIdentity(t, clients, fake)
	if got.AccessKeyID != fakeAssumedKeyID || got.SecurityToken != fakeAssumedToken {
		t.Errorf("request signed with %q and token %q, want the assumed role's", got.AccessKeyID, got.SecurityToken)
	}
}

func TestNewAssumesRoleWithParameterCredentials(t *testing.T) {
	fake := newFakeAWS(t)
	asset := validAsset()
	asset.EndpointURL = fake.URL
	asset.RoleARN = "arn:aws:iam::123456789012:role/ops"
	asset.RoleSessionName = "playbook-7"
	asset.SessionDuration = 900

	clients, err := New(context.Background(), Request{Asset: asset, Credentials: credentialsText(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if want := SourceParameter + " then role " + asset.RoleARN; clients.Source != want {
		t.Errorf("Source = %q, want %q", clients.Source, want)
	}
	assume := fake.recorded()[0]
	if assume.AccessKeyID != tempAccessKeyID || assume.SecurityToken != tempSessionToken {
		t.Errorf("AssumeRole signed with %q and token %q, want the parameter's", assume.AccessKeyID, assume.SecurityToken)
	}
	if assume.Form["RoleSessionName"] != "playbook-7" || assume.Form["DurationSeconds"] != "900" {
		t.Errorf("AssumeRole form = %v", assume.Form)
	}
	if _, ok := assume.Form["ExternalId"]; ok {
		t.Errorf("AssumeRole sent ExternalId %q, want none", assume.Form["ExternalId"])
	}
}

func TestNewAssumeRoleDenied(t *testing.T) {
	fake := newFakeAWS(t)
	fake.denyAssume = true
	asset := validAsset()
	asset.EndpointURL = fake.URL
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
}

func TestNewRetriesThrottling(t *testing.T) {
	fake := newFakeAWS(t)
	fake.throttle = 2
	asset := validAsset()
	asset.EndpointURL = fake.URL
	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := clients.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity after 2 throttled attempts: %v", err)
	}
	if n := len(fake.recorded()); n != 3 {
		t.Errorf("GetCallerIdentity took %d attempts, want 3", n)
	}
}

func TestNewBoundsAttempts(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the retryer's backoff, several seconds")
	}
	fake := newFakeAWS(t)
	fake.throttle = 1000
	asset := validAsset()
	asset.EndpointURL = fake.URL
	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}

	_, err = clients.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Fatalf("GetCallerIdentity = %v, want a Throttling error", err)
	}
	if n := len(fake.recorded()); n != MaxAttempts {
		t.Errorf("GetCallerIdentity took %d attempts, want %d", n, MaxAttempts)
	}
}
