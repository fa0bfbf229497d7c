package graph

import (
	"context"
	"io"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// scalarChecks, when set, takes the decision of a scalar struct field on its fast path (the
// generated code of a field read straight from a record: internal/codegen) instead of
// scalarDecision: fast shows the value as read, else gqlgen's path runs through the handler's
// hook. Only test binaries set it (export_test.go), to compare the two paths and to measure
// without authorization; the server always decides.
type scalarChecks func(object string, field graphql.CollectedField) (fast bool)

// scalarField is the fast path of a scalar struct field: gqlgen would build a field context, a
// context value and four closures for each such value of each record only to hand them to the
// authorization hook. It asks scalarDecision the same question with the record itself. It
// returns the value to marshal, or done (null, with the refusal added as the hook's would be),
// or fast false: the caller takes gqlgen's path through the hook.
func scalarField[T any](ctx context.Context, resolvers ResolverRoot, object string, field graphql.CollectedField, obj any, v T) (out T, done graphql.Marshaler, fast bool) {
	r, _ := resolvers.(*Resolver)
	if r == nil || field.Field == nil || field.Definition == nil {
		return v, nil, false
	}
	if r.scalars != nil {
		if !r.scalars(object, field) {
			return v, nil, false
		}
		return v, stringMarshaler(field, v), true
	}
	req := authz.FromContext(ctx)
	if req == nil {
		return v, nil, false // the hook tells the caller to authenticate
	}
	out, err, fast := scalarDecision(ctx, req, object, field.Definition, obj, v)
	if !fast || err == nil {
		if fast {
			done = stringMarshaler(field, out)
		}
		return out, done, fast
	}
	refuse(ctx, object, field, err)
	return v, graphql.Null, true
}

// refuse adds the error of a refused scalar field at the field's path and location, as gqlgen
// adds a hook's error and presentError shows it. A page whose records each have a field denied
// has thousands of these: a denial that carries its complete extensions (authz makes one per
// decision) is kept with the operation's refusals as the record's field context, the field and
// the decision's error, and added to the response when it is complete (refusals.appendTo), with
// the paths made there; any other error, and any refusal under a deferred field (its payload
// comes later, with gqlgen's errors of its own), takes gqlgen's way.
func refuse(ctx context.Context, object string, field graphql.CollectedField, err error) {
	rs := refusalsFrom(ctx)
	we, ok := err.(*wvsoft.Error)
	if rs == nil || !ok || we.Field != "" || we.Extensions["code"] != we.Code {
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: object, Field: field})
		graphql.AddError(ctx, graphql.AddFieldLocationToError(ctx, err))
		return
	}
	at := rs.fieldOf(field)
	record := graphql.GetFieldContext(ctx)
	if deferred(record) {
		// Shown as it is: presentError passes an error without a cause that has its code.
		path := pathTo(record)
		graphql.AddError(ctx, &gqlerror.Error{Message: we.Message, Path: append(path[:len(path):len(path)], at.alias),
			Locations: at.locations, Extensions: we.Extensions})
		return
	}
	rs.mu.Lock()
	rs.pending = append(rs.pending, refusal{record: record, field: at, err: we})
	rs.mu.Unlock()
}

// deferred reports a field on the way to the record that is @defer'd: its errors belong to a later
// payload, which gqlgen collects in a response context of its own.
func deferred(record *graphql.FieldContext) bool {
	for it := record; it != nil; it = it.Parent {
		if it.Field.Field != nil && it.Field.IsDeferred() {
			return true
		}
	}
	return false
}

// refusals is what the refusals of one operation share: each refused field's name as a path
// element and its location, made once, and the refusals not yet in a response.
type refusals struct {
	fields sync.Map // *ast.Field → *refusedField

	mu      sync.Mutex
	pending []refusal
}

// refusedField is what the errors of one field of the query share; read only once made.
type refusedField struct {
	alias     ast.PathElement
	locations []gqlerror.Location
}

// refusal is one refused value: the field context of its record (shared by the record's other
// refusals: the fields of a record are decided one after the other), the field (shared by the
// same field of every record) and the decision's error (shared by every value it refuses).
type refusal struct {
	record *graphql.FieldContext
	field  *refusedField
	err    *wvsoft.Error
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

// appendTo appends to errs the refusals made since the last response, as presentError shows
// them: the errors and all their paths in two allocations, each record's path found once.
// Called once a response is complete; a subscription's next event starts with none.
func (rs *refusals) appendTo(errs gqlerror.List) gqlerror.List {
	rs.mu.Lock()
	pending := rs.pending
	rs.pending = nil
	rs.mu.Unlock()
	if len(pending) == 0 {
		return errs
	}
	n, depth := 0, 0
	var record *graphql.FieldContext
	for _, p := range pending {
		if p.record != record {
			record, depth = p.record, pathLen(p.record)
		}
		n += depth + 1
	}
	elements := make([]ast.PathElement, n)
	shown := make([]gqlerror.Error, len(pending))
	errs = slices.Grow(errs, len(pending))
	var prefix ast.Path // the record's path, written once into the first of its errors' paths
	record = nil
	for i, p := range pending {
		fresh := p.record != record || i == 0
		if fresh {
			record = p.record
			prefix = elements[:pathLen(record)]
		}
		k := len(prefix) + 1
		path := ast.Path(elements[:k:k])
		elements = elements[k:]
		if fresh {
			fillPath(path[:k-1], record)
		} else {
			copy(path, prefix)
		}
		path[k-1] = p.field.alias
		prefix = path[:k-1]
		shown[i] = gqlerror.Error{Message: p.err.Message, Path: path, Locations: p.field.locations, Extensions: p.err.Extensions}
		errs = append(errs, &shown[i])
	}
	return errs
}

// pathTo is fc.Path() in one allocation.
func pathTo(fc *graphql.FieldContext) ast.Path {
	path := make(ast.Path, pathLen(fc))
	fillPath(path, fc)
	return path
}

// pathLen is the length of fc.Path().
func pathLen(fc *graphql.FieldContext) int {
	n := 0
	for it := fc; it != nil; it = it.Parent {
		if it.Index != nil || it.Field.Field != nil {
			n++
		}
	}
	return n
}

// fillPath writes fc.Path() into path, which has pathLen(fc) elements.
func fillPath(path ast.Path, fc *graphql.FieldContext) {
	n := len(path)
	for it := fc; it != nil; it = it.Parent {
		if it.Index != nil {
			n--
			path[n] = ast.PathIndex(*it.Index)
		} else if it.Field.Field != nil {
			n--
			path[n] = ast.PathName(it.Field.Alias)
		}
	}
}

// stringMarshaler is what writes v when it is a String read through a pointer: that string,
// where graphql.MarshalString, which the generated code calls, makes a closure for every
// value; nil for any other value (the generated code marshals it).
func stringMarshaler[T any](field graphql.CollectedField, v T) graphql.Marshaler {
	// Asked of a nil *T first: v itself goes into an interface only when it is a pointer, which
	// takes no allocation (a string, a time or a number would be copied to the heap).
	if _, ok := any((*T)(nil)).(**string); !ok || field.Definition.Type.NamedType != "String" {
		return nil
	}
	if p := any(v).(*string); p != nil {
		return (*quotedString)(p)
	}
	return nil
}

// quotedString writes a String value as graphql.MarshalString writes it (a test compares the
// two): quoted, with \t \r \n \\ \" and the other control characters as \u00XX escapes,
// everything else (non-ASCII and invalid UTF-8 too) as it is. A pointer, so that as a
// graphql.Marshaler it needs no allocation.
type quotedString string

func (s *quotedString) MarshalGQL(w io.Writer) {
	v := string(*s)
	io.WriteString(w, `"`)
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		io.WriteString(w, v[start:i])
		switch c {
		case '\t':
			io.WriteString(w, `\t`)
		case '\r':
			io.WriteString(w, `\r`)
		case '\n':
			io.WriteString(w, `\n`)
		case '\\':
			io.WriteString(w, `\\`)
		case '"':
			io.WriteString(w, `\"`)
		default:
			io.WriteString(w, `\u00`)
			io.WriteString(w, hexDigits[c>>4:c>>4+1])
			io.WriteString(w, hexDigits[c&0xf:c&0xf+1])
		}
		start = i + 1
	}
	io.WriteString(w, v[start:])
	io.WriteString(w, `"`)
}

const hexDigits = "0123456789ABCDEF"
