package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/sandbox"
	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// putTestParameter writes a parameter straight through the SDK, as set-up.
func putTestParameter(t *testing.T, sb *sandboxtest.Sandbox, name, value string, kind ssmtypes.ParameterType) {
	t.Helper()
	_, err := ssm.NewFromConfig(sb.Config()).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: kind,
	})
	require.NoError(t, err)
}

// readTestParameter reads a parameter's value, decrypted, through the SDK.
func readTestParameter(t *testing.T, sb *sandboxtest.Sandbox, name string) (*ssmtypes.Parameter, error) {
	t.Helper()
	out, err := ssm.NewFromConfig(sb.Config()).GetParameter(context.Background(), &ssm.GetParameterInput{
		Name: aws.String(name), WithDecryption: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	return out.Parameter, nil
}

// randomSecret returns a value that no other text of a run can contain by
// chance, with a quote and a backslash so that its JSON-escaped form
// differs from the raw one.
func randomSecret(prefix string) string {
	return fmt.Sprintf(`%s-%016x"q\b`, prefix, rand.Uint64())
}

// assertNotShown checks that neither secret nor its JSON-escaped form is in
// the run's stdout or stderr.
func assertNotShown(t *testing.T, run *runResult, secret string) {
	t.Helper()
	escaped, err := json.Marshal(secret)
	require.NoError(t, err)
	inner := string(escaped[1 : len(escaped)-1])
	for _, stream := range []struct{ name, text string }{{"stdout", run.stdout}, {"stderr", run.stderr}} {
		assert.NotContains(t, stream.text, secret, "%s shows the secret", stream.name)
		assert.NotContains(t, stream.text, inner, "%s shows the secret JSON-escaped", stream.name)
	}
}

func TestAddParameterExistingNameNeedsOverwrite(t *testing.T) {
	sb := sandboxtest.Start(t)
	putTestParameter(t, sb, "/soar/existing", "old-value", ssmtypes.ParameterTypeString)

	run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/existing", "value": "new-value", "type": "String",
	})
	assert.Equal(t, 1, run.code)
	res := run.result(t)
	assert.Equal(t, connector.StatusFailed, res.Status)
	assert.Contains(t, res.Message, "/soar/existing already exists")
	assert.Contains(t, res.Message, "set overwrite to true")

	stored, err := readTestParameter(t, sb, "/soar/existing")
	require.NoError(t, err)
	assert.Equal(t, "old-value", aws.ToString(stored.Value), "the value must stay as it was")
	assert.EqualValues(t, 1, stored.Version)
}

func TestAddParameterOverwriteWithTags(t *testing.T) {
	sb := sandboxtest.Start(t)
	putTestParameter(t, sb, "/soar/api-url", "https://old.example", ssmtypes.ParameterTypeString)
	putsBefore := sb.Server.Faults().Calls("PutParameter")

	run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/api-url", "value": "https://new.example", "type": "String",
		"overwrite": true, "tags": "Team=soc, Env=prod",
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)

	data := run.data(t)
	assert.EqualValues(t, 2, data["Version"])
	assert.Equal(t, "Standard", data["Tier"])
	assert.EqualValues(t, 200, lookupValue(data, "ResponseMetadata.HTTPStatusCode"))
	summary := run.result(t).Summary
	version, _ := summary.Get("version")
	assert.EqualValues(t, 2, version)

	stored, err := readTestParameter(t, sb, "/soar/api-url")
	require.NoError(t, err)
	assert.Equal(t, "https://new.example", aws.ToString(stored.Value))

	tags, err := ssm.NewFromConfig(sb.Config()).ListTagsForResource(context.Background(), &ssm.ListTagsForResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String("/soar/api-url"),
	})
	require.NoError(t, err)
	got := map[string]string{}
	for _, tag := range tags.TagList {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	assert.Equal(t, map[string]string{"Team": "soc", "Env": "prod"}, got)

	// AWS rejects Tags with Overwrite, so the tags went in a second call.
	assert.Equal(t, 1, sb.Server.Faults().Calls("PutParameter")-putsBefore)
	assert.Equal(t, 1, sb.Server.Faults().Calls("AddTagsToResource"))
}

func TestAddParameterOverwriteTagFailureSaysValueWritten(t *testing.T) {
	sb := sandboxtest.Start(t)
	client := ssm.NewFromConfig(sb.Config())
	existing := make([]ssmtypes.Tag, 45)
	for i := range existing {
		existing[i] = ssmtypes.Tag{Key: aws.String(fmt.Sprintf("Old%02d", i)), Value: aws.String("x")}
	}
	_, err := client.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String("/soar/crowded"), Value: aws.String("old-value"), Type: ssmtypes.ParameterTypeString, Tags: existing,
	})
	require.NoError(t, err)

	// 45 tags and 10 more exceed the 50 that a parameter may have, which
	// only AWS can tell, after the new value is written.
	pairs := make([]string, 10)
	for i := range pairs {
		pairs[i] = fmt.Sprintf("New%02d=y", i)
	}
	run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/crowded", "value": "new-value", "type": "String", "overwrite": true, "tags": strings.Join(pairs, ","),
	})
	assert.Equal(t, 1, run.code)
	res := run.result(t)
	assert.Contains(t, res.Message, "/soar/crowded now has version 2, but adding its tags failed")
	assert.Contains(t, res.Message, "TooManyTagsError")
	assert.EqualValues(t, 2, run.data(t)["Version"], "the data shows the version that was written")

	stored, err := readTestParameter(t, sb, "/soar/crowded")
	require.NoError(t, err)
	assert.Equal(t, "new-value", aws.ToString(stored.Value))
}

func TestAddParameterPatternMismatch(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/port", "value": "eighty", "type": "String", "allowed_pattern": "^[0-9]+$",
	})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, "the value does not match allowed_pattern of parameter /soar/port")
	_, err := readTestParameter(t, sb, "/soar/port")
	assert.Error(t, err, "nothing was written")
}

func TestAddParameterNewWithJSONTags(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/new", "value": "v1", "type": "StringList", "description": "made by a test",
		"tags": `{"Team": "soc", "CostCenter": 1234}`,
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assert.EqualValues(t, 1, run.data(t)["Version"])

	tags, err := ssm.NewFromConfig(sb.Config()).ListTagsForResource(context.Background(), &ssm.ListTagsForResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String("/soar/new"),
	})
	require.NoError(t, err)
	assert.Len(t, tags.TagList, 2)
	// A new parameter takes its tags in PutParameter itself.
	assert.Equal(t, 0, sb.Server.Faults().Calls("AddTagsToResource"))
}

func TestAddParameterInvalidTagsWriteNothing(t *testing.T) {
	sb := sandboxtest.Start(t)
	putTestParameter(t, sb, "/soar/kept", "old-value", ssmtypes.ParameterTypeString)
	putsBefore := sb.Server.Faults().Calls("PutParameter")

	for _, tags := range []string{"Team", `{"Team": ["soc"]}`, "Key=Team,Value=soc", "aws:owner=me", "{not json"} {
		t.Run(tags, func(t *testing.T) {
			run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
				"name": "/soar/kept", "value": "new-value", "type": "String", "overwrite": true, "tags": tags,
			})
			assert.Equal(t, 1, run.code)
			assert.Contains(t, run.result(t).Message, `invalid parameter "tags"`)
		})
	}
	assert.Equal(t, putsBefore, sb.Server.Faults().Calls("PutParameter"), "invalid tags must stop the action before any write")
	stored, err := readTestParameter(t, sb, "/soar/kept")
	require.NoError(t, err)
	assert.Equal(t, "old-value", aws.ToString(stored.Value))
}

func TestAddParameterKeyIDNeedsSecureString(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/plain", "value": "v", "type": "String", "key_id": "alias/soar",
	})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, `invalid parameter "key_id"`)
	assert.Equal(t, 0, sb.Server.Faults().Calls("PutParameter"))
}

func TestAddParameterSecureStringNeverShown(t *testing.T) {
	sb := sandboxtest.Start(t)
	secret := randomSecret("db-password")

	run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/db-password", "value": secret, "type": "SecureString", "key_id": "alias/soar",
	})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	assertNotShown(t, run, secret)
	assert.Equal(t, connector.Mask, run.result(t).Parameter["value"], "the parameter echo shows the mask")
	assert.Contains(t, run.stderr, "debug:", "the run was verbose")

	stored, err := readTestParameter(t, sb, "/soar/db-password")
	require.NoError(t, err)
	assert.Equal(t, secret, aws.ToString(stored.Value), "the real value was written")

	// A second add without overwrite fails; its message must not show the
	// value either, nor must the JSON log format.
	doc, err := json.Marshal(map[string]any{
		"identifier": "add_parameter",
		"config":     testAsset(sb),
		"parameters": []map[string]any{{"name": "/soar/db-password", "value": secret, "type": "SecureString"}},
	})
	require.NoError(t, err)
	again := runBinary(t, sb, doc, "--verbose", "--log-format", "json")
	assert.Equal(t, 1, again.code)
	assert.Contains(t, again.result(t).Message, "already exists")
	assertNotShown(t, again, secret)
}

func TestAddParameterTooLongValueRejectedBeforeSending(t *testing.T) {
	sb := sandboxtest.Start(t)
	// Over 8,192 characters, AWS would reject the value with a validation
	// error that quotes its start; the connector refuses it first.
	secret := randomSecret("long") + strings.Repeat("x", 9000)

	run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/too-long", "value": secret, "type": "SecureString",
	})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, fmt.Sprintf(`invalid parameter "value": it is %d characters, more than the maximum of 8192`, len(secret)))
	assert.Zero(t, sb.Server.Faults().Calls("PutParameter"))
	for _, part := range []string{secret[:32], secret[:16], secret[5:21]} {
		assert.NotContains(t, run.stdout, part)
		assert.NotContains(t, run.stderr, part)
	}
}

func TestAddParameterStandardTierLimitExplained(t *testing.T) {
	sb := sandboxtest.Start(t)
	// An account whose default tier is Standard rejects 5,000 characters.
	sb.Server.Faults().Fail("PutParameter", "ValidationException", 400, 1)

	run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/long", "value": strings.Repeat("v", 5000), "type": "String",
	})
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.result(t).Message, "the value is 5000 characters and 5000 bytes; Parameter Store limits a value to 4096 for a Standard tier parameter")

	// 4,000 characters of three bytes each pass the check before sending.
	// The sandbox counts bytes, so it rejects them with a message that
	// quotes the value. That message stays hidden, but the limits are shown.
	secret := strings.Repeat("€", 4000)
	run = runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
		"name": "/soar/euros", "value": secret, "type": "SecureString",
	})
	assert.Equal(t, 1, run.code)
	msg := run.result(t).Message
	assert.Contains(t, msg, "the value is 4000 characters and 12000 bytes")
	assert.Contains(t, msg, "its message is left out")
	assert.NotContains(t, run.stdout, "€€€")
	assert.NotContains(t, run.stderr, "€€€")
}

func TestGetParameterSecureStringMasked(t *testing.T) {
	sb := sandboxtest.Start(t)
	secret := randomSecret("api-token")
	putTestParameter(t, sb, "/soar/api-token", secret, ssmtypes.ParameterTypeSecureString)
	encrypted, err := ssm.NewFromConfig(sb.Config()).GetParameter(context.Background(), &ssm.GetParameterInput{
		Name: aws.String("/soar/api-token"), WithDecryption: aws.Bool(false),
	})
	require.NoError(t, err)
	cipherText := aws.ToString(encrypted.Parameter.Value)
	require.NotEmpty(t, cipherText)

	run := runAction(t, sb, "get_parameter", testAsset(sb), map[string]any{"name": "/soar/api-token"})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	data := run.data(t)
	assert.Equal(t, connector.Mask, lookupString(data, "Parameter.Value"))
	assert.Equal(t, "SecureString", lookupString(data, "Parameter.Type"))
	assert.NotContains(t, run.stdout, cipherText, "the cipher text must not pass for the value")
	assertNotShown(t, run, secret)
	status, _ := run.result(t).Summary.Get("status")
	assert.Contains(t, status, "set with_decryption to true")
	assert.Contains(t, run.stderr, "with_decryption")

	clear := runAction(t, sb, "get_parameter", testAsset(sb), map[string]any{"name": "/soar/api-token", "with_decryption": true})
	require.Equal(t, 0, clear.code, "stdout: %s\nstderr: %s", clear.stdout, clear.stderr)
	assert.Equal(t, secret, lookupString(clear.data(t), "Parameter.Value"))
}

func TestGetParameterStringShowsFields(t *testing.T) {
	sb := sandboxtest.Start(t)
	putTestParameter(t, sb, "/soar/api-url", "https://soar.example/api", ssmtypes.ParameterTypeString)

	run := runAction(t, sb, "get_parameter", testAsset(sb), map[string]any{"name": "/soar/api-url"})
	require.Equal(t, 0, run.code, "stdout: %s\nstderr: %s", run.stdout, run.stderr)
	data := run.data(t)
	assert.Equal(t, "https://soar.example/api", lookupString(data, "Parameter.Value"))
	assert.Equal(t, "/soar/api-url", lookupString(data, "Parameter.Name"))
	assert.Equal(t, "arn:aws:ssm:us-east-1:"+sandbox.DefaultAccountID+":parameter/soar/api-url", lookupString(data, "Parameter.ARN"))
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`, lookupString(data, "Parameter.LastModifiedDate"))
	assert.NotEmpty(t, lookupString(data, "ResponseMetadata.RequestId"))

	summary := run.result(t).Summary
	kind, _ := summary.Get("type")
	version, _ := summary.Get("version")
	assert.Equal(t, "String", kind)
	assert.EqualValues(t, 1, version)
}

func TestGetParameterMissingFailsClearly(t *testing.T) {
	sb := sandboxtest.Start(t)

	run := runAction(t, sb, "get_parameter", testAsset(sb), map[string]any{"name": "/soar/nothing-here"})
	assert.Equal(t, 1, run.code)
	res := run.result(t)
	assert.Equal(t, connector.StatusFailed, res.Status)
	assert.Contains(t, res.Message, "parameter /soar/nothing-here not found in us-east-1")
	assert.Empty(t, res.Data)
}

// lookupValue is lookup without the found flag, for assertions.
func lookupValue(m map[string]any, path string) any {
	v, _ := lookup(m, path)
	return v
}

func TestAddParameterSecureStringMaskedWhenInvalid(t *testing.T) {
	sb := sandboxtest.Start(t)
	for _, secret := range []string{randomSecret("invalid-set"), "pw"} {
		// overwrite "yes" fails validation, so the action never starts; the
		// echo must still hide the value, however short.
		run := runAction(t, sb, "add_parameter", testAsset(sb), map[string]any{
			"name": "/soar/invalid", "value": secret, "type": "securestring", "overwrite": "yes",
		})
		assert.Equal(t, 1, run.code)
		assert.Contains(t, run.result(t).Message, `invalid parameter "overwrite"`)
		assert.Equal(t, connector.Mask, run.result(t).Parameter["value"])
		if len(secret) >= 4 {
			assertNotShown(t, run, secret)
		}
	}
	assert.Zero(t, sb.Server.Faults().Calls("PutParameter"))
}
