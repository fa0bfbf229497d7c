// Package authz decides every field of every response with the Rego policies of policy/.
//
// One evaluation entry point, Engine.Decide, asks data.wvsoft.authz.decision about one field of
// one object; Engine.Rows asks data.wvsoft.authz.rows which tenants' rows of a type a subject
// reaches. A Request (one per HTTP request) caches both, keyed by what the rules read (type,
// field, the object's tenant), so a page of a thousand objects costs a handful of evaluations.
// Request.Decide is the one decision about a field of a response, which graph's field hook
// applies (the package knows OPA and the policy's input, not gqlgen); Store asks for the rows
// of every store operation and decides writes field by field.
package authz

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/print"

	"github.com/wvsoft/privacy/internal/wvsoft"
	"github.com/wvsoft/privacy/policy"
)

// The two queries the server asks.
const (
	decisionQuery = "data.wvsoft.authz.decision"
	rowsQuery     = "data.wvsoft.authz.rows"
)

// Engine holds the compiled policy and swaps it atomically when the policy changes.
type Engine struct {
	files  fs.FS
	dir    string // the watched directory, when the policy is read from disk
	logger *slog.Logger
	now    wvsoft.Clock

	onReload func(accepted bool)

	// Who may ask for explanations of decisions (WithPolicyAuthors).
	explainAll bool
	authors    map[string]bool

	// personal is every field's @personal declaration (wvsoft.Declarations), by type and field:
	// what a decision's input says of the field it decides.
	personal map[typeField]wvsoft.FieldDeclaration

	current atomic.Pointer[compiled]
	mu      sync.Mutex // serialises reloads
	status  atomic.Pointer[Status]
}

// typeField names a field of a type.
type typeField struct{ typ, field string }

// compiled is one accepted policy: its prepared queries and where it came from.
type compiled struct {
	decision rego.PreparedEvalQuery
	rows     rego.PreparedEvalQuery
	revision string
	cache    sharedCache
	// personal is the engine's: every field's @personal declaration.
	personal map[typeField]wvsoft.FieldDeclaration
}

// Status says which policy serves and why the last change was rejected, if it was.
type Status struct {
	Revision   string
	LoadedAt   time.Time
	Rejected   bool
	RejectedAt time.Time
	Reason     string
}

// Option configures an Engine.
type Option func(*Engine)

// WithDir reads the policy from dir instead of the embedded files; Watch follows its changes.
func WithDir(dir string) Option {
	return func(e *Engine) {
		e.dir = dir
		e.files = os.DirFS(dir)
	}
}

// WithFiles reads the policy from fsys (tests use it for deny-all and broken policies).
func WithFiles(fsys fs.FS) Option { return func(e *Engine) { e.files = fsys } }

// WithLogger sets the logger for reloads and the decision log.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.logger = l } }

// WithClock sets the time source the policy sees as input.context.time_ns.
func WithClock(now wvsoft.Clock) Option { return func(e *Engine) { e.now = now } }

// WithReloadHook is told of every policy load, accepted or rejected (metrics).
func WithReloadHook(f func(accepted bool)) Option { return func(e *Engine) { e.onReload = f } }

// New compiles the policy, runs its tests and returns an engine serving it.
func New(ctx context.Context, opts ...Option) (*Engine, error) {
	e := &Engine{files: policy.Files, logger: slog.New(slog.DiscardHandler), now: time.Now, onReload: func(bool) {},
		personal: map[typeField]wvsoft.FieldDeclaration{}}
	for _, f := range wvsoft.Declarations() {
		if f.Personal() {
			e.personal[typeField{f.Type, f.Field}] = f
		}
	}
	for _, o := range opts {
		o(e)
	}
	if err := e.Reload(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Reload compiles the policy files again. A policy that does not compile or whose tests fail is
// rejected: the last good one keeps serving, and Status reports the rejection.
func (e *Engine) Reload(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := compile(ctx, e.files, printHook{e.logger})
	now := e.now()
	if err != nil {
		prev := e.status.Load()
		st := &Status{Rejected: true, RejectedAt: now, Reason: err.Error()}
		if prev != nil {
			st.Revision, st.LoadedAt = prev.Revision, prev.LoadedAt
		}
		e.status.Store(st)
		e.logger.Error("policy rejected; the last good policy keeps serving", "reason", err.Error())
		e.onReload(false)
		return err
	}
	c.personal = e.personal
	e.current.Store(c)
	e.onReload(true)
	e.status.Store(&Status{Revision: c.revision, LoadedAt: now})
	e.logger.Info("policy loaded", "revision", c.revision)
	return nil
}

// Status returns the state of the policy.
func (e *Engine) Status() Status { return *e.status.Load() }

// compile parses every .rego file of the top directory, compiles them, runs the tests among them and prepares the
// two queries. Nothing here runs on the request path.
func compile(ctx context.Context, files fs.FS, printer print.Hook) (*compiled, error) {
	modules := map[string]*ast.Module{}
	var names []string
	// The top directory only, as the watcher sees it and as the build embeds it (policy.Files):
	// a subdirectory (a backup copy, an editor's) is neither loaded nor watched.
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	for _, d := range entries {
		p := d.Name()
		if d.IsDir() || path.Ext(p) != ".rego" {
			continue
		}
		src, err := fs.ReadFile(files, p)
		if err != nil {
			return nil, err
		}
		m, err := ast.ParseModuleWithOpts(p, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, err
		}
		modules[p] = m
		names = append(names, p)
	}
	if len(modules) == 0 {
		return nil, errors.New("no .rego files")
	}
	// The same checks as `opa check --strict`: unused variables and imports, deprecated
	// built-ins, duplicate imports. Each error names its file and line.
	checker := ast.NewCompiler().WithStrict(true).WithEnablePrintStatements(true)
	if checker.Compile(modules); checker.Failed() {
		return nil, fmt.Errorf("policy does not compile (opa check --strict):\n%w", checker.Errors)
	}
	if err := runTests(ctx, modules); err != nil {
		return nil, err
	}
	sort.Strings(names)
	prepare := func(query string) (rego.PreparedEvalQuery, error) {
		opts := []func(*rego.Rego){rego.Query(query), rego.Store(inmem.New()),
			rego.EnablePrintStatements(true), rego.PrintHook(printer)}
		for _, name := range names {
			if !strings.HasSuffix(name, "_test.rego") {
				opts = append(opts, rego.ParsedModule(modules[name]))
			}
		}
		return rego.New(opts...).PrepareForEval(ctx)
	}
	c := &compiled{revision: revision(files, names)}
	if c.decision, err = prepare(decisionQuery); err != nil {
		return nil, err
	}
	if c.rows, err = prepare(rowsQuery); err != nil {
		return nil, err
	}
	return c, nil
}

// printHook sends print() calls of the policy to the server log, with the request's id (the
// logger adds it from the context) and the rule's file and line. Decisions are cached, so a
// print runs when a decision is evaluated, not each time it is applied.
type printHook struct{ logger *slog.Logger }

func (h printHook) Print(pctx print.Context, msg string) error {
	ctx := pctx.Context
	if ctx == nil {
		ctx = context.Background()
	}
	loc := ""
	if pctx.Location != nil {
		loc = fmt.Sprintf("%s:%d", pctx.Location.File, pctx.Location.Row)
	}
	h.logger.InfoContext(ctx, "policy print", "message", msg, "location", loc)
	return nil
}

// runTests runs the policy's own tests; one failure rejects the policy. The failures are run
// again with tracing, so that the rejection says, as `opa test --var-values` would, where each
// test failed and what the values there were.
func runTests(ctx context.Context, modules map[string]*ast.Module) error {
	results, err := testRun(ctx, modules, "", false)
	if err != nil {
		return err
	}
	var failed []string
	for _, r := range results {
		if r.Error != nil || r.Fail {
			failed = append(failed, regexp.QuoteMeta(r.Name))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	traced, err := testRun(ctx, modules, `(^|\.)(`+strings.Join(failed, "|")+`)$`, true)
	if err != nil {
		return err
	}
	var report []string
	for _, r := range traced {
		if r.Error != nil || r.Fail {
			report = append(report, describeFailure(r))
		}
	}
	return fmt.Errorf("policy tests failed:\n%s", strings.Join(report, "\n"))
}

func testRun(ctx context.Context, modules map[string]*ast.Module, filter string, trace bool) ([]*tester.Result, error) {
	runner := tester.NewRunner().SetStore(inmem.New()).SetTimeout(30 * time.Second).EnableTracing(trace)
	if filter != "" {
		runner = runner.Filter(filter)
	}
	ch, err := runner.Run(ctx, modules)
	if err != nil {
		return nil, err
	}
	var out []*tester.Result
	for r := range ch {
		out = append(out, r)
	}
	return out, nil
}

// describeFailure is one failed test: its file and line, the expression that failed, and the
// values of that expression's operands where it failed (what came out against what was expected).
func describeFailure(r *tester.Result) string {
	where := r.Package + "." + r.Name
	if r.Location != nil {
		where = fmt.Sprintf("%s:%d: %s", r.Location.File, r.Location.Row, where)
	}
	if r.Error != nil {
		return where + ": error: " + r.Error.Error()
	}
	// The failed expression is the last one the trace saw fail in the test's own file.
	for i := len(r.Trace) - 1; i >= 0; i-- {
		ev := r.Trace[i]
		expr, ok := ev.Node.(*ast.Expr)
		if ev.Op != topdown.FailOp || !ok || expr.Location == nil || r.Location == nil || expr.Location.File != r.Location.File {
			continue
		}
		msg := fmt.Sprintf("%s: failed at %s:%d: %s", where, expr.Location.File, expr.Location.Row, expr)
		// The values there: the expression's variables, by the names the author wrote.
		var values []string
		for _, v := range expr.Vars(ast.VarVisitorParams{}).Sorted() {
			if ev.Locals == nil {
				break
			}
			val := ev.Locals.Get(v)
			if val == nil {
				continue
			}
			name := string(v)
			if meta, ok := ev.LocalMetadata[v]; ok && meta.Name != "" {
				name = string(meta.Name)
			}
			values = append(values, fmt.Sprintf("%s = %v", name, val))
		}
		if len(values) > 0 {
			msg += " where " + strings.Join(values, ", ")
		}
		return msg
	}
	return where + ": failed"
}

// revision names a policy by a hash of its files, for logs and /readyz.
func revision(files fs.FS, names []string) string {
	h := fnv.New64a()
	for _, n := range names {
		src, _ := fs.ReadFile(files, n)
		fmt.Fprintf(h, "%s:%d;", n, len(src))
		h.Write(src)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
