package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// marshalObject writes what graphql.FieldSet writes, for the cases gqlgen's collection makes:
// no fields, one, several, and one alias collected twice (a field and its @defer twin).
func TestMarshalObjectWritesAsFieldSet(t *testing.T) {
	field := func(alias string, deferred bool) graphql.CollectedField {
		f := graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}
		if deferred {
			f.Deferrables = []*graphql.Deferrable{{Label: "later"}}
		}
		return f
	}
	cases := map[string][]graphql.CollectedField{
		"none":      {},
		"one":       {field("id", false)},
		"several":   {field("id", false), field("name", false), field("e_mail", false)},
		"deferred":  {field("id", false), field("name", true), field("city", false)},
		"twice":     {field("id", false), field("name", false), field("name", true), field("city", false)},
		"twice-def": {field("name", true), field("id", false), field("name", false)},
	}
	for name, fields := range cases {
		values := make([]graphql.Marshaler, len(fields))
		for i := range fields {
			values[i] = graphql.MarshalString(name + "-" + fields[i].Alias)
		}
		values = append(values[:0:0], values...)
		want := graphql.NewFieldSet(fields)
		copy(want.Values, values)
		var a, b bytes.Buffer
		want.MarshalGQL(&a)
		marshalObject(fields, values).MarshalGQL(&b)
		if a.String() != b.String() {
			t.Errorf("%s: FieldSet wrote %s, marshalObject %s", name, a.String(), b.String())
		}
	}
}

// errorsJSON writes what encoding/json writes for the errors gqlgen collects, also across its
// chunks.
func TestErrorsJSONWritesAsEncodingJSON(t *testing.T) {
	shared := map[string]any{"code": "FORBIDDEN"}
	many := gqlerror.List{}
	for i := range 3000 {
		many = append(many, &gqlerror.Error{Message: "not allowed to read Person.bsn", Path: ast.Path{ast.PathName("persons"),
			ast.PathName("edges"), ast.PathIndex(i), ast.PathName("node"), ast.PathName("bsn")},
			Locations: []gqlerror.Location{{Line: 1, Column: 40}}, Extensions: shared})
	}
	cases := map[string]gqlerror.List{
		"none": {},
		"denied fields": {
			{Message: "not allowed to read Person.phone", Path: ast.Path{ast.PathName("persons"), ast.PathName("edges"), ast.PathIndex(0), ast.PathName("node"), ast.PathName("phone")},
				Locations: []gqlerror.Location{{Line: 1, Column: 40}}, Extensions: shared},
			{Message: "not allowed to read Person.phone", Path: ast.Path{ast.PathName("persons"), ast.PathName("edges"), ast.PathIndex(17), ast.PathName("node"), ast.PathName("phone")},
				Locations: []gqlerror.Location{{Line: 1, Column: 40}}, Extensions: shared},
		},
		"many, in chunks":           many,
		"escapes":                   {{Message: `<script> & "quotes" \ é ` + "\u2028\n\t\x01", Extensions: map[string]any{"code": "BAD_USER_INPUT", "field": "input.name", "n": 3, "list": []any{"a", 1.5, nil}}}},
		"no path, partial location": {{Message: "x", Locations: []gqlerror.Location{{Line: 2}, {Column: 3}, {}}}},
		"nil":                       {nil, {Message: "y", Path: ast.Path{}}},
	}
	for name, errs := range cases {
		want, err := json.Marshal(errs)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := plainErrors(errs)
		if !ok {
			t.Errorf("%s: not plain", name)
			continue
		}
		var got bytes.Buffer
		e.writeTo(&got)
		if got.String() != string(want) {
			t.Errorf("%s: got %.300s, want %.300s", name, got.String(), want)
		}
	}
	// What it does not write, encoding/json does.
	for name, errs := range map[string]gqlerror.List{
		"a path element that is no name": {{Message: "z", Path: ast.Path{ast.PathName("a-b")}}},
		"extensions json refuses":        {{Message: "z", Extensions: map[string]any{"f": func() {}}}},
	} {
		if _, ok := plainErrors(errs); ok {
			t.Errorf("%s: taken as plain", name)
		}
	}
}

// An answer into a fresh buffer starts at the size of the last answer to the same document,
// and writes the same; another document gets no such start.
func TestAnswerBufferSizedAsTheLastAnswer(t *testing.T) {
	doc := []graphql.CollectedField{{Field: &ast.Field{Alias: "persons", Name: "persons"}}}
	other := []graphql.CollectedField{{Field: &ast.Field{Alias: "persons", Name: "persons"}}}
	// 100 KB written in small pieces, as the values of a page are.
	long := graphql.WriterFunc(func(w io.Writer) {
		for range 2000 {
			io.WriteString(w, "01234567890123456789012345678901234567890123456789")
		}
	})
	var first bytes.Buffer
	marshalObject(doc, []graphql.Marshaler{long}).MarshalGQL(&first)
	var again, fresh bytes.Buffer
	marshalObject(doc, []graphql.Marshaler{long}).MarshalGQL(&again)
	marshalObject(other, []graphql.Marshaler{graphql.MarshalString("short")}).MarshalGQL(&fresh)
	if again.String() != first.String() {
		t.Fatal("the answer changed")
	}
	// Grown once to the hint (rounded up to the allocator's size class): it held the answer
	// without doubling past it (a doubling from the answer's size would give 200 KB).
	if again.Cap() < again.Len() || again.Cap() > (again.Len()+again.Len()/8+512)*5/4 {
		t.Fatalf("answer of %d bytes in a buffer of %d", again.Len(), again.Cap())
	}
	if fresh.Cap() > 4096 {
		t.Fatalf("another document's answer got a buffer of %d", fresh.Cap())
	}
	// One allocation for the buffer (and one for the object), where doubling takes a dozen.
	values := []graphql.Marshaler{long}
	if n := testing.AllocsPerRun(20, func() {
		var b bytes.Buffer
		marshalObject(doc, values).MarshalGQL(&b)
	}); n > 3 {
		t.Fatalf("%.0f allocations per answer", n)
	}
}
