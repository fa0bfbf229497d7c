package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The repository's documents stand alone: every promise they number (P1, P2, ...) is listed in
// the README's table of promises, and none points at a file outside the repository.
func TestDocumentsStandAlone(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (P\d+) \|`).FindAllStringSubmatch(string(readme), -1) {
		listed[m[1]] = true
	}
	if len(listed) < 12 {
		t.Fatalf("the README lists %d promises in its table, want P1 to P12", len(listed))
	}
	outside := regexp.MustCompile(`\.\./shared|/work/|\.\./\.\./\.\.`)
	promise := regexp.MustCompile(`\bP(\d+)\b`)
	var docs []string
	for _, pattern := range []string{"../../*.md", "../../policy/*.md", "../../policy/*.rego", "../../schema.graphql", "../../internal/postgres/migrations/*.sql"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, m...)
	}
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if loc := outside.FindStringIndex(text); loc != nil {
			t.Errorf("%s points outside the repository: %q", doc, text[loc[0]:min(len(text), loc[1]+30)])
		}
		for _, m := range promise.FindAllString(text, -1) {
			if !listed[m] && !strings.HasPrefix(m, "P0") {
				t.Errorf("%s names promise %s, which the README does not list", doc, m)
			}
		}
	}
}
