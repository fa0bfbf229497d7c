package graph

// The GraphQL side of the decision point: the hook gqlgen runs around every field, and the
// shorter way of a scalar read straight from a record. Both apply authz.(*Request).Decide, the
// one decision about a field; this file only knows gqlgen's shapes.

import (
	"context"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// fieldHook returns the one hook that decides every field of every response; the server
// installs it with gqlgen's AroundFields. A denied field resolves to null with a FORBIDDEN error
// at its path (a non-null one nulls its parent, as the GraphQL spec says), and its resolver is
// never called; a masked field is resolved and then masked. schema is the executable schema: a
// field marked @derived is decided as the field its value comes from, which the object names
// (wvsoft.Derived) and the schema describes.
func fieldHook(schema *ast.Schema) graphql.FieldMiddleware {
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
	r := authz.FromContext(ctx)
	if r == nil {
		return nil, wvsoft.Errorf(wvsoft.EUNAUTHENTICATED, "authentication required")
	}
	obj := objectOf(fc)
	d, err := r.Decide(ctx, fc.Object, fc.Field.Definition, obj, len(fc.Field.Selections) == 0, fieldsOf(schema))
	if err != nil {
		return nil, err
	}
	switch d.Effect {
	case authz.Allow:
		return next(ctx)
	case authz.Mask:
		res, err := next(ctx)
		if err != nil || res == nil {
			return res, err
		}
		if masked, ok := authz.ApplyMask(d.Mask, res); ok {
			return masked, nil
		}
	}
	return nil, r.Refusal(d, fc.Object, fc.Field.Name)
}

// scalarDecision decides a field whose value gqlgen reads straight from obj's struct (a scalar or
// enum, no resolver, no arguments): the same decision, count and access record as fieldHook,
// asked by graph's generated code without the field context gqlgen would build for the hook
// (that context and its closures were most of a page's allocations). It returns the
// value to show (v, or v masked) or the error that refuses it. fast is false where only the
// hook can decide (a @derived value, whose source the schema describes).
func scalarDecision[T any](ctx context.Context, r *authz.Request, object string, def *ast.FieldDefinition, obj any, v T) (out T, err error, fast bool) {
	d := r.DecidedAlready(object, def, obj)
	if d == nil {
		if def.Directives.ForName("derived") != nil {
			return v, nil, false
		}
		if d, err = r.Decide(ctx, object, def, obj, true, nil); err != nil {
			return v, err, true
		}
	}
	switch d.Effect {
	case authz.Allow:
		return v, nil, true
	case authz.Mask:
		if masked, ok := authz.ApplyMask(d.Mask, v); ok {
			if m, ok := masked.(T); ok {
				return m, nil, true
			}
		}
	}
	return v, r.Refusal(d, object, def.Name), true
}

// fieldsOf finds a field's definition in the schema: the source of a @derived value.
func fieldsOf(schema *ast.Schema) func(typ, field string) *ast.FieldDefinition {
	return func(typ, field string) *ast.FieldDefinition {
		if t := schema.Types[typ]; t != nil {
			return t.Fields.ForName(field)
		}
		return nil
	}
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
