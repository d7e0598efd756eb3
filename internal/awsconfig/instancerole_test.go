package awsconfig

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

func roleAsset() Asset {
	return Asset{Region: "us-east-1", UseRole: true}
}

func TestNewInstanceRole(t *testing.T) {
	sb := sandboxtest.Start(t)
	recorder := newRecordingProxy(t, sb.URL)
	t.Setenv(imdsEndpointVariable, recorder.URL)

	asset := roleAsset()
	asset.EndpointURL = sb.URL

	clients, err := New(context.Background(), Request{Asset: asset})
	if err != nil {
		t.Fatal(err)
	}
	if clients.Source != SourceInstanceRole {
		t.Errorf("Source = %q, want %q", clients.Source, SourceInstanceRole)
	}

	// New fetched the credentials: a token first, then the role with it.
	// The sandbox rejects a request without a valid token with 401.
	seen := recorder.requests()
	if len(seen) < 3 {
		t.Fatalf("New sent %d requests to IMDS, want at least 3: %+v", len(seen), seen)
	}
	if seen[0].Method != http.MethodPut || seen[0].Path != "/latest/api/token" {
		t.Errorf("first IMDS request = %s %s, want PUT /latest/api/token", seen[0].Method, seen[0].Path)
	}
	for _, r := range seen[1:] {
		if r.IMDSToken == "" {
			t.Errorf("IMDS request %s %s without the IMDSv2 token", r.Method, r.Path)
		}
	}

	creds, err := clients.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SessionToken == "" {
		t.Errorf("credentials = %q with token %q, want the instance role's temporary ones", creds.AccessKeyID, creds.SessionToken)
	}
	if arn := callerARN(t, clients); arn != instanceRoleCallerARN {
		t.Errorf("caller = %q, want %q", arn, instanceRoleCallerARN)
	}
}

func TestNewInstanceRoleNoIMDSv1(t *testing.T) {
	// The SDK's IMDS client falls back to IMDSv1 after these statuses of
	// the token request unless fallback is off.
	for _, status := range []int{http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			sb := sandboxtest.Start(t)
			sb.Server.Faults().IMDSTokenStatus(status)
			t.Setenv(imdsEndpointVariable, sb.URL)

			_, err := New(context.Background(), Request{Asset: roleAsset()})
			if err == nil {
				t.Fatal("New succeeded without an IMDSv2 token")
			}
			if !strings.HasPrefix(err.Error(), "use_role: ") {
				t.Errorf("error %q does not name use_role", err)
			}
			if n := sb.Server.Faults().Calls("GetToken"); n < 1 {
				t.Errorf("%d IMDSv2 token requests, want at least 1", n)
			}
			if n := sb.Server.Faults().Calls("GetMetadata"); n != 0 {
				t.Errorf("%d metadata requests after the token request failed: an IMDSv1 fallback", n)
			}
		})
	}
}

func TestNewInstanceRoleUnreachable(t *testing.T) {
	// A loopback port with no listener refuses connections.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + listener.Addr().String()
	listener.Close()
	t.Setenv(imdsEndpointVariable, endpoint)

	_, err = New(context.Background(), Request{Asset: roleAsset()})
	if err == nil {
		t.Fatal("New succeeded without an instance metadata service")
	}
	for _, part := range []string{"use_role: cannot connect to the instance metadata service at " + endpoint, "only on an EC2 instance"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}
