package main

import (
	"bytes"
	"os"
	"os/exec"
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
	outside := regexp.MustCompile(`\.\./shared|/wor[k]/|\.\./\.\./\.\.`)
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

// The repository speaks of the product, not of how it was made, and stands alone: no tracked file
// (code, comments, migrations, policies, documents) names a numbered issue or session or "the
// team", or points at a path outside the repository. The patterns below are written so that they
// do not match themselves, so this file is checked too.
func TestNoProcessWordsOrOutsidePaths(t *testing.T) {
	out, err := exec.Command("git", "-C", "../..", "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	words := regexp.MustCompile(`\b[Ii]ssue \d+|\b[Ss]ession \d+|\b[Tt]he[ ]team\b|\.\./shared|/wor[k]/`)
	skip := func(path string) bool {
		switch {
		case path == "graph/generated.go", // gqlgen's output, rewritten by internal/codegen
			strings.HasPrefix(path, "internal/playground/dist/"), // the built playground (npm)
			filepath.Base(path) == "package-lock.json":
			return true
		// CI's own script names where CI's machine keeps a build of Citus (CITUS_DIST); a
		// user installs Citus from its packages (README, "Scaling out on Citus").
		case path == ".ci/run":
			return true
		}
		return false
	}
	checked := 0
	for _, path := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if path == "" || skip(path) {
			continue
		}
		b, err := os.ReadFile(filepath.Join("../..", path))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			continue // binary: fonts, images, fuzz corpora with NUL bytes
		}
		checked++
		for i, line := range strings.Split(string(b), "\n") {
			if m := words.FindString(line); m != "" {
				t.Errorf("%s:%d: %q: say what the product does, and keep paths inside the repository", path, i+1, m)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d files checked: the test looks in the wrong place", checked)
	}
}

// A newcomer's path: the README takes a reader from the two commands to the architecture (a
// request's way from HTTP to SQL, the packages, where a field's rule lives) within its first
// 150 lines, and its table of packages names every package of the repository, and no other.
func TestReadmeLeadsToTheArchitecture(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	headings := map[string]int{}
	var order []string
	for i, l := range lines {
		if strings.HasPrefix(l, "## ") {
			headings[l] = i + 1
			order = append(order, l)
		}
	}
	path := []string{"## Two commands", "## How a request travels", "## The packages", "## Where a field's rule lives"}
	last := 0
	for _, h := range path {
		at, ok := headings[h]
		if !ok {
			t.Fatalf("the README has no heading %q", h)
		}
		if at < last {
			t.Errorf("%q (line %d) comes before the heading it should follow (line %d)", h, at, last)
		}
		last = at
	}
	for i, h := range order {
		if h == path[len(path)-1] && i+1 < len(order) {
			if end := headings[order[i+1]] - 1; end > 150 {
				t.Errorf("the architecture ends at line %d of the README; it should end within the first 150", end)
			}
		}
	}
	for _, h := range []string{"## Words", "## Adding a field", "## The promises"} {
		if _, ok := headings[h]; !ok {
			t.Errorf("the README has no heading %q", h)
		}
	}

	// The table of packages, between "## The packages" and the next heading.
	listed := map[string]bool{}
	pkg := regexp.MustCompile("`((?:internal|cmd)/[a-z]+|graph/|policy/)`")
	for _, l := range lines[headings["## The packages"]:] {
		if strings.HasPrefix(l, "## ") {
			break
		}
		if cells := strings.SplitN(l, "|", 3); len(cells) == 3 {
			for _, m := range pkg.FindAllStringSubmatch(cells[1], -1) {
				listed[strings.TrimSuffix(m[1], "/")] = true
			}
		}
	}
	var dirs []string
	for _, pattern := range []string{"../../internal/*", "../../cmd/*"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, m...)
	}
	want := map[string]bool{"graph": true, "policy": true}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			want[strings.TrimPrefix(d, "../../")] = true
		}
	}
	for d := range want {
		if !listed[d] {
			t.Errorf("the README's table of packages does not name %s", d)
		}
	}
	for d := range listed {
		if !want[d] {
			t.Errorf("the README's table of packages names %s, which does not exist", d)
		}
	}
}
