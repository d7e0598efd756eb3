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
	secrets  []string // longest first, so that a secret inside another one is masked whole
	replacer *strings.Replacer
	escaped  *strings.Replacer // for secrets as they appear inside JSON strings
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
	for _, s := range r.secrets {
		plain = append(plain, s, Mask)
		if e := jsonEscape(s); e != s {
			escaped = append(escaped, e, Mask)
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

// JSON re-encodes a JSON document with every string value and object key
// masked. It works on tokens rather than bytes, so a secret can never match
// across a string's boundary or inside a number, and the output stays valid
// JSON in the input's order.
func (r *Redactor) JSON(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out bytes.Buffer

	// Each open container records whether it is an object and how many
	// tokens it has seen, to place commas and colons.
	type frame struct {
		object bool
		count  int
	}
	var stack []frame

	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("redact output: %w", err)
		}

		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out.WriteByte(byte(d))
			continue
		}
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			switch {
			case top.object && top.count%2 == 1:
				out.WriteByte(':')
			case top.count > 0:
				out.WriteByte(',')
			}
			top.count++
		}

		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			stack = append(stack, frame{object: v == '{'})
		case string:
			b, err := marshalNoEscape(r.String(v))
			if err != nil {
				return nil, err
			}
			out.Write(b)
		case json.Number:
			out.WriteString(v.String())
		case bool:
			if v {
				out.WriteString("true")
			} else {
				out.WriteString("false")
			}
		case nil:
			out.WriteString("null")
		}
	}
	return out.Bytes(), nil
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
