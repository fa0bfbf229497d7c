package graph

// What the article 15 export and the article 30 records need from the GraphQL layer: the
// schema's @personal declarations (wvsoft.Declarations), and a data subject's record read through the same executor
// and authorization hook as any query. The documents themselves are composed by the service
// (internal/service/documents.go).

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// ReadSubject reads a data subject's record for the article 15 export (service.SubjectReader):
// every field of its type with an @personal category, so that a new field with a category is
// exported without more code, read through the same executor and authorization hook as any
// query, as the caller. What the caller may not read is withheld and named.
func (r *Resolver) ReadSubject(ctx context.Context, typeName string, id uuid.UUID) (*wvsoft.SubjectRecord, error) {
	es := NewExecutableSchema(Config{Resolvers: r})
	def := es.Schema().Types[typeName]
	if def == nil {
		return nil, wvsoft.NotFound("data subject")
	}
	var fields []wvsoft.FieldDeclaration
	selection := "id customer { name }"
	for _, f := range wvsoft.Declarations() {
		if f.Type == typeName && f.Personal() {
			fields = append(fields, f)
			selection += " " + f.Field
		}
	}
	if def.Fields.ForName("role") != nil {
		selection += " role"
	}
	exec := executor.New(es)
	exec.AroundFields(fieldHook(es.Schema()))
	exec.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withLoaders(ctx, r.authorized))
	})
	gid := wvsoft.GlobalID(typeName, id)
	query := "query Export($id: ID!) { node(id: $id) { ... on " + typeName + " { " + selection + " } } }"
	rc, gerrs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: map[string]any{"id": gid}})
	if gerrs != nil {
		return nil, gerrs
	}
	handler, rctx := exec.DispatchOperation(ctx, rc)
	resp := handler(rctx)
	var data struct {
		Node map[string]any `json:"node"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil || data.Node == nil {
		return nil, wvsoft.NotFound("data subject")
	}
	rec := &wvsoft.SubjectRecord{Type: typeName, GlobalID: gid}
	if c, ok := data.Node["customer"].(map[string]any); ok {
		rec.Customer, _ = c["name"].(string)
	}
	rec.Name, _ = data.Node["name"].(string)
	rec.Role, _ = data.Node["role"].(string)
	for _, f := range fields {
		rec.Fields = append(rec.Fields, wvsoft.SubjectField{FieldDeclaration: f, Value: data.Node[f.Field]})
	}
	for _, e := range resp.Errors {
		if len(e.Path) > 0 {
			rec.Withheld = append(rec.Withheld, e.Path.String())
		}
	}
	sort.Strings(rec.Withheld)
	return rec, nil
}
