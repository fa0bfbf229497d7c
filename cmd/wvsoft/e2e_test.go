package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
)

// server is a running `wvsoft serve` on a fresh database.
type server struct {
	t       *testing.T
	url     string
	metrics string // the metrics listener's /metrics
	keyFile string
	db      *pgtest.DB
	logs    *syncBuffer

	cancel   context.CancelFunc // what SIGTERM does to main's context
	done     chan error         // what run returned
	stopOnce sync.Once
	stopErr  error
	stopped  bool // stopped by the test, which checks the result itself
}

// shutdown cancels the server's context, as SIGTERM does, and returns what run returned.
func (s *server) shutdown() error {
	s.stopped = true
	return s.stop()
}

func (s *server) stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		s.stopErr = <-s.done
	})
	return s.stopErr
}

// syncBuffer collects the server's log; the server writes from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer runs the real program, as main would, and waits for /readyz.
func startServer(t *testing.T, extraEnv map[string]string) *server {
	t.Helper()
	return startServerOn(t, pgtest.New(t), filepath.Join(t.TempDir(), "key.pem"), extraEnv)
}

// startServerOn starts another server on a database that may already have one.
func startServerOn(t *testing.T, db *pgtest.DB, keyFile string, extraEnv map[string]string) *server {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL": db.OwnerURL, "LISTEN_ADDR": "127.0.0.1:0", "TOKEN_KEY_FILE": keyFile, "LOG_FORMAT": "json",
		// The decision log joins the others, so that the search for personal values covers it.
		"DECISION_LOG":        "stderr",
		"DATA_ENCRYPTION_KEY": db.DataKey,
		// Servers of one test share the access log's signing key, as they share the token key.
		"ACCESS_LOG_SIGNING_KEY_FILE": filepath.Join(filepath.Dir(keyFile), "access-log-signing-key"),
		// The metrics' own listener, on a port of its own per server.
		"METRICS_ADDR": "127.0.0.1:0",
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"wvsoft", "serve"}, func(k string) string { return env[k] }, stdoutW, logs)
		stdoutW.Close()
	}()
	s := &server{t: t, keyFile: keyFile, db: db, logs: logs, cancel: cancel, done: done}
	t.Cleanup(func() {
		if err := s.stop(); err != nil && !s.stopped {
			t.Errorf("serve ended with %v", err)
		}
	})
	urls, metrics := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdoutR)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Metrics:"); ok {
				metrics <- strings.TrimSpace(rest) // printed before GraphQL:
			}
			if rest, ok := strings.CutPrefix(sc.Text(), "GraphQL:"); ok {
				urls <- strings.TrimSuffix(strings.TrimSpace(rest), "/graphql")
			}
		}
	}()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		s.stopOnce.Do(func() { s.stopErr = err }) // the cleanup must not wait for it again
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i > 100 {
			t.Fatal("server never became ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.url = base
	select {
	case s.metrics = <-metrics:
	default: // METRICS_ADDR=off
	}
	return s
}

// token issues a development token as `wvsoft token` does.
func (s *server) token(email string) string {
	s.t.Helper()
	db, err := postgres.Open(context.Background(), s.db.AppURL, time.Now)
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	a, err := auth.NewDevelopment(db, time.Now, s.keyFile)
	if err != nil {
		s.t.Fatal(err)
	}
	tok, err := a.IssueToken(email, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data       map[string]any `json:"data"`
	Errors     []gqlError     `json:"errors"`
	Extensions map[string]any `json:"extensions"`
	status     int
	header     http.Header
}

func (r gqlResponse) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// query posts a GraphQL operation with the credential (a token or an API key).
func (s *server) query(credential, query string, vars map[string]any) gqlResponse {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("status %d, not JSON: %s", resp.StatusCode, raw)
	}
	out.status, out.header = resp.StatusCode, resp.Header
	return out
}

// dig walks a decoded JSON value by keys and indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

const personsQuery = `query($c: ID, $after: String) { persons(customerId: $c, first: 50, after: $after) {
	edges { cursor node { id name iban bsn medicalNotes birthDate customer { slug } } }
	pageInfo { hasNextPage endCursor } } }`

func TestEndToEnd(t *testing.T) {
	s := startServer(t, nil)
	member := s.token("member@bakkerij-de-vries.example")
	otherAdmin := s.token("admin@jansen-installatie.example")

	t.Run("me returns the caller", func(t *testing.T) {
		r := s.query(member, `{ me { kind role email customer { slug } } }`, nil)
		if len(r.Errors) > 0 || dig(r.Data, "me", "email") != "member@bakkerij-de-vries.example" ||
			dig(r.Data, "me", "customer", "slug") != "bakkerij-de-vries" || dig(r.Data, "me", "role") != "MEMBER" {
			t.Fatalf("%+v", r)
		}
	})

	var personID string
	t.Run("a member pages through its own data space and nothing else", func(t *testing.T) {
		seen := 0
		var after any
		for page := 0; page < 10; page++ {
			r := s.query(member, personsQuery, map[string]any{"after": after})
			if len(r.Errors) > 0 {
				t.Fatalf("%+v", r.Errors)
			}
			edges := dig(r.Data, "persons", "edges").([]any)
			for i := range edges {
				if dig(edges[i], "node", "customer", "slug") != "bakkerij-de-vries" {
					t.Fatalf("foreign person: %v", edges[i])
				}
				if dig(edges[i], "node", "bsn") == nil {
					t.Fatalf("a member reads BSNs of its own data space: %v", edges[i])
				}
			}
			seen += len(edges)
			personID = dig(edges[0], "node", "id").(string)
			if dig(r.Data, "persons", "pageInfo", "hasNextPage") != true {
				break
			}
			after = dig(r.Data, "persons", "pageInfo", "endCursor")
		}
		if seen != postgres.DemoPersonsPerCustomer {
			t.Fatalf("saw %d persons, want %d", seen, postgres.DemoPersonsPerCustomer)
		}
	})

	t.Run("another customer's object is not found, like one that does not exist", func(t *testing.T) {
		r := s.query(otherAdmin, `query($id: ID!) { node(id: $id) { id ... on Person { name } } }`, map[string]any{"id": personID})
		missing := s.query(otherAdmin, `query($id: ID!) { node(id: $id) { id } }`,
			map[string]any{"id": "UGVyc29uOjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA"})
		if dig(r.Data, "node") != nil || len(r.Errors) != 1 || r.codes()[0] != "NOT_FOUND" {
			t.Fatalf("foreign node: %+v", r)
		}
		if len(missing.Errors) != 1 || missing.Errors[0].Message != r.Errors[0].Message {
			t.Fatalf("foreign and missing differ: %+v vs %+v", r.Errors, missing.Errors)
		}
		r = s.query(otherAdmin, personsQuery, map[string]any{"c": dig(s.query(member, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id")})
		if dig(r.Data, "persons") != nil || len(r.Errors) != 1 || r.codes()[0] != "NOT_FOUND" {
			t.Fatalf("foreign data space: %+v", r)
		}
	})

	t.Run("support reads the register by purpose and never a data space", func(t *testing.T) {
		support := s.token("support@wvsoft.example")
		r := s.query(support, `{ customers(first: 10) { edges { node { name phone iban kvkNumber contactPersons { name phone } } } } }`, nil)
		edges, _ := dig(r.Data, "customers", "edges").([]any)
		if len(edges) != 2 {
			t.Fatalf("support sees %d customers: %+v", len(edges), r)
		}
		iban, _ := dig(edges[0], "node", "iban").(string)
		if !strings.HasPrefix(iban, "NL** **** ****") || dig(edges[0], "node", "kvkNumber") != nil || dig(edges[0], "node", "phone") == nil {
			t.Fatalf("support's view of a customer: %v", edges[0])
		}
		for _, e := range r.Errors {
			if e.Extensions["code"] != "FORBIDDEN" || !strings.Contains(e.Message, "kvkNumber") {
				t.Fatalf("unexpected error %+v", e)
			}
		}
		r = s.query(support, `{ customers(first: 1) { edges { node { persons { edges { node { name } } } } } } }`, nil)
		if len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" || dig(r.Data, "customers", "edges", 0, "node", "persons") != nil {
			t.Fatalf("support reached a data space: %+v", r)
		}
	})

	t.Run("the accountant and the director without a grant get nothing", func(t *testing.T) {
		r := s.query(s.token("accountant@wvsoft.example"), `{ me { role } }`, nil)
		if r.Data["me"] != nil || len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
			t.Fatalf("accountant: %+v", r)
		}
		director := s.token("director@wvsoft.example")
		customerID := dig(s.query(member, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id")
		r = s.query(director, personsQuery, map[string]any{"c": customerID})
		if dig(r.Data, "persons") != nil || len(r.Errors) != 1 || r.codes()[0] != "NOT_FOUND" {
			t.Fatalf("director without grant: %+v", r)
		}
	})

	t.Run("credentials", func(t *testing.T) {
		for _, cred := range []string{"garbage", s.token("nobody@example.nl"), "wvs_unknownkey"} {
			r := s.query(cred, `{ me { role } }`, nil)
			if r.status != http.StatusUnauthorized || len(r.codes()) != 1 || r.codes()[0] != "UNAUTHENTICATED" || r.Data != nil {
				t.Fatalf("credential %q: %d %+v", cred, r.status, r)
			}
		}
		// Without credentials a caller is a website visitor: it may ask a question, nothing else.
		r := s.query("", `{ me { role } customers { edges { node { name } } } }`, nil)
		if r.Data != nil || len(r.Errors) == 0 || r.codes()[0] != "UNAUTHENTICATED" {
			t.Fatalf("anonymous read: %+v", r)
		}
	})

	t.Run("an API key is bound to its customer and its scopes", func(t *testing.T) {
		admin := s.token("admin@bakkerij-de-vries.example")
		r := s.query(admin, `mutation { createApiKey(input: {name: "rapportage"}) { secret apiKey { id prefix canWrite } } }`, nil)
		key, _ := dig(r.Data, "createApiKey", "secret").(string)
		if !strings.HasPrefix(key, auth.APIKeyPrefix) || len(r.Errors) > 0 {
			t.Fatalf("create key: %+v", r)
		}
		r = s.query(key, `{ persons(first: 3) { edges { node { name iban bsn customer { slug } } } } }`, nil)
		node := dig(r.Data, "persons", "edges", 0, "node")
		iban, _ := dig(node, "iban").(string)
		if dig(node, "name") == nil || !strings.HasPrefix(iban, "NL** ") || dig(node, "bsn") != nil {
			t.Fatalf("read key's view: %v", node)
		}
		if len(r.Errors) != 3 || r.codes()[0] != "FORBIDDEN" {
			t.Fatalf("want a FORBIDDEN per bsn: %+v", r.Errors)
		}
		r = s.query(key, `mutation { createPerson(input: {name: "Piet"}) { id } }`, nil)
		if len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
			t.Fatalf("read key wrote: %+v", r)
		}
		keyID := dig(s.query(admin, `{ me { customer { apiKeys { id name } } } }`, nil).Data, "me", "customer", "apiKeys", 0, "id")
		if r := s.query(admin, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": keyID}); len(r.Errors) > 0 {
			t.Fatalf("revoke: %+v", r)
		}
		if r := s.query(key, `{ me { role } }`, nil); len(r.codes()) != 1 || r.codes()[0] != "UNAUTHENTICATED" {
			t.Fatalf("revoked key still works: %+v", r)
		}
	})

	t.Run("bad input names the field and writes nothing", func(t *testing.T) {
		count := func() int {
			r := s.query(member, `{ persons(first: 500) { edges { cursor } } }`, nil)
			return len(dig(r.Data, "persons", "edges").([]any))
		}
		before := count()
		cases := map[string]string{
			"input.iban":      `{name: "Piet", iban: "NL00ABNA0123456789"}`,
			"input.bsn":       `{name: "Piet", bsn: "123456789"}`,
			"input.email":     `{name: "Piet", email: "piet@"}`,
			"input.name":      `{name: "  "}`,
			"input.birthDate": `{name: "Piet", birthDate: "2999-01-01"}`,
		}
		for field, input := range cases {
			r := s.query(member, `mutation { createPerson(input: `+input+`) { id } }`, nil)
			if len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != field {
				t.Fatalf("%s: %+v", field, r)
			}
		}
		r := s.query(member, `mutation { createPerson(input: {name: "Piet", birthDate: "yesterday"}) { id } }`, nil)
		if len(r.Errors) == 1 && r.codes()[0] == "INTERNAL" {
			t.Fatalf("a bad date is no internal error: %+v", r)
		}
		if after := count(); after != before {
			t.Fatalf("rejected input wrote rows: %d -> %d", before, after)
		}
		r = s.query(member, `mutation { createPerson(input: {name: "Piet Puk", iban: "nl91 abna 0417 1643 00", bsn: "111222333"}) { name iban bsn } }`, nil)
		if len(r.Errors) > 0 || dig(r.Data, "createPerson", "iban") != "NL91ABNA0417164300" {
			t.Fatalf("valid person: %+v", r)
		}
	})

	t.Run("staff write only what their purpose serves", func(t *testing.T) {
		customer := dig(s.query(member, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id")
		support, billing := s.token("support@wvsoft.example"), s.token("billing@wvsoft.example")
		contact := dig(s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { contactPersons { id phone } } } }`,
			map[string]any{"id": customer}).Data, "node", "contactPersons", 0)
		r := s.query(billing, `mutation($id: ID!) { updateContactPerson(input: {id: $id, phone: "020-7654321"}) { id } }`, map[string]any{"id": dig(contact, "id")})
		if len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
			t.Fatalf("billing wrote a contact person: %+v", r)
		}
		r = s.query(support, `mutation($id: ID!) { updateCustomer(input: {id: $id, iban: "NL91ABNA0417164300"}) { id } }`, map[string]any{"id": customer})
		if len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" || r.Errors[0].Extensions["field"] != "input.iban" {
			t.Fatalf("support wrote billing data: %+v", r)
		}
		after := dig(s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { contactPersons { id phone } } } }`,
			map[string]any{"id": customer}).Data, "node", "contactPersons", 0)
		if dig(after, "phone") != dig(contact, "phone") {
			t.Fatalf("a refused write changed the row: %v -> %v", contact, after)
		}
		r = s.query(support, `mutation($id: ID!) { updateContactPerson(input: {id: $id, phone: "020-7654321"}) { phone } }`, map[string]any{"id": dig(contact, "id")})
		if dig(r.Data, "updateContactPerson", "phone") != "020-7654321" {
			t.Fatalf("support may correct a phone: %+v", r)
		}
	})

	t.Run("the log holds no personal values, and every request line its id", func(t *testing.T) {
		assertNoPersonalValues(t, s)
	})

	t.Run("no cookies and no other hosts", func(t *testing.T) {
		for _, path := range []string{"/", "/healthz", "/readyz", "/metrics", "/playground", "/playground/", "/playground/graphiql.js",
			"/playground/graphiql.css", "/graphql", "/graphql?query=%7Bme%7Brole%7D%7D", "/nonexistent"} {
			resp, err := http.Get(s.url + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(resp.Header.Values("Set-Cookie")) > 0 {
				t.Fatalf("%s sets a cookie", path)
			}
			if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
				t.Fatalf("%s has no CSP", path)
			}
			if path == "/playground/" && (bytes.Contains(body, []byte("src=\"http")) || bytes.Contains(body, []byte("href=\"http"))) {
				t.Fatalf("the playground loads from another host: %s", body)
			}
		}
	})
}

// assertNoPersonalValues searches the server's log for every personal value in its database:
// names, e-mail addresses, phone numbers, IBANs, BSNs and medical notes of persons, contact
// persons, users and customers.
func assertNoPersonalValues(t *testing.T, s *server) {
	t.Helper()
	owner, err := sql.Open("postgres", s.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	rows, err := owner.Query(`
		SELECT v FROM persons, LATERAL unnest(ARRAY[name, email, phone, iban, bsn, street]) AS v WHERE v IS NOT NULL
		UNION SELECT v FROM contact_persons, LATERAL unnest(ARRAY[name, email, phone]) AS v WHERE v IS NOT NULL
		UNION SELECT v FROM users, LATERAL unnest(ARRAY[name, email]) AS v WHERE v IS NOT NULL
		UNION SELECT v FROM customers, LATERAL unnest(ARRAY[name, email, phone, iban, kvk_number]) AS v WHERE v IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	// BSNs and medical notes are encrypted in the database: their plain values come from the API.
	var decrypted []string
	for _, who := range []string{"member@bakkerij-de-vries.example", "member@jansen-installatie.example"} {
		for _, v := range allPersons(t, s, s.token(who)) {
			decrypted = append(decrypted, v[0], v[1])
		}
	}
	// The decision log (here on stderr, with the rest) is written in batches, within a second.
	log := waitForLog(t, s, `"path":"wvsoft/authz/decision"`, `"records":{"count":50,"ids":["`)
	for _, v := range decrypted {
		if v != "" && strings.Contains(log, v) {
			t.Errorf("the log holds the personal value %q", v)
		}
	}
	if !strings.Contains(log, "request_id") || !strings.Contains(log, `"erased":["/input/subject/id"]`) {
		t.Fatalf("the log lacks request ids or erased subject ids:\n%.2000s", log)
	}
	checked := 0
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		checked++
		if strings.Contains(log, v) {
			t.Errorf("the log holds the personal value %q", v)
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d values searched", checked)
	}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if strings.Contains(line, `"msg":"http request"`) && !strings.Contains(line, `"request_id"`) {
			t.Fatalf("a request line without its id: %s", line)
		}
	}
}

// waitForLog waits up to five seconds for the server's log to hold every one of want, and
// returns the log.
func waitForLog(t *testing.T, s *server, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		log, missing := s.logs.String(), ""
		for _, w := range want {
			if !strings.Contains(log, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log lacks %s:\n%.3000s", missing, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// owner connects to the server's database as its owner, to look below the API and below
// row-level security; the connection closes with the test.
func (s *server) owner(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", s.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
