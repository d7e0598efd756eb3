package awsconfig

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"sync"
)

// plainHTTPWarning returns a warning for an endpoint_url that sends requests
// unencrypted to another machine. It returns "" for https, and for http to a
// loopback host, whose traffic does not leave the machine. endpoint must have
// passed parseEndpointURL.
func plainHTTPWarning(endpoint string) string {
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

// warnedEndpoints contains a warnedKey for each logger and endpoint that
// have had the plain HTTP warning. A run passes one logger to every New
// call, so the run warns once, however many credentials and Regions its
// parameter sets use.
var warnedEndpoints sync.Map

type warnedKey struct {
	log      *slog.Logger
	endpoint string
}

// warnPlainHTTP logs the plain HTTP warning for endpoint, unless log has had
// it already. A nil log gets nothing.
func warnPlainHTTP(log *slog.Logger, endpoint string) {
	warning := plainHTTPWarning(endpoint)
	if log == nil || warning == "" {
		return
	}
	if _, warned := warnedEndpoints.LoadOrStore(warnedKey{log, endpoint}, true); warned {
		return
	}
	log.Warn(warning)
}
