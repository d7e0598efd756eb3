package awsconfig

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func roleAsset() Asset {
	return Asset{Region: "us-east-1", UseRole: true}
}

func TestNewInstanceRole(t *testing.T) {
	fake := newFakeAWS(t)
	t.Setenv(imdsEndpointVariable, fake.URL)

	clients, err := New(context.Background(), Request{Asset: roleAsset()})
	if err != nil {
		t.Fatal(err)
	}
	if clients.Source != SourceInstanceRole {
		t.Errorf("Source = %q, want %q", clients.Source, SourceInstanceRole)
	}

	// New fetched the credentials: a token first, then the role with it.
	requests := fake.recorded()
	if len(requests) < 3 {
		t.Fatalf("New sent %d requests to IMDS, want at least 3: %+v", len(requests), requests)
	}
	if requests[0].Method != http.MethodPut || requests[0].Path != "/latest/api/token" {
		t.Errorf("first IMDS request = %s %s, want PUT /latest/api/token", requests[0].Method, requests[0].Path)
	}
	for _, r := range requests[1:] {
		if r.IMDSToken != fakeIMDSToken {
			t.Errorf("IMDS request %s %s without the IMDSv2 token", r.Method, r.Path)
		}
	}

	creds, err := clients.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != fakeRoleAccessKeyID || creds.SessionToken != fakeRoleToken {
		t.Errorf("credentials = %q with token %q, want the instance role's", creds.AccessKeyID, creds.SessionToken)
	}
}

func TestNewInstanceRoleNoIMDSv1(t *testing.T) {
	fake := newFakeAWS(t)
	fake.imdsTokenCode = http.StatusForbidden
	t.Setenv(imdsEndpointVariable, fake.URL)

	_, err := New(context.Background(), Request{Asset: roleAsset()})
	if err == nil {
		t.Fatal("New succeeded without an IMDSv2 token")
	}
	if !strings.HasPrefix(err.Error(), "use_role: ") {
		t.Errorf("error %q does not name use_role", err)
	}
	for _, r := range fake.recorded() {
		if r.Method == http.MethodGet {
			t.Errorf("IMDS request %s %s sent after the token request failed: an IMDSv1 fallback", r.Method, r.Path)
		}
	}
}

func TestNewInstanceRoleHopLimit(t *testing.T) {
	fake := newFakeAWS(t)
	fake.imdsTokenHang = true
	t.Setenv(imdsEndpointVariable, fake.URL)

	start := time.Now()
	_, err := New(context.Background(), Request{Asset: roleAsset()})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("New succeeded without a response to the token request")
	}
	for _, part := range []string{"did not respond to the IMDSv2 token request", fake.URL, "hop limit must be 2", "--http-put-response-hop-limit 2"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	// The wait is bounded; the margin is wide for a loaded machine.
	if limit := imdsWait + 10*time.Second; elapsed > limit {
		t.Errorf("New took %v, more than %v", elapsed, limit)
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
