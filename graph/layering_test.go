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
