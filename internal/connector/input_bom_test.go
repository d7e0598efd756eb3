package connector

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRunDocumentSkipsBOM(t *testing.T) {
	in, err := parseRunDocument([]byte(utf8BOM + `{"identifier": "test_connectivity", "config": {"region": "us-east-1"}}`))
	require.NoError(t, err)
	assert.Equal(t, "test_connectivity", in.ActionName)
	assert.Equal(t, "us-east-1", in.Config["region"])
}

func TestParseParameterSetsSkipsBOM(t *testing.T) {
	sets, err := parseParameterSets([]byte(utf8BOM + `[{"a": "1"}, {"a": "2"}]`))
	require.NoError(t, err)
	assert.Len(t, sets, 2, "a list after a BOM is still read as a list")

	sets, err = parseParameterSets([]byte(utf8BOM + "\r\n"))
	require.NoError(t, err)
	assert.Equal(t, []map[string]any{{}}, sets, "a BOM alone is empty input")
}

func TestReadConfigFileSkipsBOM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "asset.json")
	require.NoError(t, os.WriteFile(path, []byte(utf8BOM+`{"region": "eu-west-3"}`), 0o600))
	config, err := readConfigFile(path)
	require.NoError(t, err)
	assert.Equal(t, "eu-west-3", config["region"])
}

func TestParseRunDocumentBOMOnlyAtStart(t *testing.T) {
	// Only a leading BOM is skipped. One inside the document is still an
	// error, with its position.
	_, err := parseRunDocument([]byte(`{"identifier": "x",` + utf8BOM + `"config": {}}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 1, column 20")
}

func TestParseRunDocumentRejectsUTF16(t *testing.T) {
	for name, prefix := range map[string]string{"little-endian": "\xFF\xFE", "big-endian": "\xFE\xFF"} {
		_, err := parseRunDocument([]byte(prefix + "{\x00}\x00"))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "UTF-16", name)
		assert.Contains(t, err.Error(), "UTF-8", name)
	}
}
