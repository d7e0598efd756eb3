package vault

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSafeFileNameReplacesFormatCharacters(t *testing.T) {
	cases := map[string]string{
		"evil\u202Etxt.exe":     "evil_txt.exe",
		"a\u202Ab\u202Bc\u202C": "a_b_c_",
		"\u202Dleft":            "_left",
		"x\u2066y\u2067z\u2068": "x_y_z_",
		"pop\u2069.log":         "pop_.log",
		"lrm\u200E\u200F.txt":   "lrm__.txt",
		"arabic\u061Cmark":      "arabic_mark",
		"zero\u200Bwidth":       "zero_width",
		"bom\uFEFF.txt":         "bom_.txt",
		"soft\u00ADhyphen":      "soft_hyphen",
		"line\u2028para\u2029":  "line_para_",
		"nel\u0085.txt":         "nel_.txt",
		"del\u007F.txt":         "del_.txt",
		"tag\U000E0041.txt":     "tag_.txt",
		"\u200Dlead":            "_lead",
		"trail\u200C":           "trail_",
		"a \u200D b":            "a _ b",
		"a\u200D\u200Db":        "a__b",
	}
	for in, want := range cases {
		assert.Equal(t, want, SafeFileName(in), "SafeFileName(%q)", in)
	}
}

func TestSafeFileNameKeepsOtherUnicode(t *testing.T) {
	for _, name := range []string{
		"résumé.pdf",
		"日本語のファイル.txt",
		"Ünïcödé ñame.tar.gz",
		"😀.png",
		"👩\u200D💻.txt",       // woman technologist: a ZWJ sequence
		"🏳\uFE0F\u200D🌈.txt", // rainbow flag: ZWJ after a variation selector
		"🧑🏽\u200D🚀.txt",      // astronaut with a skin tone
		"می\u200Cخواهم.txt",  // Persian word with a zero width non-joiner
		"क्\u200Dष.txt",      // Devanagari conjunct with a zero width joiner
		"שלום.txt",           // Hebrew, right to left by itself
		"a-b_c.d",
	} {
		assert.Equal(t, name, SafeFileName(name), "SafeFileName(%q)", name)
	}
}

func TestSafeFileNameLeadingDash(t *testing.T) {
	cases := map[string]string{
		"-rf":                 "_-rf",
		"--help":              "_--help",
		"-":                   "_-",
		"/tmp/-n":             "_-n",
		`C:\Temp\-x.txt`:      "_-x.txt",
		" -e ":                "_-e",
		"\u202E-x":            "_-x",
		"not-leading-dash.sh": "not-leading-dash.sh",
	}
	for in, want := range cases {
		assert.Equal(t, want, SafeFileName(in), "SafeFileName(%q)", in)
	}
}

func TestSafeFileNameLongNamesStayValid(t *testing.T) {
	dashed := SafeFileName("-" + strings.Repeat("é", 150))
	assert.True(t, strings.HasPrefix(dashed, "_-"), "prefix of %q", dashed)
	assert.LessOrEqual(t, len(dashed), maxFileNameBytes)
	assert.True(t, utf8.ValidString(dashed), "%q is valid UTF-8", dashed)

	// A cut right after a joiner leaves no joiner at the end.
	joined := SafeFileName(strings.Repeat("a", maxFileNameBytes-3) + "\u200Db")
	assert.Equal(t, strings.Repeat("a", maxFileNameBytes-3), joined)
}

func TestAddStoresSafeFileName(t *testing.T) {
	dir := t.TempDir()
	rec, err := New(dir).Add("/home/user/evil\u202Etxt.exe", strings.NewReader("content"))
	require.NoError(t, err)

	assert.Equal(t, "evil_txt.exe", rec.FileName)
	assert.Equal(t, filepath.Join(dir, rec.VaultID, "evil_txt.exe"), rec.Path)
	entries, err := os.ReadDir(filepath.Join(dir, rec.VaultID))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "evil_txt.exe", entries[0].Name())

	rec, err = New(dir).Add("-rf", strings.NewReader("other content"))
	require.NoError(t, err)
	assert.Equal(t, "_-rf", rec.FileName)
	assert.FileExists(t, filepath.Join(dir, rec.VaultID, "_-rf"))
}
