package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
)

// cluster is a PostgreSQL server of the test's own, in a temporary directory, that the test
// stops and starts.
type cluster struct {
	t     *testing.T
	bin   string
	data  string
	port  int
	runAs []string
}

// pgBinDir finds initdb and pg_ctl as internal/devdb/ensure-postgres.sh does.
func pgBinDir(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); fileExists(filepath.Join(dir, "initdb")) {
			return dir
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, dir := range append(dirs, "/usr/local/bin") {
		if fileExists(filepath.Join(dir, "initdb")) && fileExists(filepath.Join(dir, "pg_ctl")) {
			return dir
		}
	}
	t.Fatal("no initdb and pg_ctl: install PostgreSQL's server package (apt-get install postgresql)")
	return ""
}

func fileExists(path string) bool { _, err := os.Stat(path); return err == nil }

// startCluster makes, starts, migrates and seeds a cluster. PostgreSQL refuses to run as root, so
// as root it runs as the user postgres, which must reach the directory.
func startCluster(t *testing.T) (*cluster, *pgtest.DB) {
	t.Helper()
	c := &cluster{t: t, bin: pgBinDir(t)}
	dir, err := os.MkdirTemp("", "wvsoft-outage-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c.data = filepath.Join(dir, "data")
	if err := os.Mkdir(c.data, 0o700); err != nil {
		t.Fatal(err)
	}
	owner := "postgres"
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal("running as root, and there is no user postgres to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(c.data, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.runAs = []string{"runuser", "-u", "postgres", "--"}
	} else if u, err := user.Current(); err == nil {
		owner = u.Username
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	c.run("initdb", "-D", c.data, "-U", owner, "--auth=trust", "-E", "UTF8", "--no-sync")
	c.start()
	t.Cleanup(func() {
		cmd := append(append([]string{}, c.runAs...), filepath.Join(c.bin, "pg_ctl"), "-D", c.data, "-m", "immediate", "stop")
		exec.Command(cmd[0], cmd[1:]...).Run() // stopped already, when the test failed while it was down
	})

	base := fmt.Sprintf("postgres://%s@127.0.0.1:%d/", owner, c.port)
	admin, err := sql.Open("postgres", base+"postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE wvsoft`); err != nil {
		t.Fatal(err)
	}
	ownerURL := base + "wvsoft?sslmode=disable"
	ctx := context.Background()
	if err := postgres.Migrate(ctx, ownerURL, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	key, err := postgres.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := postgres.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Seed(ctx, ownerURL, time.Now(), keys); err != nil {
		t.Fatal(err)
	}
	appURL, err := postgres.AppURL(ownerURL, "")
	if err != nil {
		t.Fatal(err)
	}
	return c, &pgtest.DB{OwnerURL: ownerURL, AppURL: appURL, Name: "wvsoft", DataKey: key}
}

func (c *cluster) run(tool string, args ...string) {
	c.t.Helper()
	cmd := append(append([]string{}, c.runAs...), append([]string{filepath.Join(c.bin, tool)}, args...)...)
	if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
		c.t.Fatalf("%s: %v\n%s", strings.Join(cmd, " "), err, out)
	}
}

func (c *cluster) start() {
	c.t.Helper()
	c.run("pg_ctl", "-D", c.data, "-l", filepath.Join(c.data, "server.log"), "-w", "-t", "60", "-o",
		// synchronous_commit=off on the server: the application must ask for durable commits.
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c synchronous_commit=off", c.port, c.data), "start")
}

// stop stops the server: "fast" ends every session (57P01 admin_shutdown), "immediate" is a
// crash (no goodbye, recovery from the WAL at the next start).
func (c *cluster) stop(mode string) {
	c.t.Helper()
	c.run("pg_ctl", "-D", c.data, "-m", mode, "-w", "stop")
}

// freeze stops every process of the server with SIGSTOP, as a hung host would look: the
// kernel still accepts connections, nothing answers. It returns what thaws it.
func (c *cluster) freeze() func() {
	c.t.Helper()
	raw, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		c.t.Fatal(err)
	}
	postmaster, err := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	if err != nil {
		c.t.Fatal(err)
	}
	pids := []int{postmaster}
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(postmaster)).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			c.t.Fatal(err)
		}
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGCONT)
			}
		}
	}
	c.t.Cleanup(thaw)
	return thaw
}

// outcome is one request of the load.
type outcome struct {
	started, took time.Duration
	status        int
	codes         []string
	write         string // the name of the person a write created, when it was acknowledged
	err           error
}

// load sends reads and writes from several clients until stop is closed.
type load struct {
	mu       sync.Mutex
	outcomes []outcome
	start    time.Time
}

func (l *load) run(t *testing.T, s *server, credential string, clients int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	l.start = time.Now()
	httpc := &http.Client{Timeout: 30 * time.Second}
	for c := 0; c < clients; c++ {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q, write := `{ persons(first: 5) { edges { node { id name bsn } } } }`, ""
				if i%2 == 1 {
					write = fmt.Sprintf("outage-write-%d-%d", c, i)
					q = `mutation { createPerson(input: {name: "` + write + `", bsn: "111222333"}) { id name } }`
				}
				o := outcome{started: time.Since(l.start)}
				body, _ := json.Marshal(map[string]any{"query": q})
				req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+credential)
				resp, err := httpc.Do(req)
				o.took = time.Since(l.start) - o.started
				if err != nil {
					o.err = err
				} else {
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					var r gqlResponse
					if err := json.Unmarshal(raw, &r); err != nil {
						o.err = fmt.Errorf("status %d, not JSON: %.200s", resp.StatusCode, raw)
					}
					o.status, o.codes = resp.StatusCode, r.codes()
					if write != "" && len(r.Errors) == 0 && dig(r.Data, "createPerson", "name") == write {
						o.write = write
					}
				}
				l.mu.Lock()
				l.outcomes = append(l.outcomes, o)
				l.mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	return &wg
}

// between returns the outcomes of requests that started in [from, to) since the load began.
func (l *load) between(from, to time.Duration) []outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []outcome
	for _, o := range l.outcomes {
		if o.started >= from && o.started < to {
			out = append(out, o)
		}
	}
	return out
}

func (l *load) since() time.Duration { return time.Since(l.start) }

// waitReady polls /readyz until it answers want.
func waitReady(t *testing.T, s *server, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer %d within %v", want, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With PostgreSQL stopped under load, requests fail fast with UNAVAILABLE and /readyz turns 503;
// when it is back, the same server recovers; every acknowledged write is still there. Twice:
// a fast shutdown, then a crash.
func TestDatabaseOutage(t *testing.T) {
	c, db := startCluster(t)
	s := startServerOn(t, db, filepath.Join(t.TempDir(), "key.pem"), map[string]string{"DATABASE_STATEMENT_TIMEOUT": "1s"})
	member := s.token("member@bakkerij-de-vries.example")

	l := &load{}
	stopLoad := make(chan struct{})
	wg := l.run(t, s, member, 6, stopLoad)
	stopped := false
	defer func() {
		if !stopped {
			close(stopLoad)
			wg.Wait()
		}
	}()

	allOK := func(phase string, outcomes []outcome) {
		t.Helper()
		if len(outcomes) < 10 {
			t.Fatalf("%s: only %d requests", phase, len(outcomes))
		}
		for _, o := range outcomes {
			if o.err != nil || o.status != http.StatusOK || len(o.codes) > 0 {
				t.Fatalf("%s: a request failed: status %d codes %v err %v", phase, o.status, o.codes, o.err)
			}
		}
	}

	time.Sleep(time.Second)
	allOK("before the outage", l.between(0, l.since()))

	for _, mode := range []string{"fast", "immediate"} {
		t.Logf("stopping PostgreSQL (%s)", mode)
		c.stop(mode)
		down := l.since()
		waitReady(t, s, http.StatusServiceUnavailable, 5*time.Second)
		time.Sleep(1500 * time.Millisecond)
		restarting := l.since()

		outage := l.between(down, restarting)
		if len(outage) < 10 {
			t.Fatalf("%s: only %d requests during the outage", mode, len(outage))
		}
		for _, o := range outage {
			if o.err != nil || len(o.codes) == 0 {
				t.Fatalf("%s: during the outage a request got status %d, codes %v, error %v", mode, o.status, o.codes, o.err)
			}
			for _, code := range o.codes {
				if code != "UNAVAILABLE" {
					t.Fatalf("%s: during the outage a request got %s (status %d); want UNAVAILABLE\n%s", mode, code, o.status, internalErrors(s))
				}
			}
			if o.took > 3*time.Second {
				t.Fatalf("%s: a request took %v during the outage; it must fail fast", mode, o.took)
			}
		}

		t.Logf("starting PostgreSQL again")
		c.start()
		waitReady(t, s, http.StatusOK, 15*time.Second)
		// Connections broken by the outage may fail the first requests after it.
		time.Sleep(300 * time.Millisecond)
		back := l.since()
		time.Sleep(time.Second)
		allOK(mode+": after the database is back", l.between(back, l.since()))
	}
	// A frozen server: connections stay open, nothing answers. Reads give up after the
	// statement timeout (1 s here) and 5 s of grace, connections after connect_timeout (5 s).
	t.Logf("freezing PostgreSQL")
	thaw := c.freeze()
	frozen := l.since()
	time.Sleep(9 * time.Second)
	thawing := l.since()
	thaw()
	waitReady(t, s, http.StatusOK, 15*time.Second)
	time.Sleep(300 * time.Millisecond)
	back := l.since()
	time.Sleep(time.Second)

	close(stopLoad)
	wg.Wait() // a request that hung through the freeze is recorded now
	stopped = true
	allOK("after the freeze", l.between(back, l.since()))
	// Judged: the requests running at the freeze or started in its first two seconds (an
	// answer on its way at the freeze may still arrive in the first 200 ms).
	judged := 0
	for _, o := range l.between(frozen-10*time.Second, thawing-7*time.Second) {
		if o.started+o.took < frozen+200*time.Millisecond {
			continue
		}
		judged++
		if o.err != nil || len(o.codes) == 0 || o.codes[0] != "UNAVAILABLE" || o.started+o.took > max(o.started, frozen)+7*time.Second {
			t.Fatalf("frozen: a request got status %d, codes %v, error %v after %v; want UNAVAILABLE within 7 s\n%s",
				o.status, o.codes, o.err, o.took, internalErrors(s))
		}
	}
	if judged < 3 {
		t.Fatalf("frozen: only %d requests to judge", judged)
	}

	// Every acknowledged write is in the database.
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	stored := map[string]bool{}
	rows, err := owner.Query(`SELECT name FROM persons WHERE name LIKE 'outage-write-%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		stored[name] = true
	}
	rows.Close()
	acknowledged := 0
	for _, o := range l.between(0, l.since()) {
		if o.write == "" {
			continue
		}
		acknowledged++
		if !stored[o.write] {
			t.Errorf("the acknowledged write %s is lost", o.write)
		}
	}
	if acknowledged < 20 {
		t.Fatalf("only %d acknowledged writes", acknowledged)
	}
	t.Logf("%d requests, %d acknowledged writes", len(l.between(0, l.since())), acknowledged)
}

// internalErrors is what the server logged as internal errors, to name an unmapped driver error.
func internalErrors(s *server) string {
	var out []string
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, `"internal error"`) || strings.Contains(line, "authentication failed") {
			out = append(out, line)
		}
	}
	if len(out) > 5 {
		out = out[:5]
	}
	return strings.Join(out, "\n")
}
