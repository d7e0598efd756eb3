// Package vault is the content-addressed file store for files that actions
// produce. A file's vault id is the hex SHA-1 of its content, as on SOAR
// platforms, and its path is <dir>/<vault id>/<file name>.
package vault

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// incomingPattern names files still being written. A process killed before
// Commit or Abort (SIGKILL, a crash) leaves one behind.
const incomingPattern = ".incoming-*"

// staleAge is the age after which a file still being written is taken as
// left behind: no single action runs that long.
const staleAge = 24 * time.Hour

// Vault is a vault directory.
type Vault struct {
	dir string
}

// New returns the vault in dir. The directory is created on first write.
func New(dir string) *Vault {
	return &Vault{dir: dir}
}

// Dir returns the vault directory.
func (v *Vault) Dir() string { return v.dir }

// Record describes a stored file.
type Record struct {
	VaultID  string `json:"vault_id"`
	FileName string `json:"file_name"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Path     string `json:"path"`
}

// Writer receives a file's content. Nothing is visible in the vault until
// Commit; Abort, or a failed Commit, leaves nothing behind.
type Writer struct {
	vault *Vault
	name  string
	file  *os.File
	buf   *bufio.Writer
	sha1  hash.Hash
	sha2  hash.Hash
	size  int64
	done  bool
}

// Check makes sure files can be written to the vault, so an action can
// fail before it changes anything on an instance rather than after.
func (v *Vault) Check() error {
	if err := os.MkdirAll(v.dir, 0o750); err != nil {
		return fmt.Errorf("vault %s is not usable: %w; set --vault-dir or AWSSSM_VAULT_DIR to a writable directory", v.dir, err)
	}
	f, err := os.CreateTemp(v.dir, incomingPattern)
	if err != nil {
		return fmt.Errorf("vault %s is not writable: %w; set --vault-dir or AWSSSM_VAULT_DIR to a writable directory", v.dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// Create starts a file named name. Only the base name is kept, cleaned of
// path separators and control characters, so a name taken from an instance
// can never place a file outside the vault.
func (v *Vault) Create(name string) (*Writer, error) {
	if err := os.MkdirAll(v.dir, 0o750); err != nil {
		return nil, fmt.Errorf("create vault directory %s: %w", v.dir, err)
	}
	v.removeStale()
	f, err := os.CreateTemp(v.dir, incomingPattern)
	if err != nil {
		return nil, fmt.Errorf("create temporary file in vault %s: %w", v.dir, err)
	}
	return &Writer{
		vault: v, name: SafeFileName(name), file: f,
		buf:  bufio.NewWriterSize(f, writeBufferSize),
		sha1: sha1.New(), sha2: sha256.New(),
	}, nil
}

// writeBufferSize batches small writes, such as the lines that a base64
// decoder yields, into few system calls.
const writeBufferSize = 256 << 10

// removeStale deletes files still being written that are older than
// staleAge, which a killed process left behind. Failures are ignored: the
// files take space but do no harm.
func (v *Vault) removeStale() {
	matches, _ := filepath.Glob(filepath.Join(v.dir, incomingPattern))
	for _, path := range matches {
		if info, err := os.Stat(path); err == nil && time.Since(info.ModTime()) > staleAge {
			os.Remove(path)
		}
	}
}

// Write appends p to the file.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	w.sha1.Write(p[:n])
	w.sha2.Write(p[:n])
	w.size += int64(n)
	return n, err
}

// Size returns the number of bytes written so far.
func (w *Writer) Size() int64 { return w.size }

// SHA256 returns the hex SHA-256 of what was written so far.
func (w *Writer) SHA256() string { return hex.EncodeToString(w.sha2.Sum(nil)) }

// Commit syncs the file and moves it to its place in the vault. When a file
// with the same content and name is already there, the new copy is dropped.
func (w *Writer) Commit() (Record, error) {
	if w.done {
		return Record{}, errors.New("vault file already committed or aborted")
	}
	w.done = true
	tmp := w.file.Name()
	if err := w.buf.Flush(); err != nil {
		w.file.Close()
		os.Remove(tmp)
		return Record{}, fmt.Errorf("write vault file %s: %w", w.name, err)
	}
	if err := w.file.Sync(); err != nil {
		w.file.Close()
		os.Remove(tmp)
		return Record{}, fmt.Errorf("write vault file %s: %w", w.name, err)
	}
	if err := w.file.Close(); err != nil {
		os.Remove(tmp)
		return Record{}, fmt.Errorf("write vault file %s: %w", w.name, err)
	}

	rec := Record{
		VaultID:  hex.EncodeToString(w.sha1.Sum(nil)),
		FileName: w.name,
		Size:     w.size,
		SHA256:   w.SHA256(),
	}
	dir := filepath.Join(w.vault.dir, rec.VaultID)
	rec.Path = filepath.Join(dir, rec.FileName)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		os.Remove(tmp)
		return Record{}, fmt.Errorf("create vault directory %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o640); err != nil {
		os.Remove(tmp)
		return Record{}, fmt.Errorf("set mode of vault file %s: %w", rec.Path, err)
	}
	if err := os.Rename(tmp, rec.Path); err != nil {
		os.Remove(tmp)
		return Record{}, fmt.Errorf("move file into vault as %s: %w", rec.Path, err)
	}
	return rec, nil
}

// Abort drops the file. It is safe to call after Commit, so callers can
// defer it.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.file.Close()
	os.Remove(w.file.Name())
}

// Add stores the content of r under name in one step.
func (v *Vault) Add(name string, r io.Reader) (Record, error) {
	w, err := v.Create(name)
	if err != nil {
		return Record{}, err
	}
	defer w.Abort()
	if _, err := io.Copy(w, r); err != nil {
		return Record{}, fmt.Errorf("write vault file %s: %w", name, err)
	}
	return w.Commit()
}

// SafeFileName returns the last element of a Linux or Windows path, with
// control characters replaced, and "file" when nothing usable is left.
func SafeFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == ':' {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	return truncateUTF8(name, maxFileNameBytes)
}

// maxFileNameBytes keeps names under the 255-byte limit of common Linux
// file systems.
const maxFileNameBytes = 200

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
