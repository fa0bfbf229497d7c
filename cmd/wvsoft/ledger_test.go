package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// P7 and P2 end to end: an erasure request on a contact person of a former customer removes the
// support data, keeps and reports the billing data under the fiscal hold, and a purge after the
// (simulated) fiscal period removes the rest; an access request exports as JSON and HTML.
func TestErasureAndPurgeEndToEnd(t *testing.T) {
	s := startServer(t, nil)
	support := s.token("support@wvsoft.example")
	billing := s.token("billing@wvsoft.example")
	jansen := dig(s.query(s.token("admin@jansen-installatie.example"), `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	ended := time.Now().AddDate(0, -2, 0)
	// A back-dated end: the paperwork arrived late.
	if r := s.query(billing, `mutation($id: ID!, $end: Date!) { updateCustomer(input: {id: $id, relationshipEnd: $end}) { id } }`,
		map[string]any{"id": jansen, "end": ended.Format("2006-01-02")}); len(r.Errors) != 0 {
		t.Fatalf("a relationship could not be ended in the past: %+v", r)
	}
	r := s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { contactPersons { id name phone } } } }`, map[string]any{"id": jansen})
	contact := dig(r.Data, "node", "contactPersons", 0)
	contactID, name := dig(contact, "id").(string), dig(contact, "name").(string)

	r = s.query(support, `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ERASURE}) { id status deadline } }`, map[string]any{"s": contactID})
	reqID, _ := dig(r.Data, "registerDataSubjectRequest", "id").(string)
	deadline, _ := time.Parse(time.RFC3339, dig(r.Data, "registerDataSubjectRequest", "deadline").(string))
	if reqID == "" || deadline.Sub(time.Now()) < 27*24*time.Hour {
		t.Fatalf("register: %+v", r)
	}
	if r := s.query(s.token("admin@jansen-installatie.example"), `mutation($id: ID!) { executeDataSubjectRequest(id: $id) { status } }`, map[string]any{"id": reqID}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
		t.Fatalf("the customer executed WvSoft's request: %+v", r)
	}
	r = s.query(support, `mutation($id: ID!) { executeDataSubjectRequest(id: $id) { status outcome { field action reason keptUntil } } }`, map[string]any{"id": reqID})
	outcome := map[string]map[string]any{}
	list, ok := dig(r.Data, "executeDataSubjectRequest", "outcome").([]any)
	if !ok {
		t.Fatalf("execute: %+v\n%s", r, s.logs.String())
	}
	for _, o := range list {
		outcome[dig(o, "field").(string)] = o.(map[string]any)
	}
	hold := time.Date(ended.Year()+7, 12, 31, 0, 0, 0, 0, time.UTC)
	if outcome["ContactPerson.phone"]["action"] != "ERASED" || outcome["ContactPerson.email"]["action"] != "ERASED" ||
		outcome["ContactPerson.name"]["action"] != "KEPT" || !strings.HasPrefix(outcome["ContactPerson.name"]["keptUntil"].(string), hold.Format("2006-01-02")) ||
		!strings.Contains(outcome["ContactPerson.name"]["reason"].(string), "fiscal") {
		t.Fatalf("erasure outcome: %+v", r)
	}
	owner, err := sql.Open("postgres", s.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var phone, email sql.NullString
	var kept string
	if err := owner.QueryRow(`SELECT phone, email, name FROM contact_persons WHERE id = $1`, mustUUID(t, contactID)).Scan(&phone, &email, &kept); err != nil {
		t.Fatal(err)
	}
	if phone.Valid || email.Valid || kept != name {
		t.Fatalf("after erasure: phone %v email %v name %q", phone, email, kept)
	}

	// The purge, after the fiscal period.
	app, err := postgres.Open(context.Background(), s.db.AppURL, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	dry, err := app.Purge(context.Background(), wvsoft.DefaultRetention(), hold.AddDate(0, 0, 1), true)
	if err != nil || dry.Counts["billing-data.customers"] != 1 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	var left int
	owner.QueryRow(`SELECT count(*) FROM contact_persons WHERE tenant_id = (SELECT tenant_id FROM customers WHERE slug = 'jansen-installatie')`).Scan(&left)
	if left != 3 {
		t.Fatalf("a dry run removed contact persons: %d left", left)
	}
	run, err := app.Purge(context.Background(), wvsoft.DefaultRetention(), hold.AddDate(0, 0, 1), false)
	if err != nil || run.Counts["billing-data.contact-persons"] != 3 || run.Counts["billing-data.customers"] != 1 ||
		run.Counts["data-space.persons"] != postgres.DemoPersonsPerCustomer {
		t.Fatalf("purge: %+v %v", run, err)
	}
	var dump string
	owner.QueryRow(`SELECT row_to_json(c)::text FROM customers c WHERE slug = 'jansen-installatie'`).Scan(&dump)
	if strings.Contains(dump, "Jansen Installatietechniek") || strings.Contains(dump, "NL") {
		t.Fatalf("billing data left after the fiscal period: %s", dump)
	}
	if again, _ := app.Purge(context.Background(), wvsoft.DefaultRetention(), hold.AddDate(0, 0, 1), false); again.Counts["billing-data.customers"] != 0 || again.Counts["data-space.persons"] != 0 {
		t.Fatalf("the purge is not idempotent: %+v", again.Counts)
	}
	if r := s.query(s.token("director@wvsoft.example"), `{ purgeRuns { dryRun counts } }`, nil); !strings.Contains(dig(r.Data, "purgeRuns", 0, "counts").(string), "billing-data.customers") {
		t.Fatalf("purge runs: %+v", r)
	}

	// Access: the admin of the other customer exports a person of its data space.
	admin := s.token("admin@bakkerij-de-vries.example")
	person := dig(s.query(admin, `{ persons(first: 1) { edges { node { id name bsn } } } }`, nil).Data, "persons", "edges", 0, "node")
	r = s.query(admin, `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ACCESS}) { id } }`, map[string]any{"s": dig(person, "id")})
	r = s.query(admin, `mutation($id: ID!) { executeDataSubjectRequest(id: $id) { status export { json html } } }`,
		map[string]any{"id": dig(r.Data, "registerDataSubjectRequest", "id")})
	var export struct {
		Fields []struct {
			Field    string `json:"field"`
			Category string `json:"category"`
			Value    any    `json:"value"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(dig(r.Data, "executeDataSubjectRequest", "export", "json").(string)), &export); err != nil {
		t.Fatalf("the JSON export is not JSON: %v (%+v)", err, r)
	}
	got := map[string]any{}
	for _, f := range export.Fields {
		got[f.Field] = f.Value
	}
	if got["bsn"] != dig(person, "bsn") || got["name"] != dig(person, "name") || len(export.Fields) != 12 {
		t.Fatalf("export fields: %+v", export.Fields)
	}
	html := dig(r.Data, "executeDataSubjectRequest", "export", "html").(string)
	if !strings.HasPrefix(html, "<!doctype html>") || !strings.Contains(html, `<ul class="items">`) || !strings.Contains(html, template(dig(person, "name").(string))) {
		t.Fatalf("the HTML export: %.500s", html)
	}
	if r := s.query(support, `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ACCESS}) { id } }`, map[string]any{"s": dig(person, "id")}); len(r.Errors) != 1 {
		t.Fatalf("staff registered a request about a data-space person: %+v", r)
	}
	// Staff reach every customer's requests, but never those about a data space.
	bakkerij := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id")
	own := s.query(admin, `{ me { customer { dataSubjectRequests { subjectId } } } }`, nil)
	if l, _ := dig(own.Data, "me", "customer", "dataSubjectRequests").([]any); len(l) != 1 {
		t.Fatalf("the admin's requests: %+v", own)
	}
	r = s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { dataSubjectRequests { subjectId } } } }`, map[string]any{"id": bakkerij})
	if l, ok := dig(r.Data, "node", "dataSubjectRequests").([]any); !ok || len(l) != 0 {
		t.Fatalf("support sees requests about data-space persons: %+v", r)
	}
}

// template escapes a value as html/template does for text.
func template(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

func mustUUID(t *testing.T, gid string) string {
	t.Helper()
	_, id, err := wvsoft.ParseGlobalID("id", gid)
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

// P6: a withdrawal by the customer's admin takes effect at once: support loses the customer's
// data, billing keeps its billing data, and the history shows both steps.
func TestConsentWithdrawal(t *testing.T) {
	s := startServer(t, nil)
	admin := s.token("admin@bakkerij-de-vries.example")
	customer := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	read := `query($id: ID!) { node(id: $id) { ... on Customer { name phone iban contactPersons { name phone } } } }`
	support := s.token("support@wvsoft.example")
	if r := s.query(support, read, map[string]any{"id": customer}); dig(r.Data, "node", "phone") == nil {
		t.Fatalf("before withdrawal support reads the phone: %+v", r)
	}
	r := s.query(admin, `mutation($c: ID!) { withdrawConsent(input: {customerId: $c, basis: EMAIL, evidence: "mail van 24-11"}) { given history { event basis } } }`,
		map[string]any{"c": customer})
	if dig(r.Data, "withdrawConsent", "given") != false || dig(r.Data, "withdrawConsent", "history", 1, "event") != "GIVEN" {
		t.Fatalf("withdraw: %+v", r)
	}
	r = s.query(support, read, map[string]any{"id": customer})
	if dig(r.Data, "node", "phone") != nil || dig(r.Data, "node", "name") != nil || dig(r.Data, "node", "contactPersons", 0, "phone") != nil {
		t.Fatalf("after withdrawal support still reads: %+v", r)
	}
	r = s.query(s.token("billing@wvsoft.example"), read, map[string]any{"id": customer})
	if iban, _ := dig(r.Data, "node", "iban").(string); !strings.HasPrefix(iban, "NL") || strings.Contains(iban, "*") {
		t.Fatalf("billing lost the billing data: %+v", r)
	}
	other := dig(s.query(s.token("admin@jansen-installatie.example"), `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	if r := s.query(support, read, map[string]any{"id": other}); dig(r.Data, "node", "phone") == nil {
		t.Fatalf("the withdrawal of one customer restricted another: %+v", r)
	}
	if r := s.query(s.token("member@bakkerij-de-vries.example"), `mutation($c: ID!) { giveConsent(input: {customerId: $c, basis: VERBAL}) { given } }`, map[string]any{"c": customer}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
		t.Fatalf("a member changed consent: %+v", r)
	}
}
