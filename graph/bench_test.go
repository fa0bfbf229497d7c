package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph"
	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/authz"
	wrkload "github.com/wvsoft/privacy/internal/benchpeer/wrk"
	"github.com/wvsoft/privacy/internal/httpserver"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// The benchmarks (BENCHMARKS.md). Each workload runs in three modes in one run:
// mode=off (no authorization: graph.WithoutAuthorization, a benchmark-only switch), mode=shipped
// (fieldHook and scalarDecision) and
// mode=naive (one full OPA evaluation per field). `benchstat -col /mode` shows the ratios.

// countingStore counts the store calls of a request: each is one SQL query (plus the
// transaction's set_config).
type countingStore struct {
	wvsoft.Store
	calls atomic.Int64
	// accessLog is how the director's access-log entries are written: "" as shipped, or, only
	// to measure what the entry costs (BenchmarkShippedOverOff's W2director/log=...), "none"
	// (not written: P9 broken on purpose) or "no-records" (written without its records).
	accessLog atomic.Pointer[string]
}

func (c *countingStore) LogAccess(ctx context.Context, actor *wvsoft.Subject, accesses []wvsoft.Access, at time.Time) error {
	switch mode := c.accessLog.Load(); {
	case mode == nil:
	case *mode == "none":
		return nil
	case *mode == "no-records":
		stripped := make([]wvsoft.Access, len(accesses))
		for i, a := range accesses {
			a.Records = nil
			stripped[i] = a
		}
		accesses = stripped
	}
	return c.Store.LogAccess(ctx, actor, accesses, at)
}

func (c *countingStore) Customers(ctx context.Context, f wvsoft.TenantFilter, p wvsoft.Page) ([]*wvsoft.Customer, wvsoft.Window, error) {
	c.calls.Add(1)
	return c.Store.Customers(ctx, f, p)
}

func (c *countingStore) ContactPersonsOf(ctx context.Context, f wvsoft.TenantFilter, t []uuid.UUID) (map[uuid.UUID][]*wvsoft.ContactPerson, error) {
	c.calls.Add(1)
	return c.Store.ContactPersonsOf(ctx, f, t)
}

func (c *countingStore) CustomersByID(ctx context.Context, f wvsoft.TenantFilter, ids []uuid.UUID) ([]*wvsoft.Customer, error) {
	c.calls.Add(1)
	return c.Store.CustomersByID(ctx, f, ids)
}

func (c *countingStore) Persons(ctx context.Context, f wvsoft.TenantFilter, t uuid.UUID, p wvsoft.Page) ([]*wvsoft.Person, wvsoft.Window, error) {
	c.calls.Add(1)
	return c.Store.Persons(ctx, f, t, p)
}

// benchEnv is a seeded database and one handler per mode.
type benchEnv struct {
	db       *pgtest.DB
	store    *postgres.DB
	counting *countingStore
	engine   *authz.Engine
	authn    *auth.Authenticator
	handlers map[string]http.Handler
	keyW2    string
	big      uuid.UUID // a customer with many persons (W5)
	small    uuid.UUID // a customer with 1,000 persons (W1, W2, W5's reference)
}

var modes = []string{"off", "shipped", "naive"}

func newBenchEnv(tb testing.TB, bigPersons int, extraCustomers int) *benchEnv {
	tb.Helper()
	ctx := context.Background()
	env := &benchEnv{db: pgtest.New(tb), handlers: map[string]http.Handler{}}
	now := time.Now()
	var err error
	env.small = postgres.SeedID("customer", "bakkerij-de-vries")
	// 200 seeded + 800 = 1,000 persons in the small data space.
	if err := postgres.SeedPersons(ctx, env.db.OwnerURL, env.small, 800, 7, now, env.db.Keyring(tb)); err != nil {
		tb.Fatal(err)
	}
	env.big = postgres.SeedID("customer", "jansen-installatie")
	if bigPersons > 0 {
		if err := postgres.SeedPersons(ctx, env.db.OwnerURL, env.big, bigPersons, 8, now, env.db.Keyring(tb)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := postgres.SeedCustomers(ctx, env.db.OwnerURL, extraCustomers, now); err != nil {
		tb.Fatal(err)
	}
	if err := postgres.Analyze(ctx, env.db.OwnerURL); err != nil {
		tb.Fatal(err)
	}
	// The access log signs a checkpoint with every entry, as production must (ACCESS_LOG_SIGNING_KEY).
	skey, _, err := accesslog.GenerateKey("bench.wvsoft.example")
	if err != nil {
		tb.Fatal(err)
	}
	logKeys, err := accesslog.NewKeys(skey)
	if err != nil {
		tb.Fatal(err)
	}
	env.store, err = postgres.Open(ctx, env.db.AppURL, time.Now, postgres.WithKeyring(env.db.Keyring(tb)), postgres.WithLogKeys(logKeys))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { env.store.Close() })
	env.counting = &countingStore{Store: env.store}
	if env.engine, err = authz.New(ctx); err != nil {
		tb.Fatal(err)
	}
	if env.authn, err = auth.NewDevelopment(env.store, time.Now, filepath.Join(tb.TempDir(), "key.pem")); err != nil {
		tb.Fatal(err)
	}
	// W2's subject: a read-only key without special categories (allow, mask and deny mixed).
	env.keyW2 = auth.APIKeyPrefix + "benchmark-read-only-key"
	name, prefix, no := "bench", "wvs_bench", false
	k := &wvsoft.APIKey{TenantID: env.small, UUID: uuid.New(), Name: &name, Prefix: &prefix, CanWrite: &no, SpecialCategories: &no}
	if err := env.store.CreateAPIKey(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{env.small}}, k, auth.HashAPIKey(env.keyW2)); err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	for _, mode := range modes {
		// W1 and W2 read pages of 1,000 persons: twice the default maximum.
		cfg := graph.HandlerConfig{Logger: logger, Limits: graph.Limits{MaxPageSize: 1000}}
		switch mode {
		case "off":
			cfg = graph.WithoutAuthorization(cfg)
		case "naive":
			cfg = graph.WithFieldHook(cfg, naiveHook(env.engine))
		}
		gql := graph.NewHandler(graph.ResolverOver(env.counting, time.Now), cfg)
		env.handlers[mode] = httpserver.NewServer(logger, env.authn, env.engine, env.store, gql, nil)
	}
	return env
}

// naiveHook is the reference: one full policy evaluation for every field, nothing cached.
func naiveHook(e *authz.Engine) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if strings.HasPrefix(fc.Field.Name, "__") {
			return next(ctx)
		}
		res := authz.Resource{Type: fc.Object, Field: fc.Field.Name}
		if dir := fc.Field.Definition.Directives.ForName("personal"); dir != nil {
			res.Category = dir.Arguments.ForName("category").Value.Raw
			for _, c := range dir.Arguments.ForName("purposes").Value.Children {
				res.Purposes = append(res.Purposes, c.Value.Raw)
			}
		}
		if t, ok := fc.Parent.Result.(interface{ Tenant() uuid.UUID }); ok {
			res.TenantID = t.Tenant()
		} else if p, ok := fc.Parent.Result.(**wvsoft.ContactPerson); ok {
			res.TenantID = (*p).TenantID
		}
		d := e.Decide(ctx, authz.Input{Subject: authz.FromContext(ctx).Subject(), Action: authz.ActionRead, Resource: res, Time: time.Now()})
		switch d.Effect {
		case authz.Allow:
			return next(ctx)
		case authz.Mask:
			v, err := next(ctx)
			if s, ok := v.(*string); ok && s != nil {
				m := "NL** **** **** **" + (*s)[len(*s)-4:len(*s)-2] + " " + (*s)[len(*s)-2:]
				return &m, err
			}
			return v, err
		}
		return nil, &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed"}
	}
}

func (env *benchEnv) token(tb testing.TB, email string) string {
	tok, err := env.authn.IssueToken(email, auth.DefaultMaxLifetime)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// do runs one GraphQL request in process and fails on a non-200 answer or on errors other
// than FORBIDDEN.
func (env *benchEnv) do(tb testing.TB, mode, credential, query string, vars map[string]any) []byte {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+credential)
	rec := httptest.NewRecorder()
	env.handlers[mode].ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("%s: status %d: %.300s", mode, rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// send runs one GraphQL request as do does, writing the answer to a writer that keeps nothing,
// as a connection's does: the timed loops measure the server, not a recorder's growing buffer
// (which held the whole answer again, and charged a larger answer twice).
func (env *benchEnv) send(tb testing.TB, mode, credential string, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+credential)
	w := &discardWriter{header: http.Header{}, code: http.StatusOK}
	env.handlers[mode].ServeHTTP(w, req)
	if w.code != http.StatusOK || w.n == 0 {
		tb.Fatalf("%s: status %d, %d bytes", mode, w.code, w.n)
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU is the CPU time all of the machine's processes have used (/proc/stat, in ticks of
// 10 ms: meaningful summed over many requests), so that PostgreSQL's share of a request counts
// too; 0 where there is no /proc/stat.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	fields := strings.Fields(string(line))
	var ticks int64
	// cpu user nice system idle iowait irq softirq steal: all but idle and iowait.
	for i, f := range fields {
		if i == 0 || i == 4 || i == 5 || i > 8 {
			continue
		}
		v, _ := strconv.ParseInt(f, 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// discardWriter is an http.ResponseWriter that counts the bytes of the answer and keeps none.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

const w1Query = `query($c: ID) { persons(customerId: $c, first: 1000) { edges { node {
	id name street postalCode city email phone birthDate iban bsn maritalStatus medicalNotes } } } }`

const w3Query = `{ customers(first: 100) { edges { node { id name email phone
	contactPersons { id salutation name email phone } } } } }`

const w5Query = `query($c: ID) { persons(customerId: $c, first: 50) { edges { node {
	id name street postalCode city email phone birthDate iban bsn maritalStatus medicalNotes } } } }`

// checkFields makes sure a benchmark measures what it says: n objects came back.
func checkObjects(tb testing.TB, body []byte, want int) {
	if got := bytes.Count(body, []byte(`"id":`)); got < want {
		tb.Fatalf("%d objects in the answer, want %d: %.300s", got, want, body)
	}
}

// run measures one workload in every mode, with allocations per field.
func (env *benchEnv) run(b *testing.B, credential, query string, vars map[string]any, objects, fields int) {
	for _, mode := range modes {
		b.Run("mode="+mode, func(b *testing.B) {
			checkObjects(b, env.do(b, mode, credential, query, vars), objects)
			body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpu := processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				env.send(b, mode, credential, body)
			}
			b.StopTimer()
			cpu = processCPU() - cpu
			checkObjects(b, env.do(b, mode, credential, query, vars), objects)
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*fields), "allocs/field")
			// The server's CPU per request (this process: not PostgreSQL's), which limits
			// throughput; less disturbed than the wall time by what else the machine does.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// The benchmarks share one seeded database: 1,000,000 persons take a while to write. It lives
// until TestMain ends, not until the first benchmark does.
var (
	envOnce  sync.Once
	env      *benchEnv
	cleanups []func()
)

// keepAlive defers a benchmark's cleanups to the end of the test binary.
type keepAlive struct{ testing.TB }

func (k keepAlive) Cleanup(f func()) { cleanups = append(cleanups, f) }

func (k keepAlive) TempDir() string {
	dir, err := os.MkdirTemp("", "wvsoft-bench")
	if err != nil {
		k.Fatal(err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

// sharedEnv is the benchmarks' database: the large customer has WVSOFT_BENCH_BIG persons
// (1,000,000 by default; 0 leaves W5 without it and makes W1 to W4 quick to set up).
func sharedEnv(b *testing.B) *benchEnv {
	big := 1_000_000
	if v := os.Getenv("WVSOFT_BENCH_BIG"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.Fatalf("WVSOFT_BENCH_BIG=%q: want a number of persons", v)
		}
		big = n
	}
	envOnce.Do(func() { env = newBenchEnv(keepAlive{b}, big, 98) })
	if env == nil {
		b.Fatal("benchmark set-up failed")
	}
	return env
}

// W1: one page of 1,000 persons with 12 fields, as a customer member.
func BenchmarkW1MemberPersons(b *testing.B) {
	e := sharedEnv(b)
	e.run(b, e.token(b, "member@bakkerij-de-vries.example"), w1Query, nil, 1000, 12*1000+3*1000)
}

// W2: the same page as a subject whose decisions mix allow, mask (iban) and deny (bsn,
// medicalNotes): a read-only API key without special categories, until director grants exist.
func BenchmarkW2MixedDecisions(b *testing.B) {
	e := sharedEnv(b)
	e.run(b, e.keyW2, w1Query, nil, 1000, 12*1000+3*1000)
}

// W2 as the director under a scoped grant (Person, without special categories): BSN and medical
// notes denied, the rest allowed, and the access log written with every request.
func BenchmarkW2DirectorUnderGrant(b *testing.B) {
	e := sharedEnv(b)
	e.grantDirector(b)
	vars := map[string]any{"c": wvsoft.GlobalID(wvsoft.KindCustomer, e.small)}
	e.run(b, e.token(b, "director@wvsoft.example"), w1Query, vars, 1000, 12*1000+3*1000)
}

// grantDirector gives the director an approved 7-day grant on the small customer's persons.
func (env *benchEnv) grantDirector(tb testing.TB) {
	ctx := context.Background()
	now := time.Now()
	director := postgres.SeedID("staff", "director@wvsoft.example")
	admin := postgres.SeedID("user", "admin@bakkerij-de-vries.example")
	g := &wvsoft.SupportAccessGrant{TenantID: env.small, UUID: uuid.New(), RequestedBy: director, Reason: "benchmark",
		ScopeTypes: []string{wvsoft.KindPerson}, DurationSeconds: int(wvsoft.MaxGrantDuration / time.Second),
		RequestedAt: now, AnswerBy: now.Add(time.Hour)}
	if err := env.store.RequestAccess(ctx, wvsoft.TenantFilter{All: true}, g); err != nil {
		tb.Fatal(err)
	}
	if _, err := env.store.DecideAccess(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{env.small}}, g.UUID, admin, true, now, nil); err != nil {
		tb.Fatal(err)
	}
}

// The ratios measured in pairs: each iteration sends the page once with authorization off
// and once as shipped, in alternating order, in one process, and keeps the two modes' times
// apart. What moves the times of separate runs on this kind of machine (±15–40%: a run that
// lands on a busier core, the other tenant's load, drift over minutes) then falls on both modes
// alike; shipped/off is the ratio of the two modes' sums within each run, and benchstat over
// -count runs gives its interval. The cost of collecting one mode's garbage can fall in the
// other's time: the per-mode B/op tell how much more shipped allocates.
func BenchmarkShippedOverOff(b *testing.B) {
	e := sharedEnv(b)
	e.grantDirector(b)
	director := map[string]any{"c": wvsoft.GlobalID(wvsoft.KindCustomer, e.small)}
	for _, w := range []struct {
		name, credential string
		vars             map[string]any
		accessLog        string // countingStore.accessLog
	}{
		{"W1", e.token(b, "member@bakkerij-de-vries.example"), nil, ""},
		{"W2key", e.keyW2, nil, ""},
		{"W2director", e.token(b, "director@wvsoft.example"), director, ""},
		// What the director's access-log entry costs: the same page with the entry written
		// without its 1,000 records, and not written at all (neither is allowed in production).
		{"W2director/log=no-records", e.token(b, "director@wvsoft.example"), director, "no-records"},
		{"W2director/log=none", e.token(b, "director@wvsoft.example"), director, "none"},
	} {
		b.Run(w.name, func(b *testing.B) {
			if w.accessLog != "" {
				e.counting.accessLog.Store(&w.accessLog)
				defer e.counting.accessLog.Store(nil)
			}
			pair := [2]string{"off", "shipped"}
			for _, mode := range pair {
				checkObjects(b, e.do(b, mode, w.credential, w1Query, w.vars), 1000)
			}
			body, _ := json.Marshal(map[string]any{"query": w1Query, "variables": w.vars})
			var wall, cpu, machine [2]time.Duration
			var allocated [2]uint64
			var ms runtime.MemStats
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k := range 2 {
					m := (i + k) % 2
					runtime.ReadMemStats(&ms)
					alloc, c, mc, start := ms.TotalAlloc, processCPU(), machineCPU(), time.Now()
					// Labelled, so that one CPU profile of this benchmark holds both modes:
					// go tool pprof -tagfocus mode=shipped (or off).
					pprof.Do(context.Background(), pprof.Labels("mode", pair[m], "workload", w.name), func(context.Context) {
						e.send(b, pair[m], w.credential, body)
					})
					wall[m] += time.Since(start)
					cpu[m] += processCPU() - c
					machine[m] += machineCPU() - mc
					runtime.ReadMemStats(&ms)
					allocated[m] += ms.TotalAlloc - alloc
				}
			}
			b.StopTimer()
			// Still the whole page: an answer withheld (the access log not written) would be quick.
			checkObjects(b, e.do(b, "shipped", w.credential, w1Query, w.vars), 1000)
			n := float64(b.N)
			b.ReportMetric(float64(wall[0].Nanoseconds())/n, "off-ns/op")
			b.ReportMetric(float64(wall[1].Nanoseconds())/n, "shipped-ns/op")
			b.ReportMetric(float64(wall[1])/float64(wall[0]), "shipped/off")
			b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-shipped/off")
			if machine[0] > 0 {
				b.ReportMetric(float64(machine[1])/float64(machine[0]), "machine-cpu-shipped/off")
				b.ReportMetric(float64(machine[1].Nanoseconds())/n, "shipped-machine-cpu-ns/op")
			}
			b.ReportMetric(float64(allocated[0])/n, "off-B/op")
			b.ReportMetric(float64(allocated[1])/n, "shipped-B/op")
		})
	}
}

// W3: 100 customers with their contact persons, as support.
func BenchmarkW3SupportCustomers(b *testing.B) {
	e := sharedEnv(b)
	tok := e.token(b, "support@wvsoft.example")
	e.run(b, tok, w3Query, nil, 100, 100*5+300*5)
	before := e.counting.calls.Load()
	e.do(b, "shipped", tok, w3Query, nil)
	b.ReportMetric(float64(e.counting.calls.Load()-before), "queries")
}

// W5: the first 50 persons of a data space of 1,000,000, and of one of 1,000 for reference.
func BenchmarkW5LargeTenant(b *testing.B) {
	e := sharedEnv(b)
	for _, c := range []struct {
		name   string
		tenant uuid.UUID
		email  string
	}{{"persons=1M", e.big, "member@jansen-installatie.example"}, {"persons=1k", e.small, "member@bakkerij-de-vries.example"}} {
		b.Run(c.name, func(b *testing.B) {
			vars := map[string]any{"c": wvsoft.GlobalID(wvsoft.KindCustomer, c.tenant)}
			e.run(b, e.token(b, c.email), w5Query, vars, 50, 50*12+3*50)
		})
	}
}

// W4: node(id:) lookups from 16 concurrent clients over real HTTP, driven by wrk as in `make
// bench-peer` (internal/benchpeer/wrk), rotating over 100 persons. Each iteration is one wrk run
// of 3 s; ns/op is the time per request (1e9 / req/s), so that benchstat compares the modes.
// Without wrk (`make wrk`) it is skipped.
func BenchmarkW4NodeOverHTTP(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Skip("wrk is not installed (make wrk)")
	}
	e := sharedEnv(b)
	tok := e.token(b, "member@bakkerij-de-vries.example")
	rows, _, err := e.store.Persons(context.Background(), wvsoft.TenantFilter{Tenants: []uuid.UUID{e.small}}, e.small, wvsoft.Page{First: 100})
	if err != nil {
		b.Fatal(err)
	}
	bodies := make([]string, len(rows))
	for i, p := range rows {
		body, _ := json.Marshal(map[string]any{"query": `query($id: ID!) { node(id: $id) { id ... on Person { name email iban bsn } } }`, "variables": map[string]any{"id": p.ID()}})
		bodies[i] = string(body)
	}
	// wrk counts answers, not their content: each mode's answer is checked once here (the
	// person and its fields, no error).
	for _, mode := range modes {
		var out struct {
			Data struct {
				Node map[string]any `json:"node"`
			} `json:"data"`
			Errors []any `json:"errors"`
		}
		if err := json.Unmarshal(e.do(b, mode, tok, `query($id: ID!) { node(id: $id) { id ... on Person { name email iban bsn } } }`,
			map[string]any{"id": rows[0].ID()}), &out); err != nil || len(out.Errors) > 0 || out.Data.Node["name"] == nil {
			b.Fatalf("%s: W4's answer is not a person: %v %v", mode, out.Errors, err)
		}
	}
	script := filepath.Join(b.TempDir(), "w4.lua")
	if err := os.WriteFile(script, []byte(wrkload.Script(tok, bodies)), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, mode := range modes {
		b.Run("mode="+mode, func(b *testing.B) {
			srv := httptest.NewServer(e.handlers[mode])
			defer srv.Close()
			var requests int64
			var wall time.Duration
			for range b.N {
				r, err := wrkload.Run(context.Background(), srv.URL+"/graphql", 16, script, 3*time.Second)
				if err != nil {
					b.Fatal(err)
				}
				requests, wall = requests+r.Requests, wall+r.Wall
			}
			rps := float64(requests) / wall.Seconds()
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(1e9/rps, "ns/op")
		})
	}
}

// Floor: the W1 rows read with sqlx and written with encoding/json; no GraphQL, no policy.
func BenchmarkW1Floor(b *testing.B) {
	e := sharedEnv(b)
	f := wvsoft.TenantFilter{Tenants: []uuid.UUID{e.small}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rows, _, err := e.store.Persons(context.Background(), f, e.small, wvsoft.Page{First: 1000})
		if err != nil || len(rows) != 1000 {
			b.Fatal(len(rows), err)
		}
		if err := json.NewEncoder(io.Discard).Encode(rows); err != nil {
			b.Fatal(err)
		}
	}
}

// W3 issues a fixed number of queries however many customers there are (no N+1).
func TestCustomersWithContactPersonsQueryCount(t *testing.T) {
	e := newBenchEnv(t, 0, 60)
	tok := e.token(t, "support@wvsoft.example")
	counts := map[int]int64{}
	for _, n := range []int{5, 50} {
		q := strings.Replace(w3Query, "first: 100", fmt.Sprintf("first: %d", n), 1)
		before := e.counting.calls.Load()
		body := e.do(t, "shipped", tok, q, nil)
		counts[n] = e.counting.calls.Load() - before
		if got := bytes.Count(body, []byte(`"contactPersons":[{`)); got != n {
			t.Fatalf("%d customers with contact persons, want %d", got, n)
		}
	}
	if counts[5] != counts[50] || counts[50] > 2 {
		t.Fatalf("queries for 5 customers: %d, for 50: %d; want the same, at most 2", counts[5], counts[50])
	}
}

const w6Query = `query($c: ID, $f: PersonFilter, $o: PersonOrder) { persons(customerId: $c, first: 50, filter: $f, orderBy: $o) {
	edges { node { id name street postalCode city email phone birthDate iban bsn maritalStatus medicalNotes } } } }`

// W6: a search by the start of the name in the data space of 1,000,000 persons,
// against the unfiltered first page (W5's query), as the customer's member with the field hook.
// The target: every search within 2x of the first page. "Jan" matches 1 person in 24 (~42,000),
// "Sanne Bakker" 1 in 504 (~2,000), "femke de" 1 in 24 again but further into the index.
func BenchmarkW6NamePrefixSearch(b *testing.B) {
	e := sharedEnv(b)
	tok := e.token(b, "member@jansen-installatie.example")
	c := wvsoft.GlobalID(wvsoft.KindCustomer, e.big)
	prefix := func(p string) map[string]any { return map[string]any{"name": map[string]any{"startsWith": p}} }
	for _, q := range []struct {
		name string
		vars map[string]any
	}{
		{"first-page", map[string]any{"c": c}},
		{"prefix=jan", map[string]any{"c": c, "f": prefix("jan")}},
		{"prefix=sanne-bakker", map[string]any{"c": c, "f": prefix("Sanne Bakker")}},
		{"prefix=jan/orderBy=name", map[string]any{"c": c, "f": prefix("jan"), "o": map[string]any{"field": "NAME"}}},
		{"prefix=femke-de/orderBy=name", map[string]any{"c": c, "f": prefix("femke de"), "o": map[string]any{"field": "NAME"}}},
		{"contains=bakker", map[string]any{"c": c, "f": map[string]any{"name": map[string]any{"contains": "bakker"}}}},
	} {
		b.Run("query="+q.name, func(b *testing.B) {
			checkObjects(b, e.do(b, "shipped", tok, w6Query, q.vars), 50)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.do(b, "shipped", tok, w6Query, q.vars)
			}
		})
	}
}
