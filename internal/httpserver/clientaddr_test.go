package httpserver_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wvsoft/privacy/internal/httpserver"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// The client address a rate limit counts: X-Forwarded-For is believed only from a trusted
// proxy, and only as far as the proxies are trusted.
func TestClientAddressBehindProxies(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, wvsoft.ActorFrom(r.Context()).ClientAddr)
	})
	serve := func(list string) string {
		proxies, err := httpserver.ParseTrustedProxies(list)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(httpserver.NewServer(slog.New(slog.DiscardHandler), nobody{}, noPolicy{}, upDB{}, echo, nil,
			httpserver.WithTrustedProxies(proxies)))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	addr := func(url string, xff ...string) string {
		req, _ := http.NewRequest(http.MethodPost, url+"/graphql", nil)
		for _, v := range xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// The test's requests come from 127.0.0.1.
	untrusted, behindOne := serve(""), serve("127.0.0.1")
	behindTwo := serve("10.0.0.0/8, 127.0.0.0/8, ::1")
	for _, c := range []struct {
		name, url string
		xff       []string
		want      string
	}{
		{"no proxies trusted: the header is ignored", untrusted, []string{"203.0.113.5"}, "127.0.0.1"},
		{"no header", behindOne, nil, "127.0.0.1"},
		{"the proxy's client", behindOne, []string{"203.0.113.5"}, "203.0.113.5"},
		{"a forged hop left of the proxy's", behindOne, []string{"198.51.100.1, 203.0.113.5"}, "203.0.113.5"},
		{"several header lines", behindOne, []string{"198.51.100.1", "203.0.113.5"}, "203.0.113.5"},
		{"a chain of trusted proxies", behindTwo, []string{"198.51.100.1, 203.0.113.5, 10.1.2.3"}, "203.0.113.5"},
		{"an untrusted hop in the chain stops it", behindOne, []string{"203.0.113.5, 10.1.2.3"}, "10.1.2.3"},
		{"garbage written by the client", behindOne, []string{"not-an-address"}, "127.0.0.1"},
		{"IPv6", behindOne, []string{"2001:db8::1"}, "2001:db8::1"},
	} {
		if got := addr(c.url, c.xff...); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	for _, bad := range []string{"proxy.example", "10.0.0.0/33", "*"} {
		if _, err := httpserver.ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
