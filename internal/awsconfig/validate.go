package awsconfig

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// AssetError is a problem with the asset configuration, so no parameter set
// can run and the connector exits with status 2. Field is the asset field to
// fix, or "" when several are involved.
type AssetError struct {
	Field string
	Err   error
}

func (e *AssetError) Error() string {
	if e.Field == "" {
		return "asset configuration: " + e.Err.Error()
	}
	return "asset field " + e.Field + ": " + e.Err.Error()
}

func (e *AssetError) Unwrap() error { return e.Err }

// ParameterError is a problem with an action parameter (credentials or
// region), so only its parameter set fails and the connector exits with
// status 1. Its message starts like those of the other parameters:
// invalid parameter "region": ...
type ParameterError struct {
	Parameter string
	Err       error
}

func (e *ParameterError) Error() string {
	return fmt.Sprintf("invalid parameter %q: %v", e.Parameter, e.Err)
}

func (e *ParameterError) Unwrap() error { return e.Err }

func assetError(field, format string, args ...any) error {
	return &AssetError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Formats of IAM names, from the IAM and STS API references.
var (
	accessKeyIDPattern     = regexp.MustCompile(`^[A-Za-z0-9]{16,128}$`)
	roleARNPattern         = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\x21-\x7E]*/)?[\w+=,.@-]{1,64}$`)
	externalIDPattern      = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // 2 to 1224 characters
	roleSessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

// Bounds of AssumeRole's DurationSeconds. Each role sets its own maximum,
// between 1 and 12 hours, and AWS rejects a request above it.
const (
	minSessionDuration = 900
	maxSessionDuration = 43200
)

// ValidateAsset checks the asset configuration without contacting AWS. It
// returns an *AssetError for an invalid region, endpoint_url,
// default_s3_bucket, access key pair, role_arn, external_id,
// role_session_name or session_duration.
//
// An asset with neither keys nor use_role is valid here, because every
// action but test connectivity may pass the credentials parameter. New
// rejects it, with an *AssetError, for a parameter set without that
// parameter.
func ValidateAsset(a Asset) error {
	var errs []error

	if strings.TrimSpace(a.Region) == "" {
		errs = append(errs, assetError("region", "missing; choose the region of the managed instances, such as \"US East (N. Virginia)\""))
	} else if _, err := ResolveRegion(a.Region); err != nil {
		errs = append(errs, &AssetError{Field: "region", Err: err})
	}

	if a.EndpointURL != "" {
		if _, err := parseEndpointURL(a.EndpointURL); err != nil {
			errs = append(errs, &AssetError{Field: "endpoint_url", Err: err})
		}
	}

	if bucket := strings.TrimSpace(a.DefaultS3Bucket); bucket != "" {
		if err := CheckBucketName(bucket); err != nil {
			errs = append(errs, &AssetError{Field: "default_s3_bucket", Err: err})
		}
	}

	errs = append(errs, validateKeys(a)...)
	errs = append(errs, validateRole(a)...)

	if len(errs) == 1 {
		return errs[0]
	}
	if len(errs) > 1 {
		return &AssetError{Err: errors.Join(errs...)}
	}
	return nil
}

func validateKeys(a Asset) []error {
	accessKey := strings.TrimSpace(a.AccessKey)
	secretKey := strings.TrimSpace(a.SecretKey)
	switch {
	case accessKey != "" && secretKey == "":
		return []error{assetError("secret_key", "missing while access_key is set; fill in both or neither")}
	case accessKey == "" && secretKey != "":
		return []error{assetError("access_key", "missing while secret_key is set; fill in both or neither")}
	case accessKey != "" && !accessKeyIDPattern.MatchString(accessKey):
		return []error{assetError("access_key", "invalid: an access key ID is 16 to 128 letters and digits, such as AKIAIOSFODNN7EXAMPLE")}
	case containsControlCharacter(secretKey):
		return []error{assetError("secret_key", "invalid: it contains a line break or control character; paste the secret access key again")}
	case strings.ContainsFunc(secretKey, unicode.IsSpace):
		return []error{assetError("secret_key", "invalid: it contains white space; paste the secret access key again")}
	}
	return nil
}

func validateRole(a Asset) []error {
	var errs []error
	if a.RoleARN != "" && !roleARNPattern.MatchString(strings.TrimSpace(a.RoleARN)) {
		errs = append(errs, assetError("role_arn", "invalid: %s is not an IAM role ARN such as arn:aws:iam::123456789012:role/ssm-operator", quoteShort(a.RoleARN)))
	}
	if a.ExternalID != "" && (len(a.ExternalID) < 2 || len(a.ExternalID) > 1224 || !externalIDPattern.MatchString(a.ExternalID)) {
		errs = append(errs, assetError("external_id", "invalid: an external ID is 2 to 1224 letters, digits and the characters +=,.@:/-"))
	}
	if a.RoleSessionName != "" && !roleSessionNamePattern.MatchString(a.RoleSessionName) {
		errs = append(errs, assetError("role_session_name", "invalid: %s is not 2 to 64 letters, digits and the characters +=,.@-", quoteShort(a.RoleSessionName)))
	}
	if a.SessionDuration != 0 && (a.SessionDuration < minSessionDuration || a.SessionDuration > maxSessionDuration) {
		errs = append(errs, assetError("session_duration", "invalid: %d seconds is outside %d to %d; leave it empty for one hour", a.SessionDuration, minSessionDuration, maxSessionDuration))
	}
	return errs
}

// parseEndpointURL checks an endpoint_url: an http or https URL with a host
// and without a user name, password, query or fragment.
func parseEndpointURL(raw string) (*url.URL, error) {
	trimmed := strings.TrimSpace(raw)
	// url.Parse rejects a port such as the placeholder PORT without saying
	// which part is wrong, so the port is checked first.
	if port := endpointPort(trimmed); port != "" && !validPort(port) {
		return nil, fmt.Errorf("invalid: port %s is not a number from 1 to 65535", quoteShort(port))
	}
	u, err := url.Parse(trimmed)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errors.New("invalid: expected an http or https URL such as https://ssm.us-east-1.amazonaws.com")
	}
	if u.User != nil {
		return nil, errors.New("invalid: the URL must not contain a user name or password")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid: %s has a query or fragment; give the scheme, host and port only", quoteShort(u.Redacted()))
	}
	return u, nil
}

// endpointPort returns the port of an http or https URL as written, or ""
// when the URL has none or another scheme.
func endpointPort(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || (!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https")) {
		return ""
	}
	authority := rest
	if end := strings.IndexAny(authority, "/?#"); end >= 0 {
		authority = authority[:end]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		authority = authority[at+1:]
	}
	// An IPv6 address has colons of its own inside the brackets.
	if strings.HasPrefix(authority, "[") {
		end := strings.Index(authority, "]")
		if end < 0 {
			return ""
		}
		authority = authority[end+1:]
	}
	_, port, _ := strings.Cut(authority, ":")
	return port
}

// validPort reports whether port is a decimal number from 1 to 65535.
func validPort(port string) bool {
	if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}
