package main

import (
	"errors"
	"go/types"
	"sort"
	"strings"

	gqlcodegen "github.com/99designs/gqlgen/codegen"
	"github.com/vektah/gqlparser/v2/ast"
)

// plan is what the rewrite of generated.go does, taken from gqlgen's own data about the code it
// generated: which functions it wrote, and what each of them reads and marshals.
type plan struct {
	// fields are the field functions that get the scalar fast path.
	fields []fastField
	// objects are the functions that marshal an object (not a subscription's stream): each
	// writes with marshalObject and starts an @defer group only when a field is deferred.
	objects []string
	// lists are the marshal functions of lists whose elements gqlgen marshals concurrently
	// (graphql.MarshalSliceConcurrently): each calls marshalList.
	lists []string
	// concurrent are the fields of each object (not a root) that gqlgen resolves on a goroutine
	// of their own (out.ResolveConcurrently).
	concurrent map[string][]string
	// implements are the interfaces and unions of each object.
	implements map[string][]string
}

// fastField is a field read straight from the record: a struct field, or a method without
// arguments, context or error.
type fastField struct {
	fn           string // the function of the field, _Object_field
	object       string // the GraphQL object
	fieldContext string // the function of its field context, which gqlgen's path calls
	member       string // the Go field or method
	method       bool
	marshal      string // the marshaler of its value
	nonNull      bool
}

// planOf reads the plan from gqlgen's data.
func planOf(d *gqlcodegen.Data) (*plan, error) {
	p := &plan{concurrent: map[string][]string{}, implements: map[string][]string{}}
	// A directive on FIELD gives every field a middleware, which the fast path would skip.
	fieldDirectives := len(d.AllDirectives.LocationDirectives(string(ast.LocationField))) > 0
	for _, o := range d.Objects {
		if o.Stream {
			continue // a subscription: a stream of events, not an object to marshal
		}
		p.objects = append(p.objects, "_"+o.Name)
		if o.Root {
			continue // no record to read fields from
		}
		for _, i := range o.Implements {
			p.implements[o.Name] = append(p.implements[o.Name], i.Name)
		}
		for _, f := range o.Fields {
			if f.IsConcurrent() {
				p.concurrent[o.Name] = append(p.concurrent[o.Name], f.Name)
			}
			if !fieldDirectives && fast(f) {
				p.fields = append(p.fields, fastField{
					fn:           "_" + o.Name + "_" + f.Name,
					object:       o.Name,
					fieldContext: f.FieldContextFunc(),
					member:       f.GoFieldName,
					method:       f.IsMethod(),
					marshal:      f.TypeReference.MarshalFunc(),
					nonNull:      f.TypeReference.GQL.NonNull,
				})
			}
		}
	}
	for _, ref := range d.ReferencedTypes {
		// gqlgen's marshaler of a list marshals its elements concurrently unless they are
		// scalars (enums and objects alike).
		if ref.MarshalFunc() != "" && ref.IsSlice() && !ref.IsScalar() {
			p.lists = append(p.lists, ref.MarshalFunc())
		}
	}
	sort.Strings(p.lists)
	switch {
	case len(p.fields) == 0:
		return nil, errors.New("gqlgen's data has no field read straight from a record (a scalar or enum struct field without resolver, arguments or directives): the fast path would be lost")
	case len(p.objects) == 0:
		return nil, errors.New("gqlgen's data has no object")
	case len(p.lists) == 0:
		return nil, errors.New("gqlgen's data has no list of objects or enums")
	case len(p.concurrent) == 0:
		return nil, errors.New("gqlgen's data resolves no field concurrently: marshalList would never be concurrent")
	}
	return p, nil
}

// fast reports whether f is read straight from the record and graph's scalarDecision can decide it:
// a scalar or enum (an object's value is decided with its own fields), without resolver,
// arguments or directives, from a struct field or a method that takes nothing and cannot fail,
// of a record that is a pointer.
func fast(f *gqlcodegen.Field) bool {
	ref := f.TypeReference
	if f.IsResolver || f.IsBatch() || len(f.Args) > 0 || f.HasDirectives() || f.HasHaser ||
		strings.HasPrefix(f.Object.Name, "__") || ref == nil || ref.Definition == nil {
		return false
	}
	if _, ptr := f.Object.Reference().(*types.Pointer); !ptr {
		return false
	}
	switch {
	case f.IsVariable():
	case f.IsMethod():
		if f.MethodHasContext || !f.NoErr || f.VOkFunc {
			return false
		}
	default:
		return false
	}
	if ref.Definition.Kind != ast.Scalar && ref.Definition.Kind != ast.Enum {
		return false
	}
	switch ref.GO.(type) {
	case *types.Slice, *types.Map:
		return false // lists take gqlgen's path
	}
	// A non-null value that its marshaler may refuse (a nil pointer, a zero time) is reported
	// at the field's path, which only gqlgen's path has.
	return !ref.GQL.NonNull || neverNull(ref.GO)
}

// neverNull reports whether gqlgen's marshaler of a value of Go type t (String, ID, Int,
// Boolean and enums bound to these) never returns null.
func neverNull(t types.Type) bool {
	b, ok := t.(*types.Basic)
	if !ok {
		return false
	}
	switch b.Kind() {
	case types.String, types.Int, types.Int32, types.Int64, types.Bool:
		return true
	}
	return false
}
