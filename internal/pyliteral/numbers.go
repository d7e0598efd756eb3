package pyliteral

import (
	"encoding/json"
	"math/big"
	"strings"
)

// maxBaseDigits is the length limit of a hexadecimal, octal or binary
// integer, the same as Python's default limit on int-to-decimal conversion.
const maxBaseDigits = 4300

// parseNumber parses an integer or float literal with an optional sign and
// returns it as a json.Number in JSON's syntax.
func (p *parser) parseNumber() (any, error) {
	start := p.pos
	sign := ""
	if c := p.src[p.pos]; c == '-' || c == '+' {
		if c == '-' {
			sign = "-"
		}
		p.pos++
		p.skipSpace()
	}

	digitsStart := p.pos
	if p.pos >= len(p.src) || !(isDigit(p.src[p.pos]) || p.src[p.pos] == '.') {
		return nil, p.errorf(p.pos, "expected a number after the sign, found %s", p.describe(p.pos))
	}

	// Integers with a base prefix.
	if p.src[p.pos] == '0' && p.pos+1 < len(p.src) {
		base := 0
		switch p.src[p.pos+1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			p.pos += 2
			for p.pos < len(p.src) && (isNameChar(p.src[p.pos])) {
				p.pos++
			}
			digits := strings.ReplaceAll(p.src[digitsStart+2:p.pos], "_", "")
			// Converting a long integer to decimal takes time that grows
			// faster than its length; Python refuses such conversions too.
			if len(digits) > maxBaseDigits {
				return nil, p.errorf(digitsStart, "base %d integer longer than %d digits", base, maxBaseDigits)
			}
			n, ok := new(big.Int).SetString(digits, base)
			if !ok || digits == "" {
				return nil, p.errorf(digitsStart, "invalid base %d integer", base)
			}
			return json.Number(sign + n.String()), nil
		}
	}

	intPart := p.readDigits()
	fracPart, hasFrac := "", false
	if p.peek() == '.' {
		hasFrac = true
		p.pos++
		fracPart = p.readDigits()
	}
	if intPart == "" && fracPart == "" {
		return nil, p.errorf(digitsStart, "expected digits in the number")
	}

	expPart := ""
	if c := p.peek(); c == 'e' || c == 'E' {
		expStart := p.pos
		expLetter := string(c)
		p.pos++
		expSign := ""
		if c := p.peek(); c == '+' || c == '-' {
			expSign = string(c)
			p.pos++
		}
		digits := p.readDigits()
		if digits == "" {
			return nil, p.errorf(expStart, "expected digits in the exponent")
		}
		expPart = expLetter + expSign + digits
	}

	if c := p.peek(); c == 'j' || c == 'J' {
		return nil, p.errorf(start, "complex numbers are not supported")
	}
	if p.pos < len(p.src) && (isNameChar(p.src[p.pos]) || p.src[p.pos] == '.') {
		return nil, p.errorf(p.pos, "unexpected %s after the number", p.describe(p.pos))
	}

	// Python rejects leading zeros in a decimal integer other than 0 itself.
	if !hasFrac && expPart == "" && len(intPart) > 1 && intPart[0] == '0' && strings.Trim(intPart, "0") != "" {
		return nil, p.errorf(digitsStart, "leading zeros are not allowed in a decimal integer")
	}

	// Rewrite in JSON's syntax: no leading zeros, digits on both sides of the
	// decimal point.
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	text := sign + intPart
	if hasFrac {
		if fracPart == "" {
			fracPart = "0"
		}
		text += "." + fracPart
	}
	return json.Number(text + expPart), nil
}

// readDigits reads decimal digits with Python's optional single underscores
// between them and returns the digits alone.
func (p *parser) readDigits() string {
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if isDigit(c) {
			b.WriteByte(c)
			p.pos++
			continue
		}
		if c == '_' && b.Len() > 0 && p.pos+1 < len(p.src) && isDigit(p.src[p.pos+1]) {
			p.pos++
			continue
		}
		break
	}
	return b.String()
}
