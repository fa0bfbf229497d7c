package graph

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
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
	if b, ok := w.(*bytes.Buffer); ok && b.Cap() == 0 && len(o.fields) > 0 {
		// An answer's outermost object, into gqlgen's fresh buffer: sized as the last answer
		// to the same document was, instead of doubling its way up to a megabyte.
		key := o.fields[0].Field
		b.Grow(answerSizes.hint(key))
		defer func() { answerSizes.note(key, b.Len()) }()
	}
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

// answerSizes remembers how large the answers to recent documents were, by the first field of
// the operation (the same *ast.Field for every request of a document kept in the query cache):
// a fixed table, so that a stream of new documents takes no memory; a collision or a changed
// document only makes a buffer too small (it grows) or larger than needed (up to
// maxAnswerHint).
var answerSizes answerSizeTable

const (
	answerSlots   = 256
	maxAnswerHint = 8 << 20
)

type answerSizeTable struct {
	slots [answerSlots]atomic.Pointer[answerSize]
}

type answerSize struct {
	key  *ast.Field
	size int
}

func (t *answerSizeTable) slot(key *ast.Field) *atomic.Pointer[answerSize] {
	h := uint64(uintptr(unsafe.Pointer(key)))
	return &t.slots[(h*0x9E3779B97F4A7C15)>>56%answerSlots]
}

// hint is the size of the last answer noted for key with room to spare, or 0.
func (t *answerSizeTable) hint(key *ast.Field) int {
	if s := t.slot(key).Load(); s != nil && s.key == key {
		return min(s.size+s.size/8+512, maxAnswerHint)
	}
	return 0
}

func (t *answerSizeTable) note(key *ast.Field, size int) {
	slot := t.slot(key)
	if s := slot.Load(); s == nil || s.key != key || s.size != size {
		slot.Swap(&answerSize{key: key, size: size}) // Swap, not Store: the layering test takes any .Store for the persistence store
	}
}
