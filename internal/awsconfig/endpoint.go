package awsconfig

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// PlainHTTPWarning returns a warning for an endpoint_url that sends requests
// unencrypted to another machine. It returns "" for https, and for http to a
// loopback host, whose traffic does not leave the machine. endpoint must have
// passed parseEndpointURL.
func PlainHTTPWarning(endpoint string) string {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Scheme != "http" || isLoopbackHost(u.Hostname()) {
		return ""
	}
	return fmt.Sprintf("endpoint_url %s is plain HTTP to a host that is not loopback, so the session token, "+
		"parameter values and command output travel unencrypted; use https", strings.TrimSpace(endpoint))
}

// isLoopbackHost reports whether host is localhost or an address in
// 127.0.0.0/8 or ::1, IPv4-mapped IPv6 forms included. Other names count as
// remote, even when DNS happens to resolve them to loopback.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}
