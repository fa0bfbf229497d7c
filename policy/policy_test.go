package policy_test

import (
	"context"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/wvsoft/privacy/policy"
)

// TestRego runs every Rego test of this directory under go test, one subtest per Rego test, so
// that `make test` fails when a policy test fails.
func TestRego(t *testing.T) {
	modules := map[string]*ast.Module{}
	err := fs.WalkDir(policy.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		src, err := fs.ReadFile(policy.Files, p)
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(p, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		modules[p] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tester.NewRunner().SetStore(inmem.New()).Run(context.Background(), modules)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range ch {
		n++
		t.Run(r.Package+"."+r.Name, func(t *testing.T) {
			if r.Error != nil {
				t.Fatalf("%s: error %v", r.Location, r.Error)
			}
			if r.Fail {
				t.Fatalf("%s: failed", r.Location)
			}
		})
	}
	if n == 0 {
		t.Fatal("no Rego tests found")
	}
}

// ruleIDRe finds the rule ids the policy decides with: allow("id"), deny("id", …), mask("id", …)
// and objects with "rule": "id".
var ruleIDRe = regexp.MustCompile(`(?:\b(?:allow|deny|mask)\(|"rule":\s*)"([a-z_]+\.[a-z_.]+)"`)

// TestReadmeListsEveryRuleID keeps policy/README.md's tables honest: every rule id a policy file
// (not a test) can decide with is named there, so that an author finds the branch behind a
// decision log's rule id, and a new branch cannot come without its line.
func TestReadmeListsEveryRuleID(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	err = fs.WalkDir(policy.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		src, err := fs.ReadFile(policy.Files, p)
		if err != nil {
			return err
		}
		for _, m := range ruleIDRe.FindAllStringSubmatch(string(src), -1) {
			found++
			if !strings.Contains(string(readme), "`"+m[1]+"`") {
				t.Errorf("%s decides with rule id %q, which policy/README.md does not name", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 30 {
		t.Fatalf("only %d rule ids found in the policy: the pattern no longer matches how rules are written", found)
	}
}

var (
	schemaTypeRe     = regexp.MustCompile(`^(?:type|interface|input|extend type) (\w+)`)
	schemaPersonalRe = regexp.MustCompile(`^\s+(\w+)\b.*@personal\(category: (\w+), purposes: \[([^\]]*)\]`)
	readmeRowRe      = regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| (.*) \\|$")
	readmeFieldRe    = regexp.MustCompile("`([A-Z]\\w*\\.\\w+)`")
)

// TestReadmeNamesEveryPersonalField checks policy/README.md's tables of categories and purposes
// against the @personal directives of schema.graphql, both ways: an author reads there what the
// policy is given, so a field added, moved or dropped in the schema must be there too.
func TestReadmeNamesEveryPersonalField(t *testing.T) {
	schema, err := os.ReadFile("../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]bool{} // category or purpose → Type.field
	add := func(row, field string) {
		if want[row] == nil {
			want[row] = map[string]bool{}
		}
		want[row][field] = true
	}
	typ := ""
	for _, line := range strings.Split(string(schema), "\n") {
		if m := schemaTypeRe.FindStringSubmatch(line); m != nil {
			typ = m[1]
			continue
		}
		m := schemaPersonalRe.FindStringSubmatch(line)
		if m == nil || typ == "" {
			continue
		}
		field := typ + "." + m[1]
		add(m[2], field)
		for _, p := range strings.Split(m[3], ",") {
			add(strings.TrimSpace(p), field)
		}
	}
	if len(want) < 6 {
		t.Fatalf("only %d categories and purposes found in schema.graphql: the pattern no longer matches", len(want))
	}
	got := map[string]map[string]bool{}
	for _, m := range readmeRowRe.FindAllStringSubmatch(string(readme), -1) {
		if _, ok := want[m[1]]; !ok {
			continue // another table's row
		}
		got[m[1]] = map[string]bool{}
		for _, f := range readmeFieldRe.FindAllStringSubmatch(m[2], -1) {
			got[m[1]][f[1]] = true
		}
	}
	for row, fields := range want {
		for f := range fields {
			if !got[row][f] {
				t.Errorf("schema.graphql: %s is %s; policy/README.md's row %s does not name it", f, row, row)
			}
		}
		for f := range got[row] {
			if !fields[f] {
				t.Errorf("policy/README.md's row %s names %s, which schema.graphql does not mark %s", row, f, row)
			}
		}
	}
}
