package graph

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The answer written by hand is what encoding/json writes for gqlgen's response, but for the
// escaping of <, > and & (the same JSON): with and without errors, extensions and data, and
// no response at all (a cancelled request).
func TestWriteResponseAsEncodingJSON(t *testing.T) {
	for _, resp := range []*graphql.Response{
		nil,
		{Data: []byte(`{"a":1}`)},
		{Data: nil, Errors: gqlerror.List{{Message: "no", Extensions: map[string]any{"code": "FORBIDDEN"}}}},
		{Data: []byte(`{"a":null}`), Errors: gqlerror.List{{Message: "x"}}, Extensions: map[string]any{"explain": map[string]any{"available": false}}},
	} {
		var got bytes.Buffer
		writeResponse(&got, resp)
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("got  %s\nwant %s", got.String(), want)
		}
	}
}
