package sandbox

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EC2 instance metadata, IMDSv2 only: every GET needs a session token from
// PUT /latest/api/token.

// InstanceRoleName is the IAM role of the instance that metadata describes.
const InstanceRoleName = "awsssm-sandbox-role"

const (
	imdsTokenPath     = "/latest/api/token"
	imdsTTLHeader     = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	imdsTokenHeader   = "X-Aws-Ec2-Metadata-Token"
	maxIMDSTokenTTL   = 21600
	roleCredsPath     = "/latest/meta-data/iam/security-credentials/"
	identityDocPath   = "/latest/dynamic/instance-identity/document"
	roleCredsLifetime = 6 * time.Hour
	// roleCredsRefresh is how long before expiry metadata hands out new role
	// credentials. EC2 does so at least five minutes ahead.
	roleCredsRefresh = time.Hour
)

type imdsState struct {
	mu     sync.Mutex
	tokens map[string]time.Time
	// roleCreds are the role credentials currently served.
	roleCreds       credential
	roleCredsIssued time.Time
}

func (s *Server) instanceRoleARN() string {
	return "arn:aws:iam::" + s.opts.AccountID + ":role/" + InstanceRoleName
}

func (s *Server) serveIMDS(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &responseRecorder{ResponseWriter: w}
	operation := imdsOperation(r.URL.Path)
	defer func() {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
			slog.String("service", "imds"),
			slog.String("operation", operation),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)))
	}()
	s.faults.countCall(operation)

	if r.URL.Path == imdsTokenPath {
		s.serveIMDSToken(rec, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		imdsError(rec, http.StatusMethodNotAllowed)
		return
	}
	if !s.validIMDSToken(r.Header.Get(imdsTokenHeader)) {
		imdsError(rec, http.StatusUnauthorized)
		return
	}

	path := r.URL.Path
	switch {
	case path == "/latest/meta-data/" || path == "/latest/meta-data":
		imdsText(rec, "iam/\ninstance-id\nplacement/")
	case path == "/latest/meta-data/instance-id":
		imdsText(rec, s.opts.InstanceID)
	case path == "/latest/meta-data/placement/region":
		imdsText(rec, s.opts.Region)
	case path == "/latest/meta-data/placement/availability-zone":
		imdsText(rec, s.opts.Region+"a")
	case path == roleCredsPath:
		imdsText(rec, InstanceRoleName)
	case path == roleCredsPath+InstanceRoleName:
		s.serveRoleCredentials(rec)
	case path == identityDocPath:
		s.serveIdentityDocument(rec)
	default:
		imdsError(rec, http.StatusNotFound)
	}
}

// imdsOperation names a metadata request as the SDK's imds client does.
func imdsOperation(path string) string {
	switch {
	case path == imdsTokenPath:
		return "GetToken"
	case strings.HasPrefix(path, "/latest/dynamic/"):
		return "GetDynamicData"
	default:
		return "GetMetadata"
	}
}

func (s *Server) serveIMDSToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		imdsError(w, http.StatusMethodNotAllowed)
		return
	}
	if s.faults.tokenNoAnswer() {
		// Hold the request until the client gives up, then drop it without
		// a response.
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
		panic(http.ErrAbortHandler)
	}
	// EC2 refuses token requests that went through a proxy.
	if r.Header.Get("X-Forwarded-For") != "" {
		imdsError(w, http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(imdsTTLHeader))
	if err != nil || ttl < 1 || ttl > maxIMDSTokenTTL {
		imdsError(w, http.StatusBadRequest)
		return
	}

	token := randomBase64(42)
	now := s.now()
	s.imds.mu.Lock()
	if s.imds.tokens == nil {
		s.imds.tokens = map[string]time.Time{}
	}
	for t, expiry := range s.imds.tokens {
		if !now.Before(expiry) {
			delete(s.imds.tokens, t)
		}
	}
	s.imds.tokens[token] = now.Add(time.Duration(ttl) * time.Second)
	s.imds.mu.Unlock()

	w.Header().Set(imdsTTLHeader, strconv.Itoa(ttl))
	imdsText(w, token)
}

func (s *Server) validIMDSToken(token string) bool {
	if token == "" {
		return false
	}
	s.imds.mu.Lock()
	defer s.imds.mu.Unlock()
	expiry, ok := s.imds.tokens[token]
	return ok && s.now().Before(expiry)
}

// serveRoleCredentials serves the instance role's temporary credentials.
// Like EC2, it returns the same ones until they come close to expiry.
func (s *Server) serveRoleCredentials(w http.ResponseWriter) {
	now := s.now()
	s.imds.mu.Lock()
	cred, issued := s.imds.roleCreds, s.imds.roleCredsIssued
	if cred.token == "" || cred.expiration.Sub(now) < roleCredsRefresh {
		cred = s.issueRoleCredentials(s.instanceRoleARN(), s.opts.InstanceID, roleCredsLifetime)
		issued = now
		s.imds.roleCreds, s.imds.roleCredsIssued = cred, issued
	}
	s.imds.mu.Unlock()

	imdsJSON(w, map[string]string{
		"Code":            "Success",
		"LastUpdated":     issued.UTC().Format(time.RFC3339),
		"Type":            "AWS-HMAC",
		"AccessKeyId":     cred.caller.AccessKeyID,
		"SecretAccessKey": cred.secret,
		"Token":           cred.token,
		"Expiration":      cred.expiration.Format(time.RFC3339),
	})
}

func (s *Server) serveIdentityDocument(w http.ResponseWriter) {
	imdsJSON(w, map[string]any{
		"accountId":        s.opts.AccountID,
		"architecture":     "x86_64",
		"availabilityZone": s.opts.Region + "a",
		"imageId":          "ami-0123456789abcdef0",
		"instanceId":       s.opts.InstanceID,
		"instanceType":     "t3.micro",
		"privateIp":        "127.0.0.1",
		"region":           s.opts.Region,
		"version":          "2017-09-30",
	})
}

func imdsText(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(text))
}

func imdsJSON(w http.ResponseWriter, v any) {
	body, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// imdsError writes status and the HTML page that EC2's metadata service
// sends with it.
func imdsError(w http.ResponseWriter, status int) {
	text := strconv.Itoa(status) + " - " + http.StatusText(status)
	body := "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<html><head><title>" + text +
		"</title></head><body><h1>" + text + "</h1></body></html>\n"
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write([]byte(body))
}
