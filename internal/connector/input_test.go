package connector

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRunDocumentBothNames(t *testing.T) {
	in, err := parseRunDocument([]byte(`{
		"action": "execute program", "identifier": "execute_program",
		"container_id": 345, "config": {"region": "EU (Paris)"},
		"parameters": [{"command": "uname -a", "timeout_seconds": 30}],
		"environment_variables": {"HTTPS_PROXY": {"type": "string", "value": "http://proxy.example:3128"}, "NO_PROXY": "localhost"},
		"future_key": {"ignored": true}
	}`))
	require.NoError(t, err)

	assert.Equal(t, "execute_program", in.ActionName, "identifier wins over action")
	assert.Equal(t, "345", in.ContainerID)
	assert.Equal(t, "EU (Paris)", in.Config["region"])
	require.Len(t, in.ParameterSets, 1)
	assert.Equal(t, "uname -a", in.ParameterSets[0]["command"])
	assert.Equal(t, "http://proxy.example:3128", in.EnvironmentVariables["HTTPS_PROXY"])
	assert.Equal(t, "localhost", in.EnvironmentVariables["NO_PROXY"])
}

func TestParseRunDocumentErrors(t *testing.T) {
	cases := map[string]string{
		`{"action": "x",`:                   "the document ends early",
		"{\n  \"action\": 'x'\n}":           "line 2, column 13",
		``:                                  "the input is empty",
		`{"parameters": [{}]}`:              "no action",
		`{"action": "x"} {"action": "y"}`:   "unexpected data after the JSON document",
		`{"action": "x", "parameters": {}}`: "parameters must be a JSON array",
		`[1, 2]`:                            "must be a JSON object",
	}
	for input, want := range cases {
		_, err := parseRunDocument([]byte(input))
		require.Error(t, err, input)
		assert.Contains(t, err.Error(), want, input)
		assert.True(t, IsInputError(err), "%q must stop the run with exit status 2", input)
	}
}

func TestParseParameterSetsShapes(t *testing.T) {
	sets, err := parseParameterSets([]byte("  "))
	require.NoError(t, err)
	assert.Equal(t, []map[string]any{{}}, sets)

	sets, err = parseParameterSets([]byte(`[{"a": "1"}, {"a": "2"}]`))
	require.NoError(t, err)
	assert.Len(t, sets, 2)

	_, err = parseParameterSets([]byte(`"just a string"`))
	require.Error(t, err)
}

func TestParseArgsFlagsAnywhere(t *testing.T) {
	a, err := parseArgs([]string{"--config", "a.json", "execute program", "--param", "command=uname -a", "--param=instance_id=i-0123456789abcdef0", "--log-format=json", "-v"})
	require.NoError(t, err)
	assert.Equal(t, "execute program", a.action)
	assert.Equal(t, "a.json", a.config)
	assert.Equal(t, []string{"command=uname -a", "instance_id=i-0123456789abcdef0"}, a.params)
	assert.Equal(t, LogFormatJSON, a.logFormat)
	assert.True(t, a.verbose)

	_, err = parseArgs([]string{"execute", "program"})
	assert.ErrorContains(t, err, "quote a display name")
	_, err = parseArgs([]string{"--log-format", "xml"})
	assert.ErrorContains(t, err, "expected text or json")
	_, err = parseArgs([]string{"--config"})
	assert.ErrorContains(t, err, "needs a value")
	_, err = parseArgs([]string{"--colour"})
	assert.ErrorContains(t, err, "unknown flag --colour")
}

func TestSummaryMessageAndOrder(t *testing.T) {
	s := Summary{}
	s.Set("status", "Successfully executed program")
	s.Set("created_vault_id", "6f38")
	s.Set("status", "Successfully executed program")
	assert.Equal(t, "Status: Successfully executed program, Created vault id: 6f38", s.message())

	b, err := s.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `{"status":"Successfully executed program","created_vault_id":"6f38"}`, string(b))
}

func TestManifestFindsActionByEitherName(t *testing.T) {
	m := &Manifest{Actions: []ActionSpec{{Name: "execute program", Identifier: "execute_program"}}}
	for _, name := range []string{"execute_program", "execute program", "Execute Program", " EXECUTE_PROGRAM "} {
		a, ok := m.Action(name)
		require.True(t, ok, name)
		assert.Equal(t, "execute_program", a.Identifier)
	}
	_, ok := m.Action("execute")
	assert.False(t, ok)
}

func TestConflictingInputsWarn(t *testing.T) {
	in, err := parseRunDocument([]byte(`{"identifier": "execute_program", "action": "describe instance"}`))
	require.NoError(t, err)
	assert.Equal(t, "execute_program", in.ActionName)
	require.Len(t, in.Warnings, 1)
	assert.Contains(t, in.Warnings[0], "name different actions")

	in, err = parseRunDocument([]byte(`{"identifier": "execute_program", "action": "execute program"}`))
	require.NoError(t, err)
	assert.Empty(t, in.Warnings, "the two names of one action agree")

	sets := []map[string]any{{}}
	warnings, err := applyParamFlags(sets, []string{"instance_id=A", "instance_id=B"})
	require.NoError(t, err)
	assert.Equal(t, "B", sets[0]["instance_id"])
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0], "--param instance_id is given more than once")

	_, err = parseArgs([]string{"--vault-dir", " "})
	assert.ErrorContains(t, err, "--vault-dir needs a directory")
}
