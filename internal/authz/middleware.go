package authz

import (
	"context"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// FieldHook returns the one hook that decides every field of every response; the server
// installs it with gqlgen's AroundFields. A denied field resolves to null with a FORBIDDEN error
// at its path (a non-null one nulls its parent, as the GraphQL spec says), and its resolver is
// never called; a masked field is resolved and then masked. schema is the executable schema: a
// field marked @derived is decided as the field its value comes from, which the object names
// (wvsoft.Derived) and the schema describes.
func FieldHook(schema *ast.Schema) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		return decideField(ctx, schema, next)
	}
}

func decideField(ctx context.Context, schema *ast.Schema, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil ||
		strings.HasPrefix(fc.Field.Name, "__") || strings.HasPrefix(fc.Object, "__") {
		// Introspection describes the schema, not data; it has its own switch.
		return next(ctx)
	}
	r := FromContext(ctx)
	if r == nil {
		return nil, wvsoft.Errorf(wvsoft.EUNAUTHENTICATED, "authentication required")
	}
	obj := objectOf(fc)
	d, err := r.decide(ctx, schema, fc.Object, fc.Field.Definition, obj, len(fc.Field.Selections) == 0)
	if err != nil {
		return nil, err
	}
	switch d.Effect {
	case Allow:
		return next(ctx)
	case Mask:
		res, err := next(ctx)
		if err != nil || res == nil {
			return res, err
		}
		if masked, ok := applyMask(d.Mask, res); ok {
			return masked, nil
		}
	}
	return nil, r.refusal(d, fc.Object, fc.Field.Name)
}

// ScalarField decides a field whose value gqlgen reads straight from obj's struct (a scalar or
// enum, no resolver, no arguments): the same decision, count and access record as FieldHook,
// asked by graph's generated code without the field context gqlgen would build for the hook
// (that context and its closures were most of a page's allocations). It returns the
// value to show (v, or v masked) or the error that refuses it. fast is false where only the
// hook can decide (a @derived value, whose source the schema describes).
func ScalarField[T any](ctx context.Context, r *Request, object string, def *ast.FieldDefinition, obj any, v T) (out T, err error, fast bool) {
	d := r.decidedAlready(object, def, obj)
	if d == nil {
		if def.Directives.ForName("derived") != nil {
			return v, nil, false
		}
		if d, err = r.decide(ctx, nil, object, def, obj, true); err != nil {
			return v, err, true
		}
	}
	switch d.Effect {
	case Allow:
		return v, nil, true
	case Mask:
		if masked, ok := applyMask(d.Mask, v); ok {
			if m, ok := masked.(T); ok {
				return m, nil, true
			}
		}
	}
	return v, r.refusal(d, object, def.Name), true
}

// decide is the one decision about field def of obj (of type object) that FieldHook and
// ScalarField apply: counted, and noted as an access when it was made under a grant.
func (r *Request) decide(ctx context.Context, schema *ast.Schema, object string, def *ast.FieldDefinition, obj any, leaf bool) (*fieldDecision, error) {
	t, class := r.targetOf(object, def, obj)
	var d *fieldDecision
	switch {
	case def.Directives.ForName("derived") != nil:
		var ok bool
		if t, ok = r.sourceOf(schema, obj, def.Name); !ok {
			// A value whose source is unknown is denied: deny by default.
			return nil, &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed to read " + object + "." + def.Name}
		}
		d = r.field(ctx, t, leaf)
	case leaf && class != nil:
		// The same decision as r.field's, found by the field alone among the records of
		// this record's class.
		d = class.field(def, func() *fieldDecision { return r.field(ctx, t, leaf) })
	default:
		d = r.field(ctx, t, leaf)
	}
	d.count.addFor(t.shard)
	if d.Grant != "" && d.Effect != Deny {
		r.recordAccess(d, obj)
	}
	return d, nil
}

// refusal is the error of a field that d does not allow as it is (denied, or a mask that does
// not apply to its value).
func (r *Request) refusal(d *fieldDecision, object, field string) error {
	if d.err == nil { // a mask that did not apply to this value
		return &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed to read " + object + "." + field}
	}
	if r.subject.Kind == wvsoft.SubjectAnonymous {
		// A visitor without credentials is told what it lacks.
		return &wvsoft.Error{Code: wvsoft.EUNAUTHENTICATED, Message: "authentication required: send Authorization: Bearer <token or API key>"}
	}
	return d.err
}

// sourceOf is the target of a derived value: the field of the record it comes from.
func (r *Request) sourceOf(schema *ast.Schema, obj any, field string) (target, bool) {
	o, ok := obj.(wvsoft.Derived)
	if !ok || schema == nil {
		return target{}, false
	}
	src, ok := o.DerivedFrom(field)
	if !ok || schema.Types[src.Type] == nil {
		return target{}, false
	}
	def := schema.Types[src.Type].Fields.ForName(src.Field)
	if def == nil {
		return target{}, false
	}
	state := src.State
	state.ConsentWithdrawn = r.withdrawn(src.TenantID)
	return target{object: src.Type, def: def, tenant: src.TenantID, state: state}, true
}

// objectOf returns the object whose field fc resolves: the result of the parent field, or the
// slice element for objects in a list (gqlgen keeps a pointer to the element).
func objectOf(fc *graphql.FieldContext) any {
	if fc.Parent == nil {
		return nil
	}
	switch o := fc.Parent.Result.(type) {
	case **wvsoft.ContactPerson:
		return *o
	case **wvsoft.User:
		return *o
	case **wvsoft.APIKey:
		return *o
	case **wvsoft.Person:
		return *o
	case **wvsoft.Customer:
		return *o
	case **wvsoft.SupportAccessGrant:
		return *o
	case **wvsoft.AccessLogEntry:
		return *o
	}
	// Other list elements: a pointer to the slice's pointer element.
	if rv := reflect.ValueOf(fc.Parent.Result); rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Pointer {
		return rv.Elem().Interface()
	}
	return fc.Parent.Result
}

// Effects counts the field decisions the request applied, by effect (metrics).
func (r *Request) Effects() map[string]int64 {
	out := map[string]int64{}
	counted := map[*fieldDecision]bool{}
	r.decisions.each(func(_ fieldKey, d *fieldDecision) {
		if !counted[d] {
			counted[d] = true
			out[d.Effect] += d.count.load()
		}
	})
	return out
}

// DistinctDecisions is how many (type, field, tenant) decisions the request made.
func (r *Request) DistinctDecisions() int { return r.decisions.len() }
