package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// leakMarkers are what Go, the driver or the database say in their own errors: none may reach a
// client, unless the client sent it itself (parse errors quote the document).
var leakMarkers = []string{"goroutine ", "panic", "runtime error", "runtime.", "pq: ", "sql: ", "json: ",
	"SQLSTATE", "strconv.", ".go:", "invalid memory address", "nil pointer", "syntax error at", "relation \"",
	"violates", "duplicate key", "lib/pq", "sqlx", "gqlgen", "graphql.RawParams", "wvsoft.", "*errors."}

// fuzzSeeds are documents and variables from the README, the tests and the attacks the limits
// answer.
var fuzzSeeds = [][2]string{
	{`{ me { kind role email customer { name slug } } }`, `{}`},
	{`query($c: ID, $after: String) { persons(customerId: $c, first: 5, after: $after) { edges { cursor node { id name bsn iban birthDate maritalStatus medicalNotes } } pageInfo { hasNextPage endCursor } } }`, `{"after": "AAAAAAAAAAAAAAAAAAAAAA"}`},
	{`query($c: ID) { persons(customerId: $c, first: 2) { edges { node { name } } } }`, `{"c": "Q3VzdG9tZXI6MDE5MDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw"}`},
	{`query($id: ID!) { node(id: $id) { id ... on Person { name bsn } ... on Customer { persons(first: 1) { edges { cursor } } } } }`, `{"id": "UGVyc29uOjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA"}`},
	{`query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }`, `{"ids": ["x", "", "UGVyc29uOg"]}`},
	{`{ customers(first: 10) { edges { node { name phone iban kvkNumber contactPersons { salutation name phone } } } } }`, `null`},
	{`mutation { createPerson(input: {name: "Piet", iban: "NL00ABNA0123456789"}) { id } }`, `{}`},
	{`mutation($in: CreatePersonInput!) { createPerson(input: $in) { id name bsn medicalNotes birthDate } }`, `{"in": {"name": "Piet", "bsn": "111222333", "birthDate": "1970-02-30", "maritalStatus": "MARRIED"}}`},
	{`mutation($in: UpdatePersonInput!) { updatePerson(input: $in) { id } }`, `{"in": {"id": "UGVyc29uOjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA", "name": null}}`},
	{`mutation { deletePerson(id: "Q3VzdG9tZXI6MDE5MDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw") }`, `{}`},
	{`mutation { createApiKey(input: {name: "x"}) { secret } }`, `{}`},
	{`{ me { customer { accessLog(first: 0, from: "yesterday") { edges { cursor } } accessLogVerification { intact } } } }`, `{}`},
	{`query Q($n: Int) { persons(first: $n) { edges { cursor } } }`, `{"n": 99999999999999999999}`},
	{`query Q($n: Int) { persons(first: $n) { edges { cursor } } }`, `{"n": "5"}`},
	{`{ a: me { role } b: me { role } ...F } fragment F on Query { me { name } }`, `{}`},
	{`{ __schema { types { name fields { name type { ofType { ofType { name } } } } } } }`, `{}`},
	{`{ me { customer { persons { edges { node { customer { persons { edges { node { customer { name } } } } } } } } } } }`, `{}`},
	{`query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }`, `{}`},
	{`{ me { rol } }`, `{}`},
	{`subscription { me }`, `{}`},
	{`{ me { role } } { me { kind } }`, `{}`},
	{`query A { me { role } } query B { me { kind } }`, `{}`},
	{`{`, `[1, 2`},
	{"{ me { name(x: \"\u0000\") } }", `{"\u0000": "\ud800"}`},
	{`{ me @skip(if: $x) { role } }`, `{"x": true}`},
	{`[{"query": "{ me { role } }"}]`, `[{"query": "{ me { role } }"}]`},
}

// The GraphQL handler takes any document and any variables: it never answers 5xx, always a
// GraphQL response whose every error has a code, and never with Go's, the driver's or the
// database's words. Each input goes in three ways: as a POST document with variables, as the
// whole POST body, and as a GET.
func FuzzGraphQLHandler(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s[0], []byte(s[1]))
	}
	s := newConfiguredStack(f, nil, nil)
	token, err := s.authn.IssueToken(member, 2*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	client := &http.Client{Timeout: 60 * time.Second}
	f.Fuzz(func(t *testing.T, doc string, vars []byte) {
		send := func(req *http.Request, sent string) {
			t.Helper()
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkResponse(t, resp.StatusCode, raw, sent)
		}
		varsJSON := json.RawMessage(vars)
		if !json.Valid(vars) {
			varsJSON = json.RawMessage("null")
		}
		body, err := json.Marshal(map[string]any{"query": doc, "variables": varsJSON})
		if err != nil {
			t.Skip() // not representable as a JSON request
		}
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		send(req, doc+string(vars))

		req, _ = http.NewRequest(http.MethodPost, s.srv.URL+"/graphql", bytes.NewReader(vars))
		req.Header.Set("Content-Type", "application/json")
		send(req, string(vars))

		q := url.Values{"query": {doc}, "variables": {string(vars)}}
		req, _ = http.NewRequest(http.MethodGet, s.srv.URL+"/graphql?"+q.Encode(), nil)
		send(req, doc+string(vars))
	})
}

func checkResponse(t *testing.T, status int, raw []byte, sent string) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("status %d: %s", status, raw)
	}
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, not a GraphQL response: %s", status, raw)
	}
	if len(out.Errors) == 0 && (len(out.Data) == 0 || string(out.Data) == "null") {
		t.Fatalf("status %d, neither data nor errors: %s", status, raw)
	}
	for _, e := range out.Errors {
		if code, _ := e.Extensions["code"].(string); code == "" || code == "INTERNAL" {
			t.Fatalf("status %d, an error without a code, or internal: %s", status, raw)
		}
	}
	for _, m := range leakMarkers {
		if bytes.Contains(raw, []byte(m)) && !strings.Contains(sent, m) {
			t.Fatalf("the answer holds %q: %s", m, raw)
		}
	}
}
