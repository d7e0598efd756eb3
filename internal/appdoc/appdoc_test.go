package appdoc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/awsssm/awsssm"
	"github.com/awsssm/awsssm/internal/connector"
)

func TestREADMEReferenceIsCurrent(t *testing.T) {
	m, err := connector.ParseManifest(awsssm.AppJSON)
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)

	want, err := Replace(readme, Render(m))
	require.NoError(t, err)
	if string(want) != string(readme) {
		t.Fatal("README.md's action reference differs from app.json; run `make docs` and commit README.md")
	}
}

func TestRenderListsEveryParameterAndPath(t *testing.T) {
	m := &connector.Manifest{Actions: []connector.ActionSpec{{
		Name: "get file", Identifier: "get_file", Type: "generic", Description: "Copy a file",
		Parameters: map[string]connector.Field{
			"file_path":     {DataType: "string", Required: true, Order: 1, Description: "Path | on the instance"},
			"platform_type": {DataType: "string", Order: 0, ValueList: []string{"Linux", "Windows"}},
			"max_bytes":     {DataType: "numeric", Order: 2, Default: float64(268435456)},
		},
		Output: []connector.OutputPath{{DataPath: "action_result.data.*.File.vault_id", DataType: "string"}},
	}}}
	doc := Render(m)

	assert.Contains(t, doc, "### get file")
	assert.Contains(t, doc, "| `file_path` | string | yes |  | Path \\| on the instance |")
	assert.Contains(t, doc, "One of: Linux, Windows")
	assert.Contains(t, doc, "| `max_bytes` | numeric | no | `268435456` |", "a whole default has no exponent")
	assert.Less(t, strings.Index(doc, "platform_type"), strings.Index(doc, "file_path"), "parameters follow their order")
	assert.Contains(t, doc, "- `action_result.data.*.File.vault_id` (string)")
}

func TestReplaceNeedsMarkers(t *testing.T) {
	_, err := Replace([]byte("# no markers\n"), "x")
	assert.Error(t, err)

	out, err := Replace([]byte("a\n"+BeginMarker+"\nold\n"+EndMarker+"\nb\n"), "new\n")
	require.NoError(t, err)
	assert.Equal(t, "a\n"+BeginMarker+"\n\nnew\n\n"+EndMarker+"\nb\n", string(out))
}
