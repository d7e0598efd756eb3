package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// A proxy from the platform's environment_variables is used, its password
// never printed, and an unreachable endpoint is reported in plain words.
func TestProxyFromPlatformUnreachable(t *testing.T) {
	sb := sandboxtest.Start(t)
	const password = "proxy-pass-7Hq2"
	asset := testAsset(sb)
	// A name that only the proxy could resolve, so the request goes to the
	// proxy, which is a closed port on loopback.
	asset["endpoint_url"] = "http://sandbox.invalid:8080"
	doc, err := json.Marshal(map[string]any{
		"identifier": "test_connectivity",
		"config":     asset,
		"environment_variables": map[string]any{
			"HTTPS_PROXY": map[string]any{"type": "string", "value": "http://soar:" + password + "@127.0.0.1:9"},
			"HTTP_PROXY":  map[string]any{"type": "string", "value": "http://soar:" + password + "@127.0.0.1:9"},
		},
	})
	require.NoError(t, err)
	run := runBinary(t, sb, doc, "--verbose")
	assert.Equal(t, 1, run.code)
	msg := run.result(t).Message
	assert.Contains(t, msg, "request to http://sandbox.invalid:8080/ failed after 5 attempts")
	assert.Contains(t, msg, "127.0.0.1:9", "the proxy from environment_variables was used")
	assert.Contains(t, msg, "check endpoint_url")
	assert.Contains(t, msg, "Warning: endpoint_url http://sandbox.invalid:8080 is plain HTTP to a host that is not loopback", "the warning reaches the result")
	assert.NotContains(t, run.stdout, password)
	assert.NotContains(t, run.stderr, password)
}
