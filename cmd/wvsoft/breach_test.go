package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/mailtest"
)

// waitFor polls until ok or fails after a few seconds: the outbox sender runs on its own.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// P4 end to end: staff record a breach affecting one customer; its admins and contact persons
// get the e-mail at a real SMTP server; the phone call is logged; the customer's admin sees the
// breach with its 72-hour clock and reports it; the other customer sees nothing.
func TestBreachEndToEnd(t *testing.T) {
	smtpd := mailtest.Start(t)
	s := startServer(t, map[string]string{"SMTP_URL": smtpd.URL(), "OUTBOX_POLL_INTERVAL": "50ms"})
	support := s.token("support@wvsoft.example")
	admin := s.token("admin@bakkerij-de-vries.example")
	otherAdmin := s.token("admin@jansen-installatie.example")
	customerID := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)

	r := s.query(support, `mutation($c: ID!, $at: Time!) { recordBreach(input: {
		description: "Laptop met een export van klantgegevens gestolen", discoveredAt: $at,
		categories: [CONTACT, FINANCIAL], approximatePersons: 200, approximateRecords: 200,
		consequences: "Mogelijk misbruik van contactgegevens", measures: "Schijf versleuteld; wachtwoorden gewijzigd",
		customerIds: [$c] }) { id customers { customer { slug } emailedAt } } }`,
		map[string]any{"c": customerID, "at": time.Now().Add(-time.Hour).Format(time.RFC3339)})
	if len(r.Errors) > 0 {
		t.Fatalf("record: %+v", r.Errors)
	}
	breachID := dig(r.Data, "recordBreach", "id").(string)

	recipients := []string{"admin@bakkerij-de-vries.example", "contact1@bakkerij-de-vries.example",
		"contact2@bakkerij-de-vries.example", "contact3@bakkerij-de-vries.example"}
	waitFor(t, "the breach e-mails", func() bool {
		for _, to := range recipients {
			if len(smtpd.To(to)) != 1 {
				return false
			}
		}
		return true
	})
	if msg := smtpd.To(recipients[0])[0]; !strings.Contains(msg.Data, "datalek") || !strings.Contains(msg.Data, "72") {
		t.Fatalf("the e-mail: %s", msg.Data)
	}
	for _, m := range smtpd.Messages() {
		for _, to := range m.To {
			if strings.Contains(to, "jansen") || strings.Contains(to, "member@") {
				t.Fatalf("mail to someone not concerned: %v", m.To)
			}
		}
	}

	notFully := `{ breachesNotFullyInformed { customer { slug } emailedAt phonedAt } }`
	waitFor(t, "the e-mail to count as informing", func() bool {
		r := s.query(support, notFully, nil)
		return dig(r.Data, "breachesNotFullyInformed", 0, "emailedAt") != nil
	})
	if r := s.query(support, notFully, nil); len(dig(r.Data, "breachesNotFullyInformed").([]any)) != 1 {
		t.Fatalf("before the call: %+v", r)
	}
	contactID := dig(s.query(support, `query($c: ID!) { node(id: $c) { ... on Customer { contactPersons { id } } } }`,
		map[string]any{"c": customerID}).Data, "node", "contactPersons", 0, "id")
	r = s.query(support, `mutation($b: ID!, $c: ID!, $p: ID!) { logBreachCall(input: {breachId: $b, customerId: $c,
		contactPersonId: $p, reached: true, outcome: "Geïnformeerd; meldt zelf bij de AP"}) { phonedAt } }`,
		map[string]any{"b": breachID, "c": customerID, "p": contactID})
	if dig(r.Data, "logBreachCall", "phonedAt") == nil {
		t.Fatalf("call: %+v", r)
	}
	if r := s.query(support, notFully, nil); len(dig(r.Data, "breachesNotFullyInformed").([]any)) != 0 {
		t.Fatalf("after e-mail and call: %+v", r)
	}

	view := `{ me { customer { breaches { breach { description categories } informedAt reportDeadline hoursLeft
		calls { called reached } reportedToAuthorityAt authorityReportNumber } } } }`
	r = s.query(admin, view, nil)
	b := dig(r.Data, "me", "customer", "breaches", 0)
	hours, _ := dig(b, "hoursLeft").(float64)
	if len(r.Errors) > 0 || dig(b, "breach", "description") == nil || hours < 71 || hours > 72 || dig(b, "calls", 0, "reached") != true {
		t.Fatalf("the admin's view: %+v", r)
	}
	r = s.query(admin, `mutation($b: ID!, $at: Time!) { reportBreachToAuthority(input: {breachId: $b, reportedAt: $at, reportNumber: "AP-2026-0042"}) { authorityReportNumber } }`,
		map[string]any{"b": breachID, "at": time.Now().Format(time.RFC3339)})
	if dig(r.Data, "reportBreachToAuthority", "authorityReportNumber") != "AP-2026-0042" {
		t.Fatalf("report: %+v", r)
	}

	r = s.query(otherAdmin, view, nil)
	if list, _ := dig(r.Data, "me", "customer", "breaches").([]any); len(list) != 0 || len(r.Errors) > 0 {
		t.Fatalf("the other customer sees a breach: %+v", r)
	}
	r = s.query(otherAdmin, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": breachID})
	if len(r.Errors) != 1 || r.codes()[0] != "NOT_FOUND" {
		t.Fatalf("the other customer reached the breach: %+v", r)
	}
	if r := s.query(s.token("member@bakkerij-de-vries.example"), view, nil); dig(r.Data, "me", "customer", "breaches") != nil {
		t.Fatalf("a member sees breaches: %+v", r)
	}
}

// P5 end to end: a visitor asks without an account, is limited per address, support answers,
// the answer arrives, and no personal data of the inquiry is left in the database.
func TestInquiryEndToEnd(t *testing.T) {
	smtpd := mailtest.Start(t)
	s := startServer(t, map[string]string{"SMTP_URL": smtpd.URL(), "OUTBOX_POLL_INTERVAL": "50ms", "INQUIRY_BURST": "2"})
	ask := `mutation($q: String!) { submitInquiry(input: {name: "Anna Visser", email: "anna.visser@example.nl", question: $q}) { received message } }`
	for i, q := range []string{"Waar staat mijn data?", "Plaatst u cookies?"} {
		if r := s.query("", ask, map[string]any{"q": q}); dig(r.Data, "submitInquiry", "received") != true {
			t.Fatalf("question %d: %+v", i, r)
		}
	}
	if r := s.query("", ask, map[string]any{"q": "Nog een vraag"}); len(r.Errors) != 1 || r.codes()[0] != "RATE_LIMITED" {
		t.Fatalf("a third question at once: %+v", r)
	}
	if r := s.query("", `mutation { submitInquiry(input: {name: "A", email: "not-an-address", question: "?"}) { received } }`, nil); len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" {
		t.Fatalf("bad address: %+v", r)
	}

	support := s.token("support@wvsoft.example")
	r := s.query(support, `{ inquiries { id name email question } }`, nil)
	list, _ := dig(r.Data, "inquiries").([]any)
	if len(list) != 2 || dig(list[0], "email") != "anna.visser@example.nl" {
		t.Fatalf("support's list: %+v", r)
	}
	if r := s.query(s.token("billing@wvsoft.example"), `{ inquiries { email } }`, nil); dig(r.Data, "inquiries") != nil || len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
		t.Fatalf("billing reads inquiries: %+v", r)
	}
	for _, inq := range list {
		r := s.query(support, `mutation($id: ID!) { answerInquiry(input: {id: $id, answer: "Op onze eigen server in Nederland; geen cookies."}) }`,
			map[string]any{"id": dig(inq, "id")})
		if dig(r.Data, "answerInquiry") != true {
			t.Fatalf("answer: %+v", r)
		}
	}
	waitFor(t, "the answers", func() bool { return len(smtpd.To("anna.visser@example.nl")) == 2 })
	if r := s.query(support, `{ inquiryCounts { received answered } }`, nil); dig(r.Data, "inquiryCounts", 0, "answered") != float64(2) {
		t.Fatalf("counts: %+v", r)
	}

	// Once sent, the answers' outbox rows go with the visitor's address.
	waitFor(t, "the outbox to be sent", func() bool {
		r := s.query(support, `{ outbox(status: PENDING) { id } }`, nil)
		l, _ := dig(r.Data, "outbox").([]any)
		return len(l) == 0
	})
	owner, err := sql.Open("postgres", s.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var dump string
	err = owner.QueryRowContext(context.Background(), `SELECT coalesce(string_agg(t::text, ' '), '') FROM (
		SELECT row_to_json(i)::text AS t FROM inquiries i UNION ALL SELECT row_to_json(o)::text FROM outbox o
		UNION ALL SELECT row_to_json(c)::text FROM inquiry_counts c) x`).Scan(&dump)
	if err != nil {
		t.Fatal(err)
	}
	for _, personal := range []string{"Anna", "Visser", "anna.visser", "cookies", "Waar staat"} {
		if strings.Contains(dump, personal) {
			t.Fatalf("%q is still in the database: %s", personal, dump)
		}
	}
}

// P8: a support notice goes to the contact persons of current customers only, by e-mail; there
// is no subscription list.
func TestSupportNoticeGoesToCurrentCustomers(t *testing.T) {
	smtpd := mailtest.Start(t)
	s := startServer(t, map[string]string{"SMTP_URL": smtpd.URL(), "OUTBOX_POLL_INTERVAL": "50ms"})
	endRelationship(t, s, "jansen-installatie", time.Now().AddDate(0, -1, 0))
	r := s.query(s.token("support@wvsoft.example"), `mutation { publishSupportNotice(input: {title: "Onderhoud zaterdag",
		body: "Zaterdag tussen 06:00 en 08:00 is de software niet bereikbaar."}) { recipients } }`, nil)
	if dig(r.Data, "publishSupportNotice", "recipients") != float64(3) {
		t.Fatalf("publish: %+v", r)
	}
	if r := s.query(s.token("member@bakkerij-de-vries.example"), `mutation { publishSupportNotice(input: {title: "x", body: "y"}) { recipients } }`, nil); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
		t.Fatalf("a customer published a notice: %+v", r)
	}
	waitFor(t, "the notices", func() bool { return len(smtpd.Messages()) == 3 })
	time.Sleep(200 * time.Millisecond) // nothing more may arrive
	for _, m := range smtpd.Messages() {
		if !strings.HasSuffix(m.To[0], "@bakkerij-de-vries.example") || !strings.Contains(m.To[0], "contact") {
			t.Fatalf("a notice to %v", m.To)
		}
	}
	if len(smtpd.Messages()) != 3 {
		t.Fatalf("%d notices", len(smtpd.Messages()))
	}
	// Once the bakery withdraws consent, support no longer uses its contacts' addresses (the
	// policy's staff.consent_withdrawn on ContactPerson.email decides each recipient): the next
	// notice reaches nobody.
	admin := s.token("admin@bakkerij-de-vries.example")
	customer := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	if r := s.query(admin, `mutation($c: ID!) { withdrawConsent(input: {customerId: $c, basis: EMAIL}) { given } }`,
		map[string]any{"c": customer}); dig(r.Data, "withdrawConsent", "given") != false {
		t.Fatalf("withdraw: %+v", r)
	}
	r = s.query(s.token("support@wvsoft.example"), `mutation { publishSupportNotice(input: {title: "Onderhoud zondag",
		body: "Zondag is de software niet bereikbaar."}) { recipients } }`, nil)
	if dig(r.Data, "publishSupportNotice", "recipients") != float64(0) {
		t.Fatalf("a notice after the withdrawal: %+v", r)
	}
}

// endRelationship ends a customer relationship in the past, as time passing would; the API only
// takes ends from today on.
func endRelationship(t *testing.T, s *server, slug string, end time.Time) {
	t.Helper()
	owner, err := sql.Open("postgres", s.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.Exec(`UPDATE customers SET relationship_end = $2 WHERE slug = $1`, slug, end.Format("2006-01-02")); err != nil {
		t.Fatal(err)
	}
}

// A breach call names the contact person called by reference, so nothing of that person
// outlives what the person's own record allows: support reads whom it reached and what was said
// while the customer consents, not after a withdrawal; after an erasure (of a former
// customer's contact person, whose name is kept restricted to billing) the outcome is gone and
// the name is withheld, through every path that reaches the calls. The erasure says so. A call
// naming another customer's contact person is refused on that field.
func TestBreachCallFollowsTheContactPerson(t *testing.T) {
	s := startServer(t, nil)
	support := s.token("support@wvsoft.example")
	billing := s.token("billing@wvsoft.example")
	admin := s.token("admin@jansen-installatie.example")
	jansen := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	bakkerij := dig(s.query(s.token("admin@bakkerij-de-vries.example"), `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	contactsOf := func(customer string) []any {
		r := s.query(support, `query($c: ID!) { node(id: $c) { ... on Customer { contactPersons { id name role } } } }`, map[string]any{"c": customer})
		list, _ := dig(r.Data, "node", "contactPersons").([]any)
		if len(list) == 0 {
			t.Fatalf("contact persons: %+v", r)
		}
		return list
	}
	contact := contactsOf(jansen)[0]
	contactID, name := dig(contact, "id").(string), dig(contact, "name").(string)
	r := s.query(support, `mutation($c: ID!, $at: Time!) { recordBreach(input: {description: "Verloren USB-stick", discoveredAt: $at,
		categories: [CONTACT], approximatePersons: 3, approximateRecords: 3, customerIds: [$c] }) { id } }`,
		map[string]any{"c": jansen, "at": time.Now().Add(-time.Hour).Format(time.RFC3339)})
	breachID, _ := dig(r.Data, "recordBreach", "id").(string)
	logCall := `mutation($b: ID!, $c: ID!, $p: ID!) { logBreachCall(input: {breachId: $b, customerId: $c, contactPersonId: $p,
		reached: true, outcome: "Besproken met de eigenaar; hij belt de AP"}) { phonedAt } }`
	if r := s.query(support, logCall, map[string]any{"b": breachID, "c": jansen, "p": dig(contactsOf(bakkerij)[0], "id")}); len(r.Errors) != 1 ||
		r.codes()[0] != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "input.contactPersonId" {
		t.Fatalf("a call to another customer's contact person: %+v", r.Errors)
	}
	if r := s.query(support, logCall, map[string]any{"b": breachID, "c": jansen, "p": contactID}); len(r.Errors) > 0 {
		t.Fatalf("log the call: %+v", r.Errors)
	}
	// Every path to the calls, as support.
	paths := map[string]string{
		"breaches":                 `{ breaches { customers { calls { called outcome } } } }`,
		"breachesNotFullyInformed": `{ breachesNotFullyInformed { calls { called outcome } } }`,
		"Customer.breaches":        `query($c: ID!) { node(id: $c) { ... on Customer { breaches { calls { called outcome } } } } }`,
	}
	calls := func(who, path string) []any {
		t.Helper()
		r := s.query(who, paths[path], map[string]any{"c": jansen})
		var found []any
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if c, ok := v["calls"].([]any); ok {
					found = append(found, c...)
				}
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(r.Data)
		return found
	}
	for path := range paths {
		got := calls(support, path)
		if path == "breachesNotFullyInformed" {
			continue // informed by phone now; the e-mail may still be pending without SMTP
		}
		if len(got) != 1 || dig(got[0], "called") != name+" (OWNER)" || dig(got[0], "outcome") == nil {
			t.Fatalf("%s while the customer consents: %v", path, got)
		}
	}
	// The person's article 15 export lists the call, with what was said.
	export := func() string {
		t.Helper()
		r := s.query(support, `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ACCESS}) { id } }`, map[string]any{"s": contactID})
		id, _ := dig(r.Data, "registerDataSubjectRequest", "id").(string)
		r = s.query(support, `mutation($id: ID!) { executeDataSubjectRequest(id: $id) { export { json html } } }`, map[string]any{"id": id})
		js, _ := dig(r.Data, "executeDataSubjectRequest", "export", "json").(string)
		html, _ := dig(r.Data, "executeDataSubjectRequest", "export", "html").(string)
		if js == "" || !strings.Contains(html, "Telefoongesprekken over een datalek") {
			t.Fatalf("export: %+v", r)
		}
		return js
	}
	if js := export(); !strings.Contains(js, `"breach_calls"`) || !strings.Contains(js, "Besproken met de eigenaar") {
		t.Fatalf("the contact person's export does not list the call: %s", js)
	}
	// A withdrawal of consent: support reads neither, until the customer consents again.
	consent := func(mutation string) {
		t.Helper()
		if r := s.query(admin, `mutation($c: ID!) { `+mutation+`(input: {customerId: $c, basis: EMAIL}) { given } }`,
			map[string]any{"c": jansen}); len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", mutation, r.Errors)
		}
	}
	consent("withdrawConsent")
	waitFor(t, "the withdrawal to reach support", func() bool {
		got := calls(support, "breaches")
		return len(got) == 1 && dig(got[0], "called") == nil && dig(got[0], "outcome") == nil
	})
	consent("giveConsent")
	waitFor(t, "the consent to reach support", func() bool {
		got := calls(support, "breaches")
		return len(got) == 1 && dig(got[0], "called") != nil
	})
	// The customer ends the relationship; the person is erased; the name is kept for billing.
	if r := s.query(billing, `mutation($id: ID!, $end: Date!) { updateCustomer(input: {id: $id, relationshipEnd: $end}) { id } }`,
		map[string]any{"id": jansen, "end": time.Now().AddDate(0, -2, 0).Format("2006-01-02")}); len(r.Errors) != 0 {
		t.Fatalf("end the relationship: %+v", r)
	}
	r = s.query(support, `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ERASURE}) { id } }`, map[string]any{"s": contactID})
	reqID, _ := dig(r.Data, "registerDataSubjectRequest", "id").(string)
	r = s.query(support, `mutation($id: ID!) { executeDataSubjectRequest(id: $id) { outcome { field action } } }`, map[string]any{"id": reqID})
	outcome := map[string]any{}
	list, _ := dig(r.Data, "executeDataSubjectRequest", "outcome").([]any)
	for _, o := range list {
		outcome[dig(o, "field").(string)] = dig(o, "action")
	}
	if outcome["BreachCall.outcome"] != "ERASED" || outcome["BreachCall.called"] != "KEPT" || outcome["ContactPerson.name"] != "KEPT" {
		t.Fatalf("the erasure's outcome does not name the call: %+v", r)
	}
	for path := range paths {
		for _, c := range calls(support, path) {
			if dig(c, "called") != nil || dig(c, "outcome") != nil {
				t.Errorf("%s: support still reads the erased person through the call: %v", path, c)
			}
		}
	}
	owner, err := sql.Open("postgres", s.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var copies int
	if err := owner.QueryRow(`SELECT count(*) FROM breach_calls WHERE called IS NOT NULL OR outcome IS NOT NULL`).Scan(&copies); err != nil || copies != 0 {
		t.Fatalf("%d breach calls keep a copy of a person's data: %v", copies, err)
	}
}
