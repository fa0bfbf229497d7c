package graph_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// The server has no mode that skips the decision of scalar struct fields: graph's code outside
// its tests declares no value of scalarChecks (the replacement of scalarDecision's decision,
// which shows a field as read or sends it through the hook) and gives the fields that hold one
// nothing but the handler configuration's own, which only test binaries set (export_test.go).
func TestServerHasNoModeWithoutAuthorization(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if isIdentNamed(n.Type, "scalarChecks") {
					t.Errorf("%s: declares a value of scalarChecks: a mode the server could run in", fset.Position(n.Pos()))
				}
			case *ast.CallExpr:
				if isIdentNamed(n.Fun, "scalarChecks") {
					t.Errorf("%s: makes a scalarChecks", fset.Position(n.Pos()))
				}
			case *ast.KeyValueExpr:
				if isIdentNamed(n.Key, "scalars") {
					t.Errorf("%s: sets scalars in a literal", fset.Position(n.Pos()))
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if s, ok := lhs.(*ast.SelectorExpr); ok && s.Sel.Name == "scalars" {
						if rhs, ok := n.Rhs[i].(*ast.SelectorExpr); !ok || !isIdentNamed(rhs.X, "cfg") || rhs.Sel.Name != "scalars" {
							t.Errorf("%s: sets scalars to other than the handler configuration's", fset.Position(n.Pos()))
						}
					}
				}
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("checked only %d files", checked)
	}
}

func isIdentNamed(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
