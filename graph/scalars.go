package graph

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
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
	refuse(ctx, object, field, err)
	return v, graphql.Null, true
}

// refuse adds the error of a refused scalar field at the field's path and location, as gqlgen
// adds a hook's error and presentError shows it. A page whose records each have a field denied
// has thousands of these: a denial that carries its complete extensions (authz makes one per
// decision) is made here ready to show, with the path of the record shared by its fields;
// any other error takes gqlgen's way.
func refuse(ctx context.Context, object string, field graphql.CollectedField, err error) {
	rs := refusalsFrom(ctx)
	we, ok := err.(*wvsoft.Error)
	if rs == nil || !ok || we.Field != "" || we.Extensions["code"] != we.Code {
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: object, Field: field})
		graphql.AddError(ctx, graphql.AddFieldLocationToError(ctx, err))
		return
	}
	shown := &gqlerror.Error{Message: we.Message, Path: rs.pathOf(graphql.GetFieldContext(ctx), field.Alias), Extensions: we.Extensions}
	if pos := field.Position; pos != nil && pos.Line != 0 {
		shown.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	// Shown as it is: presentError passes an error without a cause that has its code.
	graphql.AddError(ctx, shown)
}

// refusals is what the refusals of one operation share: the path of the record whose field was
// refused last (the fields of a record are decided one after the other).
type refusals struct {
	last atomic.Pointer[recordPath]
}

type recordPath struct {
	fc   *graphql.FieldContext
	path ast.Path
}

type refusalsKey struct{}

func withRefusals(ctx context.Context) context.Context {
	return context.WithValue(ctx, refusalsKey{}, &refusals{})
}

func refusalsFrom(ctx context.Context) *refusals {
	rs, _ := ctx.Value(refusalsKey{}).(*refusals)
	return rs
}

// pathOf is the path of field alias of the record that parent resolved.
func (rs *refusals) pathOf(parent *graphql.FieldContext, alias string) ast.Path {
	var prefix ast.Path
	if last := rs.last.Load(); last != nil && last.fc == parent {
		prefix = last.path
	} else {
		if parent != nil {
			prefix = parent.Path()
		}
		rs.last.Swap(&recordPath{fc: parent, path: prefix})
	}
	path := make(ast.Path, len(prefix)+1)
	copy(path, prefix)
	path[len(prefix)] = ast.PathName(alias)
	return path
}
