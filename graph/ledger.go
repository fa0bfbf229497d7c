package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"sort"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// retention is the retention policy of the resolver, the protocol's by default.
func (r *Resolver) retention() wvsoft.RetentionPolicy {
	if r.Retention != nil {
		return *r.Retention
	}
	return wvsoft.DefaultRetention()
}

// recordConsent appends a consent step (P6); a withdrawal restricts staff from the next request.
func (r *Resolver) recordConsent(ctx context.Context, input model.ConsentInput, event string) (*wvsoft.Consent, error) {
	tenant, err := wvsoft.ParseGlobalIDOf("input.customerId", wvsoft.KindCustomer, input.CustomerID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	evidence := in.optional("input.evidence", input.Evidence, text(500), false)
	if in.err != nil {
		return nil, in.err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	subject := authz.FromContext(ctx).Subject()
	e := &wvsoft.ConsentEvent{TenantID: tenant, UUID: id, Event: event, Basis: input.Basis, Evidence: evidence,
		At: r.Now(), ActorKind: subject.Kind, ActorID: &subject.ID}
	if err := r.authorized.RecordConsent(ctx, e); err != nil {
		return nil, err
	}
	return r.authorized.ConsentOf(ctx, tenant)
}

func (r *Resolver) registerRequest(ctx context.Context, input model.RegisterDataSubjectRequestInput) (*wvsoft.DataSubjectRequest, error) {
	kind, subjectID, err := wvsoft.ParseGlobalID("input.subjectId", input.SubjectID)
	if err != nil {
		return nil, err
	}
	if kind != wvsoft.KindPerson && kind != wvsoft.KindContactPerson {
		return nil, wvsoft.Invalid("input.subjectId", "input.subjectId must be a person or a contact person")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	now := r.Now()
	req := &wvsoft.DataSubjectRequest{UUID: id, Kind: input.Kind, SubjectType: kind, SubjectID: subjectID, ReceivedAt: now,
		Deadline: now.AddDate(0, wvsoft.RequestAnswerMonths, 0), Status: wvsoft.RequestOpen, Outcome: []wvsoft.FieldOutcome{}}
	if err := r.authorized.RegisterRequest(ctx, req); err != nil {
		return nil, err
	}
	return req, nil
}

// executeRequest carries a request out: the export for access, erasure within the legal holds,
// and for rectification the confirmation that the corrections (made with the update mutations,
// whose history is kept) are done.
func (r *Resolver) executeRequest(ctx context.Context, gid string) (*wvsoft.DataSubjectRequest, error) {
	id, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindDataSubjectRequest, gid)
	if err != nil {
		return nil, err
	}
	req, err := r.authorized.RequestToHandle(ctx, id)
	if err != nil {
		return nil, err
	}
	if req.Status != wvsoft.RequestOpen {
		return nil, &wvsoft.Error{Code: wvsoft.ECONFLICT, Message: "the request is done already", Field: "id"}
	}
	now := r.Now()
	subject := authz.FromContext(ctx).Subject()
	req.Status, req.CompletedAt, req.HandledBy = wvsoft.RequestDone, &now, &subject.ID
	switch req.Kind {
	case wvsoft.RequestErasure:
		// Erased and completed in one transaction.
		if req.Outcome, err = r.authorized.EraseSubject(ctx, req, r.retention(), now); err != nil {
			return nil, err
		}
		return req, nil
	case wvsoft.RequestAccess:
		if req.Export, err = r.export(ctx, req.SubjectType, req.SubjectID, now); err != nil {
			return nil, err
		}
	}
	if err := r.authorized.CompleteRequest(ctx, req); err != nil {
		return nil, err
	}
	return req, nil
}

// exportField is one personal-data field of the export, as the schema declares it.
type exportField struct {
	Field       string   `json:"field"`
	Description string   `json:"description"`
	Category    string   `json:"category"`
	Purposes    []string `json:"purposes"`
	Value       any      `json:"value"`
}

// export gathers everything held about a data subject. What to export comes from the schema:
// every field of the subject's type with an @personal category, so that a new field with a
// category is exported without more code. The fields are read through the same executor and
// authorization hook as any query, as the caller.
func (r *Resolver) export(ctx context.Context, typeName string, id uuid.UUID, now time.Time) (*wvsoft.DataExport, error) {
	es := NewExecutableSchema(Config{Resolvers: r})
	def := es.Schema().Types[typeName]
	var fields []*ast.FieldDefinition
	selection := "id"
	for _, f := range def.Fields {
		if f.Directives.ForName("personal") != nil {
			fields = append(fields, f)
			selection += " " + f.Name
		}
	}
	exec := executor.New(es)
	exec.AroundFields(authz.FieldHook(es.Schema()))
	exec.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withLoaders(ctx, r.authorized))
	})
	query := "query Export($id: ID!) { node(id: $id) { ... on " + typeName + " { " + selection + " } } }"
	rc, gerrs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query,
		Variables: map[string]any{"id": wvsoft.GlobalID(typeName, id)}})
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
	out := struct {
		Controller string        `json:"controller"`
		Subject    string        `json:"subject"`
		Type       string        `json:"type"`
		ExportedAt time.Time     `json:"exported_at"`
		Fields     []exportField `json:"fields"`
		Withheld   []string      `json:"withheld,omitempty"`
	}{Controller: "WvSoft", Subject: wvsoft.GlobalID(typeName, id), Type: typeName, ExportedAt: now.UTC()}
	for _, f := range fields {
		cat, purposes := "", []string{}
		dir := f.Directives.ForName("personal")
		if a := dir.Arguments.ForName("category"); a != nil {
			cat = a.Value.Raw
		}
		if a := dir.Arguments.ForName("purposes"); a != nil {
			for _, c := range a.Value.Children {
				purposes = append(purposes, c.Value.Raw)
			}
		}
		out.Fields = append(out.Fields, exportField{Field: f.Name, Description: f.Description, Category: cat, Purposes: purposes, Value: data.Node[f.Name]})
	}
	for _, e := range resp.Errors {
		if len(e.Path) > 0 {
			out.Withheld = append(out.Withheld, e.Path.String())
		}
	}
	sort.Strings(out.Withheld)
	js, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := exportPage().Execute(&html, out); err != nil {
		return nil, err
	}
	return &wvsoft.DataExport{JSON: string(js), HTML: html.String()}, nil
}

// exportPage is the human-readable export: the modern form of the protocol's "printscreen".
func exportPage() *template.Template {
	return template.Must(template.New("export").Parse(exportHTML))
}

const exportHTML = `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Inzage persoonsgegevens / Your personal data</title></head>
<body>
<h1>Inzage persoonsgegevens / Your personal data</h1>
<p>{{.Controller}} — {{.Type}} {{.Subject}} — {{.ExportedAt.Format "2006-01-02 15:04 MST"}}</p>
<table>
<thead><tr><th>Gegeven / Field</th><th>Omschrijving / Description</th><th>Categorie</th><th>Doel / Purpose</th><th>Waarde / Value</th></tr></thead>
<tbody>{{range .Fields}}
<tr><td>{{.Field}}</td><td>{{.Description}}</td><td>{{.Category}}</td><td>{{range $i, $p := .Purposes}}{{if $i}}, {{end}}{{$p}}{{end}}</td><td>{{if .Value}}{{.Value}}{{else}}—{{end}}</td></tr>{{end}}
</tbody></table>
{{if .Withheld}}<p>Niet getoond (geen toegang) / Withheld (no access): {{range .Withheld}}{{.}} {{end}}</p>{{end}}
</body></html>
`

// recordsOfProcessing builds the article 30 records from the schema's @personal declarations,
// the retention schedule and the processor register.
func (r *Resolver) recordsOfProcessing(ctx context.Context) (*model.ProcessingRecords, error) {
	processors, err := r.authorized.Processors(ctx)
	if err != nil {
		return nil, err
	}
	var procNames []string
	for _, p := range processors {
		procNames = append(procNames, p.Name+" ("+p.Role+")")
	}
	rules := wvsoft.RetentionRules(r.retention())
	byPurpose := map[string]*model.ProcessingActivity{}
	cats := map[string]map[string]bool{}
	schema := NewExecutableSchema(Config{Resolvers: r}).Schema()
	names := make([]string, 0, len(schema.Types))
	for name := range schema.Types {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, fd := range schema.Types[name].Fields {
			dir := fd.Directives.ForName("personal")
			if dir == nil {
				continue
			}
			cat := dir.Arguments.ForName("category").Value.Raw
			for _, p := range dir.Arguments.ForName("purposes").Value.Children {
				purpose := p.Value.Raw
				a := byPurpose[purpose]
				if a == nil {
					a = &model.ProcessingActivity{Purpose: purpose, Processors: procNames}
					byPurpose[purpose] = a
					cats[purpose] = map[string]bool{}
					for _, rule := range rules {
						for _, rp := range rule.Purposes {
							if rp == purpose {
								a.Retention = append(a.Retention, rule.Name+": "+rule.Data+" — "+rule.Kept)
							}
						}
					}
				}
				a.Fields = append(a.Fields, name+"."+fd.Name)
				if !cats[purpose][cat] {
					cats[purpose][cat] = true
					a.Categories = append(a.Categories, cat)
				}
			}
		}
	}
	out := &model.ProcessingRecords{Controller: "WvSoft"}
	for _, purpose := range []string{"SUPPORT", "BILLING", "SERVICE"} {
		if a := byPurpose[purpose]; a != nil {
			sort.Strings(a.Categories)
			out.Activities = append(out.Activities, a)
		}
	}
	js, err := json.MarshalIndent(out.Activities, "", "  ")
	if err != nil {
		return nil, err
	}
	out.JSON = string(js)
	return out, nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
