package pyliteral

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, returns only the documented
// types, keeps its errors short, and reads valid JSON as encoding/json does.
// Run it with: go test -fuzz FuzzParse ./internal/pyliteral
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{'Credentials': {'AccessKeyId': 'ASIA', 'SessionToken': 'a/b+c==', 'Expiration': datetime.datetime(2030, 1, 1, 0, 0, tzinfo=tzutc())}}`,
		`{"AccessKeyId": "AKIA", "Expiration": "2030-01-01T00:00:00Z", "n": [1, 2.5e3, -0, null, true]}`,
		`datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400), 'X'))`,
		`(1, (2,), [], {}, ())`,
		`r'\'' b'\xff' u'\u00e9' '''a
b''' "\ud83d\ude00"`,
		`0x_ff 0o17 0b1 1_000.5e-3 .5 5.`,
		`tzoffset(None, -3600)`,
		`"\/"`,
		"\uFEFF[1,]",
	}
	for _, s := range seeds {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, text string) {
		v, err := Parse(text)
		if err != nil {
			var syntaxErr *SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if syntaxErr.Offset < 0 || syntaxErr.Offset > len(text) {
				t.Fatalf("error offset %d outside the input of %d bytes", syntaxErr.Offset, len(text))
			}
			// Messages are fixed text plus offsets and known names, never a
			// copy of the input.
			if len(err.Error()) > 300 {
				t.Fatalf("error is %d bytes long: %q", len(err.Error()), err)
			}
		} else {
			checkTypes(t, v)
		}

		if !json.Valid([]byte(text)) || !utf8.ValidString(text) {
			return
		}
		if err != nil {
			if !errors.Is(err, ErrTooDeep) {
				t.Fatalf("valid JSON rejected: %v", err)
			}
			return
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("Parse = %#v, encoding/json gives %#v", v, want)
		}
	})
}

// checkTypes fails the test when v holds a type that Parse does not document,
// or a json.Number that is not valid JSON.
func checkTypes(t *testing.T, v any) {
	t.Helper()
	switch v := v.(type) {
	case nil, bool, string:
	case json.Number:
		if !json.Valid([]byte(v)) {
			t.Fatalf("json.Number %q is not a valid JSON number", string(v))
		}
	case time.Time:
		if v.Location() != time.UTC {
			t.Fatalf("time %v is not in UTC", v)
		}
	case []any:
		for _, item := range v {
			checkTypes(t, item)
		}
	case map[string]any:
		for _, item := range v {
			checkTypes(t, item)
		}
	default:
		t.Fatalf("unexpected type %T", v)
	}
}
