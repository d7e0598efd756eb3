package awsconfig

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

func TestSecrets(t *testing.T) {
	r := Request{
		Asset:       validAsset(),
		Credentials: credentialsText(time.Now().Add(time.Hour)),
		Env:         map[string]string{"HTTPS_PROXY": "http://soar:proxy-pass@127.0.0.1:3128"},
	}
	got := Secrets(r)
	for _, want := range []string{exampleSecretAccessKey, tempSessionToken, "proxy-pass"} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets = %q, missing %q", got, want)
		}
	}
	for _, notSecret := range []string{exampleAccessKeyID, tempAccessKeyID, ""} {
		if slices.Contains(got, notSecret) {
			t.Errorf("Secrets = %q, contains %q", got, notSecret)
		}
	}
}

func TestSecretsUnparsedCredentials(t *testing.T) {
	// When the parameter cannot be parsed, all of it is secret.
	text := `{'SecretAccessKey': '` + exampleSecretAccessKey + `'`
	got := Secrets(Request{Credentials: " " + text + "\n"})
	if !slices.Equal(got, []string{text}) {
		t.Errorf("Secrets = %q, want the whole parameter", got)
	}
}

func TestSecretsTrimmedSecretKey(t *testing.T) {
	asset := validAsset()
	asset.SecretKey = exampleSecretAccessKey + "\n"
	got := Secrets(Request{Asset: asset})
	if !slices.Contains(got, exampleSecretAccessKey) || !slices.Contains(got, asset.SecretKey) {
		t.Errorf("Secrets = %q, want the secret key with and without white space", got)
	}
}

func TestNewDebugLog(t *testing.T) {
	sb := sandboxtest.Start(t)
	keyID, secret, token, expiration := sb.Server.IssueCredentials(time.Hour)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	asset := validAsset()
	asset.EndpointURL = sb.URL
	asset.RoleARN = "arn:aws:iam::123456789012:role/ops"
	r := Request{
		Asset:       asset,
		Credentials: credentialsParameter(keyID, secret, token, expiration),
		Region:      "eu-west-3",
		Env:         map[string]string{"HTTPS_PROXY": "http://soar:proxy-pass@127.0.0.1:3128"},
		Logger:      logger,
	}

	clients, err := New(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	role, err := clients.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	log := buf.String()
	for _, want := range []string{"the credentials parameter then role arn:aws:iam::123456789012:role/ops", "region=eu-west-3", "endpoint=" + sb.URL, "HTTPS_PROXY=http://soar:xxxxx@127.0.0.1:3128 (asset)"} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log does not contain %q:\n%s", want, log)
		}
	}
	// The assumed role's own secret and token come from the sandbox.
	for _, secret := range append(Secrets(r), role.SecretAccessKey, role.SessionToken) {
		if strings.Contains(log, secret) {
			t.Errorf("debug log contains the secret %q:\n%s", secret, log)
		}
	}
}
