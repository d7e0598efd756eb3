package awsconfig

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"golang.org/x/net/http/httpproxy"
)

// Timeouts of the HTTP client for AWS. They bound each step of a request,
// not the whole request, because an S3 transfer may take long.
const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second // after the request is sent
	readTimeout           = 60 * time.Second // between reads of a response body
)

// proxySetting is one proxy environment variable and where it was found.
type proxySetting struct {
	name   string // upper-case name, such as HTTPS_PROXY
	value  string
	source string // "asset" or "process", for messages
}

var proxyVariables = []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}

// proxySettings returns the proxy variables from env, the platform's
// environment variables for the asset, matching names case-insensitively.
// A variable absent from env is taken from the process environment, upper
// case first, as Go's net/http does. A variable that env sets to "" turns
// that proxy setting off.
func proxySettings(env map[string]string) map[string]proxySetting {
	settings := map[string]proxySetting{}
	for _, name := range proxyVariables {
		found := false
		for key, value := range env {
			if strings.EqualFold(key, name) && (!found || key == name) {
				settings[name] = proxySetting{name: name, value: strings.TrimSpace(value), source: "asset"}
				found = true
			}
		}
		if found {
			continue
		}
		for _, key := range []string{name, strings.ToLower(name)} {
			if value, ok := os.LookupEnv(key); ok {
				settings[name] = proxySetting{name: name, value: strings.TrimSpace(value), source: "process"}
				break
			}
		}
	}
	return settings
}

// parseProxyURL parses a proxy setting as net/http reads it: a value
// without a scheme is an http proxy.
func parseProxyURL(value string) (*url.URL, error) {
	if !strings.Contains(value, "://") {
		value = "http://" + value
	}
	u, err := url.Parse(value)
	if err != nil || u.Host == "" {
		return nil, errors.New("invalid proxy URL")
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
		return u, nil
	}
	return nil, errors.New("invalid proxy URL scheme")
}

// httpConfig is the proxy configuration of one Request.
type httpConfig struct {
	proxy    *httpproxy.Config
	settings map[string]proxySetting
}

// newHTTPConfig reads and checks the proxy settings of env.
func newHTTPConfig(env map[string]string) (httpConfig, error) {
	settings := proxySettings(env)
	for _, name := range []string{"HTTP_PROXY", "HTTPS_PROXY"} {
		s := settings[name]
		if s.value == "" {
			continue
		}
		if _, err := parseProxyURL(s.value); err != nil {
			// The value is not quoted, because it may contain a password.
			return httpConfig{}, fmt.Errorf("proxy setting %s from the %s environment is not a valid URL; use a value such as http://proxy.example:3128", name, s.source)
		}
	}
	return httpConfig{
		proxy: &httpproxy.Config{
			HTTPProxy:  settings["HTTP_PROXY"].value,
			HTTPSProxy: settings["HTTPS_PROXY"].value,
			NoProxy:    settings["NO_PROXY"].value,
		},
		settings: settings,
	}, nil
}

// client returns the HTTP client for AWS requests. The proxy function of
// golang.org/x/net never proxies requests to localhost or loopback
// addresses, whatever NO_PROXY contains.
func (c httpConfig) client() *awshttp.BuildableClient {
	proxyFunc := c.proxy.ProxyFunc()
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = dialTimeout
		}).
		WithTransportOptions(func(tr *http.Transport) {
			tr.Proxy = func(r *http.Request) (*url.URL, error) { return proxyFunc(r.URL) }
			tr.TLSHandshakeTimeout = tlsHandshakeTimeout
			tr.ResponseHeaderTimeout = responseHeaderTimeout
		}).
		WithReadTimeout(readTimeout)
}

// describe returns the proxy settings for a debug log, with passwords
// replaced by "xxxxx".
func (c httpConfig) describe() string {
	var parts []string
	for _, name := range proxyVariables {
		s, ok := c.settings[name]
		if !ok {
			continue
		}
		value := s.value
		if u, err := parseProxyURL(value); err == nil && name != "NO_PROXY" {
			value = u.Redacted()
		}
		parts = append(parts, fmt.Sprintf("%s=%s (%s)", name, value, s.source))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// passwords returns the passwords in the proxy URLs, which are secrets.
func (c httpConfig) passwords() []string {
	var secrets []string
	for _, name := range []string{"HTTP_PROXY", "HTTPS_PROXY"} {
		u, err := parseProxyURL(c.settings[name].value)
		if err != nil || u.User == nil {
			continue
		}
		if password, ok := u.User.Password(); ok && password != "" {
			secrets = append(secrets, password)
		}
	}
	return secrets
}
