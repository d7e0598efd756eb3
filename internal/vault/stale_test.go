package vault

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setModTime moves a file's modification time back by age.
func setModTime(t *testing.T, path string, age time.Duration) {
	t.Helper()
	old := time.Now().Add(-age)
	require.NoError(t, os.Chtimes(path, old, old))
}

// killedWriter leaves in dir the temporary file of a writer whose process
// died before Commit or Abort, and returns its path.
func killedWriter(t *testing.T, dir string) string {
	t.Helper()
	w, err := New(dir).Create("partial.bin")
	require.NoError(t, err)
	_, err = w.Write([]byte("half a file"))
	require.NoError(t, err)
	require.NoError(t, w.buf.Flush())
	require.NoError(t, w.file.Close())
	return w.file.Name()
}

func TestCheckRemovesKilledWritersFile(t *testing.T) {
	// Glob characters in the path must not keep the cleanup from matching.
	dir := filepath.Join(t.TempDir(), "vault [1]*")
	stale := killedWriter(t, dir)
	fresh := killedWriter(t, dir)
	setModTime(t, stale, staleAge+time.Minute)
	setModTime(t, fresh, staleAge-10*time.Minute)

	require.NoError(t, New(dir).Check())

	assert.NoFileExists(t, stale, "a file left an hour ago by a killed run is removed")
	assert.FileExists(t, fresh, "a file another run may still be writing stays")
}

func TestStaleCleanupTouchesOnlyTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "target")
	require.NoError(t, os.WriteFile(outside, []byte("not the vault's"), 0o600))

	stale := filepath.Join(dir, ".incoming-555")
	untouched := []string{
		filepath.Join(dir, ".incoming-notes"),
		filepath.Join(dir, ".incoming-"),
		filepath.Join(dir, "report.txt"),
		filepath.Join(dir, "0123456789abcdef0123456789abcdef01234567", ".incoming-444"),
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(untouched[3]), 0o750))
	for _, path := range append([]string{stale}, untouched...) {
		require.NoError(t, os.WriteFile(path, []byte("x"), 0o600))
		setModTime(t, path, 48*time.Hour)
	}
	dirNamed := filepath.Join(dir, ".incoming-222")
	require.NoError(t, os.Mkdir(dirNamed, 0o750))
	setModTime(t, dirNamed, 48*time.Hour)
	link := filepath.Join(dir, ".incoming-333")
	require.NoError(t, os.Symlink(outside, link))
	setModTime(t, outside, 48*time.Hour)

	w, err := New(dir).Create("x")
	require.NoError(t, err)
	w.Abort()

	assert.NoFileExists(t, stale)
	for _, path := range untouched {
		assert.FileExists(t, path, "only the vault's own temporary names in the vault directory are removed")
	}
	assert.DirExists(t, dirNamed)
	_, err = os.Lstat(link)
	assert.NoError(t, err, "a symbolic link is left alone")
	assert.FileExists(t, outside)
}

func TestWriteKeepsModTimeFresh(t *testing.T) {
	dir := t.TempDir()
	w, err := New(dir).Create("slow.bin")
	require.NoError(t, err)
	defer w.Abort()

	// Pretend the writer has received data slowly for more than staleAge
	// without its buffer reaching the file.
	setModTime(t, w.file.Name(), staleAge+time.Minute)
	w.touched = time.Now().Add(-touchInterval - time.Minute)
	_, err = w.Write([]byte("a few more bytes"))
	require.NoError(t, err)

	info, err := os.Stat(w.file.Name())
	require.NoError(t, err)
	assert.Less(t, time.Since(info.ModTime()), staleAge/2, "Write moves the modification time forward")

	require.NoError(t, New(dir).Check())
	rec, err := w.Commit()
	require.NoError(t, err, "another run's cleanup left the file alone")
	assert.Equal(t, int64(len("a few more bytes")), rec.Size)
}

func TestCommitFailsAfterTemporaryFileRemoved(t *testing.T) {
	dir := t.TempDir()
	w, err := New(dir).Create("removed.bin")
	require.NoError(t, err)
	_, err = w.Write([]byte("content"))
	require.NoError(t, err)
	require.NoError(t, os.Remove(w.file.Name()))

	_, err = w.Commit()
	require.Error(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a writer whose file was removed stores nothing")
}
