package httpserver_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/httpserver"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

type nobody struct{}

func (nobody) Authenticate(ctx context.Context, header string) (*wvsoft.Subject, error) {
	return nil, &wvsoft.Error{Code: wvsoft.EUNAUTHENTICATED, Message: "unknown credentials"}
}

type noPolicy struct{}

func (noPolicy) NewRequest(*wvsoft.Subject) *authz.Request { return nil }
func (noPolicy) Status() authz.Status                      { return authz.Status{Revision: "test"} }

type upDB struct{}

func (upDB) Ping(context.Context) error { return nil }

const app = "https://app.example.nl"

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	origins, err := httpserver.ParseOrigins(" https://App.example.nl , http://localhost:5173")
	if err != nil {
		t.Fatal(err)
	}
	// Requests without credentials reach GraphQL as anonymous visitors; the policy decides.
	gql := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"data":null}`)) })
	srv := httptest.NewServer(httpserver.NewServer(slog.New(slog.DiscardHandler), nobody{}, noPolicy{}, upDB{}, gql, nil,
		httpserver.WithCORSOrigins(origins)))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// Every answer forbids other hosts, framing and sniffing; the playground included.
func TestSecurityHeaders(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{"/playground/", "/playground/graphiql.js", "/graphql", "/healthz", "/readyz", "/nope"} {
		resp := do(t, http.MethodGet, srv.URL+path, nil)
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, h.Get("X-Content-Type-Options"))
		}
		csp := map[string][]string{}
		for _, d := range strings.Split(h.Get("Content-Security-Policy"), ";") {
			if f := strings.Fields(d); len(f) > 0 {
				csp[f[0]] = f[1:]
			}
		}
		for directive, want := range map[string]string{"default-src": "'self'", "connect-src": "'self'",
			"frame-ancestors": "'none'", "base-uri": "'none'"} {
			if got := strings.Join(csp[directive], " "); got != want {
				t.Errorf("%s: %s %q, want %q", path, directive, got, want)
			}
		}
		// No directive names another host, a scheme of hosts or a wildcard.
		for directive, sources := range csp {
			for _, s := range sources {
				if s != "'self'" && s != "'none'" && !(directive == "img-src" && s == "data:") {
					t.Errorf("%s: %s allows %s", path, directive, s)
				}
			}
		}
		if len(h.Values("Set-Cookie")) > 0 {
			t.Errorf("%s sets a cookie", path)
		}
	}
}

// Browsers may read answers for the origins on the list, and only for those.
func TestCORS(t *testing.T) {
	srv := newServer(t)
	preflight := func(origin string) *http.Response {
		return do(t, http.MethodOptions, srv.URL+"/graphql", map[string]string{"Origin": origin,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"})
	}

	t.Run("an allowed origin", func(t *testing.T) {
		resp := preflight(app)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != app ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Fatalf("preflight: %d %v", resp.StatusCode, h)
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatal("credentials allowed: the API needs no cookies")
		}
		resp = do(t, http.MethodPost, srv.URL+"/graphql", map[string]string{"Origin": app, "Content-Type": "application/json"})
		if resp.Header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
			t.Fatalf("answer: %v", resp.Header)
		}
		if resp := do(t, http.MethodGet, srv.URL+"/graphql", map[string]string{"Origin": "http://localhost:5173"}); resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
			t.Fatalf("second origin: %v", resp.Header)
		}
	})

	t.Run("a refused origin gets no CORS header", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example", "https://app.example.nl.evil.example", "http://app.example.nl", "null"} {
			resp := preflight(origin)
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" ||
				resp.Header.Get("Access-Control-Allow-Methods") != "" {
				t.Fatalf("preflight from %s: %d %v", origin, resp.StatusCode, resp.Header)
			}
			resp = do(t, http.MethodPost, srv.URL+"/graphql", map[string]string{"Origin": origin, "Content-Type": "application/json"})
			if resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("answer to %s: %v", origin, resp.Header)
			}
		}
	})

	t.Run("the list holds origins, never a wildcard", func(t *testing.T) {
		for _, bad := range []string{"*", "https://*.example.nl", "app.example.nl", "https://app.example.nl/path", "ftp://x.example"} {
			if _, err := httpserver.ParseOrigins(bad); err == nil {
				t.Errorf("%q accepted", bad)
			}
		}
		if got, err := httpserver.ParseOrigins(""); err != nil || len(got) != 0 {
			t.Fatalf("empty list: %v %v", got, err)
		}
	})
}

// /playground without the slash leads to the page; the page and its assets are never stored by
// a browser or a proxy (Cache-Control: no-store, as every answer).
func TestPlaygroundAddressAndCaching(t *testing.T) {
	srv := newServer(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.URL + "/playground")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/playground/" {
		t.Fatalf("/playground: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/playground/", "/playground/graphiql.js", "/playground/graphiql.css"} {
		resp := do(t, http.MethodGet, srv.URL+path, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d, Cache-Control %q", path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}
