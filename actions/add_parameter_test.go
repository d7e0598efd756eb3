package actions

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseParameterTagsForms(t *testing.T) {
	cases := []struct {
		text string
		want map[string]string
	}{
		{"", nil},
		{"   ", nil},
		{"Team=soc", map[string]string{"Team": "soc"}},
		{" Team = soc , Env=prod,", map[string]string{"Team": "soc", "Env": "prod"}},
		{"expr=a=b", map[string]string{"expr": "a=b"}},
		{"Empty=", map[string]string{"Empty": ""}},
		{`{"Team": "soc", "CostCenter": 1234, "Audit": true}`, map[string]string{"Team": "soc", "CostCenter": "1234", "Audit": "true"}},
		{`{'Team': 'soc'}`, map[string]string{"Team": "soc"}},
		{`{}`, map[string]string{}},
		{"Name=web 1,Owner=sec@example.com", map[string]string{"Name": "web 1", "Owner": "sec@example.com"}},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			tags, err := parseParameterTags(c.text)
			require.NoError(t, err)
			if c.want == nil {
				assert.Nil(t, tags)
				return
			}
			got := map[string]string{}
			for _, tag := range tags {
				got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			assert.Equal(t, c.want, got)
		})
	}
}

func TestParseParameterTagsSortsByKey(t *testing.T) {
	tags, err := parseParameterTags("b=2,c=3,a=1")
	require.NoError(t, err)
	assert.Equal(t, "a, b, c", tagKeys(tags))
}

func TestParseParameterTagsRejects(t *testing.T) {
	cases := map[string]string{
		"Team":                          `"Team" is not a Key=Value pair`,
		"Team=soc,Team=red":             `tag "Team" is given twice`,
		"Key=Team,Value=soc":            "write Team=soc instead",
		"=soc":                          "empty key",
		"aws:owner=me":                  "starts with aws:",
		"AWS:Owner=me":                  "starts with aws:",
		"Team=soc;red":                  "has a character other than",
		"Bad#Key=x":                     "has a character other than",
		strings.Repeat("k", 129) + "=":  "longer than 128 characters",
		"k=" + strings.Repeat("v", 257): "longer than 256 characters",
		`{"Team": ["soc"]}`:             `the value of tag "Team" is not text`,
		`{"Team": null}`:                `the value of tag "Team" is not text`,
		`{"Team": "soc"`:                "not a valid JSON object",
		`{"Team": "soc"} trailing`:      "not a valid JSON object",
	}
	for text, want := range cases {
		t.Run(text, func(t *testing.T) {
			_, err := parseParameterTags(text)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `invalid parameter "tags"`)
			assert.Contains(t, err.Error(), want)
		})
	}
}

func TestParseParameterTagsLimitsCount(t *testing.T) {
	pairs := make([]string, 51)
	for i := range pairs {
		pairs[i] = "k" + strings.Repeat("x", i) + "=v"
	}
	_, err := parseParameterTags(strings.Join(pairs, ","))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "51 tags given")

	_, err = parseParameterTags(strings.Join(pairs[:50], ","))
	assert.NoError(t, err)
}

func TestParseParameterTagsCountsCharacters(t *testing.T) {
	// 128 letters of two bytes each are within the key limit.
	_, err := parseParameterTags(strings.Repeat("é", 128) + "=v")
	assert.NoError(t, err)
}

func TestQuotesPartOf(t *testing.T) {
	secret := "correct-horse-battery-staple"
	assert.True(t, quotesPartOf("Value 'correct-horse-batt...' at 'value' failed", secret))
	assert.True(t, quotesPartOf("... battery- ...", secret), "any 8-byte run counts")
	assert.False(t, quotesPartOf("Value at 'value' failed to satisfy constraint", secret))
	assert.False(t, quotesPartOf("horse-b", secret), "a run shorter than 8 bytes of a long secret does not count")

	assert.True(t, quotesPartOf("the pin is 0042", "0042"), "a short secret counts only whole")
	assert.False(t, quotesPartOf("the pin is 004", "0042"))
	assert.False(t, quotesPartOf("anything", ""))
}

func TestPutParameterErrorHidesQuotedSecureString(t *testing.T) {
	p := addParameterParams{Value: "correct-horse-battery-staple", Type: "SecureString"}
	awsErr := &smithy.GenericAPIError{Code: "ValidationException", Message: "Value 'correct-horse-batt...' at 'value' failed to satisfy constraint"}

	err := putParameterError("/soar/pw", "us-east-1", p, awsErr)
	assert.NotContains(t, err.Error(), "correct-horse")
	assert.Contains(t, err.Error(), "AWS error ValidationException (its message is left out")

	p.Type = "String"
	assert.Contains(t, putParameterError("/soar/pw", "us-east-1", p, awsErr).Error(), "correct-horse-batt", "a String value is no secret")
}
