package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/policy"
)

// productionEnv is what a production server needs besides sign-in, on the test's database.
func productionEnv(t *testing.T, db *pgtest.DB) map[string]string {
	t.Helper()
	skey, _, err := accesslog.GenerateKey("wvsoft-access-log-test")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"WVSOFT_ENV": "production", "ACCESS_LOG_SIGNING_KEY": skey,
		"DATABASE_URL": db.OwnerURL, "DATA_ENCRYPTION_KEY": db.DataKey, "LISTEN_ADDR": "127.0.0.1:0",
		"TOKEN_KEY_FILE": filepath.Join(t.TempDir(), "key.pem"), "DECISION_LOG": "off", "LOG_FORMAT": "json",
		"METRICS_ADDR": "127.0.0.1:0"}
}

// A production server without OIDC does not start on development sign-in, nor does `wvsoft
// token` mint a token for it, unless ALLOW_DEVELOPMENT_TOKENS says so; then it warns at start.
func TestProductionRefusesDevelopmentSignIn(t *testing.T) {
	db := pgtest.New(t)
	env := productionEnv(t, db)
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, logs bytes.Buffer
	err := run(ctx, []string{"wvsoft", "serve"}, getenv, &out, &logs)
	if err == nil || !strings.Contains(err.Error(), "ALLOW_DEVELOPMENT_TOKENS") || strings.Contains(out.String(), "GraphQL:") {
		t.Fatalf("production without OIDC: %v\n%s", err, out.String())
	}
	out.Reset()
	err = run(ctx, []string{"wvsoft", "token", "director@wvsoft.example"}, getenv, &out, &logs)
	if err == nil || !strings.Contains(err.Error(), "ALLOW_DEVELOPMENT_TOKENS") || out.Len() > 0 {
		t.Fatalf("a development token minted for production: %v %q", err, out.String())
	}
	env["ALLOW_DEVELOPMENT_TOKENS"] = "true"
	s := startServerOn(t, db, env["TOKEN_KEY_FILE"], env)
	if r := s.query(s.token("director@wvsoft.example"), `{ me { role } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("opted in, the development token is refused: %+v", r)
	}
	var warned bool
	for _, line := range strings.Split(s.logs.String(), "\n") {
		warned = warned || strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, "ALLOW_DEVELOPMENT_TOKENS")
	}
	if !warned {
		t.Fatalf("no warning names ALLOW_DEVELOPMENT_TOKENS:\n%s", s.logs.String())
	}
}

// POLICY_DIR is read as the watcher watches it: its own *.rego files. A backup copy in a
// subdirectory is not loaded (it made "multiple default rules" of the policy).
func TestPolicyDirIsItsTopDirectory(t *testing.T) {
	dir := t.TempDir()
	entries, err := policy.Files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "backup"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, err := policy.Files.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{filepath.Join(dir, e.Name()), filepath.Join(dir, "backup", e.Name())} {
			if err := os.WriteFile(p, src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := startServer(t, map[string]string{"POLICY_DIR": dir})
	if r := s.query(s.token("member@bakkerij-de-vries.example"), `{ me { role } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("%+v", r)
	}
	if strings.Contains(s.logs.String(), "backup/") {
		t.Fatalf("the subdirectory was read:\n%s", s.logs.String())
	}
}

// A decision-log event carries the input of its own request's second: the same query in the
// next second logs that second's time (policy impact replays it), not the first one's.
func TestDecisionLogInputIsOfItsSecond(t *testing.T) {
	file := filepath.Join(t.TempDir(), "decisions.log")
	s := startServer(t, map[string]string{"DECISION_LOG": file})
	member := s.token("member@bakkerij-de-vries.example")
	for range 2 {
		// Early in a second, so that the request does not cross into the next.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
		if r := s.query(member, `query Me { me { role } }`, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
	}
	if err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	seconds := map[int64]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var ev struct {
			Operation string    `json:"operation"`
			Timestamp time.Time `json:"timestamp"`
			Input     struct {
				Context struct {
					TimeNS int64 `json:"time_ns"`
				} `json:"context"`
			} `json:"input"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Operation != "Me" {
			continue
		}
		if got, want := ev.Input.Context.TimeNS/1e9, ev.Timestamp.Unix(); got != want {
			t.Errorf("an event of second %d carries the input of second %d", want, got)
		}
		seconds[ev.Input.Context.TimeNS/1e9] = true
	}
	if len(seconds) != 2 {
		t.Fatalf("the two requests' events name the seconds %v, want two", seconds)
	}
}

// startProduction starts a production server (development tokens allowed, for the test's own).
func startProduction(t *testing.T, extra map[string]string) *server {
	t.Helper()
	db := pgtest.New(t)
	env := productionEnv(t, db)
	env["ALLOW_DEVELOPMENT_TOKENS"] = "true"
	for k, v := range extra {
		env[k] = v
	}
	return startServerOn(t, db, env["TOKEN_KEY_FILE"], env)
}

// Introspection off is the server's setting, not its failure: asking for __schema or __type
// (directly or through a fragment, with or without a credential) is refused with
// INTROSPECTION_DISABLED before anything runs, and writes no ERROR line.
func TestIntrospectionOffIsNoInternalError(t *testing.T) {
	s := startProduction(t, nil)
	member := s.token("member@bakkerij-de-vries.example")
	docs := map[string]string{
		"__schema": `{ __schema { types { name } } }`,
		"__type":   `query Look { ...F } fragment F on Query { __type(name: "Person") { name } }`,
	}
	for field, doc := range docs {
		for _, credential := range []string{"", member} {
			r := s.query(credential, doc, nil)
			if r.Data["__schema"] != nil || len(r.Errors) != 1 || r.codes()[0] != "INTROSPECTION_DISABLED" ||
				r.Errors[0].Extensions["field"] != field || r.status != 200 && r.status != 422 {
				t.Errorf("%s (credential %t): %d %+v", field, credential != "", r.status, r)
			}
		}
	}
	if r := s.query(member, `{ __typename me { role } }`, nil); len(r.Errors) > 0 || r.Data["__typename"] != "Query" {
		t.Errorf("__typename: %+v", r)
	}
	if strings.Contains(s.logs.String(), `"level":"ERROR"`) {
		t.Errorf("refused introspection logged as an error:\n%s", s.logs.String())
	}
}

// In production a refused document's message suggests no names (arguments, input fields, enum
// values, types, fields) and names none of the schema's types; development keeps both.
func TestProductionValidationNamesNothingOfTheSchema(t *testing.T) {
	src, err := os.ReadFile("../../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(src)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	var hidden []string
	for name, def := range schema.Types {
		if !def.BuiltIn && def != schema.Query && def != schema.Mutation && def != schema.Subscription {
			hidden = append(hidden, name)
		}
	}
	typeName := regexp.MustCompile(`\b(` + strings.Join(hidden, "|") + `)\b`)
	type doc struct {
		query string
		vars  map[string]any
	}
	docs := map[string]doc{
		"argument":    {`{ persons(frist: 2) { edges { node { id } } } }`, nil},
		"input field": {`mutation { requestSupportAccess(input: {customerId: "x", reasn: "ticket 1", types: [Person]}) { id } }`, nil},
		"enum value":  {`mutation { requestSupportAccess(input: {customerId: "x", reason: "ticket 1", types: [Persn]}) { id } }`, nil},
		"type":        {`query($o: CustomerOrdr) { customers(first: 1, orderBy: $o) { edges { node { id } } } }`, nil},
		"field":       {`{ me { rol } }`, nil},
		"input type":  {`mutation { requestSupportAccess(input: 3) { id } }`, nil},
		"variable enum": {`mutation($i: RequestSupportAccessInput!) { requestSupportAccess(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"customerId": "x", "reason": "ticket 1", "types": []string{"Persn"}}}},
	}
	prod := startProduction(t, nil)
	dev := startServer(t, nil)
	for _, s := range []*server{prod, dev} {
		member := s.token("member@bakkerij-de-vries.example")
		for name, d := range docs {
			r := s.query(member, d.query, d.vars)
			if len(r.Errors) == 0 || r.codes()[0] != "GRAPHQL_VALIDATION_FAILED" {
				t.Fatalf("%s: %+v", name, r)
			}
			var msg string
			for _, e := range r.Errors {
				msg += e.Message + "\n"
			}
			suggests, names := strings.Contains(msg, "Did you mean"), typeName.FindString(msg)
			if s == prod && (suggests || names != "") {
				t.Errorf("production, %s: %q", name, msg)
			}
			if s == dev && name != "input type" && name != "variable enum" && name != "type" && !suggests {
				t.Errorf("development, %s: no suggestion in %q", name, msg)
			}
		}
	}
}

// requestAs sends a request to the server under another Host header, as a browser does for a page
// whose name was rebound to the server's address.
func (s *server) requestAs(host, method, path, credential, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Host = host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://"+host)
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// A development server answers the names of this machine and those configured; a foreign
// name rebound to its address (DNS rebinding) gets 421 and nothing else: no demo tokens, no
// GraphQL answers. Production answers ALLOWED_HOSTS when set. The health probes answer any.
func TestServersAnswerOnlyTheirHosts(t *testing.T) {
	const rebound = "rebind.attacker.example:8080"
	const query = `{"query": "{ persons(first: 1) { edges { node { bsn medicalNotes } } } }"}`
	dev := startServer(t, map[string]string{"ALLOWED_HOSTS": "wvsoft.test"})
	member := dev.token("member@bakkerij-de-vries.example")
	port := dev.url[strings.LastIndex(dev.url, ":")+1:]
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port, "wvsoft.test:" + port, "LOCALHOST"} {
		if status, body := dev.requestAs(host, http.MethodGet, "/playground/identities.json", "", ""); status != 200 || !strings.Contains(body, `"token"`) {
			t.Errorf("development, Host %s: %d %.80s", host, status, body)
		}
	}
	for _, route := range []struct{ method, path, credential, body string }{
		{http.MethodGet, "/playground/identities.json", "", ""},
		{http.MethodPost, "/graphql", member, query},
		{http.MethodGet, "/playground/", "", ""},
	} {
		status, body := dev.requestAs(rebound, route.method, route.path, route.credential, route.body)
		if status != http.StatusMisdirectedRequest || strings.Contains(body, "token") || strings.Contains(body, "data") ||
			strings.Contains(body, "wvsoft.test") {
			t.Errorf("development, rebound %s %s: %d %.200s", route.method, route.path, status, body)
		}
	}
	if status, _ := dev.requestAs(rebound, http.MethodGet, "/healthz", "", ""); status != 200 {
		t.Errorf("healthz under another name: %d", status)
	}

	prod := startProduction(t, map[string]string{"ALLOWED_HOSTS": "api.wvsoft.example"})
	member = prod.token("member@bakkerij-de-vries.example")
	if status, body := prod.requestAs("api.wvsoft.example", http.MethodPost, "/graphql", member, query); status != 200 || !strings.Contains(body, `"data"`) {
		t.Errorf("production, its own name: %d %.200s", status, body)
	}
	if status, body := prod.requestAs(rebound, http.MethodPost, "/graphql", member, query); status != http.StatusMisdirectedRequest || strings.Contains(body, "data") {
		t.Errorf("production, another name: %d %.200s", status, body)
	}
}
