package httpserver

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// WithTrustedProxies names the reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For
// is believed. A request from anyone else is the client itself, whatever its headers say.
func WithTrustedProxies(proxies []netip.Prefix) Option {
	return func(o *options) { o.trustedProxies = proxies }
}

// ParseTrustedProxies reads TRUSTED_PROXIES: comma-separated addresses (10.0.0.7) or ranges
// (10.0.0.0/8).
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, raw := range strings.Split(list, ",") {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, errors.New("TRUSTED_PROXIES: " + s + " is neither an address nor a range such as 10.0.0.0/8")
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the caller's IP address, for rate limits. From a trusted proxy it is the
// rightmost address of X-Forwarded-For that is not itself a trusted proxy: each proxy appends
// the address it was connected from, so everything left of that is what the client wrote and
// may be forged. From anyone else it is the connection's address.
func clientAddr(r *http.Request, proxies []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !trusted(proxies, peer) {
		return host
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a trusted proxy would not write this: stop at the last address it vouched for
		}
		client = a.Unmap()
		if !trusted(proxies, client) {
			break
		}
	}
	return client.String()
}
