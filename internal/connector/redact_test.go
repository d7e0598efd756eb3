package connector

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactorJSONMasksStringsOnly(t *testing.T) {
	r := &Redactor{}
	r.Add("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "12345678", `quo"te\secret`)

	doc := []byte(`{"a":"key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end","size":12345678,"list":["12345678",true,null,{"k":"quo\"te\\secret"}]}`)
	out, err := r.JSON(doc)
	require.NoError(t, err)

	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got), "output must stay valid JSON: %s", out)
	assert.Equal(t, "key "+Mask+" end", got["a"])
	assert.Equal(t, float64(12345678), got["size"], "numbers are never masked")
	list := got["list"].([]any)
	assert.Equal(t, Mask, list[0])
	assert.Equal(t, true, list[1])
	assert.Nil(t, list[2])
	assert.Equal(t, Mask, list[3].(map[string]any)["k"])
}

func TestRedactorJSONKeepsOrder(t *testing.T) {
	out, err := (&Redactor{}).JSON([]byte(`{"z":1,"a":[{"y":2,"b":3}],"m":{}}`))
	require.NoError(t, err)
	assert.Equal(t, `{"z":1,"a":[{"y":2,"b":3}],"m":{}}`, string(out))
}

func TestRedactorSkipsShortSecrets(t *testing.T) {
	r := &Redactor{}
	r.Add("abc", "")
	assert.Equal(t, "abc abc", r.String("abc abc"))
}

func TestRedactorMasksLongestFirst(t *testing.T) {
	r := &Redactor{}
	r.Add("token", "token-with-suffix")
	assert.Equal(t, Mask+" "+Mask, r.String("token-with-suffix token"))
}

func TestRedactingWriterMasksLogLines(t *testing.T) {
	r := &Redactor{}
	var buf bytes.Buffer
	w := r.Writer(&buf)
	r.Add(`se"cret-value`)

	log := newLogger(w, LogFormatJSON, true)
	log.Info("using se\"cret-value now", "detail", `se"cret-value`)
	logText := newLogger(w, LogFormatText, true)
	logText.Warn(`value se"cret-value`)

	assert.NotContains(t, buf.String(), "cret-value")
	assert.Equal(t, 3, strings.Count(buf.String(), Mask))
}

func TestTextLogEscapesControlCharacters(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, LogFormatText, false)
	log.Error("stderr ends with: bad\x1b]0;pwned\x07\x1b[2J\r\rfake line\nsecond\ttab \u009b")

	out := buf.String()
	assert.Equal(t, 1, strings.Count(out, "\n"), "one record, one line")
	assert.NotContains(t, out, "\x1b")
	assert.NotContains(t, out, "\r")
	assert.NotContains(t, out, "\u009b")
	assert.Contains(t, out, `bad\x1b]0;pwned\x07\x1b[2J\r\rfake line\nsecond`+"\ttab "+`\x9b`)
}
