package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// After a few requests, /metrics has every series with the right counts; the operations of
// trusted documents by name.
func TestMetrics(t *testing.T) {
	const me, register, persons = `query Me { me { role } }`, `query Register { customers { edges { node { name kvkNumber } } } }`,
		`query Me { me { customer { persons(first: 2) { edges { node { iban } } } } } }`
	dir := t.TempDir()
	for i, doc := range []string{me, register, persons} {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.graphql", i)), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, map[string]string{"GRAPHQL_TRUSTED_DOCUMENTS": "allowed", "GRAPHQL_TRUSTED_DOCUMENTS_DIR": dir})
	member := s.token("member@bakkerij-de-vries.example")
	for i := 0; i < 3; i++ {
		if r := s.query(member, me, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
	}
	// Partial: support sees customers, but kvkNumber is denied (2 customers: 2 denials).
	if r := s.query(s.token("support@wvsoft.example"), register, nil); len(r.Errors) != 2 {
		t.Fatalf("%+v", r)
	}
	// Error: the accountant gets nothing.
	s.query(s.token("accountant@wvsoft.example"), me, nil)
	s.query(member, persons, nil)

	resp, err := http.Get(s.metrics)
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

// scrape reads a metrics endpoint with the bearer token, if any.
func scrape(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// The metrics are for operators: not on the API's listener but on METRICS_ADDR (loopback, or
// with METRICS_TOKEN), and a client's invented operation names add no series: the operation
// label holds the names of trusted documents, every other document is "other".
func TestMetricsAreForOperatorsAndBounded(t *testing.T) {
	s := startServer(t, nil)
	if status, body := scrape(t, s.url+"/metrics", ""); status == http.StatusOK || strings.Contains(body, "wvsoft_") {
		t.Fatalf("the API's listener serves the metrics: %d", status)
	}
	member := s.token("member@bakkerij-de-vries.example")
	for i := range 300 {
		s.query(member, fmt.Sprintf(`query Invented%d { me { role } }`, i), nil)
	}
	status, body := scrape(t, s.metrics, "")
	if status != http.StatusOK {
		t.Fatalf("metrics: %d", status)
	}
	labels := map[string]bool{}
	for _, m := range regexp.MustCompile(`wvsoft_graphql_request_duration_seconds_count\{operation="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		labels[m[1]] = true
	}
	if len(labels) != 1 || !labels["other"] {
		t.Fatalf("operation labels %v, want only other", labels)
	}
	if v := regexp.MustCompile(`(?m)^wvsoft_graphql_request_duration_seconds_count\{operation="other",outcome="ok"\} (\d+)$`).FindStringSubmatch(body); v == nil || v[1] != "300" {
		t.Fatalf("the 300 operations are not counted as other: %v", v)
	}

	// Reached from other machines, the metrics need the token.
	const token = "a-long-random-scrape-token"
	remote := startServer(t, map[string]string{"METRICS_ADDR": "0.0.0.0:0", "METRICS_TOKEN": token})
	if status, body := scrape(t, remote.metrics, ""); status != http.StatusUnauthorized || strings.Contains(body, "wvsoft_") {
		t.Fatalf("without the token: %d %.100s", status, body)
	}
	if status, body := scrape(t, remote.metrics, "wrong"); status != http.StatusUnauthorized || strings.Contains(body, "wvsoft_") {
		t.Fatalf("with a wrong token: %d", status)
	}
	if status, body := scrape(t, remote.metrics, token); status != http.StatusOK || !strings.Contains(body, "wvsoft_outbox_messages") {
		t.Fatalf("with the token: %d", status)
	}
}
