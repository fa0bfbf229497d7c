package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// CodeIntrospectionDisabled refuses __schema and __type on a server without introspection.
const CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"

// introspectionOff refuses an operation that asks for __schema or __type before it runs. Without
// it, gqlgen resolves those fields to an error of its own, which is no domain error and so was
// answered and logged as an internal failure; introspection being off is the server's setting,
// told to the caller like a validation error. __typename stays: it names no more than the query.
type introspectionOff struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionOff{}

func (introspectionOff) ExtensionName() string                          { return "WvSoftIntrospectionOff" }
func (introspectionOff) Validate(schema graphql.ExecutableSchema) error { return nil }

func (introspectionOff) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	// The two fields exist on the query root only (validation refuses them anywhere else):
	// the root selection, through its fragments, is all there is to look at.
	if field := introspectionField(oc.Operation.SelectionSet, map[string]bool{}); field != "" {
		err := gqlerror.Errorf("introspection is off on this server")
		err.Extensions = map[string]any{"code": CodeIntrospectionDisabled, "field": field}
		return err
	}
	return nil
}

func introspectionField(set ast.SelectionSet, seen map[string]bool) string {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return s.Name
			}
		case *ast.InlineFragment:
			if f := introspectionField(s.SelectionSet, seen); f != "" {
				return f
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				if f := introspectionField(s.Definition.SelectionSet, seen); f != "" {
					return f
				}
			}
		}
	}
	return ""
}
