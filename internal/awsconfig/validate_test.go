package awsconfig

import (
	"errors"
	"strings"
	"testing"
)

func validAsset() Asset {
	return Asset{
		Region:    "US East (N. Virginia)",
		AccessKey: exampleAccessKeyID,
		SecretKey: exampleSecretAccessKey,
	}
}

func TestValidateAssetAccepts(t *testing.T) {
	cases := map[string]func(*Asset){
		"keys":                func(a *Asset) {},
		"code region":         func(a *Asset) { a.Region = "eu-west-3" },
		"tab before region":   func(a *Asset) { a.Region = "\tEU (Paris)" },
		"use_role":            func(a *Asset) { a.AccessKey, a.SecretKey, a.UseRole = "", "", true },
		"no credential field": func(a *Asset) { a.AccessKey, a.SecretKey = "", "" },
		"keys with spaces":    func(a *Asset) { a.AccessKey, a.SecretKey = " "+a.AccessKey+"\n", a.SecretKey+" " },
		"http endpoint":       func(a *Asset) { a.EndpointURL = "http://127.0.0.1:4566" },
		"https endpoint path": func(a *Asset) { a.EndpointURL = "https://vpce-1.ssm.us-east-1.vpce.amazonaws.com/base" },
		"role": func(a *Asset) {
			a.RoleARN = "arn:aws:iam::123456789012:role/path/to/ssm-operator"
			a.ExternalID = "ext-1234:x/y"
			a.RoleSessionName = "soar@host"
			a.SessionDuration = 900
		},
		"china role":    func(a *Asset) { a.RoleARN = "arn:aws-cn:iam::123456789012:role/ops" },
		"govcloud role": func(a *Asset) { a.RoleARN = "arn:aws-us-gov:iam::123456789012:role/ops" },
		"longest session": func(a *Asset) {
			a.RoleARN = "arn:aws:iam::123456789012:role/ops"
			a.SessionDuration = 43200
		},
	}
	for name, change := range cases {
		a := validAsset()
		change(&a)
		if err := ValidateAsset(a); err != nil {
			t.Errorf("%s: ValidateAsset: %v", name, err)
		}
	}
}

func TestValidateAssetRejects(t *testing.T) {
	cases := []struct {
		name    string
		change  func(*Asset)
		field   string
		message string
	}{
		{"no region", func(a *Asset) { a.Region = " " }, "region", "missing"},
		{"bad region", func(a *Asset) { a.Region = "us_east_1" }, "region", "did you mean us-east-1?"},
		{"access key only", func(a *Asset) { a.SecretKey = "" }, "secret_key", "missing while access_key is set"},
		{"secret key only", func(a *Asset) { a.AccessKey = "" }, "access_key", "missing while secret_key is set"},
		{"short access key", func(a *Asset) { a.AccessKey = "AKIA" }, "access_key", "16 to 128 letters and digits"},
		{"space in secret", func(a *Asset) { a.SecretKey = "abc def" }, "secret_key", "white space"},
		{"no-break space in secret", func(a *Asset) { a.SecretKey = "abc\u00a0def" }, "secret_key", "white space"},
		{"line break in secret", func(a *Asset) { a.SecretKey = "abc\r\nX-Injected: 1" }, "secret_key", "invalid: it contains a line break or control character; paste"},
		{"NUL in secret", func(a *Asset) { a.SecretKey = exampleSecretAccessKey + "\x00" }, "secret_key", "line break or control character"},
		{"DEL in secret", func(a *Asset) { a.SecretKey = "abc\x7fdef" }, "secret_key", "line break or control character"},
		{"line break in access key", func(a *Asset) { a.AccessKey = "AKIAIOSFODNN7\nEXAMPLE" }, "access_key", "16 to 128 letters and digits"},
		{"escape in access key", func(a *Asset) { a.AccessKey = "AKIAIOSFODNN7\x1bEXAMPLE" }, "access_key", "16 to 128 letters and digits"},
		{"ftp endpoint", func(a *Asset) { a.EndpointURL = "ftp://127.0.0.1" }, "endpoint_url", "http or https URL"},
		{"endpoint without scheme", func(a *Asset) { a.EndpointURL = "ssm.us-east-1.amazonaws.com" }, "endpoint_url", "http or https URL"},
		{"endpoint with password", func(a *Asset) { a.EndpointURL = "https://user:hunter2@127.0.0.1" }, "endpoint_url", "user name or password"},
		{"endpoint with query", func(a *Asset) { a.EndpointURL = "https://127.0.0.1/?x=1" }, "endpoint_url", "query or fragment"},
		{"not a role ARN", func(a *Asset) { a.RoleARN = "arn:aws:iam::123456789012:user/bob" }, "role_arn", "not an IAM role ARN"},
		{"short account", func(a *Asset) { a.RoleARN = "arn:aws:iam::1234:role/ops" }, "role_arn", "not an IAM role ARN"},
		{"bad external ID", func(a *Asset) { a.ExternalID = "a b" }, "external_id", "2 to 1224"},
		{"short external ID", func(a *Asset) { a.ExternalID = "a" }, "external_id", "2 to 1224"},
		{"long external ID", func(a *Asset) { a.ExternalID = strings.Repeat("a", 1225) }, "external_id", "2 to 1224"},
		{"bad session name", func(a *Asset) { a.RoleSessionName = "soar host" }, "role_session_name", "2 to 64"},
		{"short session", func(a *Asset) { a.SessionDuration = 60 }, "session_duration", "outside 900 to 43200"},
		{"long session", func(a *Asset) { a.SessionDuration = 43201 }, "session_duration", "outside 900 to 43200"},
	}
	for _, c := range cases {
		a := validAsset()
		c.change(&a)
		err := ValidateAsset(a)
		var assetErr *AssetError
		if !errors.As(err, &assetErr) {
			t.Errorf("%s: ValidateAsset = %v, want an *AssetError", c.name, err)
			continue
		}
		if assetErr.Field != c.field {
			t.Errorf("%s: error field = %q, want %q (%v)", c.name, assetErr.Field, c.field, err)
		}
		if !strings.HasPrefix(err.Error(), "asset field "+c.field+": ") {
			t.Errorf("%s: error %q does not start with the field", c.name, err)
		}
		if !strings.Contains(err.Error(), c.message) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.message)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error %q contains the endpoint's password", c.name, err)
		}
		if secret := strings.TrimSpace(a.SecretKey); len(secret) > 3 && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error %q contains the secret key", c.name, err)
		}
		if strings.Contains(err.Error(), "X-Injected") {
			t.Errorf("%s: error %q contains part of the secret key", c.name, err)
		}
	}
}

func TestValidateAssetSeveralErrors(t *testing.T) {
	a := Asset{Region: "nowhere", AccessKey: exampleAccessKeyID, EndpointURL: "ftp://x"}
	err := ValidateAsset(a)
	var assetErr *AssetError
	if !errors.As(err, &assetErr) {
		t.Fatalf("ValidateAsset = %v, want an *AssetError", err)
	}
	if assetErr.Field != "" {
		t.Errorf("Field = %q, want none for several fields", assetErr.Field)
	}
	for _, field := range []string{"asset field region", "asset field endpoint_url", "asset field secret_key"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %q", err, field)
		}
	}
}
