package pyliteral

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const token = "FwoGZXIvYXdzEBYaD+/abc/def+ghi==" // a session token's alphabet: '/', '+', '='

func mustParse(t *testing.T, text string) any {
	t.Helper()
	v, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return v
}

func TestParseSTSOutputPythonDict(t *testing.T) {
	text := `{'Credentials': {'AccessKeyId': 'ASIAIOSFODNN7EXAMPLE', 'SecretAccessKey': 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', ` +
		`'SessionToken': '` + token + `', 'Expiration': datetime.datetime(2030, 1, 1, 0, 0, tzinfo=tzutc())}, ` +
		`'AssumedRoleUser': {'Arn': 'arn:aws:sts::123456789012:assumed-role/demo/awsssm'}, ` +
		`'ResponseMetadata': {'HTTPStatusCode': 200, 'RetryAttempts': 0, 'Ok': True, 'Missing': None, 'Failed': False}}`

	got := mustParse(t, text)

	want := map[string]any{
		"Credentials": map[string]any{
			"AccessKeyId":     "ASIAIOSFODNN7EXAMPLE",
			"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"SessionToken":    token,
			"Expiration":      time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		},
		"AssumedRoleUser":  map[string]any{"Arn": "arn:aws:sts::123456789012:assumed-role/demo/awsssm"},
		"ResponseMetadata": map[string]any{"HTTPStatusCode": json.Number("200"), "RetryAttempts": json.Number("0"), "Ok": true, "Missing": nil, "Failed": false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse = %#v\nwant %#v", got, want)
	}
}

func TestParseTokenKeptExactly(t *testing.T) {
	for _, text := range []string{
		`'` + token + `'`,
		`"` + token + `"`,
		`'''` + token + `'''`,
		`r'` + token + `'`,
		`{"t": "` + token + `"}`,
	} {
		v := mustParse(t, text)
		if m, ok := v.(map[string]any); ok {
			v = m["t"]
		}
		if v != token {
			t.Errorf("Parse(%q) = %q, want %q", text, v, token)
		}
	}
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	docs := []string{
		`{"a": [1, 2.5, -0, 1E5, 1.5e-3, true, false, null], "b": {"c": ""}}`,
		`[]`, `{}`, `"x"`, `0`, `-12`, ` [ [ [ ] ] ] `,
		`{"esc": "\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"}`,
		`{"dup": 1, "dup": 2}`,
	}
	for _, doc := range docs {
		got := mustParse(t, doc)

		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json cannot decode %q: %v", doc, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %#v, encoding/json gives %#v", doc, got, want)
		}
	}
}

func TestParseStrings(t *testing.T) {
	cases := []struct {
		text, want string
	}{
		{`'plain'`, "plain"},
		{`"it's"`, "it's"},
		{`'say \'hi\''`, "say 'hi'"},
		{`'a\nb\tc\\d'`, "a\nb\tc\\d"},
		{`'\x41\u00e9\U0001F600'`, "Aé\U0001F600"},
		{`'\101\0'`, "A\x00"},
		{`'\a\b\f\v\r'`, "\a\b\f\v\r"},
		{`'\d\/\q'`, `\d\/\q`},           // unknown escapes keep the backslash
		{`'\ud83d\ude00'`, "\U0001F600"}, // a surrogate pair becomes one character
		{`'\ud83d'`, "\uFFFD"},           // a lone surrogate cannot be UTF-8
		{`r'\n\''`, `\n\'`},              // raw: backslashes stay
		{`R"C:\path"`, `C:\path`},
		{`b'\xff\x00'`, "\xff\x00"}, // bytes: \x is a byte, not a code point
		{`b'\u00e9'`, `\u00e9`},     // bytes: \u is not an escape
		{`rb'\x'`, `\x`},
		{`u'text'`, "text"},
		{"'''line1\nline2 ' '' '''", "line1\nline2 ' '' "}, // triple quotes hold newlines and quotes
		{`"""a"b"""`, `a"b`},
		{"'con' \"cat\"\n 'ena' 'tion'", "concatenation"},
		{"'a\\\nb'", "ab"}, // backslash-newline continues the line
		{`'é日本'`, "é日本"},   // UTF-8 is kept
	}
	for _, c := range cases {
		got := mustParse(t, c.text)
		if got != c.want {
			t.Errorf("Parse(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestParseJSONSlashEscape(t *testing.T) {
	// In JSON \/ is a slash, but in Python it is a backslash and a slash.
	if got := mustParse(t, `"a\/b"`); got != "a/b" {
		t.Errorf("JSON %q = %q, want %q", `"a\/b"`, got, "a/b")
	}
	if got := mustParse(t, `'a\/b'`); got != `a\/b` {
		t.Errorf("Python %q = %q, want %q", `'a\/b'`, got, `a\/b`)
	}
}

func TestParseNumbers(t *testing.T) {
	cases := []struct {
		text string
		want json.Number
	}{
		{`0`, "0"},
		{`00`, "0"},
		{`-7`, "-7"},
		{`+7`, "7"},
		{`- 7`, "-7"},
		{`1_000_000`, "1000000"},
		{`0x_ff`, "255"},
		{`0XFF`, "255"},
		{`-0o17`, "-15"},
		{`0b101`, "5"},
		{`0x1_0000_0000_0000_0000`, "18446744073709551616"},
		{`1.5`, "1.5"},
		{`.5`, "0.5"},
		{`5.`, "5.0"},
		{`00.5`, "0.5"},
		{`1e5`, "1e5"},
		{`1E+05`, "1E+05"},
		{`2.5e-3`, "2.5e-3"},
		{`1_0.0_1e1_0`, "10.01e10"},
		{`123456789012345678901234567890`, "123456789012345678901234567890"},
	}
	for _, c := range cases {
		got := mustParse(t, c.text)
		if got != c.want {
			t.Errorf("Parse(%q) = %#v, want %#v", c.text, got, c.want)
			continue
		}
		if !json.Valid([]byte(c.want)) {
			t.Errorf("Parse(%q) = %q, which is not a JSON number", c.text, c.want)
		}
	}
}

func TestParseContainers(t *testing.T) {
	cases := []struct {
		text string
		want any
	}{
		{`()`, []any{}},
		{`(1,)`, []any{json.Number("1")}},
		{`(1)`, json.Number("1")},
		{`('a', ('b', 'c'))`, []any{"a", []any{"b", "c"}}},
		{`[1, 2,]`, []any{json.Number("1"), json.Number("2")}},
		{`{'a': 1,}`, map[string]any{"a": json.Number("1")}},
		{"{\n  'a': [\n    1,\n  ],\n}", map[string]any{"a": []any{json.Number("1")}}},
		{`{'k': 1, 'k': 2}`, map[string]any{"k": json.Number("2")}},
		{"\uFEFF{}", map[string]any{}},
		{`{'a': null, 'b': true, 'c': false}`, map[string]any{"a": nil, "b": true, "c": false}},
	}
	for _, c := range cases {
		got := mustParse(t, c.text)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", c.text, got, c.want)
		}
	}
}

func TestParseDatetimes(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, us int) time.Time {
		return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC)
	}
	cases := []struct {
		text string
		want time.Time
	}{
		{`datetime.datetime(2030, 1, 1, 0, 0, tzinfo=tzutc())`, utc(2030, 1, 1, 0, 0, 0, 0)},
		{`datetime.datetime(2030, 1, 1, tzinfo=tzutc())`, utc(2030, 1, 1, 0, 0, 0, 0)},
		{`datetime.datetime(2026, 12, 4, 10, 0, 5, 123456, tzinfo=datetime.timezone.utc)`, utc(2026, 12, 4, 10, 0, 5, 123456)},
		{`datetime(2026, 12, 4, 10, tzinfo=timezone.utc)`, utc(2026, 12, 4, 10, 0, 0, 0)},
		{`datetime.datetime(year=2026, month=2, day=28, hour=23, tzinfo=dateutil.tz.tzutc())`, utc(2026, 2, 28, 23, 0, 0, 0)},
		{`datetime.datetime(2026, 2, 28, 23, 59, 59, 0, tzutc())`, utc(2026, 2, 28, 23, 59, 59, 0)},
		{`datetime.datetime(2026, 1, 1, 1, 0, tzinfo=tzoffset(None, 3600))`, utc(2026, 1, 1, 0, 0, 0, 0)},
		{`datetime.datetime(2026, 1, 1, 1, 0, tzinfo=tzoffset('CET', 3600))`, utc(2026, 1, 1, 0, 0, 0, 0)},
		{`datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))`, utc(2026, 1, 1, 5, 0, 0, 0)},
		{`datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800), 'IST'))`, utc(2025, 12, 31, 18, 30, 0, 0)},
		{`datetime.datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30)), fold=1)`, utc(2026, 1, 1, 3, 30, 0, 0)},
		{`datetime.datetime(2028, 2, 29, tzinfo=UTC)`, utc(2028, 2, 29, 0, 0, 0, 0)},
	}
	for _, c := range cases {
		got, err := Parse(c.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.text, err)
			continue
		}
		tm, ok := got.(time.Time)
		if !ok {
			t.Errorf("Parse(%q) = %#v, want a time.Time", c.text, got)
			continue
		}
		if !tm.Equal(c.want) || tm.Location() != time.UTC {
			t.Errorf("Parse(%q) = %v, want %v", c.text, tm, c.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		text    string
		offset  int
		message string // a part of the error message
	}{
		{``, 0, "found end of input"},
		{`   `, 3, "found end of input"},
		{`{'a' 1}`, 5, "expected ':'"},
		{`{'a', 'b'}`, 4, "set literals"},
		{`{1: 2}`, 1, "dict keys must be strings"},
		{`{'a': 1 'b': 2}`, 8, "expected ',' or '}'"},
		{`[1 2]`, 3, "expected ',' or ']'"},
		{`'abc`, 0, "not terminated"},
		{"'ab\ncd'", 0, "end of the line"},
		{`{'a': 1} x`, 9, "expected end of input"},
		{`f'{x}'`, 0, "f-strings"},
		{`b'a' 'b'`, 5, "cannot be concatenated"},
		{`'\N{BULLET}'`, 1, `\N{...}`},
		{`'\x4'`, 1, "2 hexadecimal digits"},
		{`'\u12'`, 1, "4 hexadecimal digits"},
		{`'\U00110000'`, 1, "largest Unicode code point"},
		{`b'\777'`, 2, "octal escape"},
		{`007`, 0, "leading zeros"},
		{`1j`, 0, "complex"},
		{`1.2.3`, 3, "after the number"},
		{`0xg`, 0, "invalid base 16"},
		{`1e`, 1, "exponent"},
		{`-`, 1, "expected a number"},
		{`nan`, 0, "unknown name"},
		{`os.system('x')`, 0, "unsupported call"},
		{`__import__('os')`, 0, "unsupported call"},
		{`{'a': $}`, 6, "the character 0x24"},
		{`datetime.datetime(2030, 1, 1)`, 0, "no tzinfo"},
		{`datetime.datetime(2030, 1, 1, tzinfo=None)`, 0, "no tzinfo"},
		{`datetime.datetime(2030, 1, 1, tzinfo=tzlocal())`, 37, "tzlocal() depends on the machine"},
		{`datetime.datetime(2030, 1, 1, tzinfo=dateutil.tz.tzlocal())`, 37, "cannot be mapped to UTC"},
		{`datetime.datetime(2030, 1, 1, tzinfo=zoneinfo.ZoneInfo(key='Europe/Paris'))`, 37, "cannot be mapped to UTC"},
		{`datetime.datetime(2030, 1, 1, tzinfo=1)`, 37, "tzinfo must be"},
		{`datetime.datetime(2030, 2, 30, tzinfo=tzutc())`, 0, "does not exist"},
		{`datetime.datetime(2030, 13, 1, tzinfo=tzutc())`, 24, "month must be an integer from 1 to 12"},
		{`datetime.datetime(2030, 1, 1, 24, tzinfo=tzutc())`, 30, "hour must be"},
		{`datetime.datetime(2030, 1, 1.5, tzinfo=tzutc())`, 27, "day must be an integer"},
		{`datetime.datetime(2030, 1, tzinfo=tzutc())`, 0, "needs the argument day"},
		{`datetime.datetime(2030, 1, 1, month=2, tzinfo=tzutc())`, 36, "twice"},
		{`datetime.datetime(2030, 1, 1, tz=tzutc())`, 33, "no argument of this name"},
		{`datetime.datetime(year=2030, 1, 1)`, 29, "positional argument after a keyword"},
		{`datetime.datetime(1, 2, 3, 4, 5, 6, 7, tzutc(), 0, 9)`, 0, "at most 9 arguments"},
		{`datetime.datetime(2030, 1, 1, tzinfo=tzoffset(None, 86400))`, 52, "less than a day"},
		{`datetime.datetime(2030, 1, 1, tzinfo=timezone(timedelta(microseconds=1)))`, 46, "whole number of seconds"},
		{`datetime.datetime(2030, 1, 1, tzinfo=timezone(3600))`, 46, "must be a datetime.timedelta"},
		{`datetime.timedelta(days=1000000000)`, 0, "longer than 999999999 days"},
		{`tzutc(1)`, 0, "takes no arguments"},
		{`tzutc()`, 0, "accepted only as an argument"},
		{`{'tz': timezone.utc}`, 7, "accepted only as an argument"},
		{`[datetime.timedelta(1)]`, 1, "accepted only as an argument"},
	}
	for _, c := range cases {
		_, err := Parse(c.text)
		var syntaxErr *SyntaxError
		if !errors.As(err, &syntaxErr) {
			t.Errorf("Parse(%q) error = %v, want a *SyntaxError", c.text, err)
			continue
		}
		if syntaxErr.Offset != c.offset {
			t.Errorf("Parse(%q) error offset = %d, want %d (%v)", c.text, syntaxErr.Offset, c.offset, err)
		}
		if !strings.Contains(err.Error(), c.message) {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", c.text, err, c.message)
		}
	}
}

func TestParseErrorsHideSecrets(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	inputs := []string{
		`{'SecretAccessKey': '` + secret,                 // unterminated string
		`{'SecretAccessKey': '` + secret + `' x}`,        // text after a value
		`{'SecretAccessKey': ` + secret + `}`,            // unquoted
		`{'SecretAccessKey' '` + secret + `'}`,           // missing colon
		`{'` + secret + `': 1, 2}`,                       // key, then a bad item
		`{'SecretAccessKey': '\N{` + secret + `}'}`,      // bad escape
		`{'SecretAccessKey': f'` + secret + `'}`,         // f-string
		`{'SecretAccessKey': '` + secret + `', 'e': 1j}`, // bad number
		`{'SecretAccessKey': '` + secret + `'}` + secret, // trailing text
		`['` + secret + `', datetime.datetime(1, 1, 1)]`, // naive datetime
		`{'SecretAccessKey': ` + secret[:20] + `(1)}`,    // unquoted, looks like a call
		`{'SecretAccessKey': AKIAIOSFODNN7EXAMPLE}`,      // an unquoted name
		`{'SecretAccessKey': b'` + secret + `' '` + secret + `'}`,
	}
	for _, text := range inputs {
		_, err := Parse(text)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", text)
			continue
		}
		for _, part := range []string{secret, secret[:12], "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey"} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("Parse(%q) error %q contains input text %q", text, err, part)
			}
		}
	}
}

func TestParseLimits(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse(deep); err != nil {
		t.Errorf("Parse of %d nested lists: %v", MaxDepth, err)
	}

	tooDeep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if _, err := Parse(tooDeep); !errors.Is(err, ErrTooDeep) {
		t.Errorf("Parse of %d nested lists error = %v, want ErrTooDeep", MaxDepth+1, err)
	}

	// A deep stack of calls counts too.
	calls := strings.Repeat("datetime.timedelta(", MaxDepth+1) + strings.Repeat(")", MaxDepth+1)
	if _, err := Parse(calls); !errors.Is(err, ErrTooDeep) {
		t.Errorf("Parse of %d nested calls error = %v, want ErrTooDeep", MaxDepth+1, err)
	}

	huge := "'" + strings.Repeat("a", MaxInputSize) + "'"
	_, err := Parse(huge)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse of %d bytes error = %v, want ErrTooLarge", len(huge), err)
	}
	if err != nil && len(err.Error()) > 200 {
		t.Errorf("Parse of %d bytes error is %d bytes long", len(huge), len(err.Error()))
	}
}
