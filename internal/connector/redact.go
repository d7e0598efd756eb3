package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Mask replaces every secret in the output and the logs.
const Mask = "********"

// minSecretLength is the shortest secret that gets masked. Masking shorter
// strings would garble ordinary text, and so short a value protects nothing.
const minSecretLength = 4

// Redactor masks known secrets in strings. It is safe for concurrent use,
// because handlers register secrets (such as decrypted SecureString values)
// while progress lines are being written.
type Redactor struct {
	mu       sync.RWMutex
	secrets  []string // sorted by length, longest first, so that a secret inside another one is masked whole
	replacer *strings.Replacer
	escaped  *strings.Replacer // for secrets as they appear inside JSON strings
	needles  [][]byte          // each secret, raw and JSON-escaped, for a quick search
}

// Add registers secrets to mask from now on.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, s := range secrets {
		if len(s) < minSecretLength || contains(r.secrets, s) {
			continue
		}
		r.secrets = append(r.secrets, s)
		changed = true
	}
	if !changed {
		return
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	var plain, escaped []string
	r.needles = nil
	for _, s := range r.secrets {
		plain = append(plain, s, Mask)
		r.needles = append(r.needles, []byte(s))
		if e := jsonEscape(s); e != s {
			escaped = append(escaped, e, Mask)
			r.needles = append(r.needles, []byte(e))
		}
	}
	r.replacer = strings.NewReplacer(plain...)
	r.escaped = strings.NewReplacer(append(escaped, plain...)...)
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.replacer == nil {
		return s
	}
	return r.replacer.Replace(s)
}

// logText masks secrets in a log line, both as they are and as a JSON
// encoder escapes them.
func (r *Redactor) logText(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.escaped == nil {
		return s
	}
	return r.escaped.Replace(s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsonEscape(s string) string {
	b, err := marshalNoEscape(s)
	if err != nil {
		return s
	}
	return string(b[1 : len(b)-1])
}

// JSON returns a JSON document with every secret masked inside its string
// values and object keys. It copies the document as it is and touches only
// the string literals that may contain a secret: it never masks inside a
// number, never changes the order, and the result stays valid JSON. The
// quick search looks for each secret as this package's encoder writes it,
// so doc must come from that encoder (marshalNoEscape), not from one that
// escapes more characters, such as \u0041 for A.
func (r *Redactor) JSON(doc []byte) ([]byte, error) {
	if !json.Valid(doc) {
		return nil, errors.New("redact output: the document is not valid JSON")
	}
	r.mu.RLock()
	needles := r.needles
	r.mu.RUnlock()
	if len(needles) == 0 {
		return doc, nil
	}

	var out bytes.Buffer
	out.Grow(len(doc))
	for i := 0; i < len(doc); {
		quote := bytes.IndexByte(doc[i:], '"')
		if quote < 0 {
			out.Write(doc[i:])
			break
		}
		out.Write(doc[i : i+quote])
		start := i + quote
		end := stringLiteralEnd(doc, start)
		literal := doc[start:end]
		if containsAny(literal, needles) {
			masked, err := r.maskLiteral(literal)
			if err != nil {
				return nil, err
			}
			out.Write(masked)
		} else {
			out.Write(literal)
		}
		i = end
	}
	return out.Bytes(), nil
}

// stringLiteralEnd returns the index just past the closing quote of the
// JSON string literal that starts at doc[start]. doc must be valid JSON.
func stringLiteralEnd(doc []byte, start int) int {
	for k := start + 1; k < len(doc); k++ {
		switch doc[k] {
		case '\\':
			k++ // skip the escaped byte
		case '"':
			return k + 1
		}
	}
	return len(doc)
}

func containsAny(literal []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(literal, n) {
			return true
		}
	}
	return false
}

// maskLiteral decodes one JSON string literal, masks it and encodes it again.
func (r *Redactor) maskLiteral(literal []byte) ([]byte, error) {
	var s string
	if err := json.Unmarshal(literal, &s); err != nil {
		return nil, fmt.Errorf("redact output: %w", err)
	}
	return marshalNoEscape(r.String(s))
}

// Writer returns a writer that masks secrets in each write before passing it
// to w. Log handlers write one whole line a call, so a secret is never split
// across two writes.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return &redactingWriter{r: r, w: w}
}

type redactingWriter struct {
	mu sync.Mutex
	r  *Redactor
	w  io.Writer
}

func (rw *redactingWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if _, err := io.WriteString(rw.w, rw.r.logText(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
