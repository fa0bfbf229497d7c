package main

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/codegen/config"
	"golang.org/x/mod/modfile"
)

// A schema with one field of each kind that the rewrite tells apart.
const testSchema = `scalar Time
interface Node { id: ID! }
enum Kind { A B }
type Query {
  people: [Person!]!
  node(id: ID!): Node
}
type Person implements Node {
  id: ID!
  name: String!
  nickname: String
  kind: Kind!
  seen: Time
  born: Time!
  tags: [String!]!
  kinds: [Kind!]!
  greeting(formal: Boolean): String!
  friend: Person
  manager: Person
}
`

const testConfig = `schema: [schema.graphql]
exec: {package: graph, layout: single-file, filename: graph/generated.go}
model: {filename: graph/model/models_gen.go, package: model}
skip_mod_tidy: true
skip_validation: true
models:
  Kind: {model: [github.com/99designs/gqlgen/graphql.String]}
  Person:
    fields:
      manager: {resolver: true}
`

// gqlgenModule writes a module with testSchema beside this one (its go.mod and go.sum, so that
// gqlgen finds the same packages offline) and returns gqlgen's configuration, in its directory.
func gqlgenModule(t *testing.T) *config.Config {
	t.Helper()
	dir := t.TempDir()
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", mod, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AddModuleStmt("example.com/codegentest"); err != nil {
		t.Fatal(err)
	}
	if mod, err = f.Format(); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"go.mod": mod, "go.sum": sum,
		"schema.graphql": []byte(testSchema), "gqlgen.yml": []byte(testConfig)} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "graph", "model"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOWORK", "off")
	t.Chdir(dir)
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The rewrite takes from gqlgen's data which functions it rewrites: the fields read straight
// from a record, scalar or enum, that are nullable or whose marshaler never refuses a value,
// get the fast path, and no other; every object is written by marshalObject; every list of
// objects or enums calls marshalList; lists_gen.go names the fields resolved concurrently, also
// under the interface. It refuses gqlgen code of another shape, naming the function.
func TestRewriteFromGqlgensData(t *testing.T) {
	cfg := gqlgenModule(t)
	p, err := gqlgen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(cfg.Exec.Filename)
	if err != nil {
		t.Fatal(err)
	}
	out, err := rewrite(src, p)
	if err != nil {
		t.Fatal(err)
	}
	file, err := parser.ParseFile(token.NewFileSet(), "generated.go", out, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	if got := file.Comments[0].List[0].Text; got != header {
		t.Errorf("header %q", got)
	}
	var fast, objects, lists []string
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if first, ok := fn.Body.List[0].(*ast.IfStmt); ok && first.Init != nil && calls(first.Init, "scalarField") {
			fast = append(fast, fn.Name.Name)
		}
		if r, ok := fn.Body.List[len(fn.Body.List)-1].(*ast.ReturnStmt); ok && len(r.Results) == 1 && calls(r.Results[0], "marshalObject") {
			objects = append(objects, fn.Name.Name)
		}
		if calls(fn.Body, "marshalList") {
			lists = append(lists, fn.Name.Name)
		}
	}
	slices.Sort(fast)
	if want := []string{"_Person_id", "_Person_kind", "_Person_name", "_Person_nickname", "_Person_seen"}; !slices.Equal(fast, want) {
		t.Errorf("fast path in %v, want %v", fast, want)
	}
	slices.Sort(objects)
	if want := []string{"_Person", "_Query", "___Directive", "___EnumValue", "___Field", "___InputValue", "___Schema", "___Type"}; !slices.Equal(objects, want) {
		t.Errorf("marshalObject in %v, want %v", objects, want)
	}
	if len(lists) != len(p.lists) || !slices.ContainsFunc(lists, func(n string) bool { return strings.HasPrefix(n, "marshalNPerson2ᚕ") }) ||
		!slices.ContainsFunc(lists, func(n string) bool { return strings.HasPrefix(n, "marshalNKind2ᚕ") }) {
		t.Errorf("marshalList in %v, want the lists of Person and Kind among %d", lists, len(p.lists))
	}
	if bytes.Contains(out, []byte("MarshalSliceConcurrently")) || bytes.Contains(out, []byte("NewDeferredGroup")) {
		t.Error("gqlgen's concurrent list or @defer group is left")
	}
	l, err := listsSource(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"case \"Node\":\n\t\tswitch field {\n\t\tcase \"manager\":", "case \"Person\":\n\t\tswitch field {\n\t\tcase \"manager\":"} {
		if !bytes.Contains(l, []byte(want)) {
			t.Errorf("lists_gen.go lacks %q:\n%s", want, l)
		}
	}
	if again, err := rewrite(out, p); err == nil || again != nil {
		t.Error("rewrote its own output again")
	}

	i := slices.IndexFunc(p.lists, func(n string) bool { return strings.HasPrefix(n, "marshalNPerson2ᚕ") })
	if i < 0 {
		t.Fatalf("no list of persons among %v", p.lists)
	}
	personList := p.lists[i]

	for _, c := range []struct {
		name, fn, want string
		change         func(*ast.FuncDecl)
	}{
		{"a middleware", "_Person_name", "_Person_name: it has a middleware", func(fn *ast.FuncDecl) {
			resolveField(fn).Args[5] = ast.NewIdent("middleware")
		}},
		{"another member", "_Person_nickname", "_Person_nickname: its resolver does not return obj.Nickname, nil", func(fn *ast.FuncDecl) {
			lit := resolveField(fn).Args[4].(*ast.FuncLit)
			lit.Body.List[0].(*ast.ReturnStmt).Results[0] = &ast.SelectorExpr{X: ast.NewIdent("obj"), Sel: ast.NewIdent("Name")}
		}},
		{"a field set without @defer group", "_Person", "_Person: it does not start with out := graphql.NewFieldSet(fields); deferred := graphql.NewDeferredGroup(ctx)", func(fn *ast.FuncDecl) {
			for i, s := range fn.Body.List {
				if defines(s, "deferred", "graphql", "NewDeferredGroup", "ctx") {
					fn.Body.List = slices.Delete(fn.Body.List, i, i+1)
					return
				}
			}
			t.Fatal("no @defer group")
		}},
		{"a concurrent field gqlgen's data does not name", "_Person", "_Person: resolves [", func(fn *ast.FuncDecl) {
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok && isSelector(c.Fun, "out", "ResolveConcurrently") {
					c.Fun.(*ast.SelectorExpr).Sel.Name = "ResolveSomehow"
				}
				return true
			})
		}},
		{"a worker limit", personList, personList + ": its call is not graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, ...)", func(fn *ast.FuncDecl) {
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok && isSelector(c.Fun, "graphql", "MarshalSliceConcurrently") {
					c.Args[2] = &ast.BasicLit{Kind: token.INT, Value: "4"}
				}
				return true
			})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			changed := change(t, src, c.fn, c.change)
			out, err := rewrite(changed, p)
			if err == nil || out != nil {
				t.Fatalf("rewrote generated.go with %s", c.name)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
	t.Run("another header", func(t *testing.T) {
		_, err := rewrite(bytes.Replace(src, []byte(gqlgenHeader), []byte("// Code generated by hand."), 1), p)
		if err == nil || !strings.Contains(err.Error(), "does not start with") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("a function gqlgen no longer writes", func(t *testing.T) {
		missing := *p
		missing.fields = append(slices.Clone(p.fields), fastField{fn: "_Person_gone"})
		_, err := rewrite(src, &missing)
		if err == nil || !strings.Contains(err.Error(), "_Person_gone: gqlgen generated no such function") {
			t.Errorf("error %v", err)
		}
	})
}

// The whole command on the module: generated.go rewritten, lists_gen.go beside it.
func TestGenerateWritesBothFiles(t *testing.T) {
	cfg := gqlgenModule(t)
	if err := generate(cfg); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(cfg.Exec.Filename)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte(header+"\n")) || !bytes.Contains(out, []byte(`scalarField(ctx, ec.Resolvers, "Person", field, obj, obj.Name)`)) {
		t.Errorf("generated.go is not rewritten:\n%.400s", out)
	}
	lists, err := os.ReadFile(filepath.Join(filepath.Dir(cfg.Exec.Filename), "lists_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(lists, []byte("func resolvedConcurrently(typ, field string) bool")) {
		t.Errorf("lists_gen.go:\n%s", lists)
	}
}

// change returns src with the function name changed.
func change(t *testing.T, src []byte, name string, f func(*ast.FuncDecl)) []byte {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "generated.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range file.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == name {
			f(fn)
			found = true
		}
	}
	if !found {
		t.Fatalf("gqlgen wrote no %s", name)
	}
	var b bytes.Buffer
	if err := format.Node(&b, fset, file); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// resolveField is the call of graphql.ResolveField that fn returns.
func resolveField(fn *ast.FuncDecl) *ast.CallExpr {
	return fn.Body.List[len(fn.Body.List)-1].(*ast.ReturnStmt).Results[0].(*ast.CallExpr)
}

// calls reports whether n calls the function name.
func calls(n ast.Node, name string) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok && isIdent(c.Fun, name) {
			found = true
		}
		return !found
	})
	return found
}
