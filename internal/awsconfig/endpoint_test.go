package awsconfig

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// newWarnLogger returns a logger that keeps warnings and errors in buf.
func newWarnLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestNewWarnsOnceAboutPlainHTTP(t *testing.T) {
	// New sends nothing for an asset with an access key and no role_arn, and
	// a .invalid host never resolves anyway.
	asset := validAsset()
	asset.EndpointURL = "http://ssm.warn-once.invalid:4566"
	var buf bytes.Buffer
	logger := newWarnLogger(&buf)

	// Two parameter sets of one run, with different Regions, share a logger.
	for _, region := range []string{"us-east-1", "eu-west-3"} {
		if _, err := New(context.Background(), Request{Asset: asset, Region: region, Logger: logger}); err != nil {
			t.Fatalf("New with region %s: %v", region, err)
		}
	}

	log := buf.String()
	want := "endpoint_url http://ssm.warn-once.invalid:4566 is plain HTTP to a host that is not loopback"
	if n := strings.Count(log, want); n != 1 {
		t.Errorf("log has the warning %d times, want once:\n%s", n, log)
	}
	if !strings.Contains(log, "level=WARN") {
		t.Errorf("the warning is not at level WARN:\n%s", log)
	}
	for _, word := range []string{"session token", "unencrypted", "use https"} {
		if !strings.Contains(log, word) {
			t.Errorf("the warning does not say %q:\n%s", word, log)
		}
	}

	// Another run has another logger and gets the warning again.
	var other bytes.Buffer
	if _, err := New(context.Background(), Request{Asset: asset, Logger: newWarnLogger(&other)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(other.String(), want) {
		t.Errorf("a second logger got no warning:\n%s", other.String())
	}
}

func TestNewNoWarningForSafeEndpoints(t *testing.T) {
	for _, endpoint := range []string{
		"",
		"http://127.0.0.1:4566",
		"http://127.8.9.10:4566",
		"http://localhost:4566",
		"HTTP://LOCALHOST.:4566",
		"http://[::1]:4566",
		"http://[::ffff:127.0.0.1]:4566",
		"https://ssm.us-east-1.amazonaws.com",
		"https://10.1.2.3:4566",
	} {
		asset := validAsset()
		asset.EndpointURL = endpoint
		var buf bytes.Buffer
		if _, err := New(context.Background(), Request{Asset: asset, Logger: newWarnLogger(&buf)}); err != nil {
			t.Errorf("New with endpoint_url %q: %v", endpoint, err)
			continue
		}
		if buf.Len() != 0 {
			t.Errorf("endpoint_url %q gave a warning:\n%s", endpoint, buf.String())
		}
	}
}

func TestPlainHTTPWarningHosts(t *testing.T) {
	cases := map[string]bool{ // endpoint: warning expected
		"http://10.1.2.3:4566":                true,
		"http://128.0.0.1":                    true,
		"http://[::2]:80":                     true,
		"http://localhost.example.com":        true,
		"http://mylocalhost":                  true,
		"http://sandbox.invalid:8080":         true,
		"http://127.0.0.1":                    false,
		"http://127.255.255.254:9000/base":    false,
		"http://localhost":                    false,
		"http://[::1]":                        false,
		"https://ssm.eu-west-3.amazonaws.com": false,
	}
	for endpoint, want := range cases {
		got := plainHTTPWarning(endpoint)
		if (got != "") != want {
			t.Errorf("plainHTTPWarning(%q) = %q, want a warning: %v", endpoint, got, want)
		}
		if want && !strings.Contains(got, endpoint) {
			t.Errorf("plainHTTPWarning(%q) = %q, which does not name the endpoint", endpoint, got)
		}
	}
}

func TestValidateAssetEndpointPortPlaceholder(t *testing.T) {
	for _, endpoint := range []string{"http://127.0.0.1:PORT", "https://[::1]:PORT/", "http://host:80:90"} {
		asset := validAsset()
		asset.EndpointURL = endpoint
		err := ValidateAsset(asset)
		var assetErr *AssetError
		if !errors.As(err, &assetErr) || assetErr.Field != "endpoint_url" {
			t.Errorf("ValidateAsset with endpoint_url %q = %v, want an *AssetError for endpoint_url", endpoint, err)
			continue
		}
		if !strings.Contains(err.Error(), "is not a number from 1 to 65535") {
			t.Errorf("endpoint_url %q: error %q does not explain the port", endpoint, err)
		}
		if strings.Contains(err.Error(), "expected an http or https URL") {
			t.Errorf("endpoint_url %q: error %q blames the scheme", endpoint, err)
		}
	}

	// The scheme is still the first thing named when it is wrong.
	asset := validAsset()
	asset.EndpointURL = "ftp://127.0.0.1:PORT"
	if err := ValidateAsset(asset); err == nil || !strings.Contains(err.Error(), "expected an http or https URL") {
		t.Errorf("endpoint_url ftp://127.0.0.1:PORT: error = %v, want one about the scheme", err)
	}
}

func TestNewNoCredentialsWithoutParameter(t *testing.T) {
	// Test connectivity has no credentials parameter, so the error must not
	// suggest one.
	_, err := New(context.Background(), Request{Asset: Asset{Region: "us-east-1"}})
	var assetErr *AssetError
	if !errors.As(err, &assetErr) {
		t.Fatalf("New = %v, want an *AssetError", err)
	}
	if strings.Contains(err.Error(), "credentials parameter") {
		t.Errorf("error %q suggests a credentials parameter that the action does not have", err)
	}
	for _, field := range []string{"access_key", "secret_key", "use_role"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}

func TestParameterErrorNamesParameter(t *testing.T) {
	asset := validAsset()
	_, err := New(context.Background(), Request{Asset: asset, Region: "us-east-1a"})
	if want := `invalid parameter "region": unknown region "us-east-1a"; did you mean us-east-1?`; err == nil || err.Error() != want {
		t.Errorf("New with region us-east-1a = %v, want %q", err, want)
	}

	_, err = New(context.Background(), Request{Asset: asset, Credentials: "{}", HasCredentialsParameter: true})
	if want := `invalid parameter "credentials": missing AccessKeyId, SecretAccessKey and SessionToken; `; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("New with credentials {} = %v, want it to start with %q", err, want)
	}

	// The asset's region keeps naming the asset field.
	asset.Region = "us-east-1a"
	_, err = New(context.Background(), Request{Asset: asset})
	if want := `asset field region: unknown region "us-east-1a"; did you mean us-east-1?`; err == nil || err.Error() != want {
		t.Errorf("New with asset region us-east-1a = %v, want %q", err, want)
	}
}

func TestResolveRegionListWithoutGuess(t *testing.T) {
	_, err := ResolveRegion("us-east-1a")
	if err == nil || strings.Contains(err.Error(), "eu-west-3") {
		t.Errorf("ResolveRegion(us-east-1a) = %v, want a guess without the list of codes", err)
	}
	_, err = ResolveRegion("Mars (Olympus Mons)")
	if err == nil || !strings.Contains(err.Error(), "eu-west-3, il-central-1") {
		t.Errorf("ResolveRegion(Mars) = %v, want the list of codes", err)
	}
}
