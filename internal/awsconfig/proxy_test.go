package awsconfig

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/awsssm/awsssm/internal/sandbox/sandboxtest"
)

// recordingProxy is a loopback HTTP server that records each request and
// passes it on to a target server, whatever host the request names. The
// Host header stays the name that the client signed. A client can use it as
// its forward proxy or as its endpoint. Nothing leaves loopback.
type recordingProxy struct {
	URL string

	target    *url.URL
	transport *http.Transport

	mu   sync.Mutex
	seen []proxiedRequest
}

// proxiedRequest is what a recordingProxy saw of one request.
type proxiedRequest struct {
	Method string
	// URLHost is the host of the absolute URL that a client sends to a
	// forward proxy. It is empty for a request sent to the proxy as the
	// endpoint.
	URLHost string
	Host    string // the Host header
	Path    string
	// AccessKeyID, Region and Service come from the SigV4 credential scope.
	AccessKeyID, Region, Service string
	SecurityToken                string     // X-Amz-Security-Token
	IMDSToken                    string     // X-Aws-Ec2-Metadata-Token
	Form                         url.Values // a form-encoded body, such as an STS call
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	targetURL, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy's own requests go straight to the target, whatever proxy
	// the test sets in the process environment.
	p := &recordingProxy{target: targetURL, transport: &http.Transport{Proxy: nil}}
	server := httptest.NewServer(p)
	p.URL = server.URL
	t.Cleanup(func() {
		server.Close()
		p.transport.CloseIdleConnections()
	})
	return p
}

// requests returns the requests seen so far, in order of arrival.
func (p *recordingProxy) requests() []proxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

func (p *recordingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	seen := proxiedRequest{
		Method:        r.Method,
		URLHost:       r.URL.Host,
		Host:          r.Host,
		Path:          r.URL.Path,
		SecurityToken: r.Header.Get("X-Amz-Security-Token"),
		IMDSToken:     r.Header.Get("X-Aws-Ec2-Metadata-Token"),
	}
	seen.AccessKeyID, seen.Region, seen.Service = credentialScope(r.Header.Get("Authorization"))

	out := r.Clone(r.Context())
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		seen.Form, err = url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "invalid form body: "+err.Error(), http.StatusBadRequest)
			return
		}
		out.Body = io.NopCloser(bytes.NewReader(body))
	}
	p.mu.Lock()
	p.seen = append(p.seen, seen)
	p.mu.Unlock()

	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = p.target.Scheme, p.target.Host
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// credentialScope returns the access key ID, region and service of the
// SigV4 Authorization header, or empty strings when it has none.
func credentialScope(authorization string) (accessKeyID, region, service string) {
	_, rest, found := strings.Cut(authorization, "Credential=")
	if !found {
		return "", "", ""
	}
	scope, _, _ := strings.Cut(rest, ",")
	// KEY/DATE/REGION/SERVICE/aws4_request
	parts := strings.Split(strings.TrimSpace(scope), "/")
	if len(parts) != 5 {
		return "", "", ""
	}
	return parts[0], parts[2], parts[3]
}

// proxiedHost is an endpoint host in the reserved .test domain, which DNS
// does not resolve, so a request to it succeeds only through the proxy.
const proxiedHost = "sts.awsssm-proxy.test"

func TestNewUsesProxyFromEnv(t *testing.T) {
	sb := sandboxtest.Start(t)
	cases := map[string]func(t *testing.T, proxyURL string) map[string]string{
		"upper case": func(t *testing.T, proxyURL string) map[string]string {
			return map[string]string{"HTTP_PROXY": proxyURL}
		},
		"lower case": func(t *testing.T, proxyURL string) map[string]string {
			return map[string]string{"http_proxy": proxyURL, "no_proxy": "other.test"}
		},
		"process environment": func(t *testing.T, proxyURL string) map[string]string {
			t.Setenv("HTTP_PROXY", proxyURL)
			return nil
		},
		"asset over process": func(t *testing.T, proxyURL string) map[string]string {
			t.Setenv("HTTP_PROXY", "http://127.0.0.1:9")
			return map[string]string{"HTTP_PROXY": proxyURL}
		},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			proxy := newRecordingProxy(t, sb.URL)
			asset := sandboxAsset(sb)
			asset.EndpointURL = "http://" + proxiedHost

			clients, err := New(context.Background(), Request{Asset: asset, Env: env(t, proxy.URL)})
			if err != nil {
				t.Fatal(err)
			}
			// The sandbox checks the signature, which covers the Host header.
			if arn := callerARN(t, clients); arn != exampleUserARN {
				t.Errorf("caller = %q, want the example user", arn)
			}
			seen := proxy.requests()
			if len(seen) != 1 {
				t.Fatalf("proxy saw %d requests, want 1: %+v", len(seen), seen)
			}
			if seen[0].URLHost != proxiedHost {
				t.Errorf("proxy saw a request for host %q, want %q", seen[0].URLHost, proxiedHost)
			}
			if seen[0].Host != proxiedHost {
				t.Errorf("request Host = %q, want %q", seen[0].Host, proxiedHost)
			}
		})
	}
}

func TestProxySelection(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://process-proxy.test:3128")
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("NO_PROXY", "")

	cases := []struct {
		name   string
		env    map[string]string
		target string
		want   string // the proxy URL, "" for a direct connection
	}{
		{"process fallback", nil, "https://ssm.us-east-1.amazonaws.com", "http://process-proxy.test:3128"},
		{"asset over process", map[string]string{"HTTPS_PROXY": "http://asset-proxy.test:8080"}, "https://ssm.us-east-1.amazonaws.com", "http://asset-proxy.test:8080"},
		{"asset turns proxy off", map[string]string{"HTTPS_PROXY": ""}, "https://ssm.us-east-1.amazonaws.com", ""},
		{"mixed-case name", map[string]string{"Https_Proxy": "asset-proxy.test:8080"}, "https://ssm.us-east-1.amazonaws.com", "http://asset-proxy.test:8080"},
		{"no proxy for the host", map[string]string{"NO_PROXY": ".amazonaws.com"}, "https://ssm.us-east-1.amazonaws.com", ""},
		{"no proxy for another host", map[string]string{"NO_PROXY": "example.test"}, "https://ssm.us-east-1.amazonaws.com", "http://process-proxy.test:3128"},
		{"http uses HTTP_PROXY", map[string]string{"HTTP_PROXY": "http://plain-proxy.test"}, "http://ssm.us-east-1.amazonaws.com", "http://plain-proxy.test"},
		{"loopback is never proxied", nil, "https://127.0.0.1:4566", ""},
	}
	for _, c := range cases {
		cfg, err := newHTTPConfig(c.env)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		target, _ := url.Parse(c.target)
		proxy, err := cfg.proxy.ProxyFunc()(target)
		if err != nil {
			t.Errorf("%s: proxy function: %v", c.name, err)
			continue
		}
		got := ""
		if proxy != nil {
			got = proxy.String()
		}
		if got != c.want {
			t.Errorf("%s: proxy for %s = %q, want %q", c.name, c.target, got, c.want)
		}
	}
}

func TestNewRejectsInvalidProxy(t *testing.T) {
	env := map[string]string{"HTTPS_PROXY": "http://user:hunter2@[::1"}
	_, err := New(context.Background(), Request{Asset: validAsset(), Env: env})
	if err == nil {
		t.Fatal("New succeeded with an invalid proxy URL")
	}
	if !strings.Contains(err.Error(), "proxy setting HTTPS_PROXY from the asset environment is not a valid URL") {
		t.Errorf("error = %q", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q contains the proxy password", err)
	}
}
