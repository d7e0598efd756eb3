package awsconfig

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// newForwardProxy starts a loopback HTTP forward proxy that records the
// host of each request and passes the request to target, whatever host it
// names. Nothing leaves loopback.
func newForwardProxy(t *testing.T, target string) (proxyURL string, hosts func() []string) {
	t.Helper()
	targetURL, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Host)
		mu.Unlock()

		// The Host header keeps the name the client signed.
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = targetURL.Scheme, targetURL.Host
		resp, err := http.DefaultTransport.RoundTrip(out)
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
	}))
	t.Cleanup(proxy.Close)

	return proxy.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// proxiedHost is an endpoint host in the reserved .test domain, which DNS
// does not resolve, so a request to it succeeds only through the proxy.
const proxiedHost = "sts.awsssm-proxy.test"

func TestNewUsesProxyFromEnv(t *testing.T) {
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
			fake := newFakeAWS(t)
			proxyURL, hosts := newForwardProxy(t, fake.URL)
			asset := validAsset()
			asset.EndpointURL = "http://" + proxiedHost

			clients, err := New(context.Background(), Request{Asset: asset, Env: env(t, proxyURL)})
			if err != nil {
				t.Fatal(err)
			}
			got := callerIdentity(t, clients, fake)
			if got.Host != proxiedHost {
				t.Errorf("request Host = %q, want %q", got.Host, proxiedHost)
			}
			if seen := hosts(); !slices.Equal(seen, []string{proxiedHost}) {
				t.Errorf("proxy saw hosts %q, want [%s]", seen, proxiedHost)
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
