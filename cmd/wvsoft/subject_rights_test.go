package main

// End to end against the real server: the article 15 export (printed by headless
// Chromium), history that names the actor, the article 30 records, retention for every table
// with a purge previewed at any date, back-dated relationship ends, mail for people, and a way in
// for customer admins.

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/mailtest"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// chromium is the headless browser the documents are printed with. The project installs it
// (`make chromium`, a step of `make test`); a missing browser fails the test, it never skips.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run `make chromium` (as root: apt-get install -y chromium); the document tests print with it")
	}
	return p
}

// artifactDir is where the printed documents are kept: TEST_ARTIFACTS_DIR, else .artifacts/
// at the top of the repository.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TEST_ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".artifacts")
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(abs, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

var pdfTitle = regexp.MustCompile(`/Title\s*(?:\(((?:[^()\\]|\\.)*)\)|<([0-9A-Fa-f]+)>)`)

// mailText decodes a delivered message: its subject and its quoted-printable body.
func mailText(t *testing.T, m mailtest.Message) (string, string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return subject, string(body)
}

// jargon is what a person should never read in mail or a document: API names and Go durations.
var jargon = regexp.MustCompile(`Customer\.|ContactPerson|postalCode|UNMARRIED|SUPPORT|BILLING|\d+h\d+m|` + "`")

// Points 1, 6 and 7: a breach mails the contact persons in Dutch, greeting each by salutation
// and name; the customer's admin files an access request about its own contact person, which
// lands with support; support executes it, and the export lists every item with its value,
// purpose, legal basis, retention, source and recipients, the mail sent, and prints in
// Chromium. A person of the data space, read by the director under a grant, sees that read.
func TestArticle15ExportEndToEnd(t *testing.T) {
	smtpd := mailtest.Start(t)
	s := startServer(t, map[string]string{"SMTP_URL": smtpd.URL(), "OUTBOX_POLL_INTERVAL": "50ms"})
	support := s.token("support@wvsoft.example")
	admin := s.token("admin@bakkerij-de-vries.example")
	member := s.token("member@bakkerij-de-vries.example")
	director := s.token("director@wvsoft.example")
	customerID := dig(s.query(admin, `{ me { customer { id name } } }`, nil).Data, "me", "customer", "id").(string)
	r := s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { name contactPersons { id salutation name role email } } } }`, map[string]any{"id": customerID})
	customerName := dig(r.Data, "node", "name").(string)
	contact := dig(r.Data, "node", "contactPersons", 0).(map[string]any)
	if contact["salutation"] != "DHR" || contact["role"] != "OWNER" {
		t.Fatalf("the seed's first contact person: %+v", contact)
	}
	contactName, contactEmail := contact["name"].(string), contact["email"].(string)

	// Point 6: the breach mail, for people.
	discovered := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	r = s.query(support, `mutation($c: ID!, $at: Time!) { recordBreach(input: {
		description: "Laptop met een export van klantgegevens gestolen", discoveredAt: $at,
		categories: [CONTACT, FINANCIAL], measures: "Schijf was versleuteld; wachtwoorden gewijzigd",
		customerIds: [$c] }) { id } }`, map[string]any{"c": customerID, "at": discovered.Format(time.RFC3339)})
	if len(r.Errors) > 0 {
		t.Fatalf("record: %+v", r.Errors)
	}
	waitFor(t, "the breach mail to the contact person", func() bool { return len(smtpd.To(contactEmail)) == 1 })
	subject, body := mailText(t, smtpd.To(contactEmail)[0])
	deadline := wvsoft.DateTimeNL(time.Now().Add(wvsoft.ReportingWindow))
	for _, want := range []string{"Geachte heer " + contactName + ",", "Laptop met een export", "contactgegevens, financiële gegevens",
		"Autoriteit Persoonsgegevens", "uiterlijk " + deadline[:len(deadline)-6], "Wat u moet doen", "Schijf was versleuteld"} {
		if !strings.Contains(body, want) {
			t.Errorf("the breach mail lacks %q:\n%s", want, body)
		}
	}
	if jargon.MatchString(body+subject) || strings.Contains(body, "Beste "+customerName) {
		t.Errorf("the breach mail speaks API: %s\n%s", subject, body)
	}
	adminMail := smtpd.To("admin@bakkerij-de-vries.example")
	if len(adminMail) != 1 {
		t.Fatalf("the admin's breach mail: %d", len(adminMail))
	}
	if _, b := mailText(t, adminMail[0]); !strings.HasPrefix(b, "Beste ") || strings.HasPrefix(b, "Beste "+customerName) {
		t.Errorf("the admin is not greeted by name: %.80s", b)
	}

	// Point 7: the admin files a request about its own contact person; it lands with support.
	file := `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ACCESS}) { id status deadline } }`
	if r := s.query(member, file, map[string]any{"s": contact["id"]}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
		t.Fatalf("a member filed a request: %+v", r)
	}
	r = s.query(admin, file, map[string]any{"s": contact["id"]})
	reqID, _ := dig(r.Data, "registerDataSubjectRequest", "id").(string)
	if reqID == "" || dig(r.Data, "registerDataSubjectRequest", "status") != "OPEN" {
		t.Fatalf("the admin could not file a request about its contact person: %+v", r)
	}
	execute := `mutation($id: ID!) { executeDataSubjectRequest(id: $id) { status export { json html } } }`
	if r := s.query(admin, execute, map[string]any{"id": reqID}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
		t.Fatalf("the admin executed WvSoft's request: %+v", r)
	}
	r = s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { dataSubjectRequests { id kind status subjectId } } } }`, map[string]any{"id": customerID})
	landed := false
	for _, q := range dig(r.Data, "node", "dataSubjectRequests").([]any) {
		landed = landed || (dig(q, "id") == reqID && dig(q, "status") == "OPEN" && dig(q, "subjectId") == contact["id"])
	}
	if !landed {
		t.Fatalf("the admin's request did not land with support: %+v", r)
	}

	// Point 1: support executes it; the export is complete.
	r = s.query(support, execute, map[string]any{"id": reqID})
	if dig(r.Data, "executeDataSubjectRequest", "status") != "DONE" {
		t.Fatalf("execute: %+v", r)
	}
	var doc struct {
		Controller string `json:"controller"`
		Name       string `json:"name"`
		Role       string `json:"role"`
		Customer   string `json:"customer"`
		Items      []struct {
			Field, Label, Shown, Retention, Source string
			Value                                  any
			Purposes                               []struct {
				Label      string
				LegalBasis string `json:"legal_basis"`
			}
			Recipients []string
		} `json:"items"`
		Mail          []struct{ Subject, Purpose, Status string } `json:"mail"`
		AccessLogNote string                                      `json:"access_log_note"`
		Rights        string                                      `json:"rights"`
	}
	exportJSON := dig(r.Data, "executeDataSubjectRequest", "export", "json").(string)
	if err := json.Unmarshal([]byte(exportJSON), &doc); err != nil {
		t.Fatalf("the JSON export: %v", err)
	}
	if doc.Name != contactName || doc.Role != "eigenaar" || doc.Customer != customerName || doc.Controller != "WvSoft" || len(doc.Items) != 5 {
		t.Fatalf("the export's subject: %s", exportJSON)
	}
	for _, it := range doc.Items {
		if it.Value == nil || it.Label == "" || len(it.Purposes) == 0 || it.Purposes[0].LegalBasis == "" || it.Retention == "" ||
			!strings.Contains(it.Source, customerName) || len(it.Recipients) == 0 {
			t.Errorf("an incomplete item: %+v", it)
		}
		if strings.Contains(strings.Join(it.Recipients, ";"), "Website host") || !strings.Contains(strings.Join(it.Recipients, ";"), "Worldstream (hostingprovider") {
			t.Errorf("recipients of %s: %v", it.Field, it.Recipients)
		}
		if it.Field == "salutation" && it.Shown != "de heer" {
			t.Errorf("the salutation is shown as %q", it.Shown)
		}
		// The role at the customer is kept about the person, so it is one of the items.
		if it.Field == "role" && (it.Shown != "eigenaar" || it.Label != "Rol bij de klant") {
			t.Errorf("the role is shown as %q (%q)", it.Shown, it.Label)
		}
		if it.Field == "phone" && !strings.Contains(it.Retention, "30 dagen") {
			t.Errorf("the phone's retention: %q", it.Retention)
		}
	}
	if len(doc.Mail) != 1 || doc.Mail[0].Purpose != "melding van een (mogelijk) datalek" || doc.Mail[0].Subject == "" || doc.Rights == "" {
		t.Fatalf("the mail in the export: %+v", doc.Mail)
	}
	html := dig(r.Data, "executeDataSubjectRequest", "export", "html").(string)
	for _, want := range []string{"<title>Inzage persoonsgegevens: " + template(contactName) + "</title>", "<h1>" + template(contactName) + "</h1>",
		"Aanhef", "de heer", "Waarvoor en op welke grond", "Hoe lang bewaard", "Herkomst", "Wie ontvangt het", "E-mail aan u", "@page"} {
		if !strings.Contains(html, want) {
			t.Errorf("the HTML export lacks %q", want)
		}
	}
	if m := jargon.FindString(html); m != "" {
		t.Errorf("the HTML export speaks API (%q)", m)
	}
	// Per purpose, each said once: support's basis, and the 30 days of the e-mail address and
	// the phone number (support is their only purpose).
	for _, once := range []string{"uitvoering van de overeenkomst met de klant (art. 6 lid 1 onder b AVG)", "daarna nog 30 dagen"} {
		if n := strings.Count(html, once); n != 1 {
			t.Errorf("the HTML export says %q %d times, not once", once, n)
		}
	}
	// Read as the person reads it: on a phone without sideways scrolling, on at most 2 A4 pages.
	l := readDocument(t, "article15-contact-person", html)
	if l.Title != "Inzage persoonsgegevens: "+contactName || l.Pages < 1 {
		t.Fatalf("chromium did not print the export: title %q, %d pages", l.Title, l.Pages)
	}
	readable(t, "article15-contact-person", l, 2)

	// A person of the data space: the director reads it under a grant; the export shows it.
	r = s.query(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket #16",
		types: [Person], durationMinutes: 60}) { id } }`, map[string]any{"c": customerID})
	grant := dig(r.Data, "requestSupportAccess", "id").(string)
	if r := s.query(admin, `mutation($id: ID!) { approveSupportAccess(input: {id: $id}) { status } }`, map[string]any{"id": grant}); len(r.Errors) > 0 {
		t.Fatalf("approve: %+v", r)
	}
	r = s.query(director, `query($c: ID!) { node(id: $c) { ... on Customer { persons(first: 1) { edges { node { id name } } } } } }`, map[string]any{"c": customerID})
	personID := dig(r.Data, "node", "persons", "edges", 0, "node", "id").(string)
	personName := dig(r.Data, "node", "persons", "edges", 0, "node", "name").(string)
	r = s.query(admin, file, map[string]any{"s": personID})
	r = s.query(admin, execute, map[string]any{"id": dig(r.Data, "registerDataSubjectRequest", "id")})
	var pdoc struct {
		Controller string `json:"controller"`
		Name       string `json:"name"`
		Items      []struct {
			Field      string
			Recipients []string
			Retention  string
		} `json:"items"`
		AccessLog []struct {
			Who    string   `json:"who"`
			Fields []string `json:"fields"`
			Grant  string   `json:"grant"`
		} `json:"access_log"`
	}
	if err := json.Unmarshal([]byte(dig(r.Data, "executeDataSubjectRequest", "export", "json").(string)), &pdoc); err != nil {
		t.Fatalf("the person's export: %v (%+v)", err, r)
	}
	if pdoc.Name != personName || pdoc.Controller != customerName || len(pdoc.Items) != 12 {
		t.Fatalf("the person's export: %+v", pdoc)
	}
	if len(pdoc.AccessLog) != 1 || pdoc.AccessLog[0].Grant != grant || !strings.Contains(pdoc.AccessLog[0].Who, "directeur") ||
		!strings.Contains(strings.Join(pdoc.AccessLog[0].Fields, ","), "name") {
		t.Fatalf("the director's read is not in the person's export: %+v", pdoc.AccessLog)
	}
	for _, it := range pdoc.Items {
		if !strings.Contains(it.Retention, "90 dagen") {
			t.Errorf("the retention of %s: %q", it.Field, it.Retention)
		}
	}
	phtml := dig(r.Data, "executeDataSubjectRequest", "export", "html").(string)
	if m := jargon.FindString(phtml); m != "" {
		t.Errorf("the person's HTML export speaks API (%q)", m)
	}
	// What holds for many items is said once, naming them: the purpose, its basis, the retention
	// and the source of the person's twelve items; the list shows each item's value once.
	for _, once := range []string{"gehoste software waarin de klant zijn eigen gegevens bijhoudt", "in opdracht van de klant, die verwerkingsverantwoordelijke is",
		"zolang het contract loopt, daarna nog 90 dagen", "ingevoerd door " + template(customerName), "Naam, Straat en huisnummer, Postcode, Woonplaats"} {
		if n := strings.Count(phtml, once); n != 1 {
			t.Errorf("the person's HTML export says %q %d times, not once", once, n)
		}
	}
	if n := strings.Count(phtml, `<span class="value">`); n != len(pdoc.Items) {
		t.Errorf("the person's HTML export lists %d values for %d items", n, len(pdoc.Items))
	}
	if !strings.Contains(phtml, "Wie uw gegevens inzag") || !strings.Contains(phtml, "directeur van WvSoft") {
		t.Fatalf("the person's HTML export does not show the director's read")
	}
	l = readDocument(t, "article15-person", phtml)
	if l.Title != "Inzage persoonsgegevens: "+personName || l.Pages < 1 {
		t.Fatalf("chromium did not print the person's export: title %q, %d pages", l.Title, l.Pages)
	}
	readable(t, "article15-person", l, 2)
}

// Point 2: history names the actor, and a customer's admin reads it for its own data space.
func TestHistoryNamesTheActor(t *testing.T) {
	s := startServer(t, nil)
	admin := s.token("admin@bakkerij-de-vries.example")
	member := s.token("member@bakkerij-de-vries.example")
	me := dig(s.query(member, `{ me { name } }`, nil).Data, "me", "name")
	person := dig(s.query(member, `{ persons(first: 1) { edges { node { id } } } }`, nil).Data, "persons", "edges", 0, "node", "id").(string)
	if r := s.query(member, `mutation($id: ID!) { updatePerson(input: {id: $id, city: "Zwolle"}) { id } }`, map[string]any{"id": person}); len(r.Errors) > 0 {
		t.Fatalf("update: %+v", r)
	}
	history := `query($id: ID!) { history(objectId: $id) { fields actorKind actorRole actorId actor } }`
	r := s.query(admin, history, map[string]any{"id": person})
	if len(r.Errors) > 0 {
		t.Fatalf("the admin's history of its data space: %+v", r)
	}
	e := dig(r.Data, "history", 0).(map[string]any)
	if me == nil || e["actor"] != me || e["actorRole"] != "MEMBER" || e["actorKind"] != "USER" {
		t.Fatalf("the history does not name the member (%v): %+v", me, e)
	}
	if kind, _, err := wvsoft.ParseGlobalID("id", e["actorId"].(string)); err != nil || kind != wvsoft.KindUser {
		t.Fatalf("actorId: %v %v", kind, err)
	}
	if r := s.query(s.token("admin@jansen-installatie.example"), history, map[string]any{"id": person}); len(dig(r.Data, "history").([]any)) != 0 {
		t.Fatalf("another customer's admin reads the history: %+v", r)
	}
}

// Point 3: the article 30 records are complete (30(1)(a)-(g)), durations in days, months and
// years, every processor only under the purposes it serves, and the document prints.
func TestArticle30Records(t *testing.T) {
	s := startServer(t, nil)
	r := s.query(s.token("support@wvsoft.example"), `{ recordsOfProcessing { controller controllerContact securityMeasures transfers json html
		activities { purpose description legalBasis dataSubjects recipients categories processors retention fields } } }`, nil)
	rec, ok := dig(r.Data, "recordsOfProcessing").(map[string]any)
	if !ok || len(r.Errors) > 0 {
		t.Fatalf("records: %+v", r)
	}
	if rec["controllerContact"] == "" || rec["securityMeasures"] == "" || !strings.Contains(rec["transfers"].(string), "EER") {
		t.Fatalf("30(1)(a), (e), (g): %+v", rec)
	}
	processors := map[string]string{}
	for _, a := range rec["activities"].([]any) {
		act := a.(map[string]any)
		for _, key := range []string{"description", "legalBasis"} {
			if act[key] == "" {
				t.Errorf("%s lacks %s", act["purpose"], key)
			}
		}
		if len(act["dataSubjects"].([]any)) == 0 || len(act["recipients"].([]any)) == 0 {
			t.Errorf("%s lacks data subjects or recipients", act["purpose"])
		}
		b, _ := json.Marshal(act)
		processors[act["purpose"].(string)] = string(b)
		// The fields come from the schema's @personal declarations; a derived value (shown
		// elsewhere) is listed under the field it comes from, never as itself.
		if fields, _ := act["fields"].([]any); act["purpose"] == "SUPPORT" && !slices.Contains(fields, any("ContactPerson.email")) {
			t.Errorf("SUPPORT lacks ContactPerson.email: %v", fields)
		}
		if strings.Contains(string(b), "OutboxMessage.body") {
			t.Errorf("a derived field is listed as its own: %s", b)
		}
		if regexp.MustCompile(`\d+h\d+m`).Match(b) {
			t.Errorf("a Go duration in %s", b)
		}
	}
	if !strings.Contains(processors["SUPPORT"], "Website host") || strings.Contains(processors["BILLING"], "Website host") ||
		strings.Contains(processors["SERVICE"], "Website host") || !strings.Contains(processors["BILLING"], "Worldstream") {
		t.Fatalf("processors under purposes they do not serve: %v", processors)
	}
	if !strings.Contains(processors["SUPPORT"], "30 dagen") || !strings.Contains(processors["BILLING"], "7 jaar") || !strings.Contains(processors["SERVICE"], "90 dagen") {
		t.Fatalf("retention in days, months, years: %v", processors)
	}
	var js map[string]any
	if err := json.Unmarshal([]byte(rec["json"].(string)), &js); err != nil || js["controller_contact"] == nil || js["security_measures"] == nil {
		t.Fatalf("the JSON records: %v %v", err, js)
	}
	l := readDocument(t, "article30-records", rec["html"].(string))
	if l.Title != "Register van verwerkingsactiviteiten: WvSoft" || l.Pages < 1 {
		t.Fatalf("chromium did not print the records: title %q, %d pages", l.Title, l.Pages)
	}
	readable(t, "article30-records", l, 0)
}

// Points 4 and 5: a relationship end is back-dated through the API (not before the start, not
// after today); the purge follows it; `wvsoft purge --dry-run --at DATE` previews any date by
// moving the clock, not the data, and every retention rule has its step.
func TestRetentionEverywhereAndBackdatedEnd(t *testing.T) {
	s := startServer(t, nil)
	billing := s.token("billing@wvsoft.example")
	jansen := dig(s.query(s.token("admin@jansen-installatie.example"), `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	end := `mutation($id: ID!, $end: Date!) { updateCustomer(input: {id: $id, relationshipEnd: $end}) { id } }`
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for _, bad := range []time.Time{today.AddDate(0, 0, 1), time.Date(1901, 1, 1, 0, 0, 0, 0, time.UTC)} {
		r := s.query(billing, end, map[string]any{"id": jansen, "end": bad.Format("2006-01-02")})
		if len(r.Errors) != 1 || r.Errors[0].Extensions["field"] != "input.relationshipEnd" || r.codes()[0] != "BAD_USER_INPUT" {
			t.Fatalf("an end on %s: %+v", bad.Format("2006-01-02"), r)
		}
	}
	// The director asked for access once: the grant and its log entry are evidence too.
	if r := s.query(s.token("director@wvsoft.example"), `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket #1",
		types: [Person], durationMinutes: 60}) { id } }`, map[string]any{"c": jansen}); len(r.Errors) > 0 {
		t.Fatalf("request access: %+v", r)
	}
	ended := today.AddDate(0, 0, -60)
	if r := s.query(billing, end, map[string]any{"id": jansen, "end": ended.Format("2006-01-02")}); len(r.Errors) > 0 {
		t.Fatalf("a back-dated end: %+v", r)
	}
	purge := func(args ...string) (map[string]int, error) {
		var out strings.Builder
		env := map[string]string{"DATABASE_URL": s.db.OwnerURL}
		err := run(context.Background(), append([]string{"wvsoft", "purge"}, args...), envOf(env), &out, io.Discard)
		counts := map[string]int{}
		for _, line := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				if n, e := strconv.Atoi(f[1]); e == nil {
					counts[f[0]] = n
				}
			}
		}
		return counts, err
	}
	if _, err := purge("--at", today.Format("2006-01-02")); err == nil {
		t.Fatal("--at without --dry-run removed data")
	}
	now, err := purge("--dry-run")
	if err != nil || now["data-space.persons"] != 0 {
		t.Fatalf("today, 60 days after the end, the data space stays: %v %v", now, err)
	}
	after := today.AddDate(0, 0, 31)
	later, err := purge("--dry-run", "--at", after.Format("2006-01-02"))
	if err != nil || later["data-space.persons"] == 0 || later["support-data.contact-persons"] != 3 || later["billing-data.customers"] != 0 {
		t.Fatalf("91 days after the back-dated end: %v %v", later, err)
	}
	hold := time.Date(ended.Year()+7, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	fiscal, err := purge("--dry-run", "--at", hold.Format("2006-01-02"))
	if err != nil || fiscal["billing-data.customers"] != 1 || fiscal["evidence.change-history"] == 0 || fiscal["evidence.consent-events"] == 0 ||
		fiscal["evidence.access-log"] != 1 || fiscal["evidence.access-grants"] != 1 {
		t.Fatalf("after the fiscal hold: %v %v", fiscal, err)
	}
	for _, rule := range wvsoft.RetentionRules(wvsoft.DefaultRetention()) {
		found := false
		for k := range fiscal {
			found = found || k == rule.Name || strings.HasPrefix(k, rule.Name+".")
		}
		if !found {
			t.Errorf("the retention rule %s has no purge step", rule.Name)
		}
	}
	// The previews moved the clock, not the data.
	var persons int
	if err := s.owner(t).QueryRow(`SELECT count(*) FROM persons p JOIN customers c USING (tenant_id) WHERE c.slug = 'jansen-installatie'`).Scan(&persons); err != nil || persons == 0 {
		t.Fatalf("a dry run removed persons: %d %v", persons, err)
	}
}
