package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/graph"
)

// post sends a raw body to /graphql as the subject with this e-mail address.
func (s *stack) post(email, contentType string, body []byte) (int, []byte) {
	s.t.Helper()
	tok, err := s.authn.IssueToken(email, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// codeOf returns the code and message of the only error of a response body, and fails
// otherwise.
func codeOf(t *testing.T, raw []byte) (string, string) {
	t.Helper()
	var out struct {
		Data   any `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) != 1 {
		t.Fatalf("want one error: %s", raw)
	}
	code, _ := out.Errors[0].Extensions["code"].(string)
	return code, out.Errors[0].Message
}

const member = "member@bakkerij-de-vries.example"

// Every limit answers with its own code, and what stays within the limits runs.
func TestQueryLimits(t *testing.T) {
	s := newStack(t)
	gql := func(query string, vars map[string]any) (int, []byte) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return s.post(member, "application/json", body)
	}
	refused := func(t *testing.T, wantStatus int, wantCode string, status int, raw []byte) {
		t.Helper()
		code, msg := codeOf(t, raw)
		if bytes.Contains(raw, []byte(`"data":{`)) {
			t.Fatalf("data came with a refused request: %s", raw)
		}
		if code != wantCode || (wantStatus != 0 && status != wantStatus) {
			t.Fatalf("want %d %s, got %d %s: %s", wantStatus, wantCode, status, code, raw)
		}
		if msg == "" {
			t.Fatal("no message")
		}
	}
	ok := func(t *testing.T) func(int, []byte) {
		return func(status int, raw []byte) {
			t.Helper()
			if status != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) {
				t.Fatalf("refused: %d %s", status, raw)
			}
		}
	}

	t.Run("depth", func(t *testing.T) {
		// me customer persons edges node customer persons edges node customer name: 11 deep.
		deep := `{ me { customer { persons(first: 1) { edges { node { customer { persons(first: 1) { edges { node { customer { name } } } } } } } } } } }`
		status, raw := gql(deep, nil)
		refused(t, 0, graph.CodeQueryTooDeep, status, raw)
		// Ten deep is allowed.
		ok(t)(gql(`{ me { customer { persons(first: 1) { edges { node { customer { persons(first: 1) { edges { node { name } } } } } } } } } }`, nil))
	})

	t.Run("complexity", func(t *testing.T) {
		// A page of customers with a page of persons each: 500 x 500 rows.
		status, raw := gql(`{ customers(first: 500) { edges { node { persons(first: 500) { edges { node { name } } } } } } }`, nil)
		refused(t, 0, graph.CodeQueryTooComplex, status, raw)
		// The same through a variable.
		status, raw = gql(`query($n: Int) { customers(first: $n) { edges { node { persons(first: $n) { edges { node { name } } } } } } }`, map[string]any{"n": 200})
		refused(t, 0, graph.CodeQueryTooComplex, status, raw)
		// Pages from the end count as pages from the start.
		status, raw = gql(`{ customers(last: 500) { edges { node { persons(last: 500) { edges { node { name } } } } } } }`, nil)
		refused(t, 0, graph.CodeQueryTooComplex, status, raw)
		status, raw = gql(`query($n: Int) { contactPersons(last: $n) { edges { node { customer { persons(last: $n) { edges { node { name } } } } } } } }`, map[string]any{"n": 200})
		refused(t, 0, graph.CodeQueryTooComplex, status, raw)
		// nodes(ids:) counts its ids.
		ids := make([]string, 100)
		for i := range ids {
			ids[i] = "Q3VzdG9tZXI6MDE5MDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw"
		}
		status, raw = gql(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { persons(first: 500) { edges { node { name } } } } } }`, map[string]any{"ids": ids})
		refused(t, 0, graph.CodeQueryTooComplex, status, raw)
		// A full page of persons with every field passes.
		ok(t)(gql(`{ persons(first: 500) { edges { cursor node { id name street postalCode city email phone birthDate
			iban bsn maritalStatus household medicalNotes createdAt updatedAt customer { name } } } pageInfo { hasNextPage endCursor } } }`, nil))
	})

	t.Run("a fragment spread many times is measured once", func(t *testing.T) {
		// Each fragment spreads the one before twice: walked naively, 2^40 visits.
		var doc strings.Builder
		doc.WriteString("query { ...F40 }\nfragment F0 on Query { me { role } }\n")
		for i := 1; i <= 40; i++ {
			fmt.Fprintf(&doc, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
		}
		start := time.Now()
		status, raw := gql(doc.String(), nil)
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("a fragment bomb took %v", took)
		}
		if code, _ := codeOf(t, raw); code != graph.CodeQueryTooComplex {
			t.Fatalf("%d %s", status, raw)
		}
	})

	t.Run("aliases", func(t *testing.T) {
		var q strings.Builder
		q.WriteString("{ ")
		for i := 0; i < 31; i++ {
			fmt.Fprintf(&q, "a%d: me { role } ", i)
		}
		q.WriteString("}")
		status, raw := gql(q.String(), nil)
		refused(t, 0, graph.CodeTooManyAliases, status, raw)
		ok(t)(gql(`{ a: me { role } b: me { kind } }`, nil))
	})

	t.Run("document size", func(t *testing.T) {
		long := "{ me { role } }\n#" + strings.Repeat("x", graph.DefaultMaxQueryBytes)
		status, raw := gql(long, nil)
		refused(t, 0, graph.CodeDocumentTooLarge, status, raw)
		body := []byte(`{"query": "{ me { role } }", "variables": {"pad": "` + strings.Repeat("x", graph.DefaultMaxBodyBytes) + `"}}`)
		status, raw = s.post(member, "application/json", body)
		refused(t, http.StatusRequestEntityTooLarge, graph.CodeDocumentTooLarge, status, raw)
		// Many tokens in few bytes.
		status, raw = gql("{ me { role "+strings.Repeat("kind ", 6000)+"} }", nil)
		if code, _ := codeOf(t, raw); status >= 500 || code != "GRAPHQL_PARSE_FAILED" {
			t.Fatalf("token limit: %d %s", status, raw)
		}
	})

	t.Run("batches", func(t *testing.T) {
		status, raw := s.post(member, "application/json", []byte(` [{"query": "{ me { role } }"}, {"query": "{ me { kind } }"}]`))
		refused(t, http.StatusBadRequest, graph.CodeBatchNotSupported, status, raw)
	})

	t.Run("bodies that are not a GraphQL request", func(t *testing.T) {
		for _, body := range []string{`"just a string"`, `{"query": 5}`, `{"query": "{ me { role } }", "variables": [1]}`, `{`, ``} {
			status, raw := s.post(member, "application/json", []byte(body))
			refused(t, http.StatusBadRequest, graph.CodeBadRequest, status, raw)
			if bytes.Contains(raw, []byte("json:")) || bytes.Contains(raw, []byte("Go ")) {
				t.Fatalf("Go's decoder speaks to the client: %s", raw)
			}
		}
	})

	t.Run("other media types and methods", func(t *testing.T) {
		status, raw := s.post(member, "application/graphql", []byte(`{ me { role } }`))
		refused(t, http.StatusUnsupportedMediaType, graph.CodeBadRequest, status, raw)
		tok, _ := s.authn.IssueToken(member, time.Hour)
		req, _ := http.NewRequest(http.MethodPut, s.srv.URL+"/graphql", strings.NewReader(`{"query": "{ me { role } }"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		refused(t, http.StatusMethodNotAllowed, graph.CodeBadRequest, resp.StatusCode, raw)
	})

	t.Run("page size", func(t *testing.T) {
		status, raw := gql(`{ persons(first: 501) { edges { cursor } } }`, nil)
		code, msg := codeOf(t, raw)
		if code != "BAD_USER_INPUT" || !strings.Contains(msg, "500") || status != http.StatusOK {
			t.Fatalf("%d %s", status, raw)
		}
		body, _ := json.Marshal(map[string]any{"query": `{ me { customer { accessLog(first: 501) { edges { cursor } } } } }`})
		status, raw = s.post("admin@bakkerij-de-vries.example", "application/json", body)
		if code, _ := codeOf(t, raw); code != "BAD_USER_INPUT" {
			t.Fatalf("access log page: %d %s", status, raw)
		}
	})
}

// The maximum page size, suggestions and introspection are configuration.
func TestLimitsAreConfigurable(t *testing.T) {
	wide := newConfiguredStack(t, nil, func(c *graph.HandlerConfig) {
		c.Limits.MaxPageSize = 1000
		c.Introspection, c.FieldSuggestions = true, true
	})
	body, _ := json.Marshal(map[string]any{"query": `{ persons(first: 1000) { edges { cursor } } }`})
	if status, raw := wide.post(member, "application/json", body); status != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) {
		t.Fatalf("a page of 1000 where it is allowed: %d %s", status, raw)
	}
	closed := newConfiguredStack(t, nil, func(c *graph.HandlerConfig) { c.Introspection, c.FieldSuggestions = false, false })

	schemaQuery, _ := json.Marshal(map[string]any{"query": `{ __schema { types { name } } }`})
	if _, raw := wide.post(member, "application/json", schemaQuery); !bytes.Contains(raw, []byte(`"Person"`)) {
		t.Fatalf("introspection on: %s", raw)
	}
	if _, raw := closed.post(member, "application/json", schemaQuery); bytes.Contains(raw, []byte(`"Person"`)) || !bytes.Contains(raw, []byte(`"errors"`)) {
		t.Fatalf("introspection off, yet: %s", raw)
	}

	typo, _ := json.Marshal(map[string]any{"query": `{ me { rol } }`})
	if _, raw := wide.post(member, "application/json", typo); !bytes.Contains(raw, []byte("Did you mean")) {
		t.Fatalf("suggestions on, yet: %s", raw)
	}
	_, raw := closed.post(member, "application/json", typo)
	if code, msg := codeOf(t, raw); code != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(msg, "Did you mean") || strings.Contains(msg, "role") {
		t.Fatalf("suggestions off, yet: %s", raw)
	}
}
