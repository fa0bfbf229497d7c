package graph

import (
	"context"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// marshalObject writes an object as gqlgen's graphql.FieldSet does, from the fields the
// generated code collected and the values it resolved: {"alias":value,...} in field order, the
// first of two fields under one alias only (gqlgen collects a field once per alias, twice only
// when @defer splits it). FieldSet's own writer copies every field to the heap and keeps a map
// of the aliases it wrote, for every object of a page (internal/codegen puts it in).
func marshalObject(fields []graphql.CollectedField, values []graphql.Marshaler) graphql.Marshaler {
	return objectJSON{fields: fields, values: values}
}

// objectJSON is an object ready to be written.
type objectJSON struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

// MarshalGQL writes the object. Aliases are GraphQL names, which JSON needs no escape for.
func (o objectJSON) MarshalGQL(w io.Writer) {
	deferred := false
	for i := range o.fields {
		deferred = deferred || o.fields[i].IsDeferred()
	}
	io.WriteString(w, "{")
	first := true
	for i := range o.fields {
		alias := o.fields[i].Alias
		if deferred && aliasBefore(o.fields[:i], alias) {
			continue
		}
		if first {
			io.WriteString(w, `"`)
			first = false
		} else {
			io.WriteString(w, `,"`)
		}
		io.WriteString(w, alias)
		io.WriteString(w, `":`)
		o.values[i].MarshalGQL(w)
	}
	io.WriteString(w, "}")
}

// aliasBefore reports whether one of fields has alias.
func aliasBefore(fields []graphql.CollectedField, alias string) bool {
	for i := range fields {
		if fields[i].Alias == alias {
			return true
		}
	}
	return false
}

// deferredGroup is gqlgen's @defer group of an object, made only when one of its fields is
// deferred: otherwise the group is never read, and making it costs its path, a field set and a
// map for every object of a page.
func deferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for i := range fields {
		if fields[i].IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}
