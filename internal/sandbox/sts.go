package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// STS, query protocol: form-encoded Action=...&Version=2011-06-15 in, XML
// out. The sandbox serves GetCallerIdentity and AssumeRole, and keeps the
// temporary credentials it issues, with their expiry, for the SigV4 check.

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// Bounds of AssumeRole's DurationSeconds. AWS caps it further by the role's
// MaxSessionDuration, and sandbox roles all allow the maximum.
const (
	minRoleSession     = 900 * time.Second
	maxRoleSession     = 43200 * time.Second
	defaultRoleSession = time.Hour
	// maxChainedSession is AWS's limit for a role assumed with the
	// credentials of another assumed role.
	maxChainedSession = time.Hour
)

var (
	roleARNPattern     = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/((?:[\x21-\x7E]+/)*)([\w+=,.@-]{1,64})$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// credential is a key pair the sandbox accepts and the identity it stands for.
type credential struct {
	secret string
	// token and expiration are empty for the long-term example key.
	token      string
	expiration time.Time
	caller     Caller
}

// credentialStore contains the temporary credentials issued by STS and IMDS.
// Expired ones stay, so that a request signed with one gets ExpiredToken.
type credentialStore struct {
	mu     sync.Mutex
	issued map[string]credential
}

func (s *Server) lookupCredential(accessKeyID string) (credential, bool) {
	if accessKeyID == ExampleAccessKeyID {
		return credential{secret: ExampleSecretAccessKey, caller: s.exampleCaller()}, true
	}
	s.creds.mu.Lock()
	defer s.creds.mu.Unlock()
	cred, ok := s.creds.issued[accessKeyID]
	return cred, ok
}

func (s *Server) exampleCaller() Caller {
	return Caller{
		AccessKeyID: ExampleAccessKeyID,
		AccountID:   s.opts.AccountID,
		ARN:         "arn:aws:iam::" + s.opts.AccountID + ":user/" + ExampleUserName,
		UserID:      "AIDACKCEVSQ6C2EXAMPLE",
	}
}

// IssueCredentials issues temporary credentials for the instance role
// (InstanceRoleName, with the instance ID as session name) that expire after
// duration. The sandbox accepts them with their session token until then.
func (s *Server) IssueCredentials(duration time.Duration) (accessKeyID, secret, token string, expiration time.Time) {
	cred := s.issueRoleCredentials(s.instanceRoleARN(), s.opts.InstanceID, duration)
	return cred.caller.AccessKeyID, cred.secret, cred.token, cred.expiration
}

// issueRoleCredentials issues and stores credentials of an assumed role
// session. The expiry has AWS's whole-second precision.
func (s *Server) issueRoleCredentials(roleARN, sessionName string, duration time.Duration) credential {
	roleName := roleARN[strings.LastIndexByte(roleARN, '/')+1:]
	cred := credential{
		secret:     randomBase64(30),
		token:      newSessionToken(),
		expiration: s.now().Add(duration).UTC().Truncate(time.Second),
		caller: Caller{
			AccessKeyID: "ASIA" + randomBase32(16),
			AccountID:   s.opts.AccountID,
			ARN:         "arn:aws:sts::" + s.opts.AccountID + ":assumed-role/" + roleName + "/" + sessionName,
			UserID:      roleID(roleARN) + ":" + sessionName,
		},
	}

	s.creds.mu.Lock()
	defer s.creds.mu.Unlock()
	if s.creds.issued == nil {
		s.creds.issued = map[string]credential{}
	}
	s.creds.issued[cred.caller.AccessKeyID] = cred
	return cred
}

// newSessionToken returns an opaque token in the base64 alphabet that
// contains '/' and '+' and ends with "==", as AWS's tokens do, so that a
// caller that does not keep it byte for byte fails.
func newSessionToken() string {
	raw := make([]byte, 301) // 301 bytes encode with two '=' of padding
	rand.Read(raw)
	token := []byte(base64.StdEncoding.EncodeToString(raw))
	token[10] = '/'
	token[20] = '+'
	return string(token)
}

// roleID returns a stable unique ID for a role, in the form of AWS's
// AROA... IDs.
func roleID(roleARN string) string {
	sum := sha256.Sum256([]byte(roleARN))
	return "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func randomBase32(n int) string {
	raw := make([]byte, n)
	rand.Read(raw)
	return base32.StdEncoding.EncodeToString(raw)[:n]
}

func randomBase64(n int) string {
	raw := make([]byte, n)
	rand.Read(raw)
	return base64.StdEncoding.EncodeToString(raw)
}

// stsAction returns the Action parameter of a verified STS request.
func stsAction(in *inbound) string {
	return stsParams(in).Get("Action")
}

// stsParams merges the URL query and the form-encoded body.
func stsParams(in *inbound) url.Values {
	params, _ := url.ParseQuery(in.r.URL.RawQuery)
	if body, err := url.ParseQuery(string(in.body)); err == nil {
		for key, values := range body {
			params[key] = append(params[key], values...)
		}
	}
	return params
}

func (s *Server) serveSTS(w http.ResponseWriter, in *inbound) {
	params := stsParams(in)
	var result any
	var apiErr *APIError
	switch in.operation {
	case "GetCallerIdentity":
		result = s.getCallerIdentity(in.caller())
	case "AssumeRole":
		result, apiErr = s.assumeRole(in.caller(), params)
	default:
		apiErr = &APIError{
			Code:    "InvalidAction",
			Message: fmt.Sprintf("Could not find operation %s for version %s", in.operation, params.Get("Version")),
			Status:  http.StatusBadRequest,
		}
	}
	if apiErr != nil {
		s.writeSTSError(w, in.requestID, apiErr)
		return
	}
	s.writeSTSResult(w, in, result)
}

type stsCallerIdentity struct {
	Arn     string
	UserId  string
	Account string
}

func (s *Server) getCallerIdentity(caller Caller) stsCallerIdentity {
	return stsCallerIdentity{Arn: caller.ARN, UserId: caller.UserID, Account: caller.AccountID}
}

type stsAssumeRoleResult struct {
	Credentials struct {
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	AssumedRoleUser struct {
		Arn           string
		AssumedRoleId string
	}
	PackedPolicySize int
}

// assumeRole validates an AssumeRole request as STS does and issues the
// role session's credentials.
func (s *Server) assumeRole(caller Caller, params url.Values) (*stsAssumeRoleResult, *APIError) {
	roleARN := params.Get("RoleArn")
	sessionName := params.Get("RoleSessionName")
	switch {
	case roleARN == "":
		return nil, validationError("Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case sessionName == "":
		return nil, validationError("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}

	match := roleARNPattern.FindStringSubmatch(roleARN)
	if match == nil || len(roleARN) > 2048 {
		return nil, validationError(fmt.Sprintf("Value '%s' at 'roleArn' failed to satisfy constraint: Member must be an IAM role ARN of the form arn:aws:iam::ACCOUNT:role/NAME", roleARN))
	}
	if match[1] != s.opts.AccountID {
		return nil, &APIError{
			Code:    "AccessDenied",
			Message: fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, roleARN),
			Status:  http.StatusForbidden,
		}
	}
	if !sessionNamePattern.MatchString(sessionName) {
		return nil, validationError(fmt.Sprintf("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and match the regular expression pattern: [\\w+=,.@-]*", sessionName))
	}
	if externalID := params.Get("ExternalId"); params.Has("ExternalId") && (len(externalID) < 2 || len(externalID) > 1224 || !externalIDPattern.MatchString(externalID)) {
		return nil, validationError(fmt.Sprintf("Value '%s' at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224 and match the regular expression pattern: [\\w+=,.@:\\/-]*", externalID))
	}

	duration := defaultRoleSession
	if raw := params.Get("DurationSeconds"); raw != "" {
		seconds, err := strconv.Atoi(raw)
		if err != nil {
			return nil, validationError(fmt.Sprintf("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be a whole number of seconds", raw))
		}
		duration = time.Duration(seconds) * time.Second
		switch {
		case duration < minRoleSession:
			return nil, validationError(fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", seconds))
		case duration > maxRoleSession:
			return nil, validationError(fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", seconds))
		case duration > maxChainedSession && strings.Contains(caller.ARN, ":assumed-role/"):
			return nil, &APIError{Code: "ValidationError", Message: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.", Status: http.StatusBadRequest}
		}
	}

	cred := s.issueRoleCredentials(roleARN, sessionName, duration)
	result := &stsAssumeRoleResult{}
	result.Credentials.AccessKeyId = cred.caller.AccessKeyID
	result.Credentials.SecretAccessKey = cred.secret
	result.Credentials.SessionToken = cred.token
	result.Credentials.Expiration = cred.expiration.Format(time.RFC3339)
	result.AssumedRoleUser.Arn = cred.caller.ARN
	result.AssumedRoleUser.AssumedRoleId = cred.caller.UserID
	return result, nil
}

func validationError(detail string) *APIError {
	return &APIError{Code: "ValidationError", Message: "1 validation error detected: " + detail, Status: http.StatusBadRequest}
}

// writeSTSResult writes <ActionResponse><ActionResult>result</ActionResult>
// <ResponseMetadata><RequestId>..</RequestId></ResponseMetadata></ActionResponse>.
func (s *Server) writeSTSResult(w http.ResponseWriter, in *inbound, result any) {
	type responseMetadata struct {
		RequestId string
	}
	type response struct {
		XMLName          xml.Name
		Xmlns            string `xml:"xmlns,attr"`
		Result           any
		ResponseMetadata responseMetadata
	}
	body, err := xml.Marshal(response{
		XMLName:          xml.Name{Local: in.operation + "Response"},
		Xmlns:            stsNamespace,
		Result:           resultElement{name: in.operation + "Result", value: result},
		ResponseMetadata: responseMetadata{RequestId: in.requestID},
	})
	if err != nil {
		s.log.Error("encode STS result", "operation", in.operation, "request_id", in.requestID, "error", err)
		s.writeSTSError(w, in.requestID, serverError("sts"))
		return
	}
	s.writeXML(w, in.requestID, http.StatusOK, "text/xml", body)
}

// resultElement encodes value under an element named at run time.
type resultElement struct {
	name  string
	value any
}

func (e resultElement) MarshalXML(enc *xml.Encoder, _ xml.StartElement) error {
	return enc.EncodeElement(e.value, xml.StartElement{Name: xml.Name{Local: e.name}})
}

// writeSTSError writes apiErr in the query protocol's ErrorResponse shape.
func (s *Server) writeSTSError(w http.ResponseWriter, requestID string, apiErr *APIError) {
	type errorDetail struct {
		Type    string
		Code    string
		Message string
	}
	type errorResponse struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Error     errorDetail
		RequestId string
	}
	faultType := "Sender"
	if apiErr.status() >= 500 {
		faultType = "Receiver"
	}
	body, _ := xml.Marshal(errorResponse{
		Xmlns:     stsNamespace,
		Error:     errorDetail{Type: faultType, Code: apiErr.Code, Message: apiErr.Message},
		RequestId: requestID,
	})
	s.writeXML(w, requestID, apiErr.status(), "text/xml", body)
}

func (s *Server) writeXML(w http.ResponseWriter, requestID string, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h["x-amzn-RequestId"] = []string{requestID}
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
