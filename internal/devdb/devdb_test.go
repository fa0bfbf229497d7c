// Package devdb_test checks the development commands a newcomer meets first: `make run`,
// `make token`, `make stop`, `make reset-demo`, the quiet template drop of `make test`, and
// internal/devdb/ensure-postgres.sh's private cluster. They run the real make, the real
// script, the real binary and a real PostgreSQL.
package devdb_test

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/pgtest"
)

const root = "../.."

// environ is the test's environment without make's own variables (the test may run under
// `make test`) and with extra set.
func environ(extra map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DATABASE_URL", "WVSOFT_PRIVATE_PG":
			continue
		}
		if _, ok := extra[name]; ok {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range extra {
		out = append(out, k+"="+v)
	}
	return out
}

func command(t *testing.T, env map[string]string, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	cmd.Env = environ(env)
	return cmd
}

// output runs a command and returns its stdout and stderr apart.
func output(t *testing.T, cmd *exec.Cmd) (string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", strings.Join(cmd.Args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// `make test` drops the test template quietly, also when there is none.
func TestTemplateDropIsQuiet(t *testing.T) {
	db := pgtest.New(t) // the server's URL, as make test finds it
	stdout, stderr := output(t, command(t, map[string]string{"DATABASE_URL": db.OwnerURL,
		"WVSOFT_TEST_TEMPLATE": "wvsoft_test_absent_" + strconv.Itoa(os.Getpid())}, "make", "-s", "test-drop-template"))
	if stdout+stderr != "" {
		t.Fatalf("make test-drop-template printed:\n%s%s", stdout, stderr)
	}
}

// make run prints the database it uses, and make token makes a token that the server accepts.
func TestMakeRunAndToken(t *testing.T) {
	db := pgtest.New(t)
	env := map[string]string{"DATABASE_URL": db.OwnerURL, "DATA_ENCRYPTION_KEY": db.DataKey, "LISTEN_ADDR": "127.0.0.1:0",
		"TOKEN_KEY_FILE": filepath.Join(t.TempDir(), "key.pem"), "DECISION_LOG": "off"}
	run := command(t, env, "make", "-s", "run")
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that the server, make's child, stops with it
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	run.Stderr = io.Discard
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-run.Process.Pid, syscall.SIGTERM)
		run.Wait()
	}()
	var printedURL, graphql string
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(3 * time.Minute) // make builds the binary first
	for graphql == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("make run ended before it served")
			}
			if _, url, ok := strings.Cut(line, "DATABASE_URL="); ok && printedURL == "" {
				printedURL = strings.TrimSpace(url)
			}
			if rest, ok := strings.CutPrefix(line, "GraphQL:"); ok {
				graphql = strings.TrimSpace(rest)
			}
		case <-deadline:
			t.Fatal("make run did not serve")
		}
	}
	go func() {
		for range lines {
		}
	}()
	if printedURL != db.OwnerURL {
		t.Fatalf("make run printed DATABASE_URL=%q, uses %q", printedURL, db.OwnerURL)
	}

	tok, _ := output(t, command(t, env, "make", "-s", "token", "EMAIL=member@bakkerij-de-vries.example"))
	tok = strings.TrimSpace(tok)
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("make token printed %q", tok)
	}
	req, _ := http.NewRequest(http.MethodPost, graphql, strings.NewReader(`{"query":"{ me { email } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "member@bakkerij-de-vries.example") {
		t.Fatalf("the server on the token of make token: %s", body)
	}
	// Without EMAIL make token says how to call it and fails.
	if out, err := command(t, env, "make", "-s", "token").CombinedOutput(); err == nil || !strings.Contains(string(out), "EMAIL=") {
		t.Fatalf("make token without EMAIL: %v %s", err, out)
	}
}

// make reset-demo puts the demo data back: what the demo changed goes.
func TestMakeResetDemo(t *testing.T) {
	db := pgtest.New(t)
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := owner.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	persons, users := count(`SELECT count(*) FROM persons`), count(`SELECT count(*) FROM users`)
	if _, err := owner.Exec(`DELETE FROM persons WHERE id IN (SELECT id FROM persons LIMIT 7)`); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(`INSERT INTO users (tenant_id, id, email, name, role) SELECT tenant_id, gen_random_uuid(),
		'extra@example.nl', 'Extra', 'MEMBER' FROM customers LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	owner.Close() // reset-demo drops the database
	stdout, _ := output(t, command(t, map[string]string{"DATABASE_URL": db.OwnerURL, "DATA_ENCRYPTION_KEY": db.DataKey},
		"make", "-s", "reset-demo"))
	if !strings.Contains(stdout, "demo data seeded") {
		t.Fatalf("make reset-demo: %s", stdout)
	}
	owner, err = sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if p, u, extra := count(`SELECT count(*) FROM persons`), count(`SELECT count(*) FROM users`),
		count(`SELECT count(*) FROM users WHERE email = 'extra@example.nl'`); p != persons || u != users || extra != 0 {
		t.Fatalf("after reset-demo: %d persons (want %d), %d users (want %d), extra user %d", p, persons, u, users, extra)
	}
	// Never in production.
	cmd := exec.Command("go", "run", "./cmd/wvsoft", "seed", "--reset")
	cmd.Dir = root
	cmd.Env = environ(map[string]string{"DATABASE_URL": db.OwnerURL, "WVSOFT_ENV": "production", "DATA_ENCRYPTION_KEY": db.DataKey})
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "refused") {
		t.Fatalf("seed --reset in production: %v %s", err, out)
	}
}

// The private cluster: created without initdb's advice on the console, and stopped by make
// stop, which leaves a server that is not ours alone.
func TestPrivateClusterStartsQuietlyAndStops(t *testing.T) {
	dir, err := os.MkdirTemp("", "wvsoft-devdb-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	env := map[string]string{"WVSOFT_PRIVATE_PG": "1", "WVSOFT_PG_DATA": filepath.Join(dir, "postgres"), "WVSOFT_PG_PORT": port}
	t.Cleanup(func() { command(t, env, "./internal/devdb/ensure-postgres.sh", "stop").Run() })

	url, stderr := output(t, command(t, env, "./internal/devdb/ensure-postgres.sh"))
	url = strings.TrimSpace(url)
	if !strings.Contains(url, "127.0.0.1:"+port+"/wvsoft") {
		t.Fatalf("URL %q", url)
	}
	for _, noise := range []string{"you can now start", "Success.", "pg_ctl -D"} {
		if strings.Contains(stderr, noise) {
			t.Errorf("initdb's text on the console (%q):\n%s", noise, stderr)
		}
	}
	answers := func() bool {
		db, err := sql.Open("postgres", url)
		if err != nil {
			return false
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return db.PingContext(ctx) == nil
	}
	if !answers() {
		t.Fatal("the private cluster does not answer")
	}
	_, stderr = output(t, command(t, env, "make", "-s", "stop"))
	if answers() || !strings.Contains(stderr, "stopped") {
		t.Fatalf("after make stop it answers: %v; said %q", answers(), stderr)
	}
	_, stderr = output(t, command(t, env, "make", "-s", "stop"))
	if !strings.Contains(stderr, "not running") {
		t.Fatalf("a second make stop said %q", stderr)
	}
	// Nothing of ours where there is no private cluster: exit 0, nothing stopped.
	_, stderr = output(t, command(t, map[string]string{"WVSOFT_PG_DATA": filepath.Join(dir, "none")}, "make", "-s", "stop"))
	if !strings.Contains(stderr, "nothing of ours") {
		t.Fatalf("make stop without a private cluster said %q", stderr)
	}
}

// The image's build context leaves out the development cluster and its keys, binaries, the
// repository's history and npm's downloads (`COPY . .` would take them all).
func TestDockerignore(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	patterns := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns[strings.TrimSuffix(strings.TrimPrefix(line, "/"), "/")] = true
		}
	}
	for _, must := range []string{".data", "bin", ".git", "**/node_modules"} {
		if !patterns[must] {
			t.Errorf(".dockerignore lacks %s", must)
		}
	}
	// And nothing the build needs is left out.
	for _, needed := range []string{"go.mod", "go.sum", "cmd", "internal", "graph", "policy", "schema.graphql", "internal/playground/dist"} {
		if patterns[needed] {
			t.Errorf(".dockerignore leaves out %s, which the build needs", needed)
		}
	}
}
