package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wvsoft/privacy/graph"
)

// Trusted documents (issue 17, in part): a client sends the sha256Hash of a document the server
// trusts, in Apollo's persisted-query form, and the server runs that document; with
// GRAPHQL_TRUSTED_DOCUMENTS=required nothing else runs, and each refusal has a code.
func TestTrustedDocuments(t *testing.T) {
	dir := t.TempDir()
	const doc = "query MyPersons { persons(first: 2) { edges { node { name } } } }\n"
	if err := os.WriteFile(filepath.Join(dir, "my-persons.graphql"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
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

	// Off by default, and a mode without its directory stops the program.
	if c, err := loadConfig(envOf(map[string]string{})); err != nil || c.TrustedDocuments != "off" {
		t.Fatalf("default: %q %v", c.TrustedDocuments, err)
	}
	if _, err := loadConfig(envOf(map[string]string{"GRAPHQL_TRUSTED_DOCUMENTS": "required"})); err == nil {
		t.Fatal("required without a directory was accepted")
	}
}
