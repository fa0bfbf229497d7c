package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// After a few requests, /metrics has every series with the right counts.
func TestMetrics(t *testing.T) {
	s := startServer(t, nil)
	member := s.token("member@bakkerij-de-vries.example")
	for i := 0; i < 3; i++ {
		if r := s.query(member, `query Me { me { role } }`, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
	}
	// Partial: support sees customers, but kvkNumber is denied (2 customers: 2 denials).
	if r := s.query(s.token("support@wvsoft.example"), `query Register { customers { edges { node { name kvkNumber } } } }`, nil); len(r.Errors) != 2 {
		t.Fatalf("%+v", r)
	}
	// Error: the accountant gets nothing.
	s.query(s.token("accountant@wvsoft.example"), `query Me { me { role } }`, nil)
	s.query(member, `query Me { me { customer { persons(first: 2) { edges { node { iban } } } } } }`, nil)

	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	value := func(series string) float64 {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+]+)$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no series %s in\n%s", series, text)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	if v := value(`wvsoft_graphql_request_duration_seconds_count{operation="Me",outcome="ok"}`); v != 4 {
		t.Errorf("ok Me operations: %v, want 4", v)
	}
	if v := value(`wvsoft_graphql_request_duration_seconds_count{operation="Register",outcome="partial"}`); v != 1 {
		t.Errorf("partial Register operations: %v, want 1", v)
	}
	if v := value(`wvsoft_graphql_request_duration_seconds_count{operation="Me",outcome="error"}`); v != 1 {
		t.Errorf("failed Me operations: %v, want 1", v)
	}
	if v := value(`wvsoft_policy_decisions_total{effect="deny"}`); v < 3 {
		t.Errorf("deny decisions: %v, want at least 3 (2 kvkNumber, the accountant's me)", v)
	}
	if v := value(`wvsoft_policy_decisions_total{effect="allow"}`); v < 10 {
		t.Errorf("allow decisions: %v", v)
	}
	if v := value(`wvsoft_policy_reloads_total{result="accepted"}`); v != 1 {
		t.Errorf("accepted loads: %v, want 1", v)
	}
	value(`wvsoft_policy_reloads_total{result="rejected"}`)
	value(`wvsoft_db_connections_open`)
	value(`wvsoft_db_connections_in_use`)
	if v := value(`wvsoft_outbox_messages{state="PENDING"}`); v != 0 {
		t.Errorf("outbox backlog: %v", v)
	}
	if v := value(`wvsoft_support_access_grants{state="PENDING"}`); v != 0 {
		t.Errorf("pending grants: %v", v)
	}
	for _, personal := range []string{"bakkerij", "member@", "NL"} {
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "wvsoft_") && strings.Contains(line, personal) {
				t.Errorf("a label holds %q: %s", personal, line)
			}
		}
	}
}
