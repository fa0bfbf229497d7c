package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Error codes of the query limits. Like wvsoft's codes they are part of the API.
const (
	CodeQueryTooDeep      = "QUERY_TOO_DEEP"
	CodeQueryTooComplex   = "QUERY_TOO_COMPLEX"
	CodeTooManyAliases    = "TOO_MANY_ALIASES"
	CodeDocumentTooLarge  = "DOCUMENT_TOO_LARGE"
	CodeBatchNotSupported = "BATCH_NOT_SUPPORTED"
	CodeBadRequest        = "BAD_REQUEST"
)

// Limits bound what one request may ask of the server (the OWASP GraphQL cheat sheet). A zero
// field takes its default.
type Limits struct {
	// MaxDepth is the deepest nesting of fields an operation may select; `{ me { role } }` has
	// depth 2. Introspection fields are bounded by gqlparser's own rule instead.
	MaxDepth int
	// MaxComplexity bounds the estimated cost of an operation: every field costs 1, and what a
	// page, a nodes(ids:) lookup or a list returns counts once per row it may return (see cost).
	MaxComplexity int
	// MaxAliases bounds the aliased fields of an operation, which would otherwise ask the same
	// expensive field many times in one document.
	MaxAliases int
	// MaxQueryBytes bounds the GraphQL document; MaxTokens bounds what the parser reads of it.
	MaxQueryBytes int
	MaxTokens     int
	// MaxBodyBytes bounds the HTTP request body (document and variables).
	MaxBodyBytes int64
	// MaxPageSize is the largest `first` a connection accepts.
	MaxPageSize int
}

// Defaults of Limits. A page of 500 persons with every field and its customer costs about
// 10,000, so MaxComplexity leaves room for twice that and refuses pages within pages.
const (
	DefaultMaxDepth      = 10
	DefaultMaxComplexity = 20_000
	DefaultMaxAliases    = 30
	DefaultMaxQueryBytes = 32 << 10
	DefaultMaxTokens     = 5_000
	DefaultMaxBodyBytes  = 1 << 20
)

// listEstimate is how many rows a list without paging arguments counts for (contact persons,
// users, API keys, grants of one customer).
const listEstimate = 10

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxDepth, DefaultMaxDepth)
	def(&l.MaxComplexity, DefaultMaxComplexity)
	def(&l.MaxAliases, DefaultMaxAliases)
	def(&l.MaxQueryBytes, DefaultMaxQueryBytes)
	def(&l.MaxTokens, DefaultMaxTokens)
	def(&l.MaxPageSize, wvsoft.DefaultMaxPageSize)
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return l
}

func limitError(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": code}
	return err
}

// limitsExtension checks an operation against the limits before anything of it runs: the
// document's size before it is parsed, its depth, aliases and cost once it is validated.
type limitsExtension struct{ limits Limits }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = limitsExtension{}

func (limitsExtension) ExtensionName() string                          { return "WvSoftLimits" }
func (limitsExtension) Validate(schema graphql.ExecutableSchema) error { return nil }

func (e limitsExtension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if len(p.Query) > e.limits.MaxQueryBytes {
		return limitError(CodeDocumentTooLarge, "the document has %d bytes; at most %d are accepted", len(p.Query), e.limits.MaxQueryBytes)
	}
	return nil
}

func (e limitsExtension) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	m := measurer{limits: e.limits, vars: oc.Variables, fragments: map[string]measure{}}
	got := m.selection(oc.Operation.SelectionSet)
	switch {
	case got.depth > e.limits.MaxDepth:
		return limitError(CodeQueryTooDeep, "the operation nests %d fields deep; at most %d are allowed", got.depth, e.limits.MaxDepth)
	case got.aliases > e.limits.MaxAliases:
		return limitError(CodeTooManyAliases, "the operation has %d aliases; at most %d are allowed", got.aliases, e.limits.MaxAliases)
	case got.cost > e.limits.MaxComplexity:
		return limitError(CodeQueryTooComplex, "the operation may cost %d; at most %d is allowed (ask for smaller pages or fewer nested lists)", got.cost, e.limits.MaxComplexity)
	}
	return nil
}

// measure is what the limits look at in a selection set.
type measure struct{ depth, aliases, cost int }

// measurer walks an operation once. Each fragment is measured once however often it is spread:
// gqlgen's complexity.Calculate walks a fragment again at every spread, which is exponential in
// fragments that spread fragments, and an attacker writes those.
type measurer struct {
	limits    Limits
	vars      map[string]any
	fragments map[string]measure
}

func (m *measurer) selection(set ast.SelectionSet) measure {
	var out measure
	for _, sel := range set {
		var got measure
		switch s := sel.(type) {
		case *ast.Field:
			got = m.field(s)
		case *ast.InlineFragment:
			got = m.selection(s.SelectionSet)
		case *ast.FragmentSpread:
			memo, ok := m.fragments[s.Name]
			if !ok && s.Definition != nil {
				m.fragments[s.Name] = measure{} // a cycle (validation rejects them) ends here
				memo = m.selection(s.Definition.SelectionSet)
				m.fragments[s.Name] = memo
			}
			got = memo
		}
		out.depth = max(out.depth, got.depth)
		out.aliases = satAdd(out.aliases, got.aliases)
		out.cost = satAdd(out.cost, got.cost)
	}
	return out
}

func (m *measurer) field(f *ast.Field) measure {
	var out measure
	if f.Alias != "" && f.Alias != f.Name {
		out.aliases = 1
	}
	if strings.HasPrefix(f.Name, "__") {
		// __typename is free; __schema and __type are bounded by gqlparser's
		// MaxIntrospectionDepth and switched off with introspection.
		return out
	}
	inner := m.selection(f.SelectionSet)
	out.depth = 1 + inner.depth
	out.aliases = satAdd(out.aliases, inner.aliases)
	out.cost = satAdd(1, satMul(m.rows(f), inner.cost))
	return out
}

// rows is how many times a field's selection may be resolved: the page size of a connection,
// the number of ids of nodes(ids:), listEstimate for a list of objects outside a connection,
// else 1.
func (m *measurer) rows(f *ast.Field) int {
	if f.Definition == nil || len(f.SelectionSet) == 0 {
		return 1
	}
	if f.Definition.Arguments.ForName("first") != nil {
		// A page is first rows from the start, or last rows from the end: whichever is given.
		n := wvsoft.DefaultPageSize
		args := f.ArgumentMap(m.vars)
		for _, name := range []string{"first", "last"} {
			if v, ok := args[name]; ok && v != nil {
				if i, ok := asInt(v); ok {
					n = max(n, i)
				}
			}
		}
		// A larger page is refused by the resolver with BAD_USER_INPUT, which says more.
		return min(max(n, 1), m.limits.MaxPageSize)
	}
	if f.Definition.Arguments.ForName("ids") != nil {
		if ids, ok := f.ArgumentMap(m.vars)["ids"].([]any); ok {
			return min(max(len(ids), 1), maxNodes)
		}
		return maxNodes
	}
	if f.Definition.Type.Elem != nil {
		if f.ObjectDefinition != nil && strings.HasSuffix(f.ObjectDefinition.Name, "Connection") {
			return 1 // a connection's edges: its field's first counted them already
		}
		return listEstimate
	}
	return 1
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(min(max(n, math.MinInt32), math.MaxInt32)), true
	case json.Number:
		i, err := n.Int64()
		return int(min(max(i, math.MinInt32), math.MaxInt32)), err == nil
	}
	return 0, false
}

func satAdd(a, b int) int {
	if a > math.MaxInt32-b {
		return math.MaxInt32
	}
	return a + b
}

func satMul(a, b int) int {
	if a != 0 && b > math.MaxInt32/a {
		return math.MaxInt32
	}
	return a * b
}

// limitRequests bounds the HTTP side of a GraphQL request before gqlgen reads it: the body's
// size, batches (a JSON array of operations, which would multiply every other limit), and
// bodies or query strings that are not a GraphQL request, which gqlgen would answer with Go's
// decoder messages.
func limitRequests(limits Limits, subs *Subscriptions, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if up := r.Header.Get("Upgrade"); up != "" {
			if subs != nil && strings.EqualFold(up, "websocket") {
				subs.serveUpgrade(w, r, next)
				return
			}
			// gqlgen would answer another upgrade with "transport not supported" and no code.
			writeError(w, http.StatusBadRequest, CodeBadRequest, "no upgrade but to a WebSocket (graphql-transport-ws, for subscriptions) is served: send queries and mutations with POST")
			return
		}
		switch r.Method {
		case http.MethodGet:
			if int64(len(r.URL.RawQuery)) > limits.MaxBodyBytes {
				writeError(w, http.StatusRequestEntityTooLarge, CodeDocumentTooLarge, "the request is too large")
				return
			}
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				writeError(w, http.StatusBadRequest, CodeBadRequest, "the query string is not URL-encoded")
				return
			}
			for _, name := range []string{"variables", "extensions"} {
				if v := q.Get(name); v != "" && !isJSONObject([]byte(v)) {
					writeError(w, http.StatusBadRequest, CodeBadRequest, name+" must be a JSON object")
					return
				}
			}
			// gqlgen refuses a mutation over GET too, but without a code.
			if doc := q.Get("query"); len(doc) <= limits.MaxQueryBytes {
				parsed, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: doc}, limits.MaxTokens)
				if err == nil {
					if op := parsed.Operations.ForName(q.Get("operationName")); op != nil && op.Operation != ast.Query {
						w.Header().Set("Allow", "POST")
						writeError(w, http.StatusMethodNotAllowed, CodeBadRequest, "GET only reads: send a "+string(op.Operation)+" with POST")
						return
					}
				}
			}
		case http.MethodPost:
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limits.MaxBodyBytes))
			if err != nil {
				if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
					writeError(w, http.StatusRequestEntityTooLarge, CodeDocumentTooLarge,
						"the request body is larger than "+strconv.FormatInt(limits.MaxBodyBytes, 10)+" bytes")
					return
				}
				writeError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
				return
			}
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, CodeBadRequest, "send the request as Content-Type: application/json")
				return
			}
			if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
				writeError(w, http.StatusBadRequest, CodeBatchNotSupported,
					"batched operations are not supported: send one operation per request")
				return
			}
			// The same decoding as gqlgen's, so that what passes here decodes there.
			var params graphql.RawParams
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&params); err != nil {
				writeError(w, http.StatusBadRequest, CodeBadRequest,
					`the request body must be a JSON object {"query": "...", "variables": {...}, "operationName": "..."}`)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, CodeBadRequest, "send GraphQL requests with GET or POST")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isJSONObject reports whether raw starts with a JSON object, decoded as gqlgen decodes
// variables.
func isJSONObject(raw []byte) bool {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(&m) == nil
}

// writeError answers with a GraphQL response that has one error and no data.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/graphql-response+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": code}}},
	})
}
