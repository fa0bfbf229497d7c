package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The playground as a policy author's workbench, in a real browser (headless Chromium driven by
// playwright-core): switch to a demo identity, run an operation, and the Decisions panel shows
// each distinct decision coloured by its effect with the rule that made it; the page reaches no
// other host. `make test` installs Chromium (`make chromium`) and the page's npm packages
// (internal/playground/web/ensure-browser.sh). The screenshot stays in .artifacts/.
func TestPlaygroundShowsDecisions(t *testing.T) {
	web, err := filepath.Abs("../../internal/playground/web")
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	for _, need := range []string{chromium, filepath.Join(web, "node_modules", "playwright-core")} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run `make test`, which installs it (make chromium, internal/playground/web/ensure-browser.sh)", need)
		}
	}
	s := startServer(t, nil)
	shot := filepath.Join(artifactDir(t), "playground-decisions.png")
	cmd := exec.Command("node", "test/decisions.mjs", s.url, shot)
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("the browser run failed: %v\n%s\n%s", err, out, stderr)
	}
	t.Logf("screenshot: %s", shot)
	var summary struct {
		OtherHosts []string `json:"otherHosts"`
		Runs       []struct {
			Identity string `json:"identity"`
			Rows     []struct {
				Field, Effect, Rule, Color string
			} `json:"rows"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &summary); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	if len(summary.OtherHosts) > 0 {
		t.Errorf("the page reached other hosts: %v", summary.OtherHosts)
	}
	if len(summary.Runs) != 2 {
		t.Fatalf("runs: %+v", summary.Runs)
	}
	want := map[string]map[string][2]string{ // identity -> field -> effect, rule
		"member@bakkerij-de-vries.example": {"Person.bsn": {"allow", "customer.own_data"}},
		"support@wvsoft.example": {"Customer.iban": {"mask", "staff.support_iban"}, "Customer.kvkNumber": {"deny", "staff.no_purpose"},
			"ContactPerson.email": {"allow", "staff.purpose"}},
	}
	colors := map[string]string{}
	for _, run := range summary.Runs {
		seen := map[string]bool{}
		for _, row := range run.Rows {
			if w, ok := want[run.Identity][row.Field]; ok {
				seen[row.Field] = true
				if row.Effect != w[0] || row.Rule != w[1] {
					t.Errorf("%s, %s: %s by %s, want %s by %s", run.Identity, row.Field, row.Effect, row.Rule, w[0], w[1])
				}
			}
			colors[row.Effect] = row.Color
		}
		if len(seen) != len(want[run.Identity]) {
			t.Errorf("%s: the panel lacks some of %v: %+v", run.Identity, want[run.Identity], run.Rows)
		}
	}
	if colors["allow"] == "" || colors["allow"] == colors["deny"] || colors["deny"] == colors["mask"] {
		t.Errorf("effects are not told apart by colour: %v", colors)
	}
}
