package graph

import (
	"context"
	"sync"
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
	at := rs.fieldOf(field)
	shown := &gqlerror.Error{Message: we.Message, Path: rs.pathOf(graphql.GetFieldContext(ctx), at.alias),
		Locations: at.locations, Extensions: we.Extensions}
	// Shown as it is: presentError passes an error without a cause that has its code.
	graphql.AddError(ctx, shown)
}

// refusals is what the refusals of one operation share: the path of the record whose field was
// refused last (the fields of a record are decided one after the other), and each refused
// field's name as a path element and its location, made once.
type refusals struct {
	last   atomic.Pointer[recordPath]
	fields sync.Map // *ast.Field → *refusedField
}

type recordPath struct {
	fc   *graphql.FieldContext
	path ast.Path
}

// refusedField is what the errors of one field of the query share; read only once made.
type refusedField struct {
	alias     ast.PathElement
	locations []gqlerror.Location
}

type refusalsKey struct{}

func withRefusals(ctx context.Context) context.Context {
	return context.WithValue(ctx, refusalsKey{}, &refusals{})
}

func refusalsFrom(ctx context.Context) *refusals {
	rs, _ := ctx.Value(refusalsKey{}).(*refusals)
	return rs
}

// fieldOf is what the errors of field share, as gqlgen would give each of them.
func (rs *refusals) fieldOf(field graphql.CollectedField) *refusedField {
	if f, ok := rs.fields.Load(field.Field); ok {
		return f.(*refusedField)
	}
	f := &refusedField{alias: ast.PathName(field.Alias)}
	if pos := field.Position; pos != nil && pos.Line != 0 {
		f.locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	actual, _ := rs.fields.LoadOrStore(field.Field, f)
	return actual.(*refusedField)
}

// pathOf is the path of the field (alias) of the record that parent resolved.
func (rs *refusals) pathOf(parent *graphql.FieldContext, alias ast.PathElement) ast.Path {
	var prefix ast.Path
	if last := rs.last.Load(); last != nil && last.fc == parent {
		prefix = last.path
	} else {
		prefix = pathTo(parent)
		rs.last.Swap(&recordPath{fc: parent, path: prefix})
	}
	path := make(ast.Path, len(prefix)+1)
	copy(path, prefix)
	path[len(prefix)] = alias
	return path
}

// pathTo is fc.Path() in one allocation.
func pathTo(fc *graphql.FieldContext) ast.Path {
	n := 0
	for it := fc; it != nil; it = it.Parent {
		if it.Index != nil || it.Field.Field != nil {
			n++
		}
	}
	path := make(ast.Path, n)
	for it := fc; it != nil; it = it.Parent {
		if it.Index != nil {
			n--
			path[n] = ast.PathIndex(*it.Index)
		} else if it.Field.Field != nil {
			n--
			path[n] = ast.PathName(it.Field.Alias)
		}
	}
	return path
}
