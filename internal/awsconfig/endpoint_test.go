package awsconfig

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestPlainHTTPWarningSafeEndpoints(t *testing.T) {
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
		if got := PlainHTTPWarning(endpoint); got != "" {
			t.Errorf("PlainHTTPWarning(%q) = %q, want none", endpoint, got)
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
		got := PlainHTTPWarning(endpoint)
		if (got != "") != want {
			t.Errorf("PlainHTTPWarning(%q) = %q, want a warning: %v", endpoint, got, want)
		}
		if want && !strings.Contains(got, endpoint) {
			t.Errorf("PlainHTTPWarning(%q) = %q, which does not name the endpoint", endpoint, got)
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
