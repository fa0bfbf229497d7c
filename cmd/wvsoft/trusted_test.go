package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/graph"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Trusted documents: a client sends the sha256Hash of a document the server
// trusts, in Apollo's persisted-query form, and the server runs that document; with
// GRAPHQL_TRUSTED_DOCUMENTS=required nothing else runs, and each refusal has a code.
func TestTrustedDocuments(t *testing.T) {
	dir := t.TempDir()
	const doc = "query MyPersons { persons(first: 2) { edges { node { name } } } }\n"
	const live = "subscription Grants { supportAccessGrants { id status } }\n"
	const ask = `mutation Ask($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket 9", types: [Person]}) { id } }`
	for name, text := range map[string]string{"my-persons.graphql": doc, "grants.graphql": live, "ask.graphql": ask} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, map[string]string{"GRAPHQL_TRUSTED_DOCUMENTS": "required", "GRAPHQL_TRUSTED_DOCUMENTS_DIR": dir})
	auth := map[string]string{"Authorization": "Bearer " + s.token("member@bakkerij-de-vries.example")}
	persisted := func(hash string) map[string]any {
		return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	}

	r := s.postBody(map[string]any{"extensions": persisted(graph.HashDocument(doc))}, auth)
	if edges, _ := dig(r.Data, "persons", "edges").([]any); len(edges) != 2 || len(r.Errors) > 0 {
		t.Fatalf("the trusted document by its hash: %+v", r)
	}
	if r := s.postBody(map[string]any{"query": doc, "extensions": persisted(graph.HashDocument(doc))}, auth); len(r.Errors) > 0 {
		t.Fatalf("the trusted document with its hash: %+v", r.Errors)
	}
	if r := s.postBody(map[string]any{"query": doc}, auth); len(r.Errors) > 0 {
		t.Fatalf("the trusted document's text: %+v", r.Errors)
	}
	cases := []struct {
		name    string
		payload map[string]any
		code    string
	}{
		{"another document", map[string]any{"query": "{ persons(first: 50) { edges { node { bsn } } } }"}, graph.CodeTrustedDocumentOnly},
		{"an unknown hash", map[string]any{"extensions": persisted(strings.Repeat("ab", 32))}, graph.CodePersistedQueryNotFound},
		{"a document under another's hash", map[string]any{"query": "{ me { role } }", "extensions": persisted(graph.HashDocument(doc))}, "BAD_USER_INPUT"},
	}
	for _, c := range cases {
		r := s.postBody(c.payload, auth)
		if len(r.Errors) != 1 || r.codes()[0] != c.code || r.Data != nil {
			t.Errorf("%s: %+v", c.name, r)
		}
	}

	// Subscriptions over the WebSocket are held to the same list.
	ws := connect(t, s, s.token("admin@bakkerij-de-vries.example"))
	ws.subscribe("other", "subscription { supportAccessGrants { id reason } }")
	if typ, r := ws.next("other", 5*time.Second); typ != "next" || len(r.Errors) != 1 || r.codes()[0] != graph.CodeTrustedDocumentOnly {
		t.Fatalf("an untrusted subscription: %s %+v", typ, r)
	}
	payload, _ := json.Marshal(map[string]any{"extensions": persisted(graph.HashDocument(live))})
	ws.send(wsMessage{ID: "trusted", Type: "subscribe", Payload: payload})
	time.Sleep(200 * time.Millisecond) // listening
	customer := wvsoft.GlobalID(wvsoft.KindCustomer, postgres.SeedID("customer", "bakkerij-de-vries"))
	if r := s.postBody(map[string]any{"query": ask, "variables": map[string]any{"c": customer}},
		map[string]string{"Authorization": "Bearer " + s.token("director@wvsoft.example")}); len(r.Errors) > 0 {
		t.Fatalf("the trusted mutation: %+v", r.Errors)
	}
	if r := ws.result("trusted", 5*time.Second); dig(r.Data, "supportAccessGrants", "status") != "PENDING" {
		t.Fatalf("the trusted subscription by its hash: %+v", r)
	}

	// Off by default, and a mode without its directory stops the program.
	if c, err := loadConfig(envOf(map[string]string{})); err != nil || c.TrustedDocuments != "off" {
		t.Fatalf("default: %q %v", c.TrustedDocuments, err)
	}
	if _, err := loadConfig(envOf(map[string]string{"GRAPHQL_TRUSTED_DOCUMENTS": "required"})); err == nil {
		t.Fatal("required without a directory was accepted")
	}
}
