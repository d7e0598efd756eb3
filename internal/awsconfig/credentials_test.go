package awsconfig

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	exampleAccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	exampleSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	tempAccessKeyID        = "ASIAIOSFODNN7EXAMPLE"
	// A session token with the characters that a careless parser changes.
	tempSessionToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJGMEQCIBt+ab/cd+ef==" +
		"AiAx8Lw+mM2wVzN/sj1sbi6b3Q6a8Vz4q7NW5dX9Se1+Cg=="
)

var year2030 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestParseCredentialsJSON(t *testing.T) {
	text := `{"AccessKeyId": "` + tempAccessKeyID + `", "SecretAccessKey": "` + exampleSecretAccessKey +
		`", "SessionToken": "` + tempSessionToken + `", "Expiration": "2030-01-01T00:00:00Z"}`

	c, err := ParseCredentials(text)
	if err != nil {
		t.Fatal(err)
	}
	want := Credentials{tempAccessKeyID, exampleSecretAccessKey, tempSessionToken, year2030}
	if c != want {
		t.Errorf("ParseCredentials = %+v, want %+v", c, want)
	}
}

func TestParseCredentialsPythonDict(t *testing.T) {
	// The repr() of a boto3 AssumeRole response, as a SOAR platform passes it.
	text := `{'Credentials': {'AccessKeyId': '` + tempAccessKeyID + `', 'SecretAccessKey': '` + exampleSecretAccessKey +
		`', 'SessionToken': '` + tempSessionToken + `', 'Expiration': datetime.datetime(2030, 1, 1, 0, 0, tzinfo=tzutc())}, ` +
		`'AssumedRoleUser': {'AssumedRoleId': 'AROA3XFRBF535PLBIFPI4:awsssm', 'Arn': 'arn:aws:sts::123456789012:assumed-role/demo/awsssm'}, ` +
		`'PackedPolicySize': None, 'ResponseMetadata': {'HTTPStatusCode': 200, 'RetryAttempts': 0, 'Truncated': False, 'Ok': True}}`

	c, err := ParseCredentials(text)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != tempAccessKeyID {
		t.Errorf("AccessKeyID = %q, want %q", c.AccessKeyID, tempAccessKeyID)
	}
	if c.SecretAccessKey != exampleSecretAccessKey {
		t.Errorf("SecretAccessKey = %q, want %q", c.SecretAccessKey, exampleSecretAccessKey)
	}
	if c.SessionToken != tempSessionToken {
		t.Errorf("SessionToken = %q, want %q", c.SessionToken, tempSessionToken)
	}
	if !c.Expiration.Equal(year2030) {
		t.Errorf("Expiration = %v, want %v", c.Expiration, year2030)
	}
}

func TestParseCredentialsShapes(t *testing.T) {
	body := `"AccessKeyId": "` + tempAccessKeyID + `", "SecretAccessKey": "` + exampleSecretAccessKey + `", "SessionToken": "` + tempSessionToken + `"`
	cases := map[string]string{
		"object":                    `{` + body + `}`,
		"wrapped":                   `{"Credentials": {` + body + `}, "AssumedRoleUser": {}}`,
		"double encoded":            `"{` + strings.ReplaceAll(body, `"`, `\"`) + `}"`,
		"lower-case keys":           `{"accesskeyid": "` + tempAccessKeyID + `", "secretAccessKey": "` + exampleSecretAccessKey + `", "sessionToken": "` + tempSessionToken + `"}`,
		"surrounding space":         "\n  {" + body + "}\t\n",
		"null expiration":           `{` + body + `, "Expiration": null}`,
		"python without datetime":   `{'AccessKeyId': '` + tempAccessKeyID + `', 'SecretAccessKey': '` + exampleSecretAccessKey + `', 'SessionToken': '` + tempSessionToken + `'}`,
		"access key in line breaks": `{"AccessKeyId": "\n` + tempAccessKeyID + `\r\n", "SecretAccessKey": "` + exampleSecretAccessKey + `", "SessionToken": "` + tempSessionToken + `"}`,
	}
	for name, text := range cases {
		c, err := ParseCredentials(text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := Credentials{tempAccessKeyID, exampleSecretAccessKey, tempSessionToken, time.Time{}}
		if c != want {
			t.Errorf("%s: ParseCredentials = %+v, want %+v", name, c, want)
		}
	}
}

func TestParseCredentialsLongTermKey(t *testing.T) {
	// Long-term access keys have no session token.
	c, err := ParseCredentials(`{"AccessKeyId": "` + exampleAccessKeyID + `", "SecretAccessKey": "` + exampleSecretAccessKey + `"}`)
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionToken != "" {
		t.Errorf("SessionToken = %q, want none", c.SessionToken)
	}
}

func TestParseCredentialsExpiration(t *testing.T) {
	cases := map[string]time.Time{
		`"2030-01-01T00:00:00Z"`:                        year2030,
		`"2030-01-01T00:00:00.000Z"`:                    year2030,
		`"2030-01-01T01:00:00+01:00"`:                   year2030,
		`"2030-01-01 00:00:00+00:00"`:                   year2030, // Python's str() of an aware datetime
		`"2029-12-31T19:00:00.123456-05:00"`:            year2030.Add(123456 * time.Microsecond),
		`"2030-01-01T00:00:00+0000"`:                    year2030,
		`"2030-01-01 00:00:00"`:                         year2030, // this connector's own output form, in UTC
		`"2030-01-01T00:00:00"`:                         year2030,
		`"2030-01-01 00:00:00 UTC"`:                     year2030,
		`1893456000`:                                    year2030,
		`1893456000.5`:                                  year2030.Add(500 * time.Millisecond),
		`1893456000000`:                                 year2030, // milliseconds
		`datetime.datetime(2030, 1, 1, tzinfo=tzutc())`: year2030,
		`datetime.datetime(2030, 1, 1, 1, 0, tzinfo=tzoffset(None, 3600))`: year2030,
	}
	for expiration, want := range cases {
		text := `{'AccessKeyId': '` + tempAccessKeyID + `', 'SecretAccessKey': 's', 'SessionToken': 't', 'Expiration': ` + expiration + `}`
		c, err := ParseCredentials(text)
		if err != nil {
			t.Errorf("Expiration %s: %v", expiration, err)
			continue
		}
		if !c.Expiration.Equal(want) {
			t.Errorf("Expiration %s = %v, want %v", expiration, c.Expiration, want)
		}
		if c.Expiration.Location() != time.UTC {
			t.Errorf("Expiration %s is in %v, want UTC", expiration, c.Expiration.Location())
		}
	}
}

func TestParseCredentialsRejects(t *testing.T) {
	key := `'AccessKeyId': '` + tempAccessKeyID + `'`
	secret := `'SecretAccessKey': '` + exampleSecretAccessKey + `'`
	token := `'SessionToken': '` + tempSessionToken + `'`
	cases := []struct {
		name, text, message string
	}{
		{"empty", "  ", "is empty"},
		{"not a literal", `{'SecretAccessKey': '` + exampleSecretAccessKey, "cannot be read as JSON or as a Python dict"},
		{"list", `['` + exampleSecretAccessKey + `']`, "must be an object"},
		{"bad Credentials member", `{'Credentials': 'x'}`, "member Credentials must be an object"},
		{"missing access key", `{` + secret + `, ` + token + `}`, "missing AccessKeyId"},
		{"missing secret", `{` + key + `, ` + token + `}`, "missing SecretAccessKey"},
		{"missing both", `{` + token + `}`, "missing AccessKeyId and SecretAccessKey"},
		{"missing all three", `{}`, "missing AccessKeyId, SecretAccessKey and SessionToken;"},
		{"empty secret", `{` + key + `, 'SecretAccessKey': '', ` + token + `}`, "missing SecretAccessKey"},
		{"temporary key without token", `{` + key + `, ` + secret + `}`, "missing SessionToken"},
		{"number secret", `{` + key + `, 'SecretAccessKey': 12, ` + token + `}`, "SecretAccessKey must be a string"},
		{"bad expiration text", `{` + key + `, ` + secret + `, ` + token + `, 'Expiration': 'tomorrow'}`, "key Expiration is not an ISO 8601 time"},
		{"token as expiration", `{` + key + `, ` + secret + `, ` + token + `, 'Expiration': '` + tempSessionToken + `'}`, "key Expiration is not an ISO 8601 time"},
		{"bad expiration type", `{` + key + `, ` + secret + `, ` + token + `, 'Expiration': True}`, "Expiration must be an ISO 8601 string"},
		{"negative epoch", `{` + key + `, ` + secret + `, ` + token + `, 'Expiration': -5}`, "positive number of seconds"},
		{"local time zone", `{` + key + `, ` + secret + `, ` + token + `, 'Expiration': datetime.datetime(2030, 1, 1, tzinfo=tzlocal())}`, "cannot be mapped to UTC"},
		{"other zone name", `{` + key + `, ` + secret + `, ` + token + `, 'Expiration': '2030-01-01 00:00:00 CET'}`, "is not an ISO 8601 time"},
		{"header in token", `{` + key + `, ` + secret + `, 'SessionToken': '` + tempSessionToken + `\r\nX-Injected: 1'}`, "key SessionToken contains a line break or control character; pass the Credentials object"},
		{"line break ending secret", `{"AccessKeyId": "` + tempAccessKeyID + `", "SecretAccessKey": "` + exampleSecretAccessKey + `\n", "SessionToken": "` + tempSessionToken + `"}`, "key SecretAccessKey contains a line break or control character"},
		{"secret and token", `{` + key + `, 'SecretAccessKey': 'X\n', 'SessionToken': 'T\r\nX-Injected: 1'}`, "keys SecretAccessKey and SessionToken contain a line break or control character"},
		{"all three", `{'AccessKeyId': 'ASIA\nX', 'SecretAccessKey': 'X\0', 'SessionToken': 'T\x7f'}`, "keys AccessKeyId, SecretAccessKey and SessionToken contain a line break"},
		{"escape in access key", `{'AccessKeyId': 'ASIAIOSFODNN7\x1bEXAMPLE', ` + secret + `, ` + token + `}`, "key AccessKeyId contains a line break or control character"},
		{"tab in token", `{` + key + `, ` + secret + `, 'SessionToken': '` + tempSessionToken[:20] + `\t` + tempSessionToken[20:] + `'}`, "key SessionToken contains a line break or control character"},
		{"C1 control in secret", `{"AccessKeyId": "` + tempAccessKeyID + `", "SecretAccessKey": "` + exampleSecretAccessKey[:20] + `\u0085` + exampleSecretAccessKey[20:] + `", "SessionToken": "` + tempSessionToken + `"}`, "key SecretAccessKey contains a line break or control character"},
		{"NUL in long-term secret", `{'AccessKeyId': '` + exampleAccessKeyID + `', 'SecretAccessKey': '` + exampleSecretAccessKey + `\x00'}`, "key SecretAccessKey contains a line break or control character"},
	}
	for _, c := range cases {
		_, err := ParseCredentials(c.text)
		if err == nil {
			t.Errorf("%s: ParseCredentials succeeded, want an error", c.name)
			continue
		}
		var paramErr *ParameterError
		if !errors.As(err, &paramErr) || paramErr.Parameter != "credentials" {
			t.Errorf("%s: error %v is not a *ParameterError for credentials", c.name, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, `invalid parameter "credentials": `) {
			t.Errorf("%s: error %q does not name the parameter", c.name, msg)
		}
		if !strings.Contains(msg, c.message) {
			t.Errorf("%s: error %q does not contain %q", c.name, msg, c.message)
		}
		for _, secret := range []string{exampleSecretAccessKey, tempSessionToken, exampleSecretAccessKey[:10], tempSessionToken[:10], "X-Injected"} {
			if strings.Contains(msg, secret) {
				t.Errorf("%s: error %q contains a secret", c.name, msg)
			}
		}
	}
}

func TestCheckFresh(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		expiration time.Time
		message    string // "" when the credentials are fresh
	}{
		{"no expiration", time.Time{}, ""},
		{"an hour left", now.Add(time.Hour), ""},
		{"61 seconds left", now.Add(61 * time.Second), ""},
		{"59 seconds left", now.Add(59 * time.Second), "expire in less than a minute, at 2026-12-04 10:00:59 UTC; run the assume role action again"},
		{"expiring now", now, "expired at 2026-12-04 10:00:00 UTC; run the assume role action again to get fresh credentials"},
		{"expired", now.Add(-time.Hour), `invalid parameter "credentials": the credentials expired at 2026-12-04 09:00:00 UTC; run the assume role action again to get fresh credentials`},
		{"expired, other zone", now.Add(-time.Hour).In(time.FixedZone("X", 3600)), "expired at 2026-12-04 09:00:00 UTC"},
	}
	for _, c := range cases {
		err := Credentials{Expiration: c.expiration}.CheckFresh(now)
		switch {
		case c.message == "" && err != nil:
			t.Errorf("%s: CheckFresh = %v, want nil", c.name, err)
		case c.message != "" && err == nil:
			t.Errorf("%s: CheckFresh = nil, want an error", c.name)
		case c.message != "" && !strings.Contains(err.Error(), c.message):
			t.Errorf("%s: CheckFresh = %q, want it to contain %q", c.name, err, c.message)
		}
	}
}
