package pyliteral

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// atStringPrefix reports whether a string prefix (r, b, u, f, or two of
// them) and a quote start at p.pos.
func (p *parser) atStringPrefix() bool {
	for n := 1; n <= 2 && p.pos+n < len(p.src); n++ {
		if !isPrefixLetter(p.src[p.pos+n-1]) {
			return false
		}
		if q := p.src[p.pos+n]; q == '\'' || q == '"' {
			return true
		}
	}
	return false
}

func isPrefixLetter(c byte) bool {
	return strings.IndexByte("rRbBuUfF", c) >= 0
}

// parseStrings parses one string literal and any literals adjacent to it,
// which Python concatenates: 'ab' "cd" is "abcd".
func (p *parser) parseStrings() (any, error) {
	start := p.pos
	var out strings.Builder
	isBytes := false
	for n := 0; ; n++ {
		litStart := p.pos
		s, b, err := p.parseString()
		if err != nil {
			return nil, err
		}
		if n > 0 && b != isBytes {
			return nil, p.errorf(litStart, "a bytes literal and a str literal cannot be concatenated")
		}
		isBytes = b
		out.WriteString(s)

		// Look past whitespace for another literal; the whitespace belongs to
		// the enclosing value when there is none.
		end := p.pos
		p.skipSpace()
		if p.pos < len(p.src) && (p.src[p.pos] == '\'' || p.src[p.pos] == '"' || p.atStringPrefix()) {
			continue
		}
		p.pos = end
		if out.Len() > MaxInputSize {
			return nil, p.errorf(start, "string longer than the input size limit")
		}
		return out.String(), nil
	}
}

// parseString parses one string literal with its prefix and returns its
// value and whether it is a bytes literal.
func (p *parser) parseString() (value string, isBytes bool, err error) {
	start := p.pos
	raw := false
	for p.pos < len(p.src) && isPrefixLetter(p.src[p.pos]) {
		switch p.src[p.pos] {
		case 'r', 'R':
			raw = true
		case 'b', 'B':
			isBytes = true
		case 'f', 'F':
			return "", false, p.errorf(start, "f-strings are evaluated by Python, so they are not literals")
		}
		p.pos++
	}

	quote := p.src[p.pos]
	triple := strings.HasPrefix(p.src[p.pos:], strings.Repeat(string(quote), 3))
	if triple {
		p.pos += 3
	} else {
		p.pos++
	}

	var out strings.Builder
	for {
		if p.pos >= len(p.src) {
			return "", false, p.errorf(start, "the string that starts here is not terminated")
		}
		c := p.src[p.pos]

		switch {
		case c == quote && !triple:
			p.pos++
			return out.String(), isBytes, nil
		case c == quote && strings.HasPrefix(p.src[p.pos:], strings.Repeat(string(quote), 3)):
			p.pos += 3
			return out.String(), isBytes, nil
		case (c == '\n' || c == '\r') && !triple:
			return "", false, p.errorf(start, "the string that starts here is not terminated before the end of the line")
		case c == '\\' && raw:
			// In a raw string a backslash stays, and keeps the next character,
			// even a quote, from ending the string.
			out.WriteByte(c)
			p.pos++
			if p.pos < len(p.src) {
				out.WriteByte(p.src[p.pos])
				p.pos++
			}
		case c == '\\':
			if err := p.parseEscape(&out, isBytes); err != nil {
				return "", false, err
			}
		default:
			out.WriteByte(c)
			p.pos++
		}
	}
}

// parseEscape parses the escape sequence at p.pos, a backslash, and appends
// its value to out. Unknown escapes are kept as they are, backslash included,
// as Python keeps them.
func (p *parser) parseEscape(out *strings.Builder, isBytes bool) error {
	start := p.pos
	p.pos++ // '\'
	if p.pos >= len(p.src) {
		return p.errorf(start, "the string ends inside an escape sequence")
	}
	c := p.src[p.pos]
	p.pos++

	switch c {
	case '\n':
		// A backslash before a newline continues the line inside the string.
	case '\r':
		if p.peek() == '\n' {
			p.pos++
		}
	case '\\', '\'', '"':
		out.WriteByte(c)
	case '/':
		if p.json {
			out.WriteByte('/')
		} else {
			out.WriteString(`\/`)
		}
	case 'a':
		out.WriteByte('\a')
	case 'b':
		out.WriteByte('\b')
	case 'f':
		out.WriteByte('\f')
	case 'n':
		out.WriteByte('\n')
	case 'r':
		out.WriteByte('\r')
	case 't':
		out.WriteByte('\t')
	case 'v':
		out.WriteByte('\v')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		// Up to three octal digits.
		digits := 1
		for digits < 3 && p.pos < len(p.src) && '0' <= p.src[p.pos] && p.src[p.pos] <= '7' {
			p.pos++
			digits++
		}
		n, _ := strconv.ParseUint(p.src[p.pos-digits:p.pos], 8, 32)
		if isBytes {
			if n > 0xFF {
				return p.errorf(start, "octal escape above \\377 in a bytes literal")
			}
			out.WriteByte(byte(n))
		} else {
			out.WriteRune(rune(n))
		}
	case 'x':
		n, err := p.readHex(start, 2)
		if err != nil {
			return err
		}
		if isBytes {
			out.WriteByte(byte(n))
		} else {
			out.WriteRune(rune(n))
		}
	case 'u', 'U':
		if isBytes {
			// \u and \U are not escapes in a bytes literal.
			out.WriteByte('\\')
			out.WriteByte(c)
			return nil
		}
		width := 4
		if c == 'U' {
			width = 8
		}
		n, err := p.readHex(start, width)
		if err != nil {
			return err
		}
		out.WriteRune(p.combineSurrogates(rune(n)))
	case 'N':
		if isBytes {
			out.WriteString(`\N`)
			return nil
		}
		return p.errorf(start, "\\N{...} escapes are not supported; use \\u or \\U with the code point")
	default:
		out.WriteByte('\\')
		out.WriteByte(c)
	}
	return nil
}

// readHex reads width hexadecimal digits at p.pos. start is the offset of the
// escape sequence, for errors.
func (p *parser) readHex(start, width int) (uint64, error) {
	if p.pos+width > len(p.src) {
		return 0, p.errorf(start, "escape sequence needs %d hexadecimal digits", width)
	}
	digits := p.src[p.pos : p.pos+width]
	n, err := strconv.ParseUint(digits, 16, 32)
	if err != nil || strings.ContainsAny(digits, "+-_") {
		return 0, p.errorf(start, "escape sequence needs %d hexadecimal digits", width)
	}
	if n > utf8.MaxRune {
		return 0, p.errorf(start, "escape sequence is above the largest Unicode code point")
	}
	p.pos += width
	return n, nil
}

// combineSurrogates returns the code point of a UTF-16 surrogate pair when r
// is a high surrogate and a \u escape of a low surrogate follows it, as JSON
// writes characters outside the Basic Multilingual Plane. A lone surrogate
// cannot be encoded in UTF-8, so it becomes U+FFFD, as in encoding/json.
func (p *parser) combineSurrogates(r rune) rune {
	if r < 0xD800 || r > 0xDFFF {
		return r
	}
	if r <= 0xDBFF && strings.HasPrefix(p.src[p.pos:], `\u`) && p.pos+6 <= len(p.src) {
		low, err := strconv.ParseUint(p.src[p.pos+2:p.pos+6], 16, 32)
		if err == nil && !strings.ContainsAny(p.src[p.pos+2:p.pos+6], "+-_") && 0xDC00 <= low && low <= 0xDFFF {
			p.pos += 6
			return 0x10000 + (r-0xD800)<<10 + (rune(low) - 0xDC00)
		}
	}
	return utf8.RuneError
}
