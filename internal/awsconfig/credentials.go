package awsconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/awsssm/awsssm/internal/pyliteral"
)

// Credentials are the temporary credentials of the credentials parameter.
// Expiration is zero when the parameter gives none.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// expiryMargin is how long before their expiration credentials count as
// expired, so that they do not expire in the middle of an action.
const expiryMargin = time.Minute

// Key names of the credentials object, as STS AssumeRole returns them.
const (
	keyCredentials     = "Credentials"
	keyAccessKeyID     = "AccessKeyId"
	keySecretAccessKey = "SecretAccessKey"
	keySessionToken    = "SessionToken"
	keyExpiration      = "Expiration"
)

// ParseCredentials parses the text of the credentials parameter: a JSON
// object or the text of a Python dict, either the credentials object itself
// or an object with a "Credentials" member, as the output of STS AssumeRole
// has. Key names match case-insensitively. The Expiration may be an ISO 8601
// string, a number of seconds since the Unix epoch (milliseconds when it is
// above 1e11), or a Python datetime. An ISO 8601 string without a UTC offset
// is read as UTC, the zone in which this connector writes times. The
// AccessKeyId is trimmed of surrounding white space, and the SecretAccessKey
// and SessionToken are kept byte for byte. A line break or other control
// character in any of the three is rejected. Errors are *ParameterError
// values and contain no secret.
func ParseCredentials(text string) (Credentials, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Credentials{}, credentialsError("it is empty; pass the Credentials object of the assume role output, or leave the parameter out to use the asset's credentials")
	}

	value, err := pyliteral.Parse(text)
	if err != nil {
		return Credentials{}, credentialsError("it cannot be read as JSON or as a Python dict: %w", err)
	}
	// Some platforms encode the object as a JSON string a second time.
	if inner, ok := value.(string); ok {
		if value, err = pyliteral.Parse(inner); err != nil {
			return Credentials{}, credentialsError("it is a string whose content cannot be read as JSON or as a Python dict: %w", err)
		}
	}

	object, ok := value.(map[string]any)
	if !ok {
		return Credentials{}, credentialsError("it must be an object with the keys AccessKeyId, SecretAccessKey, SessionToken and Expiration")
	}
	if nested, ok := lookupKey(object, keyCredentials); ok {
		if object, ok = nested.(map[string]any); !ok {
			return Credentials{}, credentialsError("member Credentials must be an object with the keys AccessKeyId, SecretAccessKey, SessionToken and Expiration")
		}
	}

	var c Credentials
	var missing []string
	for _, field := range []struct {
		key  string
		dest *string
	}{
		{keyAccessKeyID, &c.AccessKeyID},
		{keySecretAccessKey, &c.SecretAccessKey},
		{keySessionToken, &c.SessionToken},
	} {
		v, ok := lookupKey(object, field.key)
		if !ok || v == nil || v == "" {
			missing = append(missing, field.key)
			continue
		}
		s, ok := v.(string)
		if !ok {
			return Credentials{}, credentialsError("key %s must be a string", field.key)
		}
		*field.dest = s
	}
	c.AccessKeyID = strings.TrimSpace(c.AccessKeyID)

	// A session token is optional for long-term access keys (AKIA...) and
	// required for temporary ones (ASIA...).
	if len(missing) == 1 && missing[0] == keySessionToken && !strings.HasPrefix(c.AccessKeyID, "ASIA") {
		missing = nil
	}
	if len(missing) > 0 {
		return Credentials{}, credentialsError("missing %s; pass the Credentials object of the assume role output", joinList(missing))
	}

	// AWS issues no keys or tokens with control characters. In the access
	// key ID or the session token, one makes the request header invalid, so
	// every request would fail only after all its retries. The values are
	// secret, so the message names only the keys.
	var invalidKeys []string
	for _, field := range []struct{ key, value string }{
		{keyAccessKeyID, c.AccessKeyID},
		{keySecretAccessKey, c.SecretAccessKey},
		{keySessionToken, c.SessionToken},
	} {
		if containsControlCharacter(field.value) {
			invalidKeys = append(invalidKeys, field.key)
		}
	}
	switch {
	case len(invalidKeys) == 1:
		return Credentials{}, credentialsError("key %s contains a line break or control character; pass the Credentials object of the assume role output unchanged", invalidKeys[0])
	case len(invalidKeys) > 1:
		return Credentials{}, credentialsError("keys %s contain a line break or control character; pass the Credentials object of the assume role output unchanged", joinList(invalidKeys))
	}

	if v, ok := lookupKey(object, keyExpiration); ok && v != nil {
		if c.Expiration, err = parseExpiration(v); err != nil {
			return Credentials{}, credentialsError("key Expiration %w", err)
		}
	}
	return c, nil
}

// CheckFresh returns a *ParameterError when the credentials expire within
// a minute of now, or have expired.
func (c Credentials) CheckFresh(now time.Time) error {
	if c.Expiration.IsZero() {
		return nil
	}
	at := c.Expiration.UTC().Format("2006-01-02 15:04:05 UTC")
	switch {
	case !c.Expiration.After(now):
		return credentialsError("the credentials expired at %s; run the assume role action again to get fresh credentials", at)
	case c.Expiration.Sub(now) < expiryMargin:
		return credentialsError("the credentials expire in less than a minute, at %s; run the assume role action again to get fresh credentials", at)
	}
	return nil
}

func credentialsError(format string, args ...any) error {
	return &ParameterError{Parameter: "credentials", Err: fmt.Errorf(format, args...)}
}

// containsControlCharacter reports whether s contains a Unicode control
// character: a line break, tab, NUL, DEL or any other of U+0000 to U+001F and
// U+007F to U+009F.
func containsControlCharacter(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// joinList joins words as an English list: "A", "A and B", "A, B and C".
func joinList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// lookupKey returns the member of object named key, matching the exact name
// first and then any name equal to it apart from case.
func lookupKey(object map[string]any, key string) (any, bool) {
	if v, ok := object[key]; ok {
		return v, true
	}
	for k, v := range object {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// expirationLayouts are the ISO 8601 forms accepted for Expiration: the ones
// AWS, Python's str() and isoformat(), and this connector's output write.
// Fractional seconds are accepted after the seconds without a layout of
// their own.
var expirationLayouts = []string{
	time.RFC3339,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

func parseExpiration(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case json.Number:
		seconds, err := strconv.ParseFloat(string(v), 64)
		if err != nil || seconds <= 0 || math.IsInf(seconds, 0) || seconds > 1e15 {
			return time.Time{}, errors.New("must be a positive number of seconds since the Unix epoch")
		}
		if seconds > 1e11 { // after the year 5138 in seconds, so milliseconds
			seconds /= 1000
		}
		whole, frac := math.Modf(seconds)
		return time.Unix(int64(whole), int64(frac*1e9)).UTC(), nil
	case string:
		s := strings.TrimSpace(v)
		for _, layout := range expirationLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				if layout == "2006-01-02 15:04:05 MST" && t.Location() != time.UTC {
					continue // only the UTC abbreviation has a known offset
				}
				return t.UTC(), nil
			}
		}
		// The value is not quoted: a wrongly mapped playbook field could put
		// the session token here.
		return time.Time{}, errors.New("is not an ISO 8601 time such as 2026-12-04T10:00:00Z")
	default:
		return time.Time{}, errors.New("must be an ISO 8601 string, a number of seconds since the Unix epoch, or a Python datetime")
	}
}
