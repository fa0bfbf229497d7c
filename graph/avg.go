package graph

// What the article 15 export and the article 30 records need from the GraphQL layer: the
// schema's @personal declarations, and a data subject's record read through the same executor
// and authorization hook as any query. The documents themselves are composed by the service
// (internal/service/documents.go).

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// personalFields reads every field's @personal declaration out of the schema: types by name,
// fields in the schema's order.
func personalFields(schema *ast.Schema) []wvsoft.PersonalField {
	names := make([]string, 0, len(schema.Types))
	for name := range schema.Types {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []wvsoft.PersonalField
	for _, name := range names {
		for _, fd := range schema.Types[name].Fields {
			if pf, ok := personalField(name, fd); ok {
				out = append(out, pf)
			}
		}
	}
	return out
}

// personalField reads one field's @personal category and purposes.
func personalField(typ string, f *ast.FieldDefinition) (wvsoft.PersonalField, bool) {
	dir := f.Directives.ForName("personal")
	if dir == nil {
		return wvsoft.PersonalField{}, false
	}
	pf := wvsoft.PersonalField{Type: typ, Field: f.Name, Purposes: []string{}, Derived: f.Directives.ForName("derived") != nil}
	if a := dir.Arguments.ForName("category"); a != nil {
		pf.Category = a.Value.Raw
	}
	if a := dir.Arguments.ForName("purposes"); a != nil {
		for _, c := range a.Value.Children {
			pf.Purposes = append(pf.Purposes, c.Value.Raw)
		}
	}
	return pf, true
}

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
	var fields []wvsoft.PersonalField
	selection := "id customer { name }"
	for _, f := range def.Fields {
		if pf, ok := personalField(typeName, f); ok {
			fields = append(fields, pf)
			selection += " " + f.Name
		}
	}
	if def.Fields.ForName("role") != nil {
		selection += " role"
	}
	exec := executor.New(es)
	exec.AroundFields(authz.FieldHook(es.Schema()))
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
		rec.Fields = append(rec.Fields, wvsoft.SubjectField{PersonalField: f, Value: data.Node[f.Field]})
	}
	for _, e := range resp.Errors {
		if len(e.Path) > 0 {
			rec.Withheld = append(rec.Withheld, e.Path.String())
		}
	}
	sort.Strings(rec.Withheld)
	return rec, nil
}
