package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SigV4 verification, written from AWS's "Signature Version 4 signing
// process" and checked against the canonical request that the AWS SDK for
// Go v2 (aws/signer/v4) builds.

const (
	sigV4Algorithm   = "AWS4-HMAC-SHA256"
	amzDateFormat    = "20060102T150405Z"
	scopeDateFormat  = "20060102"
	maxClockSkew     = 15 * time.Minute
	maxPresignExpiry = 7 * 24 * time.Hour

	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// Values of X-Amz-Content-Sha256 other than a hex SHA-256 (S3 only).
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// sigV4 is the signature of a request, from its Authorization header or its
// presigned query.
type sigV4 struct {
	AccessKeyID   string
	ScopeDate     string
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string
	// Time is the signing time, from X-Amz-Date (or Date).
	Time          time.Time
	Presigned     bool
	Expires       time.Duration
	SecurityToken string
}

func (sig *sigV4) scope() string {
	return sig.ScopeDate + "/" + sig.Region + "/" + sig.Service + "/aws4_request"
}

// authFailure is a reason to reject a request before it reaches a service.
type authFailure int

const (
	authMissing authFailure = iota + 1
	authMalformed
	authUnknownKey
	authInvalidToken
	authExpiredToken
	authSignatureMismatch
	authTimeSkewed
	authPresignExpired
	authPayloadMismatch
	authMissingContentSHA256
)

type authError struct {
	failure authFailure
	// detail replaces the service's standard message when set.
	detail string
}

// authErrors gives, for each failure, the error that each service returns.
var authErrors = map[authFailure]struct{ ssm, sts, s3 APIError }{
	authMissing: {
		ssm: APIError{"MissingAuthenticationTokenException", "Missing Authentication Token", http.StatusBadRequest},
		sts: APIError{"MissingAuthenticationToken", "Request is missing Authentication Token", http.StatusForbidden},
		s3:  APIError{"AccessDenied", "Access Denied", http.StatusForbidden},
	},
	authMalformed: {
		ssm: APIError{"IncompleteSignatureException", "The request signature is malformed.", http.StatusBadRequest},
		sts: APIError{"IncompleteSignature", "The request signature is malformed.", http.StatusBadRequest},
		s3:  APIError{"AuthorizationHeaderMalformed", "The authorization header is malformed.", http.StatusBadRequest},
	},
	authUnknownKey: {
		ssm: APIError{"UnrecognizedClientException", "The security token included in the request is invalid.", http.StatusBadRequest},
		sts: APIError{"InvalidClientTokenId", "The security token included in the request is invalid.", http.StatusForbidden},
		s3:  APIError{"InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", http.StatusForbidden},
	},
	authInvalidToken: {
		ssm: APIError{"UnrecognizedClientException", "The security token included in the request is invalid.", http.StatusBadRequest},
		sts: APIError{"InvalidClientTokenId", "The security token included in the request is invalid.", http.StatusForbidden},
		s3:  APIError{"InvalidToken", "The provided token is malformed or otherwise invalid.", http.StatusBadRequest},
	},
	authExpiredToken: {
		ssm: APIError{"ExpiredTokenException", "The security token included in the request is expired", http.StatusBadRequest},
		sts: APIError{"ExpiredToken", "The security token included in the request is expired", http.StatusBadRequest},
		s3:  APIError{"ExpiredToken", "The provided token has expired.", http.StatusBadRequest},
	},
	authSignatureMismatch: {
		ssm: APIError{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", http.StatusBadRequest},
		sts: APIError{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", http.StatusForbidden},
		s3:  APIError{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.", http.StatusForbidden},
	},
	authTimeSkewed: {
		ssm: APIError{"InvalidSignatureException", "Signature expired", http.StatusBadRequest},
		sts: APIError{"SignatureDoesNotMatch", "Signature expired", http.StatusForbidden},
		s3:  APIError{"RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", http.StatusForbidden},
	},
	authPresignExpired: {
		ssm: APIError{"InvalidSignatureException", "Signature expired", http.StatusBadRequest},
		sts: APIError{"SignatureDoesNotMatch", "Signature expired", http.StatusForbidden},
		s3:  APIError{"AccessDenied", "Request has expired", http.StatusForbidden},
	},
	authPayloadMismatch: {
		ssm: APIError{"InvalidSignatureException", "The request body does not match its x-amz-content-sha256 header.", http.StatusBadRequest},
		sts: APIError{"SignatureDoesNotMatch", "The request body does not match its x-amz-content-sha256 header.", http.StatusForbidden},
		s3:  APIError{"XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", http.StatusBadRequest},
	},
	authMissingContentSHA256: {
		ssm: APIError{"IncompleteSignatureException", "Missing required header for this request: x-amz-content-sha256", http.StatusBadRequest},
		sts: APIError{"IncompleteSignature", "Missing required header for this request: x-amz-content-sha256", http.StatusBadRequest},
		s3:  APIError{"InvalidRequest", "Missing required header for this request: x-amz-content-sha256", http.StatusBadRequest},
	},
}

// apiError returns the error that service returns for e.
func (e *authError) apiError(service string) *APIError {
	errs := authErrors[e.failure]
	apiErr := errs.ssm
	switch service {
	case "sts":
		apiErr = errs.sts
	case "s3":
		apiErr = errs.s3
	}
	// S3 reports a skewed clock with a fixed message.
	if e.detail != "" && !(service == "s3" && e.failure == authTimeSkewed) {
		apiErr.Message = e.detail
	}
	return &apiErr
}

func malformed(format string, args ...any) *authError {
	return &authError{failure: authMalformed, detail: fmt.Sprintf(format, args...)}
}

// parseSigV4 reads the signature of r. On a malformed signature it still
// returns what it could read, so that the error takes the shape of the
// service in the credential scope.
func parseSigV4(r *http.Request) (*sigV4, *authError) {
	if header := r.Header.Get("Authorization"); header != "" {
		return parseAuthorizationHeader(r, header)
	}
	query := r.URL.Query()
	if query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature") || query.Has("X-Amz-Algorithm") {
		return parsePresignedQuery(query)
	}
	return nil, &authError{failure: authMissing}
}

// parseAuthorizationHeader reads
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX".
func parseAuthorizationHeader(r *http.Request, header string) (*sigV4, *authError) {
	algorithm, rest, _ := strings.Cut(header, " ")
	if algorithm != sigV4Algorithm {
		return nil, malformed("Unsupported authorization type %q; the sandbox accepts only %s.", algorithm, sigV4Algorithm)
	}

	fields := map[string]string{}
	for _, field := range strings.Split(rest, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return nil, malformed("Authorization header field %q is not of the form Key=Value.", strings.TrimSpace(field))
		}
		fields[key] = value
	}

	sig := &sigV4{}
	if err := sig.parseCredential(fields["Credential"]); err != nil {
		return sig, err
	}
	for _, key := range []string{"SignedHeaders", "Signature"} {
		if fields[key] == "" {
			return sig, malformed("Authorization header requires '%s' parameter.", key)
		}
	}
	sig.SignedHeaders = strings.Split(fields["SignedHeaders"], ";")
	sig.Signature = fields["Signature"]
	sig.SecurityToken = r.Header.Get("X-Amz-Security-Token")

	if amzDate := r.Header.Get("X-Amz-Date"); amzDate != "" {
		t, err := time.Parse(amzDateFormat, amzDate)
		if err != nil {
			return sig, malformed("X-Amz-Date %q is not in the form %s.", amzDate, amzDateFormat)
		}
		sig.Time = t
	} else if date := r.Header.Get("Date"); date != "" {
		t, err := http.ParseTime(date)
		if err != nil {
			return sig, malformed("Date header %q is not an HTTP date.", date)
		}
		sig.Time = t.UTC()
	} else {
		return sig, malformed("Authorization requires a valid Date or X-Amz-Date header.")
	}
	return sig, sig.check()
}

func parsePresignedQuery(query url.Values) (*sigV4, *authError) {
	sig := &sigV4{Presigned: true}
	if err := sig.parseCredential(query.Get("X-Amz-Credential")); err != nil {
		return sig, err
	}
	if algorithm := query.Get("X-Amz-Algorithm"); algorithm != sigV4Algorithm {
		return sig, malformed("X-Amz-Algorithm %q is not supported; the sandbox accepts only %s.", algorithm, sigV4Algorithm)
	}
	for _, key := range []string{"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date", "X-Amz-Expires"} {
		if query.Get(key) == "" {
			return sig, malformed("Query-string authentication requires the %s parameter.", key)
		}
	}
	sig.SignedHeaders = strings.Split(query.Get("X-Amz-SignedHeaders"), ";")
	sig.Signature = query.Get("X-Amz-Signature")
	sig.SecurityToken = query.Get("X-Amz-Security-Token")

	t, err := time.Parse(amzDateFormat, query.Get("X-Amz-Date"))
	if err != nil {
		return sig, malformed("X-Amz-Date %q is not in the form %s.", query.Get("X-Amz-Date"), amzDateFormat)
	}
	sig.Time = t

	seconds, err := strconv.Atoi(query.Get("X-Amz-Expires"))
	expires := time.Duration(seconds) * time.Second
	if err != nil || seconds <= 0 || expires > maxPresignExpiry {
		return sig, malformed("X-Amz-Expires must be a number of seconds from 1 to %d.", int(maxPresignExpiry.Seconds()))
	}
	sig.Expires = expires
	return sig, sig.check()
}

// parseCredential reads "AKID/DATE/REGION/SERVICE/aws4_request".
func (sig *sigV4) parseCredential(credential string) *authError {
	if credential == "" {
		return malformed("The request is missing its credential (Credential=ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request).")
	}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return malformed("Credential %q is not of the form ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request.", credential)
	}
	sig.AccessKeyID, sig.ScopeDate, sig.Region, sig.Service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// check validates what parsing cannot: the scope's date and the presence of
// host among the signed headers.
func (sig *sigV4) check() *authError {
	if sig.Time.Format(scopeDateFormat) != sig.ScopeDate {
		return malformed("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: %q != %q.", sig.ScopeDate, sig.Time.Format(scopeDateFormat))
	}
	for _, name := range sig.SignedHeaders {
		if name == "host" {
			return nil
		}
	}
	return malformed("'Host' must be a 'SignedHeader' in the AWS Authorization.")
}

// verifiedRequest is the identity and signing material of a request whose
// signature is valid.
type verifiedRequest struct {
	sig    *sigV4
	caller Caller
	// signingKey and payloadHash are kept for S3, which checks a streamed
	// body after the headers.
	signingKey  []byte
	payloadHash string
}

// verifySigV4 checks sig against the sandbox's keys, the clock, and the
// request. body is the whole request body for SSM and STS, nil for S3, whose
// payload hash comes from X-Amz-Content-Sha256 and is checked later.
func (s *Server) verifySigV4(r *http.Request, sig *sigV4, body []byte) (*verifiedRequest, *authError) {
	cred, ok := s.lookupCredential(sig.AccessKeyID)
	if !ok {
		return nil, &authError{failure: authUnknownKey}
	}
	now := s.now()

	// A long-term key must come without a session token, and a temporary
	// one with exactly the token it was issued with.
	if cred.token == "" {
		if sig.SecurityToken != "" {
			return nil, &authError{failure: authInvalidToken}
		}
	} else {
		if subtle.ConstantTimeCompare([]byte(sig.SecurityToken), []byte(cred.token)) != 1 {
			return nil, &authError{failure: authInvalidToken}
		}
		if !now.Before(cred.expiration) {
			return nil, &authError{failure: authExpiredToken}
		}
	}

	if err := checkSigningTime(sig, now); err != nil {
		return nil, err
	}

	payloadHash, bodyMismatch, authErr := payloadHashOf(r, sig, body)
	if authErr != nil {
		return nil, authErr
	}

	key := deriveSigningKey(cred.secret, sig.ScopeDate, sig.Region, sig.Service)
	canonical := canonicalRequest(r, sig, payloadHash)
	expected := hex.EncodeToString(hmacSHA256(key, stringToSign(sig, canonical)))
	if !hmac.Equal([]byte(expected), []byte(sig.Signature)) {
		s.log.Debug("signature mismatch", "access_key_id", sig.AccessKeyID, "canonical_request", redactCanonical(canonical, sig.SecurityToken))
		return nil, &authError{failure: authSignatureMismatch}
	}
	if bodyMismatch {
		return nil, &authError{failure: authPayloadMismatch}
	}
	return &verifiedRequest{sig: sig, caller: cred.caller, signingKey: key, payloadHash: payloadHash}, nil
}

// checkSigningTime rejects a header signature made more than 15 minutes
// from now, and a presigned URL that has expired or is not valid yet.
func checkSigningTime(sig *sigV4, now time.Time) *authError {
	signed := sig.Time.Format(amzDateFormat)
	if sig.Presigned {
		if sig.Time.After(now.Add(maxClockSkew)) {
			return &authError{failure: authTimeSkewed, detail: "Request is not yet valid"}
		}
		if now.After(sig.Time.Add(sig.Expires)) {
			return &authError{failure: authPresignExpired}
		}
		return nil
	}
	if now.Sub(sig.Time) > maxClockSkew {
		return &authError{failure: authTimeSkewed, detail: fmt.Sprintf(
			"Signature expired: %s is now earlier than %s (%s - 15 min.)",
			signed, now.Add(-maxClockSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat))}
	}
	if sig.Time.Sub(now) > maxClockSkew {
		return &authError{failure: authTimeSkewed, detail: fmt.Sprintf(
			"Signature not yet current: %s is still later than %s (%s + 15 min.)",
			signed, now.Add(maxClockSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat))}
	}
	return nil
}

// payloadHashOf returns the payload hash that goes into the canonical
// request. For SSM and STS it is the SHA-256 of body, and bodyMismatch
// reports an X-Amz-Content-Sha256 header that says otherwise. S3 signs the
// header's value (a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING- mode),
// which the S3 layer checks against the body as it reads it.
func payloadHashOf(r *http.Request, sig *sigV4, body []byte) (hash string, bodyMismatch bool, err *authError) {
	header := r.Header.Get("X-Amz-Content-Sha256")
	if sig.Service == "s3" {
		switch {
		case header != "":
			return header, false, nil
		case sig.Presigned:
			if fromQuery := r.URL.Query().Get("X-Amz-Content-Sha256"); fromQuery != "" {
				return fromQuery, false, nil
			}
			return unsignedPayload, false, nil
		default:
			return "", false, &authError{failure: authMissingContentSHA256}
		}
	}

	sum := sha256Hex(body)
	if header != "" {
		return header, header != sum, nil
	}
	return sum, false, nil
}

// canonicalRequest builds the SigV4 canonical request of r.
func canonicalRequest(r *http.Request, sig *sigV4, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r, sig.Service))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, sig.Presigned))
	b.WriteByte('\n')
	for _, name := range sig.SignedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(sig.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURI is the path as the client sent it. S3 signs it as it is, and
// every other service signs it URI-encoded once more, byte by byte, leaving
// only unreserved characters and '/'.
func canonicalURI(r *http.Request, service string) string {
	path := rawRequestPath(r)
	if service == "s3" {
		return path
	}
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		if isUnreserved(c) || c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// rawRequestPath returns the path of r exactly as it came on the wire.
func rawRequestPath(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = r.URL.EscapedPath()
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if uri == "" {
		return "/"
	}
	return uri
}

// canonicalQuery decodes and re-encodes every query parameter, sorted by
// name and then value. A presigned request leaves out its own signature.
func canonicalQuery(rawQuery string, presigned bool) string {
	values, _ := url.ParseQuery(rawQuery)
	type param struct{ key, value string }
	var params []param
	for key, vals := range values {
		if presigned && key == "X-Amz-Signature" {
			continue
		}
		for _, v := range vals {
			params = append(params, param{uriEncode(key), uriEncode(v)})
		}
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].key != params[j].key {
			return params[i].key < params[j].key
		}
		return params[i].value < params[j].value
	})
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = p.key + "=" + p.value
	}
	return strings.Join(parts, "&")
}

// canonicalHeaderValue returns the values of header name, each trimmed and
// with inner runs of spaces collapsed, joined by commas.
func canonicalHeaderValue(r *http.Request, name string) string {
	if name == "host" {
		return r.Host
	}
	values := r.Header.Values(name)
	if len(values) == 0 && name == "content-length" && r.ContentLength > 0 {
		return strconv.FormatInt(r.ContentLength, 10)
	}
	cleaned := make([]string, len(values))
	for i, v := range values {
		cleaned[i] = collapseSpaces(v)
	}
	return strings.Join(cleaned, ",")
}

// collapseSpaces turns each run of spaces in v into one and trims white
// space from both ends. Like the SDK's signer, it leaves inner tabs alone.
func collapseSpaces(v string) string {
	for strings.Contains(v, "  ") {
		v = strings.ReplaceAll(v, "  ", " ")
	}
	return strings.TrimSpace(v)
}

func stringToSign(sig *sigV4, canonical string) string {
	return sigV4Algorithm + "\n" +
		sig.Time.Format(amzDateFormat) + "\n" +
		sig.scope() + "\n" +
		sha256Hex([]byte(canonical))
}

func deriveSigningKey(secret, date, region, service string) []byte {
	key := hmacSHA256([]byte("AWS4"+secret), date)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	return hmacSHA256(key, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// uriEncode percent-encodes every byte but the unreserved characters.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// redactCanonical hides the session token in a canonical request written to
// the debug log.
func redactCanonical(canonical, token string) string {
	if token == "" {
		return canonical
	}
	canonical = strings.ReplaceAll(canonical, token, "REDACTED")
	return strings.ReplaceAll(canonical, uriEncode(token), "REDACTED")
}
