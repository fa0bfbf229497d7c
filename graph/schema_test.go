package graph_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// Integrators read the schema in the playground: every type, field, argument and input field
// has a description.
func TestSchemaIsDescribed(t *testing.T) {
	s := schema()
	for name, typ := range s.Types {
		if strings.HasPrefix(name, "__") || typ.BuiltIn {
			continue
		}
		if typ.Description == "" {
			t.Errorf("type %s has no description", name)
		}
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue // gqlgen's introspection fields
			}
			if f.Description == "" {
				t.Errorf("%s.%s has no description", name, f.Name)
			}
			for _, a := range f.Arguments {
				if a.Description == "" {
					t.Errorf("%s.%s(%s) has no description", name, f.Name, a.Name)
				}
			}
		}
		if typ.Kind == ast.Enum {
			for _, v := range typ.EnumValues {
				if v.Description == "" {
					t.Errorf("enum value %s.%s has no description", name, v.Name)
				}
			}
		}
	}
}
