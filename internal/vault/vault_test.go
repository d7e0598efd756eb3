package vault

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAddStoresByContentHash(t *testing.T) {
	dir := t.TempDir()
	v := New(dir)
	content := "evidence\x00\xff bytes"

	rec, err := v.Add("/var/log/auth.log", strings.NewReader(content))
	require.NoError(t, err)

	sum1 := sha1.Sum([]byte(content))
	sum256 := sha256.Sum256([]byte(content))
	assert.Equal(t, hex.EncodeToString(sum1[:]), rec.VaultID)
	assert.Equal(t, hex.EncodeToString(sum256[:]), rec.SHA256)
	assert.Equal(t, int64(len(content)), rec.Size)
	assert.Equal(t, "auth.log", rec.FileName)
	assert.Equal(t, filepath.Join(dir, rec.VaultID, "auth.log"), rec.Path)

	got, err := os.ReadFile(rec.Path)
	require.NoError(t, err)
	assert.Equal(t, content, string(got))
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	w, err := New(dir).Create("partial.bin")
	require.NoError(t, err)
	_, err = w.Write([]byte("half a file"))
	require.NoError(t, err)
	w.Abort()

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "an aborted file must leave no trace in the vault")
}

func TestSafeFileNameStaysInsideVault(t *testing.T) {
	cases := map[string]string{
		"../../etc/passwd":       "passwd",
		`C:\Windows\win.ini`:     "win.ini",
		"..":                     "file",
		"/":                      "file",
		"a\x01b":                 "a_b",
		"name:stream":            "name_stream",
		strings.Repeat("é", 300): strings.Repeat("é", 100),
	}
	for in, want := range cases {
		assert.Equal(t, want, SafeFileName(in), "SafeFileName(%q)", in)
	}
}

func TestCreateRemovesStaleIncomingFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".incoming-1234")
	fresh := filepath.Join(dir, ".incoming-5678")
	for _, p := range []string{stale, fresh} {
		require.NoError(t, os.WriteFile(p, []byte("partial"), 0o600))
	}
	old := time.Now().Add(-48 * time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))

	w, err := New(dir).Create("x")
	require.NoError(t, err)
	w.Abort()

	assert.NoFileExists(t, stale, "a file left behind by a killed run is removed")
	assert.FileExists(t, fresh, "a file another run may still be writing stays")
}
