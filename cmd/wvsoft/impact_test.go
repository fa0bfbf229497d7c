package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wvsoft/privacy/policy"
)

// An author changes a rule and sees, before it goes live, what it would do to recorded traffic:
// the decision log of real requests replayed against the candidate, by field, role and record
// class, with special categories marked; an unchanged policy changes nothing.
func TestPolicyImpact(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "decision.log")
	s := startServer(t, map[string]string{"DECISION_LOG": logFile})
	member := s.token("member@bakkerij-de-vries.example")
	for _, q := range []string{`{ persons(first: 5) { edges { node { name bsn medicalNotes } } } }`, `{ me { customer { name } } }`} {
		if r := s.query(member, q, nil); len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", q, r.Errors)
		}
	}
	if r := s.query(s.token("support@wvsoft.example"), `{ customers(first: 5) { edges { node { name iban } } } }`, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if err := s.shutdown(); err != nil { // flushes the decision log
		t.Fatal(err)
	}

	src, err := policy.Files.ReadFile("authz.rego")
	if err != nil {
		t.Fatal(err)
	}
	candidate := func(text string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "authz.rego"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	impact := func(dir string, extra ...string) (string, error) {
		var out bytes.Buffer
		args := append([]string{"wvsoft", "policy", "impact", "--candidate", dir, "--log", logFile}, extra...)
		err := run(context.Background(), args, func(string) string { return "" }, &out, &out)
		return out.String(), err
	}

	// The same policy: nothing changes, and a review pipeline passes.
	out, err := impact(candidate(string(src)), "--fail-on-change")
	if err != nil || !strings.Contains(out, "would change effect") || !strings.Contains(out, " 0 would change effect") {
		t.Fatalf("unchanged policy: %v\n%s", err, out)
	}

	// Members lose the special categories of their own data space.
	const anchor = `} else := allow("customer.own_data") if {`
	if !strings.Contains(string(src), anchor) {
		t.Fatal("the policy no longer has the rule this test changes")
	}
	changed := strings.Replace(string(src), anchor, `} else := deny("author.member_special", "members do not read special categories") if {
	customer_user
	input.subject.role == "MEMBER"
	input.resource.category in special_categories
`+anchor, 1)
	out, err = impact(candidate(changed), "--json", "--fail-on-change")
	if !errors.Is(err, errImpact) {
		t.Fatalf("--fail-on-change passed a change: %v\n%s", err, out)
	}
	var report struct {
		Replayed int         `json:"replayed"`
		Changed  int         `json:"changed"`
		Changes  []impactRow `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	got := map[string]impactRow{}
	for _, c := range report.Changes {
		got[c.Field+"/"+c.Role] = c
	}
	for _, field := range []string{"Person.bsn", "Person.medicalNotes"} {
		c := got[field+"/MEMBER"]
		if c.EffectBefore != "allow" || c.EffectAfter != "deny" || c.RuleBefore != "customer.own_data" || c.RuleAfter != "author.member_special" ||
			!c.Special || c.Values != 5 || c.Record["data_of"] != "DATA_SPACE" {
			t.Errorf("%s: %+v", field, c)
		}
	}
	if len(report.Changes) != 2 || report.Changed != 2 || report.Replayed < 10 {
		t.Fatalf("only the members' special categories change: %+v", report)
	}

	text, _ := impact(candidate(changed))
	t.Logf("%s", text)

	// A candidate that does not compile is refused with its file and line.
	if out, err := impact(candidate(string(src) + "\nbroken if {\n")); err == nil || !strings.Contains(err.Error(), "authz.rego:") {
		t.Fatalf("a broken candidate: %v\n%s", err, out)
	}
}
