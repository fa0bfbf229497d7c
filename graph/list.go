package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// marshalList marshals a list of n objects whose selection is sel (internal/codegen
// puts it where gqlgen calls graphql.MarshalSliceConcurrently). When any field below sel is
// resolved on a goroutine of its own (a resolver, which may wait on a dataloader that batches
// what all elements ask for), it is gqlgen's concurrent marshalling. Otherwise the elements are
// marshalled one after the other on this goroutine, each with its own field context (its index
// in paths and errors) and its own recovery from a panic, as gqlgen does: no goroutine per
// element, whose stack growth, scheduling and scanning cost more than the element.
func marshalList(ctx context.Context, sel ast.SelectionSet, n int, marshal func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if n > 1 && reachesConcurrent(sel, 0) {
		return graphql.MarshalSliceConcurrently(ctx, n, 0, false, marshal)
	}
	ret := make(graphql.Array, n)
	for i := range n {
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshal(childCtx, i)
		}()
	}
	return ret
}

// maxSelectionDepth bounds the walk; deeper selections (which the depth limit refuses anyway)
// count as reaching a concurrent field.
const maxSelectionDepth = 32

// reachesConcurrent reports whether a field of sel, or of any selection below it, is resolved
// concurrently.
func reachesConcurrent(sel ast.SelectionSet, depth int) bool {
	if depth > maxSelectionDepth {
		return true
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.ObjectDefinition == nil || resolvedConcurrently(s.ObjectDefinition.Name, s.Name) ||
				reachesConcurrent(s.SelectionSet, depth+1) {
				return true
			}
		case *ast.InlineFragment:
			if reachesConcurrent(s.SelectionSet, depth+1) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || reachesConcurrent(s.Definition.SelectionSet, depth+1) {
				return true
			}
		default:
			return true
		}
	}
	return false
}
