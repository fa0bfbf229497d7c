package httpserver

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// WithAllowedHosts answers only requests whose Host header names one of these hosts (any port)
// or this machine (localhost, a loopback address): a page of another site that rebinds its own
// name to this server's address (DNS rebinding) is refused before any handler, so its script
// reads neither the development tokens nor the API's answers. Without this option every host is
// answered. The health probes answer any host: orchestrators call them by address, and they
// tell nothing.
func WithAllowedHosts(hosts ...string) Option {
	return func(o *options) { o.checkHosts, o.allowedHosts = true, hosts }
}

// localhost is the name of this machine a browser sends as Host; always allowed.
const localhost = "localhost"

// ParseAllowedHosts reads a comma-separated list of host names or addresses (ALLOWED_HOSTS),
// without scheme, path or wildcard; a port is ignored.
func ParseAllowedHosts(list string) ([]string, error) {
	var out []string
	for _, raw := range strings.Split(list, ",") {
		h := strings.TrimSpace(raw)
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "*/@ ") {
			return nil, errors.New("ALLOWED_HOSTS: " + h + " is not a host name such as api.wvsoft.example (no scheme, path or wildcard)")
		}
		out = append(out, hostOf(h))
	}
	return out, nil
}

// hostOf is a Host header's host: lower case, without port, brackets or the root's dot.
func hostOf(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(h, "]"), "["), ".")
	return strings.ToLower(h)
}

func hostAllowed(allowed []string, hostport string) bool {
	h := hostOf(hostport)
	if a, err := netip.ParseAddr(h); err == nil && a.IsLoopback() {
		return true
	}
	if h == localhost {
		return true
	}
	for _, name := range allowed {
		if h == name {
			return true
		}
	}
	return false
}

func allowHosts(check bool, allowed []string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if !check {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && !hostAllowed(allowed, r.Host) {
				// 421: this server is not the one for that name. Nothing of the refused route,
				// and not the list of names it does answer.
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, "misdirected request", http.StatusMisdirectedRequest)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
