package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// The playground as a policy author's workbench, in a real browser (headless Chromium driven by
// playwright-core): switch to a demo identity, run an operation, and the Decisions panel shows
// each distinct decision coloured by its effect with the rule that made it, rule ids, field names
// and record attributes whole and in view in a window 1280 pixels wide and wider; the page
// reaches no other host. `make test` installs Chromium (`make chromium`) and the page's npm packages
// (internal/playground/web/ensure-browser.sh). The screenshot stays in .artifacts/.
func TestPlaygroundShowsDecisions(t *testing.T) {
	web := playgroundWeb(t)
	s := startServer(t, nil)
	shot := filepath.Join(artifactDir(t), "playground-decisions.png")
	cmd := exec.Command("node", "test/decisions.mjs", s.url, shot)
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromiumPath())
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
		IDs []struct {
			Width int `json:"width"`
			IDs   []struct {
				ID      string `json:"id"`
				Lines   int    `json:"lines"`
				Clipped bool   `json:"clipped"`
			} `json:"ids"`
		} `json:"ids"`
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
	if len(summary.IDs) != 2 {
		t.Fatalf("the ids were not measured: %+v", summary.IDs)
	}
	for _, at := range summary.IDs {
		rules := 0
		for _, id := range at.IDs {
			if strings.Contains(id.ID, "staff.") {
				rules++
			}
			if id.Lines != 1 || id.Clipped {
				t.Errorf("at %d px the panel shows %q over %d lines (out of view: %v)", at.Width, id.ID, id.Lines, id.Clipped)
			}
		}
		if rules == 0 {
			t.Errorf("at %d px no rule id was measured: %+v", at.Width, at.IDs)
		}
	}
	if colors["allow"] == "" || colors["allow"] == colors["deny"] || colors["deny"] == colors["mask"] {
		t.Errorf("effects are not told apart by colour: %v", colors)
	}
}

// The playground runs subscriptions in a real browser: the demo admin subscribes,
// the page opens a WebSocket to its own origin only (graphql-ws is bundled), and an event
// caused elsewhere shows in the result pane.
func TestPlaygroundRunsSubscriptions(t *testing.T) {
	web := playgroundWeb(t)
	s := startServer(t, nil)
	shot := filepath.Join(artifactDir(t), "playground-subscription.png")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "test/subscriptions.mjs", s.url, shot)
	cmd.Dir = web
	// The browser's processes may hold the output open after node ends; Wait stops waiting.
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromiumPath())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// Once the page has its WebSocket, the director asks for access every half second until the
	// page has shown the event: the page says when it opened the socket, not when the server
	// started listening for it.
	body, _ := json.Marshal(map[string]any{"query": `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c,
		reason: "ticket from the playground test", types: [Person]}) { id } }`,
		"variables": map[string]any{"c": wvsoft.GlobalID(wvsoft.KindCustomer, postgres.SeedID("customer", "bakkerij-de-vries"))}})
	director := s.token("director@wvsoft.example")
	asking, stopAsking := context.WithCancel(ctx)
	defer stopAsking()
	ask := func() {
		req, _ := http.NewRequestWithContext(asking, http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+director)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	var last string
	for last = range lines {
		if last == "SUBSCRIBED" {
			go func() {
				for tick := time.NewTicker(500 * time.Millisecond); asking.Err() == nil; <-tick.C {
					ask()
				}
			}()
		}
	}
	stopAsking()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the browser run failed: %v\n%s", err, stderr.String())
	}
	t.Logf("screenshot: %s", shot)
	var summary struct {
		OtherHosts []string `json:"otherHosts"`
		Sockets    []string `json:"sockets"`
		Result     string   `json:"result"`
	}
	if err := json.Unmarshal([]byte(last), &summary); err != nil {
		t.Fatalf("summary: %v\n%s", err, last)
	}
	if len(summary.OtherHosts) > 0 {
		t.Errorf("the page reached other hosts: %v", summary.OtherHosts)
	}
	if len(summary.Sockets) != 1 || summary.Sockets[0] != "ws"+strings.TrimPrefix(s.url, "http")+"/graphql" {
		t.Errorf("WebSockets: %v", summary.Sockets)
	}
	if !strings.Contains(summary.Result, `"status": "PENDING"`) || !strings.Contains(summary.Result, "ticket from the playground test") {
		t.Errorf("the result pane: %s", summary.Result)
	}
}

// playgroundWeb is the page's npm project, with what the browser tests need installed.
func playgroundWeb(t *testing.T) string {
	t.Helper()
	web, err := filepath.Abs("../../internal/playground/web")
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []string{chromiumPath(), filepath.Join(web, "node_modules", "playwright-core")} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run `make test`, which installs it (make chromium, internal/playground/web/ensure-browser.sh)", need)
		}
	}
	return web
}

func chromiumPath() string {
	if c := os.Getenv("CHROMIUM"); c != "" {
		return c
	}
	return "/usr/bin/chromium"
}
