package graph_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// graph/ holds no authorization decision and no SQL column name: resolvers call the authorized
// store (authz.Store), which asks the policy; they never ask for a filter, read one, or call the
// persistence store themselves, and they name fields as the API does.
func TestResolversMakeNoAuthorizationDecision(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	column := regexp.MustCompile(`^[a-z]+(_[a-z]+)+$`)
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "generated.go" {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		tags := map[*ast.BasicLit]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				if n.Tag != nil {
					tags[n.Tag] = true
				}
			case *ast.SelectorExpr:
				switch {
				case isPkg(n.X, "authz") && (n.Sel.Name == "Filter" || n.Sel.Name == "ActionRead" || n.Sel.Name == "ActionWrite"):
					t.Errorf("%s: resolvers ask authz for a filter (%s); the authorized store does", fset.Position(n.Pos()), n.Sel.Name)
				case n.Sel.Name == "All" || n.Sel.Name == "Allows" || n.Sel.Name == "Tenants":
					t.Errorf("%s: resolvers read a tenant filter (.%s)", fset.Position(n.Pos()), n.Sel.Name)
				case n.Sel.Name == "Store" && !isPkg(n.X, "authz") && !isPkg(n.X, "wvsoft") && name != "handler.go":
					t.Errorf("%s: resolvers call the persistence store; they call r.authorized", fset.Position(n.Pos()))
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING || tags[n] {
					return true
				}
				if s, err := strconv.Unquote(n.Value); err == nil && column.MatchString(s) {
					t.Errorf("%s: %q looks like a column name; graph/ names fields as the API does", fset.Position(n.Pos()), s)
				}
			}
			return true
		})
	}
	if checked < 5 {
		t.Fatalf("only %d files checked: the test looks in the wrong place", checked)
	}
}

func isPkg(x ast.Expr, name string) bool {
	id, ok := x.(*ast.Ident)
	return ok && id.Name == name
}

// Mutations carry no business rules in graph/: each mutation resolver is one call of the service
// (internal/service), which validates, mints ids and secrets and carries out data-subject
// requests for the API and the command line alike. graph/ mints nothing and validates no input
// itself.
func TestMutationsAreServiceCalls(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "schema.resolvers.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	mutations := 0
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
			continue
		}
		star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
		if !ok || !isPkg(star.X, "mutationResolver") {
			continue
		}
		mutations++
		ret, ok := only(fn.Body.List)
		call, isCall := callOf(ret)
		if !ok || !isCall {
			t.Errorf("%s: Mutation.%s is more than one call of r.service", fset.Position(fn.Pos()), fn.Name.Name)
			continue
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			t.Errorf("%s: Mutation.%s calls something other than r.service", fset.Position(fn.Pos()), fn.Name.Name)
			continue
		}
		if recv, isSel := sel.X.(*ast.SelectorExpr); !isSel || recv.Sel.Name != "service" {
			t.Errorf("%s: Mutation.%s calls something other than r.service", fset.Position(fn.Pos()), fn.Name.Name)
		}
	}
	if mutations < 20 {
		t.Fatalf("only %d mutation resolvers found: the test looks in the wrong place", mutations)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "generated.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			switch path, _ := strconv.Unquote(imp.Path.Value); path {
			case "crypto/rand", "github.com/wvsoft/privacy/internal/validate", "github.com/wvsoft/privacy/internal/auth":
				t.Errorf("%s imports %s: minting and validation belong to internal/service", name, path)
			}
		}
	}
}

// only returns the single statement of a body that is a return of one value.
func only(stmts []ast.Stmt) (ast.Expr, bool) {
	if len(stmts) != 1 {
		return nil, false
	}
	ret, ok := stmts[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return nil, false
	}
	return ret.Results[0], true
}

func callOf(e ast.Expr) (*ast.CallExpr, bool) {
	call, ok := e.(*ast.CallExpr)
	return call, ok
}
