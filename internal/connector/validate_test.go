package connector

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testFields = map[string]Field{
	"instance_id":  {DataType: TypeString, Required: true, Order: 0, Description: "ID of the managed instance"},
	"platform":     {DataType: TypeString, ValueList: []string{"Linux", "Windows"}, Order: 1},
	"timeout":      {DataType: TypeNumeric, Order: 2},
	"save":         {DataType: TypeBoolean, Default: false, Order: 3},
	"wait_seconds": {DataType: TypeNumeric, Default: json.Number("600"), Order: 4},
	"secret":       {DataType: TypePassword, Order: 5},
}

func validateParams(raw map[string]any) (map[string]any, error) {
	return validateFields(testFields, raw, validateOptions{subject: "parameter"})
}

func TestValidateConvertsTypesAndFillsDefaults(t *testing.T) {
	values, err := validateParams(map[string]any{
		"instance_id": "i-0123456789abcdef0",
		"platform":    "linux",
		"timeout":     "30",
		"save":        "TRUE",
	})
	require.NoError(t, err)

	assert.Equal(t, "i-0123456789abcdef0", values["instance_id"])
	assert.Equal(t, "Linux", values["platform"], "a value list match is case-insensitive and canonical")
	assert.Equal(t, int64(30), values["timeout"], "a numeric string becomes a number")
	assert.Equal(t, true, values["save"])
	assert.Equal(t, int64(600), values["wait_seconds"], "defaults are filled in")
	assert.NotContains(t, values, "secret", "an absent optional parameter stays absent")
}

func TestValidateMissingRequiredNamesParameter(t *testing.T) {
	_, err := validateParams(map[string]any{"instance_id": ""})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `missing required parameter "instance_id"`)
	assert.Contains(t, err.Error(), "ID of the managed instance", "the message says what was expected")
}

func TestValidateRejectsWrongValues(t *testing.T) {
	cases := map[string]struct {
		raw  map[string]any
		want string
	}{
		"unknown name":       {map[string]any{"instance_id": "i-1", "comand": "x"}, `unknown parameter "comand"`},
		"outside value list": {map[string]any{"instance_id": "i-1", "platform": "MacOS"}, `invalid parameter "platform": expected one of "Linux", "Windows", got "MacOS"`},
		"fraction":           {map[string]any{"instance_id": "i-1", "timeout": json.Number("1.5")}, `invalid parameter "timeout": expected a whole number, got 1.5`},
		"not a number":       {map[string]any{"instance_id": "i-1", "timeout": "soon"}, `expected a whole number, got "soon"`},
		"bad boolean":        {map[string]any{"instance_id": "i-1", "save": "yes"}, `invalid parameter "save": expected true or false, got "yes"`},
		"number for string":  {map[string]any{"instance_id": json.Number("12")}, `invalid parameter "instance_id": expected a string`},
		"list for boolean":   {map[string]any{"instance_id": "i-1", "save": []any{}}, "got an array"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := validateParams(c.raw)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestValidateNeverEchoesPasswordOfWrongType(t *testing.T) {
	_, err := validateParams(map[string]any{"instance_id": "i-1", "secret": json.Number("424242")})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "424242")
}

func TestValidateConfigIgnoresUnknownAndFreeValues(t *testing.T) {
	fields := map[string]Field{
		"region": {DataType: TypeString, Required: true, ValueList: []string{"EU (Paris)"}},
	}
	values, err := validateFields(fields, map[string]any{"region": "eu-west-3", "asset_name": "x"}, validateOptions{
		subject: "asset configuration field", ignoreUnknown: true, freeValues: map[string]bool{"region": true},
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"region": "eu-west-3"}, values)
}
