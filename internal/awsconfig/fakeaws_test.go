package awsconfig

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAWS is a loopback server that responds to STS GetCallerIdentity and
// AssumeRole in the query protocol, and to IMDSv2 under /latest/, and records
// every request. It checks no signature, because the sandbox tests do that.
type fakeAWS struct {
	*httptest.Server

	mu       sync.Mutex
	requests []fakeRequest

	throttle      int  // the number of STS requests still to fail with Throttling
	denyAssume    bool // fail AssumeRole with AccessDenied
	imdsTokenHang bool // hold PUT /latest/api/token until the client gives up
	imdsTokenCode int  // respond to PUT /latest/api/token with this status, when not 0
}

// fakeRequest is what fakeAWS saw of one request.
type fakeRequest struct {
	Method, Host, Path string
	Action             string // STS action
	AccessKeyID        string // from the SigV4 credential scope
	Region, Service    string // from the SigV4 credential scope
	SecurityToken      string
	IMDSToken          string
	Form               map[string]string
}

// Credentials that fakeAWS hands out.
const (
	fakeRoleAccessKeyID = "ASIAFAKEINSTANCEROLE"
	fakeRoleSecret      = "instance-role-secret"
	fakeRoleToken       = "instance/role+token=="
	fakeAssumedKeyID    = "ASIAFAKEASSUMEDROLE1"
	fakeAssumedSecret   = "assumed-role-secret"
	fakeAssumedToken    = "assumed/role+token=="
	fakeIMDSToken       = "imds-token-1"
)

func newFakeAWS(t *testing.T) *fakeAWS {
	t.Helper()
	f := &fakeAWS{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAWS) recorded() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

var credentialScope = regexp.MustCompile(`Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`)

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := fakeRequest{
		Method: r.Method, Host: r.Host, Path: r.URL.Path,
		Action:        r.PostForm.Get("Action"),
		SecurityToken: r.Header.Get("X-Amz-Security-Token"),
		IMDSToken:     r.Header.Get("X-Aws-Ec2-Metadata-Token"),
		Form:          map[string]string{},
	}
	for k := range r.PostForm {
		req.Form[k] = r.PostForm.Get(k)
	}
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		req.AccessKeyID, req.Region, req.Service = m[1], m[2], m[3]
	}

	f.mu.Lock()
	f.requests = append(f.requests, req)
	throttled := req.Action != "" && f.throttle > 0
	if throttled {
		f.throttle--
	}
	hang, tokenCode, deny := f.imdsTokenHang, f.imdsTokenCode, f.denyAssume
	f.mu.Unlock()

	if strings.HasPrefix(r.URL.Path, "/latest/") {
		f.serveIMDS(w, r, req, hang, tokenCode)
		return
	}

	w.Header().Set("Content-Type", "text/xml")
	switch {
	case throttled:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>`)
	case req.Action == "GetCallerIdentity":
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
			`<Arn>arn:aws:iam::123456789012:user/%s</Arn><UserId>AIDAFAKE</UserId><Account>123456789012</Account>`+
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, req.AccessKeyID)
	case req.Action == "AssumeRole" && deny:
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error><RequestId>r3</RequestId></ErrorResponse>`)
	case req.Action == "AssumeRole":
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>`+
			`<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration>`+
			`</Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/ops/awsssm</Arn><AssumedRoleId>AROAFAKE:awsssm</AssumedRoleId></AssumedRoleUser>`+
			`</AssumeRoleResult><ResponseMetadata><RequestId>r4</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			fakeAssumedKeyID, fakeAssumedSecret, fakeAssumedToken, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	default:
		http.Error(w, "unexpected request", http.StatusNotImplemented)
	}
}

func (f *fakeAWS) serveIMDS(w http.ResponseWriter, r *http.Request, req fakeRequest, hang bool, tokenCode int) {
	const credentialsPath = "/latest/meta-data/iam/security-credentials/"
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		if hang {
			<-r.Context().Done()
			return
		}
		if tokenCode != 0 {
			w.WriteHeader(tokenCode)
			return
		}
		if r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "300")
		fmt.Fprint(w, fakeIMDSToken)
	case req.IMDSToken != fakeIMDSToken:
		w.WriteHeader(http.StatusUnauthorized)
	case r.URL.Path == credentialsPath:
		fmt.Fprint(w, "ops-instance-role")
	case r.URL.Path == credentialsPath+"ops-instance-role":
		fmt.Fprintf(w, `{"Code": "Success", "LastUpdated": "%s", "Type": "AWS-HMAC", "AccessKeyId": "%s", "SecretAccessKey": "%s", "Token": "%s", "Expiration": "%s"}`,
			time.Now().UTC().Format(time.RFC3339), fakeRoleAccessKeyID, fakeRoleSecret, fakeRoleToken, time.Now().Add(6*time.Hour).UTC().Format(time.RFC3339))
	default:
		http.NotFound(w, r)
	}
}
