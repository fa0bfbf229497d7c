package postgres

import (
	"strings"
	"testing"
	"time"
)

// The server's connections get timeouts and durable commits unless the URL says otherwise.
func TestConnectionDefaults(t *testing.T) {
	got := withTimeouts("postgres://wvsoft_app@db:5432/wvsoft?sslmode=disable&statement_timeout=5000", 30*time.Second)
	for _, want := range []string{"connect_timeout=5", "statement_timeout=5000", "synchronous_commit=on", "sslmode=disable", "TimeZone=UTC"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %s", got, want)
		}
	}
	got = withTimeouts("host=db user=wvsoft_app connect_timeout=2", 30*time.Second)
	if got != "host=db user=wvsoft_app connect_timeout=2 statement_timeout=30000 synchronous_commit=on TimeZone=UTC binary_parameters=yes" {
		t.Errorf("key=value form: %s", got)
	}
}
