// Package sandboxtest starts the sandbox for a test: on a loopback port,
// with a state directory of its own and the repository's instance and
// document definitions, stopped when the test ends.
package sandboxtest

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/awsssm/awsssm/internal/sandbox"
)

// Sandbox is a running sandbox.
type Sandbox struct {
	// URL is the endpoint, http://127.0.0.1:PORT, for SSM, S3, STS and
	// instance metadata alike.
	URL    string
	Server *sandbox.Server

	http *httptest.Server
	// awsConfigDir is a directory that does not exist, where Env points the
	// SDK's shared config and credentials files.
	awsConfigDir string
}

// Start starts a sandbox on 127.0.0.1 and stops it when the test ends. The
// state directory is a t.TempDir. The instances and documents files are
// testdata/sandbox/instances.json and documents.json of the module, each
// when it exists. opts may change any option before the server starts.
func Start(t testing.TB, opts ...func(*sandbox.Options)) *Sandbox {
	t.Helper()

	options := sandbox.Options{StateDir: t.TempDir()}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	if path := filepath.Join(root, "testdata", "sandbox", "instances.json"); fileExists(path) {
		options.InstancesFile = path
	}
	if path := filepath.Join(root, "testdata", "sandbox", "documents.json"); fileExists(path) {
		options.DocumentsFile = path
	}
	for _, opt := range opts {
		opt(&options)
	}

	srv, err := sandbox.New(options)
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		// Requests that a fault holds back end with their connections.
		hs.CloseClientConnections()
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("stop sandbox: %v", err)
		}
	})

	return &Sandbox{
		URL:          hs.URL,
		Server:       srv,
		http:         hs,
		awsConfigDir: filepath.Join(t.TempDir(), "no-aws-config"),
	}
}

// Env returns the environment for a child process that talks to the
// sandbox: the current environment without any AWS_ variable, plus
// AWS_EC2_METADATA_SERVICE_ENDPOINT set to the sandbox. The SDK's shared
// config and credentials files point at files that do not exist, so that
// nothing from the real environment can lead the child to real AWS.
func (sb *Sandbox) Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT="+sb.URL,
		"AWS_CONFIG_FILE="+filepath.Join(sb.awsConfigDir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(sb.awsConfigDir, "credentials"),
	)
}

// Config returns an SDK configuration for the sandbox: the example key
// pair, region us-east-1, the sandbox as base endpoint, and the checksum
// defaults that config.LoadDefaultConfig sets. S3 clients also need
// UsePathStyle.
func (sb *Sandbox) Config() aws.Config {
	return aws.Config{
		Region:                     sandbox.DefaultRegion,
		Credentials:                credentials.NewStaticCredentialsProvider(sandbox.ExampleAccessKeyID, sandbox.ExampleSecretAccessKey, ""),
		BaseEndpoint:               aws.String(sb.URL),
		HTTPClient:                 sb.http.Client(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
}

// moduleRoot returns the nearest directory at or above the working
// directory that contains go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found at or above the working directory")
		}
		dir = parent
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
