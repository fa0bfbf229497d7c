package graph

import (
	"bytes"
	"encoding/json"
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

// appendErrors writes what encoding/json writes for the errors gqlgen collects.
func TestAppendErrorsWritesAsEncodingJSON(t *testing.T) {
	shared := map[string]any{"code": "FORBIDDEN"}
	cases := map[string]gqlerror.List{
		"none": {},
		"denied fields": {
			{Message: "not allowed to read Person.phone", Path: ast.Path{ast.PathName("persons"), ast.PathName("edges"), ast.PathIndex(0), ast.PathName("node"), ast.PathName("phone")},
				Locations: []gqlerror.Location{{Line: 1, Column: 40}}, Extensions: shared},
			{Message: "not allowed to read Person.phone", Path: ast.Path{ast.PathName("persons"), ast.PathName("edges"), ast.PathIndex(17), ast.PathName("node"), ast.PathName("phone")},
				Locations: []gqlerror.Location{{Line: 1, Column: 40}}, Extensions: shared},
		},
		"escapes":                   {{Message: `<script> & "quotes" \ é ` + "\u2028\n\t\x01", Extensions: map[string]any{"code": "BAD_USER_INPUT", "field": "input.name", "n": 3, "list": []any{"a", 1.5, nil}}}},
		"no path, partial location": {{Message: "x", Locations: []gqlerror.Location{{Line: 2}, {Column: 3}, {}}}},
		"nil":                       {nil, {Message: "y", Path: ast.Path{}}},
		"odd path":                  {{Message: "z", Path: ast.Path{ast.PathName("a-b")}}},
	}
	for name, errs := range cases {
		want, err := json.Marshal(errs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendErrors(nil, errs)
		if err == errNotPlain {
			continue // writeResponse leaves it to encoding/json
		}
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: got %s (%v), want %s", name, got, err, want)
		}
	}
	if _, err := appendErrors(nil, cases["odd path"]); err != errNotPlain {
		t.Errorf("a path element that is no name: %v, want errNotPlain", err)
	}
}
