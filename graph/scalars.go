package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/wvsoft/privacy/internal/authz"
)

// scalarChecks is how the generated code of a field read straight from a record's struct (a
// scalar or an enum: internal/codegen/fastpath) has it decided.
type scalarChecks int

const (
	// scalarsDecided: authz.ScalarField decides it, with no field context built for it (the
	// server's only mode).
	scalarsDecided scalarChecks = iota
	// scalarsThroughHook: gqlgen's full path, through whatever hook the handler has; tests
	// compare the two paths' answers, and the naive benchmark hook sees every field.
	scalarsThroughHook
	// scalarsUnchecked: shown as read; only the benchmarks' mode=off, which has no hook at all.
	scalarsUnchecked
)

// scalarField is the fast path of a scalar struct field (issue 15): gqlgen would build a field
// context, a context value and four closures for each such value of each record only to hand
// them to the authorization hook. It asks authz.ScalarField the same question with the record
// itself. It returns the value to marshal, or done (null, with the refusal added as the hook's
// would be), or fast false: the caller takes gqlgen's path through the hook.
func scalarField[T any](ctx context.Context, resolvers ResolverRoot, object string, field graphql.CollectedField, obj any, v T) (out T, done graphql.Marshaler, fast bool) {
	r, _ := resolvers.(*Resolver)
	if r == nil || field.Field == nil || field.Definition == nil {
		return v, nil, false
	}
	switch r.scalars {
	case scalarsUnchecked:
		return v, nil, true
	case scalarsThroughHook:
		return v, nil, false
	}
	req := authz.FromContext(ctx)
	if req == nil {
		return v, nil, false // the hook tells the caller to authenticate
	}
	out, err, fast := authz.ScalarField(ctx, req, object, field.Definition, obj, v)
	if !fast || err == nil {
		return out, nil, fast
	}
	// The refusal at the field's own path and location, exactly as gqlgen adds a hook's error.
	fc := &graphql.FieldContext{Object: object, Field: field}
	ctx = graphql.WithFieldContext(ctx, fc)
	graphql.AddError(ctx, graphql.AddFieldLocationToError(ctx, err))
	return v, graphql.Null, true
}
