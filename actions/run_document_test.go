package actions

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocumentParametersConvertsValues(t *testing.T) {
	cases := []struct {
		name string
		text string
		want map[string][]string
	}{
		{"empty", "", map[string][]string{}},
		{"blank", "  \n", map[string][]string{}},
		{"empty object", "{}", map[string][]string{}},
		{"json list", `{"commands": ["echo hi", "id"]}`, map[string][]string{"commands": {"echo hi", "id"}}},
		{"json scalar", `{"message": "hi"}`, map[string][]string{"message": {"hi"}}},
		{"numbers", `{"repeat": 3, "ratio": 0.5, "list": [1, 2]}`, map[string][]string{"repeat": {"3"}, "ratio": {"0.5"}, "list": {"1", "2"}}},
		{"json booleans", `{"flag": true, "other": false}`, map[string][]string{"flag": {"true"}, "other": {"false"}}},
		{"python dict", `{'commands': ['echo hi'], 'executionTimeout': 60}`, map[string][]string{"commands": {"echo hi"}, "executionTimeout": {"60"}}},
		{"python booleans", `{'reboot': True, 'dryRun': False}`, map[string][]string{"reboot": {"true"}, "dryRun": {"false"}}},
		{"python none leaves parameter out", `{'message': 'hi', 'repeat': None}`, map[string][]string{"message": {"hi"}}},
		{"json null leaves parameter out", `{"message": "hi", "repeat": null}`, map[string][]string{"message": {"hi"}}},
		{"python tuple", `{'commands': ('a', 'b')}`, map[string][]string{"commands": {"a", "b"}}},
		{"hex number", `{'repeat': 0x10}`, map[string][]string{"repeat": {"16"}}},
		{"empty list", `{"commands": []}`, map[string][]string{"commands": {}}},
		{"quote inside", `{'commands': ["echo 'it''s'"]}`, map[string][]string{"commands": {"echo 'it''s'"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := documentParameters(c.text)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestDocumentParametersRejectsBadText(t *testing.T) {
	cases := []struct {
		name     string
		text     string
		contains []string
	}{
		{"syntax error", `{"commands": ["echo hi"`, []string{`invalid parameter "parameters"`, "JSON object or Python dict", "offset"}},
		{"list at top", `["echo hi"]`, []string{`invalid parameter "parameters"`, "got a list"}},
		{"string at top", `"echo hi"`, []string{`invalid parameter "parameters"`, "got a string"}},
		{"nested object", `{"config": {"a": 1}}`, []string{`invalid parameter "parameters"`, `document parameter "config"`, "an object", "JSON string"}},
		{"object in list", `{"maps": [{"a": 1}]}`, []string{`document parameter "maps"`, "an item of the list", "an object"}},
		{"list in list", `{"commands": [["a"]]}`, []string{`document parameter "commands"`, "a list"}},
		{"none in list", `{'commands': ['a', None]}`, []string{`document parameter "commands"`, "None"}},
		{"datetime", `{'when': datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=tzutc())}`, []string{`document parameter "when"`, "a datetime"}},
		{"python call", `{'commands': os.system('id')}`, []string{`invalid parameter "parameters"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := documentParameters(c.text)
			require.Error(t, err)
			for _, want := range c.contains {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestDocumentParametersHidesValues(t *testing.T) {
	_, err := documentParameters(`{'token': {'secret': 'hunter2-value'}}`)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2-value")

	_, err = documentParameters(`{'token': 'hunter2-value`)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2-value")
}

func TestHashTypeOfLength(t *testing.T) {
	sha256Hex := "2b8f11a4cb52f0a57e0b0e6f0f2a5a1c0c1f5c2e8f1b8f0d6ad5d3a4f2f0e1c9"
	sha1Hex := "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"

	got, err := hashTypeOf(sha256Hex)
	require.NoError(t, err)
	assert.Equal(t, types.DocumentHashTypeSha256, got)

	got, err = hashTypeOf(sha1Hex)
	require.NoError(t, err)
	assert.Equal(t, types.DocumentHashTypeSha1, got)

	for _, bad := range []string{"abc", sha1Hex + "00", sha256Hex[:63] + "g", "sha256:" + sha256Hex} {
		_, err := hashTypeOf(bad)
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), `invalid parameter "document_hash"`)
		}
	}
}

func TestSetWorkingDirectoryConflict(t *testing.T) {
	params := map[string][]string{"commands": {"pwd"}}
	require.NoError(t, setWorkingDirectory(params, "/tmp"))
	assert.Equal(t, []string{"/tmp"}, params["workingDirectory"])

	same := map[string][]string{"workingDirectory": {"/tmp"}}
	assert.NoError(t, setWorkingDirectory(same, "/tmp"))

	other := map[string][]string{"workingDirectory": {"/var"}}
	err := setWorkingDirectory(other, "/tmp")
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), `invalid parameter "working_directory"`)
	}
}
