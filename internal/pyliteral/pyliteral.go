// Package pyliteral parses the text of a Python literal, as SOAR platforms
// emit it when a playbook passes a Python dict through a string parameter,
// into JSON-compatible Go values. Nothing in the text is evaluated. The only
// calls accepted are the datetime, timedelta and timezone constructors that
// repr() of a boto3 response contains, and they are interpreted, not run.
//
// Plain JSON is accepted too. Parse returns these types:
//
//   - map[string]any for a dict or object (keys must be strings; the last of
//     duplicate keys wins, as in Python and encoding/json)
//   - []any for a list, a tuple or an array
//   - string for str and bytes literals (a bytes literal becomes the raw bytes,
//     which need not be valid UTF-8)
//   - json.Number for every number, as its exact decimal text: hexadecimal,
//     octal and binary integers are rewritten in decimal, underscores are
//     dropped, and ".5" and "5." become "0.5" and "5.0", so that the text is
//     always a valid JSON number
//   - bool for True and False (true and false too)
//   - nil for None (null too)
//   - time.Time, in UTC, for datetime.datetime(...) with a tzinfo of UTC or of
//     a fixed offset
//
// Errors never contain the text of a string literal or of a name, because the
// input may hold secrets. They give the byte offset instead.
package pyliteral

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on the input. Credentials and other parameters are a few kilobytes,
// so these limits leave ample room while bounding memory and recursion.
const (
	MaxInputSize = 1 << 20 // bytes
	MaxDepth     = 64      // nested dicts, lists, tuples and calls
)

// ErrTooLarge and ErrTooDeep are the causes of a SyntaxError for input that
// exceeds MaxInputSize or MaxDepth; test for them with errors.Is.
var (
	ErrTooLarge = errors.New("input larger than the size limit")
	ErrTooDeep  = errors.New("nesting deeper than the depth limit")
)

// SyntaxError is an error in the input text. Offset is a byte offset into it.
type SyntaxError struct {
	Offset int
	Msg    string
	Err    error // ErrTooLarge, ErrTooDeep or nil
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Parse parses text as one Python literal or JSON value, surrounded by
// optional whitespace. See the package documentation for the result types.
func Parse(text string) (any, error) {
	if len(text) > MaxInputSize {
		return nil, &SyntaxError{
			Offset: 0,
			Msg:    fmt.Sprintf("the input is %d bytes, more than the limit of %d", len(text), MaxInputSize),
			Err:    ErrTooLarge,
		}
	}

	// Valid JSON is read with JSON's escapes. The only escape whose meaning
	// differs is \/, which is "/" in JSON and a backslash and a slash in Python.
	p := &parser{src: text, json: json.Valid([]byte(text))}
	if strings.HasPrefix(text, "\uFEFF") {
		p.pos = len("\uFEFF")
	}

	p.skipSpace()
	if p.pos == len(p.src) {
		return nil, p.errorf(p.pos, "expected a value, found end of input")
	}
	start := p.pos
	v, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	if err := checkPublic(v, start); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.errorf(p.pos, "expected end of input after the value, found %s", p.describe(p.pos))
	}
	return v, nil
}

type parser struct {
	src   string
	pos   int
	depth int
	json  bool // the whole input is valid JSON
}

func (p *parser) errorf(offset int, format string, args ...any) error {
	return &SyntaxError{Offset: offset, Msg: fmt.Sprintf(format, args...)}
}

// describe names what is at offset without quoting its text, because the
// text may be part of a secret.
func (p *parser) describe(offset int) string {
	if offset >= len(p.src) {
		return "end of input"
	}
	c := p.src[offset]
	switch {
	case strings.IndexByte("{}[](),:=.+-*", c) >= 0:
		return fmt.Sprintf("'%c'", c)
	case c == '\'' || c == '"':
		return "a string"
	case isDigit(c):
		return "a number"
	case isNameStart(c):
		return "a name"
	case c >= utf8.RuneSelf:
		return "a non-ASCII character"
	default:
		return fmt.Sprintf("the character %#02x", c)
	}
}

func (p *parser) enter(offset int) error {
	p.depth++
	if p.depth > MaxDepth {
		return &SyntaxError{
			Offset: offset,
			Msg:    fmt.Sprintf("more than %d nested dicts, lists, tuples or calls", MaxDepth),
			Err:    ErrTooDeep,
		}
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// skipSpace skips whitespace, including newlines and backslash line
// continuations, which may appear anywhere inside brackets in Python.
func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		case '\\':
			if strings.HasPrefix(p.src[p.pos:], "\\\n") {
				p.pos += 2
			} else if strings.HasPrefix(p.src[p.pos:], "\\\r\n") {
				p.pos += 3
			} else {
				return
			}
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// parseValue parses one value at p.pos, which is not whitespace. Inside the
// arguments of a call the value may be a timezone or a timedelta, and
// checkPublic rejects those everywhere else.
func (p *parser) parseValue() (any, error) {
	start := p.pos
	if start >= len(p.src) {
		return nil, p.errorf(start, "expected a value, found end of input")
	}
	c := p.src[start]
	switch {
	case c == '{':
		return p.parseDict()
	case c == '[':
		return p.parseList()
	case c == '(':
		return p.parseParenthesized()
	case c == '\'' || c == '"' || p.atStringPrefix():
		return p.parseStrings()
	case isDigit(c) || c == '.' || c == '-' || c == '+':
		return p.parseNumber()
	case isNameStart(c):
		return p.parseName()
	default:
		return nil, p.errorf(start, "expected a value, found %s", p.describe(start))
	}
}

func (p *parser) parseDict() (any, error) {
	open := p.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	p.pos++ // '{'

	m := map[string]any{}
	for {
		p.skipSpace()
		if p.peek() == '}' {
			p.pos++
			return m, nil
		}

		keyStart := p.pos
		k, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, p.errorf(keyStart, "dict keys must be strings")
		}

		p.skipSpace()
		switch p.peek() {
		case ':':
			p.pos++
		case ',', '}':
			return nil, p.errorf(p.pos, "set literals are not supported; expected ':' after the dict key")
		default:
			return nil, p.errorf(p.pos, "expected ':' after the dict key, found %s", p.describe(p.pos))
		}

		p.skipSpace()
		valueStart := p.pos
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		if err := checkPublic(v, valueStart); err != nil {
			return nil, err
		}
		m[key] = v

		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return m, nil
		default:
			return nil, p.errorf(p.pos, "expected ',' or '}' in the dict that starts at offset %d, found %s", open, p.describe(p.pos))
		}
	}
}

func (p *parser) parseList() (any, error) {
	open := p.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	p.pos++ // '['
	return p.parseSequence(open, ']', "list")
}

// parseSequence parses the elements of a list or tuple up to and including
// the closing bracket.
func (p *parser) parseSequence(open int, closing byte, kind string) ([]any, error) {
	items := []any{}
	for {
		p.skipSpace()
		if p.peek() == closing {
			p.pos++
			return items, nil
		}

		itemStart := p.pos
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		if err := checkPublic(v, itemStart); err != nil {
			return nil, err
		}
		items = append(items, v)

		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case closing:
			p.pos++
			return items, nil
		default:
			return nil, p.errorf(p.pos, "expected ',' or '%c' in the %s that starts at offset %d, found %s", closing, kind, open, p.describe(p.pos))
		}
	}
}

// parseParenthesized parses a tuple, or a value in parentheses, which Python
// reads as the value itself: (1,) is a tuple and (1) is the number 1.
func (p *parser) parseParenthesized() (any, error) {
	open := p.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	p.pos++ // '('

	p.skipSpace()
	if p.peek() == ')' {
		p.pos++
		return []any{}, nil
	}

	firstStart := p.pos
	first, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	if err := checkPublic(first, firstStart); err != nil {
		return nil, err
	}

	p.skipSpace()
	switch p.peek() {
	case ')':
		p.pos++
		return first, nil
	case ',':
		p.pos++
		rest, err := p.parseSequence(open, ')', "tuple")
		if err != nil {
			return nil, err
		}
		return append([]any{first}, rest...), nil
	default:
		return nil, p.errorf(p.pos, "expected ',' or ')' in the tuple that starts at offset %d, found %s", open, p.describe(p.pos))
	}
}

// parseName parses a constant (True, None, ...), a named value such as
// datetime.timezone.utc, or a call such as datetime.datetime(...).
func (p *parser) parseName() (any, error) {
	start := p.pos
	name := p.readDottedName()
	if name == "" {
		return nil, p.errorf(start, "expected a name, found %s", p.describe(start))
	}

	afterName := p.pos
	p.skipSpace()
	if p.peek() == '(' {
		return p.parseCall(name, start)
	}
	p.pos = afterName

	switch name {
	case "True", "true":
		return true, nil
	case "False", "false":
		return false, nil
	case "None", "null":
		return nil, nil
	}
	if tz, ok := utcNames[name]; ok {
		return tz, nil
	}
	if variableOffsetZones[name] {
		return nil, p.errorf(start, "%s depends on the machine that printed it, so the time it qualifies cannot be mapped to UTC exactly; give the time in UTC", name)
	}
	return nil, p.errorf(start, "unknown name; expected a string, a number, True, False, None, a dict, a list, a tuple or datetime.datetime(...)")
}

// readDottedName reads a name such as datetime.timezone.utc. It returns ""
// when no name starts at p.pos.
func (p *parser) readDottedName() string {
	start := p.pos
	for {
		if p.pos >= len(p.src) || !isNameStart(p.src[p.pos]) {
			p.pos = start
			return ""
		}
		for p.pos < len(p.src) && isNameChar(p.src[p.pos]) {
			p.pos++
		}
		if p.pos+1 < len(p.src) && p.src[p.pos] == '.' && isNameStart(p.src[p.pos+1]) {
			p.pos++
			continue
		}
		return p.src[start:p.pos]
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || isDigit(c) }
