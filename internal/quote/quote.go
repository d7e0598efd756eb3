// Package quote turns arbitrary strings into single literal arguments for
// POSIX sh and for PowerShell, so that no path or argument, however strange,
// can run a second command on an instance.
package quote

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sh returns s as one sh word. Inside single quotes nothing is special, and
// each single quote in s is written as a closing quote, a backslash-escaped
// quote and an opening quote.
func Sh(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// powerShellQuotes are the characters that PowerShell treats as a single
// quote: the ASCII one and the typographic ones U+2018 to U+201B. Inside a
// single-quoted string, each is escaped by doubling it.
const powerShellQuotes = "'\u2018\u2019\u201a\u201b"

// PowerShell returns s as one PowerShell single-quoted string literal, in
// which nothing is expanded.
func PowerShell(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		b.WriteRune(r)
		if strings.ContainsRune(powerShellQuotes, r) {
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// CheckPath rejects what no file path on an instance needs and what could
// break a script around it: NUL bytes and line breaks (LF, CR, and the
// Unicode line separators U+0085, U+2028, U+2029).
func CheckPath(p string) error {
	if p == "" {
		return fmt.Errorf("the path is empty")
	}
	for i, r := range p {
		switch r {
		case 0:
			return fmt.Errorf("the path contains a NUL byte at byte %d", i)
		case '\n', '\r', '\u0085', '\u2028', '\u2029':
			return fmt.Errorf("the path contains a line break at byte %d", i)
		}
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("the path is not valid UTF-8")
	}
	return nil
}
