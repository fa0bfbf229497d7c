package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wvsoft/privacy/graph"
	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/httpserver"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// stack is the real server (HTTP, auth, authz hook, gqlgen, PostgreSQL) with a chosen policy.
type stack struct {
	t      testing.TB
	srv    *httptest.Server
	authn  *auth.Authenticator
	engine *authz.Engine
	db     *pgtest.DB
	store  *postgres.DB
}

// twin is a second server on the same database, store, policy and keys, with its handler's
// configuration changed by configure.
func (s *stack) twin(configure func(*graph.HandlerConfig)) *stack {
	cfg := graph.HandlerConfig{Logger: slog.New(slog.DiscardHandler), Introspection: true}
	configure(&cfg)
	gql := graph.NewHandler(graph.ResolverOver(s.store, time.Now), cfg)
	srv := httptest.NewServer(httpserver.NewServer(cfg.Logger, s.authn, s.engine, s.store, gql, nil))
	s.t.Cleanup(srv.Close)
	twin := *s
	twin.srv = srv
	return &twin
}

func newStack(t *testing.T, opts ...authz.Option) *stack {
	t.Helper()
	return newTracedStack(t, nil, opts...)
}

// newTracedStack is newStack with spans going to tp (nil: no tracing).
func newTracedStack(t *testing.T, tp *sdktrace.TracerProvider, opts ...authz.Option) *stack {
	t.Helper()
	return newConfiguredStack(t, tp, nil, opts...)
}

// newConfiguredStack is newTracedStack with the handler's configuration changed by configure
// (nil: the defaults, introspection on).
func newConfiguredStack(t testing.TB, tp *sdktrace.TracerProvider, configure func(*graph.HandlerConfig), opts ...authz.Option) *stack {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	cfg := graph.HandlerConfig{Logger: slog.New(slog.DiscardHandler), Introspection: true}
	if configure != nil {
		configure(&cfg)
	}
	dbOpts := []postgres.Option{postgres.WithKeyring(db.Keyring(t))}
	if tp != nil {
		cfg.Tracer = tp.Tracer("test")
		dbOpts = append(dbOpts, postgres.WithTracer(cfg.Tracer))
	}
	store, err := postgres.Open(ctx, db.AppURL, time.Now, dbOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	engine, err := authz.New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.NewDevelopment(store, time.Now, filepath.Join(t.TempDir(), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	gql := graph.NewHandler(graph.ResolverOver(store, time.Now), cfg)
	srv := httptest.NewServer(httpserver.NewServer(cfg.Logger, authn, engine, store, gql, nil))
	t.Cleanup(srv.Close)
	return &stack{t: t, srv: srv, authn: authn, engine: engine, db: db, store: store}
}

// unlimited lifts the query limits for tests that select every field of the schema at once:
// they test authorization, not the limits.
func unlimited(c *graph.HandlerConfig) {
	c.Limits = graph.Limits{MaxDepth: 100, MaxComplexity: math.MaxInt32, MaxAliases: 1000,
		MaxQueryBytes: 1 << 20, MaxTokens: 1 << 20, MaxBodyBytes: 1 << 22}
}

func (s *stack) query(email, query string) (map[string]any, []map[string]any) {
	s.t.Helper()
	tok, err := s.authn.IssueToken(email, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]any   `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	return out.Data, out.Errors
}

func schema() *ast.Schema {
	return graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
}

// selectAll writes a selection of every field of a type down to depth, skipping fields with
// required arguments.
func selectAll(s *ast.Schema, typ *ast.Definition, depth int) string {
	var b strings.Builder
	for _, f := range typ.Fields {
		if strings.HasPrefix(f.Name, "__") || hasRequiredArgs(f) {
			continue
		}
		inner := s.Types[f.Type.Name()]
		if inner.Kind == ast.Object {
			if depth == 0 {
				continue
			}
			if sub := selectAll(s, inner, depth-1); sub != "" {
				b.WriteString(f.Name + " " + sub + " ")
			}
			continue
		}
		if inner.Kind == ast.Interface || inner.Kind == ast.Union {
			continue
		}
		b.WriteString(f.Name + " ")
	}
	if b.Len() == 0 {
		return ""
	}
	return "{ " + b.String() + "}"
}

func hasRequiredArgs(f *ast.FieldDefinition) bool {
	for _, a := range f.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}

// leaves calls fn for every scalar value in a response.
func leaves(v any, path string, fn func(path string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			leaves(c, path+"."+k, fn)
		}
	case []any:
		for i, c := range x {
			leaves(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	default:
		fn(path, x)
	}
}

const denyAll = `package wvsoft.authz
import rego.v1
decision := {"effect": "deny", "reason": "deny all"}
rows := {"all": true}
`

// With a policy that denies every field, no query returns any data at all.
func TestDenyAllPolicyReturnsNoData(t *testing.T) {
	s := newConfiguredStack(t, nil, unlimited, authz.WithFiles(fstest.MapFS{"deny.rego": {Data: []byte(denyAll)}}))
	q := "query " + selectAll(schema(), schema().Query, 5)
	for _, who := range []string{"member@bakkerij-de-vries.example", "admin@jansen-installatie.example", "director@wvsoft.example", "support@wvsoft.example"} {
		data, errs := s.query(who, q)
		leaves(data, "data", func(path string, v any) {
			if v != nil {
				t.Errorf("%s: %s = %v under a deny-all policy", who, path, v)
			}
		})
		if len(errs) == 0 {
			t.Errorf("%s: no FORBIDDEN errors", who)
		}
		for _, e := range errs {
			if ext, _ := e["extensions"].(map[string]any); ext["code"] != "FORBIDDEN" {
				t.Errorf("%s: unexpected error %v", who, e)
			}
		}
	}
}

// Every scalar field goes through the hook: a policy that allows every object and every
// non-null scalar (ids, cursors: denying them would null the whole object) but denies every
// nullable scalar returns objects whose every nullable value is null.
func TestEveryScalarFieldIsDecided(t *testing.T) {
	s := schema()
	var denied []string
	for _, typ := range s.Types {
		if typ.Kind != ast.Object || strings.HasPrefix(typ.Name, "__") {
			continue
		}
		for _, f := range typ.Fields {
			if k := s.Types[f.Type.Name()].Kind; (k == ast.Scalar || k == ast.Enum) && !f.Type.NonNull {
				denied = append(denied, fmt.Sprintf("%q", typ.Name+"."+f.Name))
			}
		}
	}
	sort.Strings(denied)
	policy := `package wvsoft.authz
import rego.v1
scalars := {` + strings.Join(denied, ", ") + `}
default decision := {"effect": "allow"}
decision := {"effect": "deny", "reason": "scalar"} if concat(".", [input.resource.type, input.resource.field]) in scalars
rows := {"tenants": [input.subject.tenant_id]}
`
	st := newConfiguredStack(t, nil, unlimited, authz.WithFiles(fstest.MapFS{"leaves.rego": {Data: []byte(policy)}}))
	data, _ := st.query("admin@bakkerij-de-vries.example", "query "+selectAll(s, s.Query, 5))
	// Names of non-null scalar fields anywhere in the schema: the policy above allows those.
	nonNull := map[string]bool{}
	for _, typ := range s.Types {
		for _, f := range typ.Fields {
			if k := s.Types[f.Type.Name()].Kind; (k == ast.Scalar || k == ast.Enum) && f.Type.NonNull {
				nonNull[f.Name] = true
			}
		}
	}
	objects := 0
	leaves(data, "data", func(path string, v any) {
		name := path[strings.LastIndex(path, ".")+1:]
		if i := strings.Index(name, "["); i >= 0 {
			name = name[:i] // an element of a list field
		}
		if nonNull[name] {
			if name == "id" && v != nil {
				objects++
			}
			return
		}
		if v != nil {
			t.Errorf("%s = %v escaped the hook", path, v)
		}
	})
	if objects < 10 {
		t.Fatalf("only %d objects came back; the test proves nothing", objects)
	}
}

// Every type and field of the schema is named by the policy or its tests, so that a new field
// cannot arrive without a policy author deciding it.
func TestEveryFieldIsNamedByThePolicy(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "policy", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	rules, tests := read("authz.rego"), ""
	// Every policy test file counts, so that a new feature's tests can live in a file of their own.
	testFiles, err := filepath.Glob(filepath.Join("..", "policy", "*_test.rego"))
	if err != nil || len(testFiles) == 0 {
		t.Fatalf("no policy tests: %v", err)
	}
	for _, f := range testFiles {
		tests += read(filepath.Base(f))
	}
	s := schema()
	for _, typ := range s.Types {
		if typ.Kind != ast.Object || strings.HasPrefix(typ.Name, "__") {
			continue
		}
		if !strings.Contains(rules, `"`+typ.Name+`"`) {
			t.Errorf("type %s is named by no rule of policy/authz.rego", typ.Name)
			continue
		}
		if typ.Name == "Mutation" {
			for _, f := range typ.Fields {
				if !strings.Contains(rules, `"`+f.Name+`": "`) && !strings.Contains(rules, `{"`+f.Name+`"}`) {
					t.Errorf("mutation %s has no entry in mutation_types (or anonymous_fields)", f.Name)
				}
			}
			continue
		}
		if strings.Contains(rules, "structural_types") && isStructural(rules, typ.Name) {
			continue
		}
		for _, f := range typ.Fields {
			if !strings.Contains(tests, `"`+f.Name+`"`) {
				t.Errorf("field %s.%s is named by no policy test", typ.Name, f.Name)
			}
		}
	}
}

func isStructural(rules, typ string) bool {
	i := strings.Index(rules, "structural_types :=")
	if i < 0 {
		return false
	}
	set := rules[i:]
	set = set[:strings.Index(set, "}")]
	return strings.Contains(set, `"`+typ+`"`)
}

// With a tracer, a request has a span per resolver that reaches the database, a span per
// transaction, and one for its policy decisions, with counts and no values.
func TestTracingSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	s := newTracedStack(t, tp)
	s.query("member@bakkerij-de-vries.example", `{ persons(first: 5) { edges { node { name bsn } } } }`)
	names := map[string]int{}
	for _, span := range rec.Ended() {
		names[span.Name()]++
		if span.Name() == "authz.decisions" {
			for _, a := range span.Attributes() {
				if a.Key == "allow" && a.Value.AsInt64() < 10 {
					t.Errorf("allow count %d", a.Value.AsInt64())
				}
			}
		}
	}
	for _, want := range []string{"resolve Query.persons", "postgres.tx", "authz.decisions"} {
		if names[want] == 0 {
			t.Errorf("no span %q among %v", want, names)
		}
	}
}

// The generated fast path of scalar struct fields (internal/codegen) answers
// exactly what gqlgen's path through the hook answers: the same values, masks, nulls and
// errors at the same paths, for every role, under the shipped policy and under one that
// denies and masks more. Only the access log differs between two reads (each read under a
// grant is logged), so the director reads without one.
func TestScalarFastPathAnswersAsTheHook(t *testing.T) {
	s := schema()
	q := "query " + selectAll(s, s.Query, 5)
	masking := `package wvsoft.authz
import rego.v1
default decision := {"effect": "allow"}
decision := {"effect": "mask", "mask": "redact"} if input.resource.field in {"name", "email", "city"}
decision := {"effect": "deny", "reason": "test"} if input.resource.field in {"street", "phone", "iban"}
rows := {"all": true}
`
	for _, policy := range []struct {
		name string
		opts []authz.Option
	}{{"shipped", nil}, {"masking", []authz.Option{authz.WithFiles(fstest.MapFS{"mask.rego": {Data: []byte(masking)}})}}} {
		t.Run(policy.name, func(t *testing.T) {
			fast := newConfiguredStack(t, nil, unlimited, policy.opts...)
			slow := fast.twin(func(c *graph.HandlerConfig) { unlimited(c); *c = graph.WithScalarsThroughHook(*c) })
			compared := 0
			for _, who := range []string{"member@bakkerij-de-vries.example", "admin@bakkerij-de-vries.example",
				"admin@jansen-installatie.example", "support@wvsoft.example", "billing@wvsoft.example",
				"director@wvsoft.example", "accountant@wvsoft.example"} {
				fastData, fastErrs := fast.query(who, q)
				slowData, slowErrs := slow.query(who, q)
				a, _ := json.Marshal(fastData)
				b, _ := json.Marshal(slowData)
				if !bytes.Equal(a, b) {
					t.Errorf("%s: data differs:\nfast %.2000s\nslow %.2000s", who, a, b)
				}
				if x, y := errorSet(fastErrs), errorSet(slowErrs); x != y {
					t.Errorf("%s: errors differ:\nfast %.2000s\nslow %.2000s", who, x, y)
				}
				leaves(fastData, "data", func(string, any) { compared++ })
			}
			if compared < 100 {
				t.Fatalf("only %d values compared; the test proves nothing", compared)
			}
		})
	}
}

// errorSet is a response's errors, each as JSON, in a stable order (elements of a list whose
// fields resolve concurrently report theirs in any order).
func errorSet(errs []map[string]any) string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		b, _ := json.Marshal(e)
		lines[i] = string(b)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// A field selected through an interface (Node.id) has the interface's one definition for every
// type: it is decided for each record's own type. A policy that refuses ContactPerson.id and
// allows Customer.id shows the customer's id and nulls the contact person (its id is non-null),
// in either order within one request, through the fast path and through the hook.
func TestInterfaceFieldIsDecidedPerType(t *testing.T) {
	policy := `package wvsoft.authz
import rego.v1
default decision := {"effect": "allow"}
decision := {"effect": "deny", "reason": "test"} if {
	input.resource.type == "ContactPerson"
	input.resource.field == "id"
}
rows := {"all": true}
`
	fast := newConfiguredStack(t, nil, unlimited, authz.WithFiles(fstest.MapFS{"types.rego": {Data: []byte(policy)}}))
	slow := fast.twin(func(c *graph.HandlerConfig) { unlimited(c); *c = graph.WithScalarsThroughHook(*c) })
	ctx := context.Background()
	all := wvsoft.TenantFilter{All: true}
	customers, _, err := fast.store.Customers(ctx, all, wvsoft.Page{First: 50})
	if err != nil {
		t.Fatal(err)
	}
	var customer, contact string
	for _, c := range customers {
		contacts, err := fast.store.ContactPersonsOf(ctx, all, []uuid.UUID{c.TenantID})
		if err != nil {
			t.Fatal(err)
		}
		if c.Slug == "bakkerij-de-vries" && len(contacts[c.TenantID]) > 0 {
			customer, contact = c.ID(), contacts[c.TenantID][0].ID()
		}
	}
	if customer == "" {
		t.Fatal("the demo data has no contact person of bakkerij-de-vries")
	}
	for _, s := range []*stack{fast, slow} {
		for _, ids := range [][2]string{{customer, contact}, {contact, customer}} {
			data, errs := s.query("admin@bakkerij-de-vries.example", fmt.Sprintf(`{ nodes(ids: [%q, %q]) { id } }`, ids[0], ids[1]))
			nodes, _ := data["nodes"].([]any)
			if len(nodes) != 2 {
				t.Fatalf("nodes = %v, errors %v", data["nodes"], errs)
			}
			for i, id := range ids {
				node, _ := nodes[i].(map[string]any)
				switch {
				case id == customer && (node == nil || node["id"] != customer):
					t.Errorf("order %v: the customer's id was not shown: %v", ids, nodes[i])
				case id == contact && node != nil:
					t.Errorf("order %v: the contact person's refused id was shown: %v", ids, node)
				}
			}
			if len(errs) != 1 || fmt.Sprint(errs[0]["path"]) != fmt.Sprintf("[nodes %d id]", indexOf(ids[:], contact)) {
				t.Errorf("order %v: errors %v, want one at the contact person's id", ids, errs)
			}
		}
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
