package authz

import (
	"context"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Decide is the one decision about field def of obj (of type object) that the GraphQL layer
// applies to every field of a response (graph's field hook and its scalar fast path): counted,
// and noted as an access when it was made under a grant. leaf says that the field has no
// selection of its own. A field marked @derived is decided as the field its value comes from,
// which the object names (wvsoft.Derived); fieldOf gives that field's definition (nil: no such
// field, which denies).
func (r *Request) Decide(ctx context.Context, object string, def *ast.FieldDefinition, obj any, leaf bool, fieldOf func(typ, field string) *ast.FieldDefinition) (*FieldDecision, error) {
	t, class := r.targetOf(object, def, obj)
	var d *FieldDecision
	switch {
	case def.Directives.ForName("derived") != nil:
		var ok bool
		if t, ok = r.sourceOf(fieldOf, obj, def.Name); !ok {
			// A value whose source is unknown is denied: deny by default.
			return nil, &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed to read " + object + "." + def.Name}
		}
		d = r.field(ctx, t, leaf)
	case leaf && class != nil:
		// The same decision as r.field's, found by the field alone among the records of
		// this record's class.
		d = class.field(def, func() *FieldDecision { return r.field(ctx, t, leaf) })
	default:
		d = r.field(ctx, t, leaf)
	}
	d.count.addFor(t.shard)
	if d.Grant != "" && d.Effect != Deny {
		r.recordAccess(d, obj)
	}
	return d, nil
}

// Refusal is the error of a field that d does not allow as it is (denied, or a mask that does
// not apply to its value).
func (r *Request) Refusal(d *FieldDecision, object, field string) error {
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
func (r *Request) sourceOf(fieldOf func(typ, field string) *ast.FieldDefinition, obj any, field string) (target, bool) {
	o, ok := obj.(wvsoft.Derived)
	if !ok || fieldOf == nil {
		return target{}, false
	}
	src, ok := o.DerivedFrom(field)
	if !ok {
		return target{}, false
	}
	def := fieldOf(src.Type, src.Field)
	if def == nil {
		return target{}, false
	}
	state := src.State
	state.ConsentWithdrawn = r.withdrawn(src.TenantID)
	return target{object: src.Type, def: def, tenant: src.TenantID, state: state}, true
}

// Effects counts the field decisions the request applied, by effect (metrics).
func (r *Request) Effects() map[string]int64 {
	out := map[string]int64{}
	counted := map[*FieldDecision]bool{}
	r.decisions.each(func(_ fieldKey, d *FieldDecision) {
		if !counted[d] {
			counted[d] = true
			out[d.Effect] += d.count.load()
		}
	})
	return out
}

// DistinctDecisions is how many (type, field, tenant) decisions the request made.
func (r *Request) DistinctDecisions() int { return r.decisions.len() }
