package service

// The article 15 export and the article 30 records: composed from the declarations
// that exist (the schema's @personal categories and purposes, the retention schedule, the
// processor register, the access log and the outbox), in words a person can read (Dutch). What
// the subject's record holds is read by the GraphQL layer (SubjectReader), as the caller may
// read it; everything else the documents say is decided here, for the API and the CLI alike.

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// exportPurpose is one purpose an item serves, with its legal basis.
type exportPurpose struct {
	Purpose    string `json:"purpose"`
	Label      string `json:"label"`
	LegalBasis string `json:"legal_basis"`
}

// exportItem is one personal-data field of the export (article 15(1)(a)-(d), (g)).
type exportItem struct {
	Field         string          `json:"field"`
	Label         string          `json:"label"`
	Category      string          `json:"category"`
	CategoryLabel string          `json:"category_label"`
	Value         any             `json:"value"`
	Shown         string          `json:"shown"`
	Purposes      []exportPurpose `json:"purposes"`
	RetentionRule string          `json:"retention_rule"`
	Retention     string          `json:"retention"`
	Source        string          `json:"source"`
	Recipients    []string        `json:"recipients"`
}

// exportLogEntry is an access-log entry about the subject's record: who read or wrote it under a
// support grant, when, which fields; never values.
type exportLogEntry struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Who    string    `json:"who"`
	Fields []string  `json:"fields"`
	Grant  string    `json:"grant,omitempty"`
}

// exportCall is one breach call to the subject (a contact person): when, whether it reached
// the person, and what was said, shown as the person's phone number is (it is decided as that
// field) and gone once the person's support data is erased.
type exportCall struct {
	CalledAt time.Time `json:"called_at"`
	Reached  bool      `json:"reached"`
	Outcome  *string   `json:"outcome,omitempty"`
}

// exportMail is one e-mail sent (or queued) to the subject.
type exportMail struct {
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	Subject   string     `json:"subject"`
	Purpose   string     `json:"purpose"`
	Status    string     `json:"status"`
}

// exportDoc is the whole article 15 export.
type exportDoc struct {
	Controller      string           `json:"controller"`
	ControllerRole  string           `json:"controller_role"`
	Contact         string           `json:"contact"`
	SubjectID       string           `json:"subject_id"`
	SubjectType     string           `json:"subject_type"`
	SubjectKind     string           `json:"subject_kind"`
	Name            string           `json:"name"`
	Customer        string           `json:"customer,omitempty"`
	Role            string           `json:"role,omitempty"`
	ExportedAt      time.Time        `json:"exported_at"`
	Items           []exportItem     `json:"items"`
	AccessLog       []exportLogEntry `json:"access_log"`
	AccessLogNote   string           `json:"access_log_note"`
	Mail            []exportMail     `json:"mail"`
	Calls           []exportCall     `json:"breach_calls,omitempty"`
	MailNote        string           `json:"mail_note"`
	Transfers       string           `json:"transfers"`
	AutomatedDecide string           `json:"automated_decisions"`
	Rights          string           `json:"rights"`
	Withheld        []string         `json:"withheld,omitempty"`
}

// exportView is what the printed export shows, composed from exportDoc for a person to read
// top to bottom: what is kept, in a short list by kind; then per purpose why, on what basis, for
// how long, from where and to whom, each said once and naming the items it covers. The JSON
// export stays exportDoc, item by item.
type exportView struct {
	exportDoc
	YouAre   string // who the subject is, as a sentence
	Groups   []itemGroup
	Purposes []purposeView
}

// itemGroup is the items of one category, in the order of the record.
type itemGroup struct {
	Category string
	Items    []exportItem
}

// purposeView is one purpose and what holds for the items it covers.
type purposeView struct {
	Label      string
	LegalBasis string
	Items      []string // labels
	Retention  []coverage
	Sources    []coverage
	Recipients []string
}

// coverage is one statement and the items it holds for.
type coverage struct {
	Items []string
	Text  string
}

// cover adds item to the statement text, said once.
func cover(list []coverage, text, item string) []coverage {
	for i := range list {
		if list[i].Text == text {
			list[i].Items = append(list[i].Items, item)
			return list
		}
	}
	return append(list, coverage{Items: []string{item}, Text: text})
}

// viewOf groups the export's items for the printed document; recipients are those of each
// purpose (an item's recipients are those of all its purposes together).
func viewOf(doc exportDoc, recipients func(purpose string) []string) exportView {
	v := exportView{exportDoc: doc, YouAre: "U bent " + doc.SubjectKind}
	if doc.Role != "" {
		v.YouAre += " (" + doc.Role + ")"
	}
	if !strings.HasSuffix(v.YouAre, ".") { // a name such as "B.V." ends the sentence already
		v.YouAre += "."
	}
	group, purpose := map[string]int{}, map[string]int{}
	for _, it := range doc.Items {
		g, ok := group[it.CategoryLabel]
		if !ok {
			g = len(v.Groups)
			group[it.CategoryLabel] = g
			v.Groups = append(v.Groups, itemGroup{Category: it.CategoryLabel})
		}
		v.Groups[g].Items = append(v.Groups[g].Items, it)
		for _, p := range it.Purposes {
			i, ok := purpose[p.Purpose]
			if !ok {
				i = len(v.Purposes)
				purpose[p.Purpose] = i
				v.Purposes = append(v.Purposes, purposeView{Label: p.Label, LegalBasis: p.LegalBasis, Recipients: recipients(p.Purpose)})
			}
			pv := &v.Purposes[i]
			pv.Items = append(pv.Items, it.Label)
			pv.Retention = cover(pv.Retention, it.Retention, it.Label)
			pv.Sources = cover(pv.Sources, it.Source, it.Label)
		}
	}
	return v
}

// processorsServing lists, per purpose, the processors that serve it, in words; with a type,
// only those that hold records of that type.
func processorsServing(processors []*wvsoft.Processor, typ string) map[string][]string {
	out := map[string][]string{}
	for _, p := range processors {
		if typ != "" && !wvsoft.ProcessorHolds(p.Role, typ) {
			continue
		}
		for _, purpose := range wvsoft.ProcessorServes(p.Role) {
			out[purpose] = append(out[purpose], p.Name+" ("+wvsoft.ProcessorRoleLabel(p.Role)+")")
		}
	}
	return out
}

// export builds the article 15 export of the subject of an access request: every field of the
// subject's type with an @personal category (as read by the SubjectReader, with the caller's
// rights), so that a new field with a category is exported without more code; what each serves,
// on which basis, for how long, from where and to whom; the access log about the record; and the
// mail sent to the subject.
func (s *Service) export(ctx context.Context, req *wvsoft.DataSubjectRequest, now time.Time) (*wvsoft.DataExport, error) {
	if s.subjects == nil {
		return nil, errNoSubjectReader
	}
	rec, err := s.subjects.ReadSubject(ctx, req.SubjectType, req.SubjectID)
	if err != nil {
		return nil, err
	}
	typeName, gid, customer := rec.Type, rec.GlobalID, rec.Customer
	processors, err := s.store.Processors(ctx)
	if err != nil {
		return nil, err
	}
	serving := processorsServing(processors, typeName)
	rules := map[string]wvsoft.RetentionRule{}
	for _, rule := range wvsoft.RetentionRules(s.retention) {
		rules[rule.Name] = rule
	}
	doc := exportDoc{SubjectID: gid, SubjectType: typeName, Name: rec.Name, Customer: customer, ExportedAt: now.UTC(),
		Contact: wvsoft.ControllerContact, Transfers: wvsoft.Transfers,
		AutomatedDecide: "Er vindt geen geautomatiseerde besluitvorming of profilering plaats.",
		AccessLog:       []exportLogEntry{}, Mail: []exportMail{}, Withheld: rec.Withheld}
	if rec.Role != "" {
		doc.Role = valueLabel(rec.Role)
	}
	if typeName == wvsoft.KindPerson {
		doc.Controller, doc.ControllerRole = customer, "verwerkingsverantwoordelijke; WvSoft is verwerker (host van de software)"
		doc.SubjectKind = "persoon in de omgeving van " + customer
		doc.Rights = "U kunt " + customer + " vragen uw gegevens te verbeteren of te wissen, de verwerking te beperken of bezwaar te maken. " +
			"U kunt ook een klacht indienen bij de Autoriteit Persoonsgegevens (www.autoriteitpersoonsgegevens.nl)."
	} else {
		doc.Controller, doc.ControllerRole = wvsoft.ControllerName, "verwerkingsverantwoordelijke"
		doc.SubjectKind = "contactpersoon van klant " + customer
		doc.Rights = "U kunt WvSoft vragen uw gegevens te verbeteren of te wissen, de verwerking te beperken of bezwaar te maken " +
			"(" + wvsoft.ControllerContact + "). U kunt ook een klacht indienen bij de Autoriteit Persoonsgegevens (www.autoriteitpersoonsgegevens.nl)."
	}
	var email string
	phoneShown := false
	for _, f := range rec.Fields {
		item := exportItem{Field: f.Field, Label: f.Label, Category: f.Category, CategoryLabel: wvsoft.CategoryLabel(f.Category),
			Value: f.Value, Shown: shown(f.Value), Source: wvsoft.DataSource(typeName, customer)}
		seen := map[string]bool{}
		for _, p := range f.Purposes {
			item.Purposes = append(item.Purposes, exportPurpose{Purpose: p, Label: wvsoft.PurposeLabel(p), LegalBasis: wvsoft.LegalBasis(p)})
			for _, who := range append(wvsoft.StaffRecipients(p), serving[p]...) {
				if !seen[who] {
					seen[who] = true
					item.Recipients = append(item.Recipients, who)
				}
			}
		}
		if rule, ok := rules[wvsoft.FieldRetention(typeName, f.Field)]; ok {
			item.RetentionRule, item.Retention = rule.Name, rule.KeptNL
		}
		if f.Field == "email" {
			email, _ = f.Value.(string)
		}
		if f.Field == "phone" && f.Value != nil {
			phoneShown = true
		}
		doc.Items = append(doc.Items, item)
	}
	if typeName == wvsoft.KindPerson {
		entries, _, err := s.store.AccessLog(ctx, req.TenantID, wvsoft.AccessLogFilter{Record: &gid}, 0, 500)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			le := exportLogEntry{At: e.At.UTC(), Event: e.Event, Who: actorLabel(e.ActorKind, e.GrantID != nil), Fields: e.DetailList("fields")}
			if e.GrantID != nil {
				le.Grant = wvsoft.GlobalID(wvsoft.KindSupportAccessGrant, *e.GrantID)
			}
			doc.AccessLog = append(doc.AccessLog, le)
		}
		doc.AccessLogNote = "Het toegangslogboek van " + customer + " legt vast wie van WvSoft, met toestemming van " + customer +
			", uw gegevens heeft ingezien of gewijzigd. Hieronder staan de keren dat dat uw gegevens betrof."
		doc.MailNote = "WvSoft stuurt personen in de omgeving van een klant geen e-mail."
	} else {
		doc.AccessLogNote = "Uw gegevens staan in het klantenbestand van WvSoft. Medewerkers lezen ze alleen voor hun doel " +
			"(ondersteuning of facturering); dat valt niet onder het toegangslogboek, dat alleen toegang tot de eigen omgeving van een klant vastlegt."
		doc.MailNote = "De e-mail die WvSoft u stuurde (ook wat nog verzonden wordt)."
		if email != "" {
			mail, err := s.store.MailTo(ctx, req.TenantID, wvsoft.KindContactPerson+".email", email)
			if err != nil {
				return nil, err
			}
			for _, m := range mail {
				doc.Mail = append(doc.Mail, exportMail{CreatedAt: m.CreatedAt.UTC(), SentAt: m.SentAt, Subject: m.Subject,
					Purpose: mailPurposeLabel(m.Purpose), Status: mailStatusLabel(m.Status)})
			}
		}
		calls, err := s.store.CallsTo(ctx, req.TenantID, req.SubjectID)
		if err != nil {
			return nil, err
		}
		doc.Calls = []exportCall{}
		for _, c := range calls {
			call := exportCall{CalledAt: c.CalledAt.UTC(), Reached: c.Reached}
			if phoneShown {
				call.Outcome = c.Outcome
			}
			doc.Calls = append(doc.Calls, call)
		}
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	view := viewOf(doc, func(purpose string) []string { return append(wvsoft.StaffRecipients(purpose), serving[purpose]...) })
	var html bytes.Buffer
	if err := exportPage().Execute(&html, view); err != nil {
		return nil, err
	}
	return &wvsoft.DataExport{JSON: string(js), HTML: html.String()}, nil
}

// RecordsOfProcessing builds the article 30 records from the schema's @personal declarations
// (wvsoft.Declarations), the retention schedule and the processor register: one activity per
// purpose, each with only the processors that serve that purpose.
func (s *Service) RecordsOfProcessing(ctx context.Context) (*wvsoft.ProcessingRecords, error) {
	processors, err := s.store.Processors(ctx)
	if err != nil {
		return nil, err
	}
	serving := processorsServing(processors, "")
	rules := wvsoft.RetentionRules(s.retention)
	byPurpose := map[string]*wvsoft.ProcessingActivity{}
	cats := map[string]map[string]bool{}
	for _, fd := range personalDeclarations() {
		if fd.Derived {
			continue // shown elsewhere; its home field is listed
		}
		for _, purpose := range fd.Purposes {
			a := byPurpose[purpose]
			if a == nil {
				a = &wvsoft.ProcessingActivity{Purpose: purpose, Description: wvsoft.PurposeLabel(purpose),
					LegalBasis: wvsoft.LegalBasis(purpose), DataSubjects: wvsoft.DataSubjects(purpose),
					Recipients: append(append([]string{}, wvsoft.StaffRecipients(purpose)...), serving[purpose]...),
					Processors: append([]string{}, serving[purpose]...)}
				byPurpose[purpose] = a
				cats[purpose] = map[string]bool{}
				for _, rule := range rules {
					for _, rp := range rule.Purposes {
						if rp == purpose {
							a.Retention = append(a.Retention, rule.Name+": "+rule.DataNL+": "+rule.KeptNL)
						}
					}
				}
			}
			a.Fields = append(a.Fields, fd.Type+"."+fd.Field)
			if !cats[purpose][fd.Category] {
				cats[purpose][fd.Category] = true
				a.Categories = append(a.Categories, fd.Category)
			}
		}
	}
	out := &wvsoft.ProcessingRecords{Controller: wvsoft.ControllerName, ControllerContact: wvsoft.ControllerContact,
		SecurityMeasures: wvsoft.SecurityMeasures, Transfers: wvsoft.Transfers}
	for _, purpose := range []string{"SUPPORT", "BILLING", "SERVICE"} {
		if a := byPurpose[purpose]; a != nil {
			sort.Strings(a.Categories)
			out.Activities = append(out.Activities, a)
		}
	}
	js, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	out.JSON = string(js)
	var html bytes.Buffer
	if err := recordsPage().Execute(&html, out); err != nil {
		return nil, err
	}
	out.HTML = html.String()
	return out, nil
}

// fieldLabel is a field's name in Dutch, as a person says it: the label its @personal
// declaration gives; a field that holds no personal data is named as the schema names it.
func fieldLabel(typ, field string) string {
	if field == "id" {
		return "kenmerk"
	}
	for _, f := range wvsoft.Declarations() {
		if f.Type == typ && f.Field == field && f.Label != "" {
			return f.Label
		}
	}
	return typ + " " + field
}

// personalDeclarations are the declarations of the fields that hold personal data: types by
// name, each type's fields in the schema's order.
func personalDeclarations() []wvsoft.FieldDeclaration {
	var out []wvsoft.FieldDeclaration
	for _, f := range wvsoft.Declarations() {
		if f.Personal() {
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// fieldsLabel says a list of fields ("Type.field", as the access log names them) in Dutch.
func fieldsLabel(fields []string) string {
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		typ, field, ok := strings.Cut(f, ".")
		if !ok {
			typ, field = "", f
		}
		out = append(out, strings.ToLower(fieldLabel(typ, field)))
	}
	return strings.Join(out, ", ")
}

// capital starts a phrase with a capital, as a heading does.
func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// valueLabel says an enum value in Dutch; other values unchanged.
func valueLabel(v string) string {
	switch v {
	case "DHR":
		return "de heer"
	case "MW":
		return "mevrouw"
	case "OWNER":
		return "eigenaar"
	case "DIRECTOR":
		return "directeur"
	case "CONTACT":
		return "contactpersoon"
	case "UNMARRIED":
		return "ongehuwd"
	case "MARRIED":
		return "gehuwd"
	case "REGISTERED_PARTNERSHIP":
		return "geregistreerd partnerschap"
	case "DIVORCED":
		return "gescheiden"
	case "WIDOWED":
		return "weduwe of weduwnaar"
	}
	return v
}

// shown is a value as the document shows it: enums in words, dates as dd-mm-jjjj.
func shown(v any) string {
	s, ok := v.(string)
	if !ok || s == "" {
		return "niet ingevuld"
	}
	if d, err := time.Parse("2006-01-02", s); err == nil {
		return d.Format("02-01-2006")
	}
	return valueLabel(s)
}

// actorLabel says who acted in an access-log entry.
func actorLabel(kind string, granted bool) string {
	switch {
	case kind == "STAFF" && granted:
		return "de directeur van WvSoft, met toestemming van de klant"
	case kind == "STAFF":
		return "een medewerker van WvSoft"
	case kind == "USER":
		return "een gebruiker van de klant"
	case kind == "SYSTEM":
		return "het systeem"
	}
	return "onbekend"
}

func mailPurposeLabel(p string) string {
	switch p {
	case wvsoft.PurposeBreach:
		return "melding van een (mogelijk) datalek"
	case wvsoft.PurposeSupportNotice:
		return "ondersteuningsbericht"
	case wvsoft.PurposeSupportAccess:
		return "toegang tot de eigen omgeving"
	case wvsoft.PurposeInquiryAnswer:
		return "antwoord op een vraag"
	}
	return p
}

func mailStatusLabel(s string) string {
	switch s {
	case wvsoft.OutboxSent:
		return "verzonden"
	case wvsoft.OutboxPending:
		return "wordt verzonden"
	case wvsoft.OutboxFailed:
		return "niet bezorgd"
	}
	return s
}

// dateNL formats a time as a Dutch date and time.
func dateNL(t time.Time) string {
	return t.In(amsterdam()).Format("02-01-2006 15:04")
}

// amsterdam is the time zone the documents speak in.
func amsterdam() *time.Location {
	if loc, err := time.LoadLocation("Europe/Amsterdam"); err == nil {
		return loc
	}
	return time.UTC
}

// documentCSS is the style of both documents, for a screen of any width and for A4 paper: one
// column that reflows (label beside value where there is room, beneath it on a phone), long
// values such as e-mail addresses wrap instead of widening the page, no item or heading split
// over pages and a heading never left at the foot of one, no colours a printer drops, nothing
// loaded from elsewhere (P12).
const documentCSS = `
@page { size: A4; margin: 16mm 16mm 18mm; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 16px; line-height: 1.45; color: #000; background: #fff;
  margin: 0 auto; max-width: 46rem; padding: 1rem; overflow-wrap: break-word; }
h1 { font-size: 1.6em; line-height: 1.2; margin: 0 0 .4em; }
h2 { font-size: 1.2em; margin: 1.5em 0 .5em; padding-bottom: .1em; border-bottom: 1px solid #000; }
h3 { font-size: 1em; margin: 1em 0 .25em; }
h1, h2, h3 { break-after: avoid; page-break-after: avoid; break-inside: avoid; }
p { margin: 0 0 .6em; orphans: 3; widows: 3; }
ul { margin: 0; padding: 0; list-style: none; }
li { break-inside: avoid; page-break-inside: avoid; }
.meta { color: #222; }
.items li { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 0 1em; padding: .2em 0; border-bottom: 1px solid #bbb; }
.items .value { font-weight: bold; overflow-wrap: anywhere; }
.facts li { display: grid; grid-template-columns: 11.5em minmax(0, 1fr); gap: 0 1em; padding: .15em 0; }
.facts .k { font-weight: bold; }
ul.parts li { display: list-item; list-style: disc; margin-left: 1.1em; padding: 0; }
.log li { padding: .2em 0; border-bottom: 1px solid #bbb; }
.when { font-weight: bold; white-space: nowrap; margin-right: .5em; }
section { break-inside: avoid; page-break-inside: avoid; }
@media (max-width: 34em) {
  body { padding: .75rem; }
  .items li, .facts li { grid-template-columns: minmax(0, 1fr); }
  .items .label, .facts .k { font-size: .85em; }
  .facts li { padding: .3em 0; }
}
@media print {
  body { font-size: 10pt; max-width: none; padding: 0; }
  a { color: #000; text-decoration: none; }
}
`

// documentFuncs are the templates' functions.
func documentFuncs() template.FuncMap {
	return template.FuncMap{"date": dateNL, "css": func() template.CSS { return template.CSS(documentCSS) },
		"category": wvsoft.CategoryLabel, "join": strings.Join, "capital": capital, "fields": fieldsLabel}
}

// exportPage is the human-readable export: the modern form of the protocol's "printscreen".
func exportPage() *template.Template {
	return template.Must(template.New("export").Funcs(documentFuncs()).Parse(exportHTML))
}

const exportHTML = `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Inzage persoonsgegevens: {{.Name}}</title>
<style>{{css}}</style></head>
<body>
<h1>{{.Name}}</h1>
<p class="meta">Inzage in uw persoonsgegevens (artikel 15 AVG), opgesteld op {{date .ExportedAt}}.<br>
{{.YouAre}}<br>
Verantwoordelijk voor deze gegevens: {{.Controller}} ({{.ControllerRole}}).</p>

<h2>Wat wij over u bewaren</h2>
{{range .Groups}}<section>
<h3>{{capital .Category}}</h3>
<ul class="items">{{range .Items}}
<li><span class="label">{{.Label}}</span> <span class="value">{{.Shown}}</span></li>{{end}}
</ul></section>
{{end}}
{{- if .Withheld}}<p>Niet getoond, omdat wie deze inzage opstelde ze niet mag inzien: {{range $i, $w := .Withheld}}{{if $i}}, {{end}}{{$w}}{{end}}. Vraag ernaar bij {{.Controller}}.</p>{{end}}

<h2>Waarvoor en op welke grond</h2>
{{range .Purposes}}<section>
<h3>{{capital .Label}}</h3>
<ul class="facts">
<li><span class="k">Gaat over</span> <span>{{join .Items ", "}}</span></li>
<li><span class="k">Grondslag</span> <span>{{.LegalBasis}}</span></li>
<li><span class="k">Hoe lang bewaard</span> {{template "coverage" .Retention}}</li>
<li><span class="k">Herkomst</span> {{template "coverage" .Sources}}</li>
<li><span class="k">Wie ontvangt het</span> <ul class="parts">{{range .Recipients}}<li>{{.}}</li>{{end}}</ul></li>
</ul></section>
{{end}}
<p>Doorgifte buiten de EER: {{.Transfers}}</p>
<p>{{.AutomatedDecide}}</p>

<h2>Uw rechten</h2>
<p>{{.Rights}}</p>
<p>Contact: {{.Contact}}</p>

<h2>Wie uw gegevens inzag</h2>
<p>{{.AccessLogNote}}</p>
{{if .AccessLog}}<ul class="log">{{range .AccessLog}}
<li><span class="when">{{date .At}}</span> {{.Who}}{{if .Fields}}; las: {{fields .Fields}}{{end}}</li>{{end}}
</ul>{{else}}<p>Geen vermeldingen.</p>{{end}}

<h2>E-mail aan u</h2>
<p>{{.MailNote}}</p>
{{if .Mail}}<ul class="log">{{range .Mail}}
<li><span class="when">{{date .CreatedAt}}</span> “{{.Subject}}”, {{.Purpose}}; {{.Status}}</li>{{end}}
</ul>{{else}}<p>Geen e-mail.</p>{{end}}
{{if .Calls}}
<h2>Telefoongesprekken over een datalek</h2>
<p>WvSoft belde u om uw organisatie te informeren over een (mogelijk) datalek.</p>
<ul class="log">{{range .Calls}}
<li><span class="when">{{date .CalledAt}}</span> {{if .Reached}}bereikt{{else}}niet bereikt{{end}}{{if .Outcome}}; {{.Outcome}}{{end}}</li>{{end}}
</ul>{{end}}
</body></html>
{{define "coverage"}}{{if eq (len .) 1}}<span>{{(index . 0).Text}}</span>{{else}}<ul class="parts">{{range .}}<li>{{join .Items ", "}}: {{.Text}}</li>{{end}}</ul>{{end}}{{end}}`

// recordsPage is the printable article 30 document.
func recordsPage() *template.Template {
	return template.Must(template.New("records").Funcs(documentFuncs()).Parse(recordsHTML))
}

const recordsHTML = `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Register van verwerkingsactiviteiten: {{.Controller}}</title>
<style>{{css}}</style></head>
<body>
<h1>Register van verwerkingsactiviteiten</h1>
<p class="meta">Artikel 30 lid 1 AVG. Verwerkingsverantwoordelijke: {{.Controller}}, {{.ControllerContact}}.</p>
{{range .Activities}}<section>
<h2>Doel: {{.Description}}</h2>
<ul class="facts">
<li><span class="k">Grondslag</span> <span>{{.LegalBasis}}</span></li>
<li><span class="k">Betrokkenen</span> <ul class="parts">{{range .DataSubjects}}<li>{{.}}</li>{{end}}</ul></li>
<li><span class="k">Soorten gegevens</span> <span>{{range $i, $c := .Categories}}{{if $i}}, {{end}}{{category $c}}{{end}}</span></li>
<li><span class="k">Ontvangers</span> <ul class="parts">{{range .Recipients}}<li>{{.}}</li>{{end}}</ul></li>
<li><span class="k">Verwerkers</span> <span>{{if .Processors}}{{join .Processors "; "}}{{else}}geen{{end}}</span></li>
<li><span class="k">Bewaartermijnen</span> <ul class="parts">{{range .Retention}}<li>{{.}}</li>{{end}}</ul></li>
</ul></section>
{{end}}
<h2>Doorgifte</h2>
<p>{{.Transfers}}</p>
<h2>Beveiliging</h2>
<p>{{.SecurityMeasures}}</p>
</body></html>
`
