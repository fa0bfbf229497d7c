package graph_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/wvsoft/privacy/graph"
)

// The fast path writes a String as graphql.MarshalString does, byte for byte: escapes, control
// characters, non-ASCII and invalid UTF-8.
func TestQuotedStringWritesAsGqlgen(t *testing.T) {
	cases := []string{"", "plain", `a "quoted" \ backslash`, "tab\tcr\rnl\n", "\x00\x01\x1f\x7f", "é ☃ 𝄞 \u2028 <>&",
		"\xff\xfe invalid \xc3", "end\\", `"`}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		var want, got bytes.Buffer
		graphql.MarshalString(s).MarshalGQL(&want)
		graph.QuotedString(s).MarshalGQL(&got)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%q: wrote %q, gqlgen %q", s, got.Bytes(), want.Bytes())
		}
	}
}
