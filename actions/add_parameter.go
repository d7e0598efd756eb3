package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsssm/awsssm/internal/awsdata"
	"github.com/awsssm/awsssm/internal/command"
	"github.com/awsssm/awsssm/internal/connector"
	"github.com/awsssm/awsssm/internal/pyliteral"
)

// Parameter Store's limits on a value: 4 KB for a Standard tier parameter
// and 8 KB for an Advanced one. AWS's error message counts characters.
// NOTE: whether AWS counts a multi-byte character as one or by its bytes is
// not verified. The check before sending counts characters, so it never
// rejects a value that AWS accepts.
const (
	standardValueLimit = 4096
	advancedValueLimit = 8192
)

type addParameterParams struct {
	Name           string `json:"name"`
	Description    string `json:"description"`
	Value          string `json:"value"`
	Type           string `json:"type"`
	KeyID          string `json:"key_id"`
	Overwrite      bool   `json:"overwrite"`
	AllowedPattern string `json:"allowed_pattern"`
	Tags           string `json:"tags"`
}

// addParameterSecrets names the value parameter as a secret when the type
// is SecureString. The connector calls it before validating, so the value stays
// masked even in the result of an invalid parameter set.
func addParameterSecrets(raw map[string]any) []string {
	if t, ok := raw["type"].(string); ok && strings.EqualFold(strings.TrimSpace(t), string(types.ParameterTypeSecureString)) {
		return []string{"value"}
	}
	return nil
}

// addParameter creates a Parameter Store parameter, or with overwrite
// replaces its value. AWS rejects Tags together with Overwrite, so an
// overwrite that has tags takes two calls: PutParameter, then
// AddTagsToResource.
func addParameter(ctx context.Context, env *connector.Env, p addParameterParams) (*connector.Outcome, error) {
	// Register the secret before anything can print or log it.
	secure := p.Type == string(types.ParameterTypeSecureString)
	if secure {
		env.AddSecret(p.Value)
	}

	name := strings.TrimSpace(p.Name)
	if name == "" {
		return nil, errors.New("invalid parameter \"name\": it is empty; expected a parameter name such as /soar/api-url")
	}
	if p.KeyID != "" && !secure {
		return nil, fmt.Errorf("invalid parameter \"key_id\": a KMS key encrypts SecureString parameters only, and type is %s; leave key_id empty or set type to SecureString", p.Type)
	}
	if n := utf8.RuneCountInString(p.Value); n > advancedValueLimit {
		return nil, fmt.Errorf("invalid parameter \"value\": it is %d characters, more than the maximum of %d for an Advanced tier parameter (%d for a Standard one)", n, advancedValueLimit, standardValueLimit)
	}
	tags, err := parseParameterTags(p.Tags)
	if err != nil {
		return nil, err
	}

	input := &ssm.PutParameterInput{
		Name:      aws.String(name),
		Value:     aws.String(p.Value),
		Type:      types.ParameterType(p.Type),
		Overwrite: aws.Bool(p.Overwrite),
	}
	if p.Description != "" {
		input.Description = aws.String(p.Description)
	}
	if p.KeyID != "" {
		input.KeyId = aws.String(strings.TrimSpace(p.KeyID))
	}
	if p.AllowedPattern != "" {
		input.AllowedPattern = aws.String(p.AllowedPattern)
	}
	if !p.Overwrite {
		input.Tags = tags
	}

	env.Progress("Putting parameter %s (%s) in %s", name, p.Type, env.AWS.Region)
	out, err := env.AWS.SSM.PutParameter(ctx, input)
	if err != nil {
		return nil, putParameterError(name, env.AWS.Region, p, err)
	}
	env.Progress("Parameter %s is at version %d (%s tier)", name, out.Version, out.Tier)

	data := map[string]any{
		"Version":          out.Version,
		"Tier":             string(out.Tier),
		"ResponseMetadata": awsdata.ResponseMetadata(out.ResultMetadata),
	}
	summary := connector.Summary{}
	summary.Set("status", "Successfully added parameter")
	summary.Set("version", out.Version)
	outcome := &connector.Outcome{Data: []any{data}, Summary: summary}

	// The second call of an overwrite with tags. The new value is already
	// in place, and the error of a failure here states that.
	if p.Overwrite && len(tags) > 0 {
		_, err := env.AWS.SSM.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
			ResourceType: types.ResourceTypeForTaggingParameter,
			ResourceId:   aws.String(name),
			Tags:         tags,
		})
		if err != nil {
			summary.Set("status", "Added parameter, but adding its tags failed")
			return outcome, fmt.Errorf("parameter %s now has version %d, but adding its tags failed: %w; the value is written, so add the tags again (AddTagsToResource, resource type Parameter)", name, out.Version, err)
		}
	}
	if len(tags) > 0 {
		env.Progress("Parameter %s has tags %s", name, tagKeys(tags))
	}
	return outcome, nil
}

// putParameterError rewrites PutParameter's errors as messages that name
// what to do. For a SecureString it leaves out AWS's message when that
// message quotes any part of the value.
func putParameterError(name, region string, p addParameterParams, err error) error {
	code := command.ErrorCode(err)
	var lead string
	switch code {
	case "ParameterAlreadyExists":
		lead = fmt.Sprintf("parameter %s already exists in %s; set overwrite to true to replace its value", name, region)
	case "ParameterPatternMismatchException":
		lead = fmt.Sprintf("the value does not match allowed_pattern of parameter %s, so it was not written", name)
	default:
		lead = fmt.Sprintf("put parameter %s in %s", name, region)
		if code == "ValidationException" && len(p.Value) > standardValueLimit {
			lead += fmt.Sprintf(" (the value is %d characters and %d bytes; Parameter Store limits a value to %d for a Standard tier parameter and %d for an Advanced one, and the account's default parameter tier decides which applies)",
				utf8.RuneCountInString(p.Value), len(p.Value), standardValueLimit, advancedValueLimit)
		}
	}
	if p.Type == string(types.ParameterTypeSecureString) && quotesPartOf(err.Error(), p.Value) {
		if code == "" {
			code = "without an error code"
		}
		return fmt.Errorf("%s: AWS error %s (its message is left out because it quotes part of the SecureString value)", lead, code)
	}
	return fmt.Errorf("%s: %w", lead, command.Explain(err))
}

// quotesPartOf reports whether message contains a run of secret at least 8
// bytes long, or all of a shorter secret. AWS's validation messages quote
// the start of a value that is too long, which the connector's mask, made
// for the whole value, does not catch.
func quotesPartOf(message, secret string) bool {
	if secret == "" {
		return false
	}
	n := min(len(secret), 8)
	for i := 0; i+n <= len(secret); i++ {
		if strings.Contains(message, secret[i:i+n]) {
			return true
		}
	}
	return false
}

func tagKeys(tags []types.Tag) string {
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = aws.ToString(t.Key)
	}
	return strings.Join(keys, ", ")
}

// Tag rules of Systems Manager (API reference, Tag): a key of 1 to 128
// characters and a value of up to 256, both of letters, digits, spaces and
// _ . : / = + - @. Keys that start with aws: are reserved for AWS, and a
// resource has at most 50 tags.
var tagTextPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

const (
	maxTagKeyLength   = 128
	maxTagValueLength = 256
	maxTagsPerCall    = 50
)

// parseParameterTags reads the tags parameter: a JSON object such as
// {"Team": "soc"} (or the same dict as Python text, as playbooks pass it),
// or Key=Value pairs separated by commas. Empty text means no tags. The
// tags come back sorted by key and checked against the tag rules, so that
// an overwrite never writes the value and then fails on its tags.
func parseParameterTags(text string) ([]types.Tag, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}

	var pairs map[string]string
	var err error
	if strings.HasPrefix(text, "{") {
		pairs, err = parseTagObject(text)
	} else {
		pairs, err = parseTagPairs(text)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid parameter \"tags\": %w; expected a JSON object {\"Key\": \"Value\"} or Key=Value pairs separated by commas", err)
	}
	if len(pairs) > maxTagsPerCall {
		return nil, fmt.Errorf("invalid parameter \"tags\": %d tags given; a parameter has at most %d", len(pairs), maxTagsPerCall)
	}

	keys := make([]string, 0, len(pairs))
	for key := range pairs {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	tags := make([]types.Tag, 0, len(keys))
	for _, key := range keys {
		value := pairs[key]
		if err := checkTag(key, value); err != nil {
			return nil, fmt.Errorf("invalid parameter \"tags\": %w", err)
		}
		tags = append(tags, types.Tag{Key: aws.String(key), Value: aws.String(value)})
	}
	return tags, nil
}

// parseTagObject reads {"Key": "Value", ...}. Numbers and booleans become
// their text, so {"CostCenter": 1234} works as a playbook writes it.
func parseTagObject(text string) (map[string]string, error) {
	parsed, err := pyliteral.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("not a valid JSON object (%v)", err)
	}
	object, ok := parsed.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	pairs := make(map[string]string, len(object))
	for key, value := range object {
		switch v := value.(type) {
		case string:
			pairs[key] = v
		case json.Number:
			pairs[key] = v.String()
		case bool:
			pairs[key] = strconv.FormatBool(v)
		default:
			return nil, fmt.Errorf("the value of tag %q is not text", key)
		}
	}
	return pairs, nil
}

// parseTagPairs reads Team=soc,Env=prod. A value may contain "=", and no
// tag may contain ",", so splitting at commas loses nothing.
func parseTagPairs(text string) (map[string]string, error) {
	pairs := map[string]string{}
	for _, item := range strings.Split(text, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, found := strings.Cut(item, "=")
		if !found {
			return nil, fmt.Errorf("%q is not a Key=Value pair", item)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if _, dup := pairs[key]; dup {
			return nil, fmt.Errorf("tag %q is given twice", key)
		}
		pairs[key] = value
	}
	// The AWS CLI writes one tag as Key=Team,Value=soc; here that would be
	// two tags named Key and Value, which is surely not what was meant.
	if _, hasKey := pairs["Key"]; hasKey && len(pairs) == 2 {
		if value, hasValue := pairs["Value"]; hasValue {
			return nil, fmt.Errorf("Key=…,Value=… is the AWS CLI's form; write %s=%s instead", pairs["Key"], value)
		}
	}
	return pairs, nil
}

func checkTag(key, value string) error {
	switch {
	case key == "":
		return errors.New("a tag has an empty key")
	case utf8.RuneCountInString(key) > maxTagKeyLength:
		return fmt.Errorf("tag key %q is longer than %d characters", key, maxTagKeyLength)
	case utf8.RuneCountInString(value) > maxTagValueLength:
		return fmt.Errorf("the value of tag %q is longer than %d characters", key, maxTagValueLength)
	case strings.HasPrefix(strings.ToLower(key), "aws:"):
		return fmt.Errorf("tag key %q starts with aws:, which AWS reserves", key)
	case !tagTextPattern.MatchString(key):
		return fmt.Errorf("tag key %q has a character other than letters, digits, spaces and _ . : / = + - @", key)
	case !tagTextPattern.MatchString(value):
		return fmt.Errorf("the value of tag %q has a character other than letters, digits, spaces and _ . : / = + - @", key)
	}
	return nil
}
