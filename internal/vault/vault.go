// Package vault is the content-addressed file store for files that actions
// produce. A file's vault id is the hex SHA-1 of its content, as on SOAR
// platforms, and its path is <dir>/<vault id>/<file name>.
//
// A file is written to a temporary file, .incoming- and decimal digits, in
// the vault directory itself, and renamed into place on Commit. A process
// killed while writing (SIGKILL, a crash, a power loss) leaves that file
// behind. The first Check or Create on a Vault removes such files in the
// vault directory whose modification time is more than an hour old. It
// skips the vault id directories, symbolic links and every other name. A
// writer moves its file's modification time forward at least every 15
// minutes while it receives data, so an hour-old file belongs to a dead
// process, or to a writer that received nothing for an hour. Such a writer
// fails at Commit and stores nothing.
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
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// incomingPrefix starts the names of files still being written.
// os.CreateTemp replaces the "*" of incomingPattern with decimal digits.
const (
	incomingPrefix  = ".incoming-"
	incomingPattern = incomingPrefix + "*"
)

// staleAge is the age of its modification time after which a file still
// being written is taken as left behind by a dead process.
const staleAge = time.Hour

// touchInterval is how often a writer receiving data moves its file's
// modification time forward, well within staleAge.
const touchInterval = staleAge / 4

// Vault is a vault directory.
type Vault struct {
	dir       string
	cleanOnce sync.Once
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

	// touched is when the file's modification time was last set.
	touched time.Time
}

// Check makes sure files can be written to the vault, so an action can
// fail before it changes anything on an instance rather than after.
func (v *Vault) Check() error {
	if err := os.MkdirAll(v.dir, 0o750); err != nil {
		return fmt.Errorf("vault %s is not usable: %w; set --vault-dir or AWSSSM_VAULT_DIR to a writable directory", v.dir, err)
	}
	v.cleanOnce.Do(v.removeStale)
	f, err := os.CreateTemp(v.dir, incomingPattern)
	if err != nil {
		return fmt.Errorf("vault %s is not writable: %w; set --vault-dir or AWSSSM_VAULT_DIR to a writable directory", v.dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// Create starts a file named name. The stored name is SafeFileName(name),
// so a name taken from an instance can never place a file outside the
// vault or show as other text than it is.
func (v *Vault) Create(name string) (*Writer, error) {
	if err := os.MkdirAll(v.dir, 0o750); err != nil {
		return nil, fmt.Errorf("create vault directory %s: %w", v.dir, err)
	}
	v.cleanOnce.Do(v.removeStale)
	f, err := os.CreateTemp(v.dir, incomingPattern)
	if err != nil {
		return nil, fmt.Errorf("create temporary file in vault %s: %w", v.dir, err)
	}
	return &Writer{
		vault: v, name: SafeFileName(name), file: f,
		buf:  bufio.NewWriterSize(f, writeBufferSize),
		sha1: sha1.New(), sha2: sha256.New(),
		touched: time.Now(),
	}, nil
}

// writeBufferSize batches small writes, such as the lines that a base64
// decoder yields, into few system calls.
const writeBufferSize = 256 << 10

// removeStale deletes the regular files in the vault directory that are
// named as temporary files and were last modified more than staleAge ago.
// Failures are ignored, because the files take space but do no harm.
func (v *Vault) removeStale() {
	entries, _ := os.ReadDir(v.dir)
	for _, entry := range entries {
		if !entry.Type().IsRegular() || !isIncomingName(entry.Name()) {
			continue
		}
		if info, err := entry.Info(); err == nil && time.Since(info.ModTime()) > staleAge {
			os.Remove(filepath.Join(v.dir, entry.Name()))
		}
	}
}

// isIncomingName reports whether name is one that os.CreateTemp makes from
// incomingPattern.
func isIncomingName(name string) bool {
	digits, ok := strings.CutPrefix(name, incomingPrefix)
	if !ok || digits == "" {
		return false
	}
	return strings.Trim(digits, "0123456789") == ""
}

// Write appends p to the file.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	w.sha1.Write(p[:n])
	w.sha2.Write(p[:n])
	w.size += int64(n)

	// On a slow link, data can sit in the buffer for a long time, so the
	// modification time is set here to keep other runs from taking the
	// file as stale.
	if now := time.Now(); now.Sub(w.touched) > touchInterval {
		os.Chtimes(w.file.Name(), time.Time{}, now)
		w.touched = now
	}
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
	// The mode is set first, so that a temporary file that another run
	// removed fails here and leaves no empty vault id directory.
	if err := os.Chmod(tmp, 0o640); err != nil {
		os.Remove(tmp)
		return Record{}, fmt.Errorf("set mode of vault file %s: %w", rec.Path, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		os.Remove(tmp)
		return Record{}, fmt.Errorf("create vault directory %s: %w", dir, err)
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
		return Record{}, fmt.Errorf("write vault file %s: %w", w.name, err)
	}
	return w.Commit()
}

// SafeFileName returns the name under which the vault stores a file named
// name: the last element of a Linux or Windows path, with "_" in place of
// characters that would hide or disguise its text, and "file" when nothing
// usable is left. Other Unicode (accents, CJK, emoji) is kept.
//
// Replaced are ":" (a Windows stream separator), control characters (Cc),
// the line and paragraph separators, and format characters (Cf). Cf contains
// the bidirectional controls such as U+202E, which would show
// "evil\u202Etxt.exe" as "evilexe.txt", and the invisible tag characters.
// The joiners U+200C and U+200D stay between two visible characters, where
// Persian and Indic words and emoji sequences need them. A name starting
// with "-" gets a "_" before it, so that a shell command does not read it
// as an option.
func SafeFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(replaceHidingRunes(name))
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	if strings.HasPrefix(name, "-") {
		name = "_" + name
	}

	// A cut can leave a joiner or a space at the end, with nothing to join.
	name = truncateUTF8(name, maxFileNameBytes)
	return strings.TrimRightFunc(name, func(r rune) bool { return unicode.IsSpace(r) || isJoiner(r) })
}

// replaceHidingRunes replaces with "_" the characters of name that
// SafeFileName does not keep. Invalid UTF-8 becomes U+FFFD.
func replaceHidingRunes(name string) string {
	runes := []rune(name)
	out := make([]rune, len(runes))
	for i, r := range runes {
		out[i] = r
		switch {
		case r == ':', unicode.IsControl(r), r == '\u2028', r == '\u2029':
			out[i] = '_'
		case isJoiner(r):
			if i == 0 || i == len(runes)-1 || !isVisible(runes[i-1]) || !isVisible(runes[i+1]) {
				out[i] = '_'
			}
		case unicode.Is(unicode.Cf, r):
			out[i] = '_'
		}
	}
	return string(out)
}

// isJoiner reports whether r is ZERO WIDTH NON-JOINER or ZERO WIDTH JOINER.
func isJoiner(r rune) bool { return r == '\u200C' || r == '\u200D' }

// isVisible reports whether r is a letter, mark, number or symbol: a
// character that a joiner may follow or precede.
func isVisible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.S)
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
