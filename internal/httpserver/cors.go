package httpserver

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// WithCORSOrigins lets browser applications served from these origins (scheme://host[:port],
// exactly) call /graphql. No other origin gets a CORS header, so browsers keep other sites'
// scripts from reading the answers.
func WithCORSOrigins(origins []string) Option {
	return func(o *options) { o.corsOrigins = origins }
}

// ParseOrigins reads a comma-separated allow-list (CORS_ALLOWED_ORIGINS). Every entry must be an
// origin: a scheme, a host and maybe a port, nothing else. A wildcard is refused: the server
// names the origins it trusts.
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for _, raw := range strings.Split(list, ",") {
		o := strings.TrimSpace(raw)
		if o == "" {
			continue
		}
		if strings.Contains(o, "*") {
			return nil, errors.New("CORS_ALLOWED_ORIGINS may not hold a wildcard; list each origin")
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, errors.New("CORS_ALLOWED_ORIGINS: " + o + " is not an origin such as https://app.example.nl")
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// cors answers requests from an allowed origin with the headers that let a browser read the
// answer. Credentials travel in the Authorization header, never in cookies, so no
// Access-Control-Allow-Credentials is sent.
func cors(allowed []string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Add("Vary", "Origin")
			if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(allowed, strings.ToLower(origin)) {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Expose-Headers", "X-Request-Id")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// handlePreflight answers a browser's CORS preflight for /graphql. For an origin on the list the
// cors middleware has set Access-Control-Allow-Origin already; anyone else gets 403 and no CORS
// headers, so the browser does not send the request.
func handlePreflight() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if w.Header().Get("Access-Control-Allow-Origin") == "" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}
