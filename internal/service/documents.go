package service

// The article 15 export and the article 30 records (issue 16): composed from the declarations
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
	MailNote        string           `json:"mail_note"`
	Transfers       string           `json:"transfers"`
	AutomatedDecide string           `json:"automated_decisions"`
	Rights          string           `json:"rights"`
	Withheld        []string         `json:"withheld,omitempty"`
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
	for _, f := range rec.Fields {
		item := exportItem{Field: f.Field, Label: fieldLabel(typeName, f.Field), Category: f.Category, CategoryLabel: wvsoft.CategoryLabel(f.Category),
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
				le.Grant = wvsoft.GlobalID(wvsoft.KindAccessGrant, *e.GrantID)
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
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := exportPage().Execute(&html, doc); err != nil {
		return nil, err
	}
	return &wvsoft.DataExport{JSON: string(js), HTML: html.String()}, nil
}

// RecordsOfProcessing builds the article 30 records from the schema's @personal declarations
// (WithDeclarations), the retention schedule and the processor register: one activity per
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
	for _, fd := range s.declarations {
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

// fieldLabel is a field's name in Dutch, as a person says it.
func fieldLabel(typ, field string) string {
	switch field {
	case "salutation":
		return "Aanhef"
	case "name":
		return "Naam"
	case "email":
		return "E-mailadres"
	case "phone":
		return "Telefoonnummer"
	case "street":
		return "Straat en huisnummer"
	case "postalCode":
		return "Postcode"
	case "city":
		return "Woonplaats"
	case "birthDate":
		return "Geboortedatum"
	case "iban":
		return "Bankrekeningnummer (IBAN)"
	case "bsn":
		return "Burgerservicenummer (BSN)"
	case "maritalStatus":
		return "Burgerlijke staat"
	case "household":
		return "Gezinssituatie"
	case "medicalNotes":
		return "Medische aantekeningen"
	case "kvkNumber":
		return "KvK-nummer"
	case "role":
		return "Rol bij de klant"
	}
	return typ + " " + field
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

// documentCSS is the print style of both documents: A4, no colours that a printer drops, no
// table row split over pages, nothing loaded from elsewhere (P12).
const documentCSS = `
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #000; line-height: 1.35; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 18pt; margin: 0 0 2mm; }
h2 { font-size: 12.5pt; margin: 7mm 0 2mm; border-bottom: 1px solid #000; }
p.meta { margin: 0 0 4mm; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #555; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { background: #eee; }
tr { page-break-inside: avoid; break-inside: avoid; }
td.value { font-weight: bold; }
ul { margin: 0; padding-left: 4mm; }
@media print { body { max-width: none; } a { color: #000; text-decoration: none; } }
`

// documentFuncs are the templates' functions.
func documentFuncs() template.FuncMap {
	return template.FuncMap{"date": dateNL, "css": func() template.CSS { return template.CSS(documentCSS) },
		"category": wvsoft.CategoryLabel, "join": strings.Join}
}

// exportPage is the human-readable export: the modern form of the protocol's "printscreen".
func exportPage() *template.Template {
	return template.Must(template.New("export").Funcs(documentFuncs()).Parse(exportHTML))
}

const exportHTML = `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Inzage persoonsgegevens: {{.Name}}</title>
<style>{{css}}</style></head>
<body>
<h1>{{.Name}}</h1>
<p class="meta">Inzage in uw persoonsgegevens (artikel 15 AVG), opgesteld op {{date .ExportedAt}}.<br>
U bent {{.SubjectKind}}{{if .Role}} ({{.Role}}){{end}}.<br>
Verantwoordelijk voor deze gegevens: {{.Controller}} ({{.ControllerRole}}).</p>

<h2>Uw gegevens</h2>
<table>
<thead><tr><th>Gegeven</th><th>Waarde</th><th>Soort gegeven</th><th>Waarvoor en op welke grond</th><th>Hoe lang bewaard</th><th>Herkomst</th><th>Wie ontvangt het</th></tr></thead>
<tbody>{{range .Items}}
<tr><td>{{.Label}}</td><td class="value">{{.Shown}}</td><td>{{.CategoryLabel}}</td>
<td><ul>{{range .Purposes}}<li>{{.Label}}: {{.LegalBasis}}</li>{{end}}</ul></td>
<td>{{.Retention}}</td><td>{{.Source}}</td>
<td><ul>{{range .Recipients}}<li>{{.}}</li>{{end}}</ul></td></tr>{{end}}
</tbody></table>
{{if .Withheld}}<p>Niet getoond, omdat wie deze inzage opstelde ze niet mag inzien: {{range $i, $w := .Withheld}}{{if $i}}, {{end}}{{$w}}{{end}}. Vraag ernaar bij {{.Controller}}.</p>{{end}}

<h2>Wie uw gegevens inzag</h2>
<p>{{.AccessLogNote}}</p>
{{if .AccessLog}}<table>
<thead><tr><th>Wanneer</th><th>Wie</th><th>Welke gegevens</th></tr></thead>
<tbody>{{range .AccessLog}}<tr><td>{{date .At}}</td><td>{{.Who}}</td><td>{{range $i, $f := .Fields}}{{if $i}}, {{end}}{{$f}}{{end}}</td></tr>{{end}}</tbody>
</table>{{else}}<p>Geen vermeldingen.</p>{{end}}

<h2>E-mail aan u</h2>
<p>{{.MailNote}}</p>
{{if .Mail}}<table>
<thead><tr><th>Wanneer</th><th>Onderwerp</th><th>Waarom</th><th>Status</th></tr></thead>
<tbody>{{range .Mail}}<tr><td>{{date .CreatedAt}}</td><td>{{.Subject}}</td><td>{{.Purpose}}</td><td>{{.Status}}</td></tr>{{end}}</tbody>
</table>{{else}}<p>Geen e-mail.</p>{{end}}

<h2>Verder</h2>
<p>Doorgifte buiten de EER: {{.Transfers}}</p>
<p>{{.AutomatedDecide}}</p>
<p>{{.Rights}}</p>
<p>Contact: {{.Contact}}</p>
</body></html>
`

// recordsPage is the printable article 30 document.
func recordsPage() *template.Template {
	return template.Must(template.New("records").Funcs(documentFuncs()).Parse(recordsHTML))
}

const recordsHTML = `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Register van verwerkingsactiviteiten: {{.Controller}}</title>
<style>{{css}}</style></head>
<body>
<h1>Register van verwerkingsactiviteiten</h1>
<p class="meta">Artikel 30 lid 1 AVG. Verwerkingsverantwoordelijke: {{.Controller}}, {{.ControllerContact}}.</p>
{{range .Activities}}
<h2>Doel: {{.Description}}</h2>
<table><tbody>
<tr><th>Grondslag</th><td>{{.LegalBasis}}</td></tr>
<tr><th>Betrokkenen</th><td><ul>{{range .DataSubjects}}<li>{{.}}</li>{{end}}</ul></td></tr>
<tr><th>Soorten gegevens</th><td>{{range $i, $c := .Categories}}{{if $i}}, {{end}}{{category $c}}{{end}}</td></tr>
<tr><th>Ontvangers</th><td><ul>{{range .Recipients}}<li>{{.}}</li>{{end}}</ul></td></tr>
<tr><th>Verwerkers</th><td>{{if .Processors}}{{join .Processors "; "}}{{else}}geen{{end}}</td></tr>
<tr><th>Bewaartermijnen</th><td><ul>{{range .Retention}}<li>{{.}}</li>{{end}}</ul></td></tr>
</tbody></table>
{{end}}
<h2>Doorgifte</h2>
<p>{{.Transfers}}</p>
<h2>Beveiliging</h2>
<p>{{.SecurityMeasures}}</p>
</body></html>
`
