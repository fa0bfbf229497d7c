package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/policy"
)

// The five failures of "one decision point", end to end against the real server and
// database: each of them passed before the policy decided reads, writes and derived values with
// one chain of rules and the record's privacy state.

// What an erasure outcome tells a data subject is what the policy enforces: every field the
// outcome reports as kept "restricted to billing" is readable by exactly the roles that serve
// billing, and every field it reports as erased is gone for every role.
func TestErasureOutcomeIsEnforcedForEveryRole(t *testing.T) {
	s := startServer(t, nil)
	support := s.token("support@wvsoft.example")
	jansenAdmin := s.token("admin@jansen-installatie.example")
	jansen := dig(s.query(jansenAdmin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	endRelationship(t, s, "jansen-installatie", time.Now().AddDate(0, -2, 0))
	r := s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { contactPersons { id name email } } } }`, map[string]any{"id": jansen})
	contactID, _ := dig(r.Data, "node", "contactPersons", 0, "id").(string)
	contactName, _ := dig(r.Data, "node", "contactPersons", 0, "name").(string)
	contactEmail, _ := dig(r.Data, "node", "contactPersons", 0, "email").(string)
	if contactID == "" || contactName == "" || contactEmail == "" {
		t.Fatalf("no contact person with a name and an address: %+v", r)
	}
	// A breach mails the contact person, greeting it by name, before the erasure.
	if r := s.query(support, `mutation($c: ID!, $at: Time!) { recordBreach(input: { description: "Gestolen laptop",
		discoveredAt: $at, categories: [CONTACT], customerIds: [$c] }) { id } }`,
		map[string]any{"c": jansen, "at": time.Now().Add(-time.Hour).Format(time.RFC3339)}); len(r.Errors) > 0 {
		t.Fatalf("record breach: %+v", r)
	}
	mailedTo := func(who string) (messages []any) {
		r := s.query(s.token(who), `{ outbox(first: 500) { recipient body status } }`, nil)
		list, ok := dig(r.Data, "outbox").([]any)
		if !ok {
			t.Fatalf("%s does not read the outbox: %+v", who, r)
		}
		for _, m := range list {
			recipient, _ := dig(m, "recipient").(string)
			body, _ := dig(m, "body").(string)
			if strings.EqualFold(recipient, contactEmail) || strings.Contains(body, contactName) {
				messages = append(messages, m)
			}
		}
		return messages
	}
	if len(mailedTo("support@wvsoft.example")) == 0 {
		t.Fatalf("support sees no mail to %s before the erasure", contactEmail)
	}
	r = s.query(support, `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ERASURE}) { id } }`, map[string]any{"s": contactID})
	r = s.query(support, `mutation($id: ID!) { executeDataSubjectRequest(id: $id) { outcome { field action reason } } }`,
		map[string]any{"id": dig(r.Data, "registerDataSubjectRequest", "id")})
	outcome, _ := dig(r.Data, "executeDataSubjectRequest", "outcome").([]any)
	if len(outcome) == 0 {
		t.Fatalf("erasure: %+v", r)
	}

	// Every role that could read a contact person, and whether it serves billing (the purpose
	// that a "restricted to billing" statement names).
	roles := map[string]bool{
		"support@wvsoft.example": false, "billing@wvsoft.example": true, "director@wvsoft.example": true,
		"accountant@wvsoft.example": false, "admin@jansen-installatie.example": false, "member@jansen-installatie.example": false,
	}
	kept := 0
	for _, o := range outcome {
		field := dig(o, "field").(string) // ContactPerson.name
		typ, name, _ := strings.Cut(field, ".")
		if typ != "ContactPerson" {
			t.Fatalf("an outcome about %q", field)
		}
		action, reason := dig(o, "action").(string), dig(o, "reason").(string)
		restrictedToBilling := action == "KEPT" && strings.Contains(reason, "restricted to billing")
		if action == "KEPT" && !restrictedToBilling {
			t.Fatalf("a kept field without the purpose it is kept for: %+v", o)
		}
		for who, billing := range roles {
			r := s.query(s.token(who), `query($id: ID!) { node(id: $id) { ... on ContactPerson { `+name+` } } }`, map[string]any{"id": contactID})
			value := dig(r.Data, "node", name)
			switch {
			case action == "ERASED" && value != nil:
				t.Errorf("%s reads %s = %v after it was erased", who, field, value)
			case restrictedToBilling && billing && (value == nil || len(r.Errors) > 0):
				t.Errorf("%s serves billing but cannot read the kept %s: %+v", who, field, r)
			case restrictedToBilling && !billing && value != nil:
				t.Errorf("%s reads %s, which the data subject was told is restricted to billing", who, field)
			}
		}
		if restrictedToBilling {
			kept++
		}
	}
	if kept == 0 {
		t.Fatalf("the erasure kept nothing restricted, so nothing was checked: %+v", outcome)
	}
	// "Kept until" holds: nobody changes or deletes the restricted record before its hold ends,
	// not support, not the customer's admin, not the director (the purge removes it then).
	for _, who := range []string{"support@wvsoft.example", "admin@jansen-installatie.example", "director@wvsoft.example"} {
		for _, m := range []string{
			`mutation($id: ID!) { deleteContactPerson(id: $id) }`,
			`mutation($id: ID!) { updateContactPerson(input: {id: $id, role: CONTACT}) { id } }`,
		} {
			if r := s.query(s.token(who), m, map[string]any{"id": contactID}); len(r.Errors) == 0 || r.codes()[0] != "FORBIDDEN" {
				t.Errorf("%s wrote the restricted contact person (%s): %+v", who, m, r)
			}
		}
	}
	billing := s.token("billing@wvsoft.example")
	if r := s.query(billing, `query($id: ID!) { node(id: $id) { ... on ContactPerson { name } } }`, map[string]any{"id": contactID}); dig(r.Data, "node", "name") == nil {
		t.Fatalf("the restricted contact person is gone after the attempts: %+v", r)
	}
	// "ContactPerson.email ERASED" holds in the outbox too: the mail keeps neither the address
	// nor the greeting with the name, for whoever reads the outbox, and unsent mail stays unsent.
	for _, who := range []string{"support@wvsoft.example", "director@wvsoft.example"} { // who read the outbox
		if m := mailedTo(who); len(m) > 0 {
			t.Errorf("%s still sees the erased contact person in the outbox: %+v", who, m)
		}
	}
	r = s.query(support, `{ outbox(first: 500, status: PENDING) { recipient } }`, nil)
	pending, _ := dig(r.Data, "outbox").([]any)
	for _, m := range pending {
		if dig(m, "recipient") == "" {
			t.Errorf("mail to the erased address is still to be sent: %+v", r)
		}
	}
}

// Consent withdrawal restricts staff writes as it restricts their reads, and a derived value (an
// outbox recipient) is decided by the rule of the field it comes from.
func TestConsentWithdrawalRestrictsWritesAndDerivedValues(t *testing.T) {
	s := startServer(t, nil)
	support := s.token("support@wvsoft.example")
	billing := s.token("billing@wvsoft.example")
	admin := s.token("admin@bakkerij-de-vries.example")
	customer := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	contact := dig(s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { contactPersons { id } } } }`,
		map[string]any{"id": customer}).Data, "node", "contactPersons", 0, "id").(string)

	// A breach mails the customer's contact persons; support sees their addresses in the outbox.
	r := s.query(support, `mutation($c: ID!, $at: Time!) { recordBreach(input: { description: "Verloren laptop",
		discoveredAt: $at, categories: [CONTACT], customerIds: [$c] }) { id } }`,
		map[string]any{"c": customer, "at": time.Now().Add(-time.Hour).Format(time.RFC3339)})
	if len(r.Errors) > 0 {
		t.Fatalf("record breach: %+v", r)
	}
	outbox := func() gqlResponse {
		return s.query(support, `{ outbox(first: 100) { purpose recipient body } }`, nil)
	}
	// What support sees of the breach mail: values shown, and values denied with the message of
	// the field they come from (the address: the record's email; the body: its name).
	seen := func(r gqlResponse, field, denial string) (shown, denied int) {
		list, _ := dig(r.Data, "outbox").([]any)
		for i, m := range list {
			if dig(m, "purpose") != "BREACH" {
				continue
			}
			if dig(m, field) != nil {
				shown++
			}
			for _, e := range r.Errors {
				if len(e.Path) == 3 && e.Path[1] == float64(i) && e.Path[2] == field && e.Message == denial {
					denied++
				}
			}
		}
		return shown, denied
	}
	contactAddresses := func(r gqlResponse) (shown, denied int) {
		return seen(r, "recipient", "not allowed to read ContactPerson.email")
	}
	before := outbox()
	if shown, _ := contactAddresses(before); shown == 0 {
		t.Fatalf("support sees no contact person's address before the withdrawal: %+v", before)
	}
	// The body greets its recipient by name: a mail to an admin is decided as User.name, which
	// support does not read; a mail to a contact person as ContactPerson.name, which it does.
	if _, denied := seen(before, "body", "not allowed to read User.name"); denied == 0 {
		t.Fatalf("support reads the bodies of mail to the customer's admins (their names): %+v", before)
	}
	if shown, _ := seen(before, "body", ""); shown == 0 {
		t.Fatalf("support reads no body of mail to a contact person before the withdrawal: %+v", before)
	}
	update := `mutation($id: ID!) { updateContactPerson(input: {id: $id, phone: "+31 20 123 4567"}) { phone } }`
	if r := s.query(support, update, map[string]any{"id": contact}); len(r.Errors) > 0 {
		t.Fatalf("support updates a contact person while the customer consents: %+v", r)
	}

	if r := s.query(admin, `mutation($c: ID!) { withdrawConsent(input: {customerId: $c, basis: EMAIL}) { given } }`,
		map[string]any{"c": customer}); dig(r.Data, "withdrawConsent", "given") != false {
		t.Fatalf("withdraw: %+v", r)
	}
	// The record as a whole is not written: its id is decided first (staff.consent_withdrawn_write).
	if r := s.query(support, update, map[string]any{"id": contact}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" ||
		r.Errors[0].Extensions["field"] != "input.id" {
		t.Fatalf("support wrote a contact person after the withdrawal: %+v", r)
	}
	// Nor deleted: a delete writes the record, decided on its id, which has no category.
	remove := `mutation($id: ID!) { deleteContactPerson(id: $id) }`
	if r := s.query(support, remove, map[string]any{"id": contact}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
		t.Fatalf("support deleted a contact person after the withdrawal: %+v", r)
	}
	create := `mutation($c: ID!) { createContactPerson(input: {customerId: $c, name: "Nieuw", role: CONTACT, email: "nieuw@example.org"}) { id } }`
	if r := s.query(support, create, map[string]any{"c": customer}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
		t.Fatalf("support created a contact person after the withdrawal: %+v", r)
	}
	// Billing keeps what the fiscal obligation needs, for writing as for reading.
	if r := s.query(billing, `mutation($id: ID!) { updateCustomer(input: {id: $id, iban: "NL91ABNA0417164300"}) { iban } }`,
		map[string]any{"id": customer}); len(r.Errors) > 0 {
		t.Fatalf("billing cannot keep the billing data after the withdrawal: %+v", r)
	}
	after := outbox()
	if shown, denied := contactAddresses(after); shown != 0 || denied == 0 {
		t.Fatalf("support sees %d contact persons' addresses in the outbox after the withdrawal (%d denied)", shown, denied)
	}
	if shown, _ := seen(after, "body", ""); shown != 0 {
		t.Fatalf("support reads %d breach mail bodies (greeting names) after the withdrawal: %+v", shown, after)
	}
}

// One rule set: an author who denies billing the customer's phone in the policy denies both the
// read and the write, with one change.
func TestOnePolicyChangeBindsReadingAndWriting(t *testing.T) {
	src, err := policy.Files.ReadFile("authz.rego")
	if err != nil {
		t.Fatal(err)
	}
	const branch = `staff_decision := deny("staff.consent_withdrawn"`
	if !strings.Contains(string(src), branch) {
		t.Fatal("the policy no longer has the branch this test adds a rule before")
	}
	changed := strings.Replace(string(src), branch, `staff_decision := deny("author.billing_phone", "billing does not use the customer's phone") if {
	input.subject.role == "BILLING"
	input.resource.type == "Customer"
	input.resource.field == "phone"
} else := deny("staff.consent_withdrawn"`, 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "authz.rego"), []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, map[string]string{"POLICY_DIR": dir})
	billing := s.token("billing@wvsoft.example")
	customer := dig(s.query(s.token("admin@bakkerij-de-vries.example"), `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)

	r := s.query(billing, `query($id: ID!) { node(id: $id) { ... on Customer { phone iban } } }`, map[string]any{"id": customer})
	if dig(r.Data, "node", "phone") != nil || dig(r.Data, "node", "iban") == nil || len(r.Errors) != 1 {
		t.Fatalf("read under the changed policy: %+v", r)
	}
	r = s.query(billing, `mutation($id: ID!) { updateCustomer(input: {id: $id, phone: "+31 20 765 4321"}) { id } }`, map[string]any{"id": customer})
	if len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" || r.Errors[0].Extensions["field"] != "input.phone" {
		t.Fatalf("billing wrote the phone the policy denies it: %+v", r)
	}
	r = s.query(billing, `mutation($id: ID!) { updateCustomer(input: {id: $id, iban: "NL91ABNA0417164300"}) { id } }`, map[string]any{"id": customer})
	if len(r.Errors) > 0 {
		t.Fatalf("the change denied more than the phone: %+v", r)
	}
}

// Decisions that were made in Go are the policy's: the whole registers and the purge are refused
// by the hook with the policy's rule, and a director's write into a data space is logged under the
// grant the policy's write decision rested on, with its fields named as reads are (Type.field).
func TestDecisionsComeFromThePolicy(t *testing.T) {
	s := startServer(t, map[string]string{"LOG_FORMAT": "json"})
	admin := s.token("admin@bakkerij-de-vries.example")
	director := s.token("director@wvsoft.example")
	for _, q := range []string{`{ breaches { id } }`, `{ outbox { id } }`, `{ purgeRuns { at } }`, `{ recordsOfProcessing { controller } }`} {
		if r := s.query(admin, q, nil); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" || !strings.HasPrefix(r.Errors[0].Message, "not allowed to read Query.") {
			t.Errorf("%s as a customer's admin: %+v", q, r)
		}
	}
	if r := s.query(s.token("support@wvsoft.example"), `mutation { runPurge(dryRun: true) { at } }`, nil); len(r.Errors) != 1 || r.Errors[0].Message != "not allowed to run runPurge" {
		t.Errorf("support ran the purge: %+v", r)
	}
	if r := s.query(director, `mutation { runPurge(dryRun: true) { dryRun } }`, nil); dig(r.Data, "runPurge", "dryRun") != true {
		t.Errorf("the director cannot run the purge: %+v", r)
	}

	customer := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	r := s.query(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket #12",
		types: [Person], write: true, durationMinutes: 60}) { id } }`, map[string]any{"c": customer})
	grant := dig(r.Data, "requestSupportAccess", "id").(string)
	if r := s.query(admin, `mutation($id: ID!) { approveSupportAccess(input: {id: $id}) { status } }`, map[string]any{"id": grant}); len(r.Errors) > 0 {
		t.Fatalf("approve: %+v", r)
	}
	person := dig(s.query(admin, `{ persons(first: 1) { edges { node { id } } } }`, nil).Data, "persons", "edges", 0, "node", "id").(string)
	if r := s.query(director, `mutation($id: ID!) { updatePerson(input: {id: $id, postalCode: "1234 AB"}) { postalCode } }`,
		map[string]any{"id": person}); dig(r.Data, "updatePerson", "postalCode") != "1234 AB" {
		t.Fatalf("the director's write under the grant: %+v", r)
	}
	r = s.query(admin, `query($g: ID!) { me { customer { accessLog(grantId: $g, first: 100) { edges { node { event records fields grant { id } } } } } } }`,
		map[string]any{"g": grant})
	edges, _ := dig(r.Data, "me", "customer", "accessLog", "edges").([]any)
	var write map[string]any
	for _, e := range edges {
		if fields, _ := dig(e, "node", "fields").([]any); slices.Contains(fields, any("Person.postalCode")) {
			write, _ = dig(e, "node").(map[string]any)
		}
	}
	if write == nil || dig(write, "grant", "id") != grant || !slices.Contains(dig(write, "records").([]any), any(person)) {
		t.Fatalf("the write is not in the access log as Person.postalCode under the grant: %+v", r)
	}
	for _, e := range edges {
		for _, f := range dig(e, "node", "fields").([]any) {
			if strings.Contains(f.(string), "_") || !strings.Contains(f.(string), ".") {
				t.Errorf("the access log names %q, not Type.field", f)
			}
		}
	}
}

// Rows hidden by record state come from the policy: staff see a customer's data-subject requests
// and change history about its register (contact persons), not about its data space, because the
// policy's rows carry the condition (data_of) that the store puts into the SQL. The same server
// with a policy whose staff condition names the data space too shows the person's request and
// history to support: no rule of its own in SQL or Go kept them out.
func TestLedgerRowsFollowThePolicy(t *testing.T) {
	src, err := policy.Files.ReadFile("authz.rego")
	if err != nil {
		t.Fatal(err)
	}
	const condition = `staff_ledger_data_of := ["CUSTOMER"]`
	if !strings.Contains(string(src), condition) {
		t.Fatal("the policy no longer has the condition this test changes")
	}
	widened := t.TempDir()
	entries, err := policy.Files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := policy.Files.ReadFile(e.Name())
		if e.Name() == "authz.rego" {
			b = []byte(strings.Replace(string(src), condition, `staff_ledger_data_of := ["CUSTOMER", "DATA_SPACE"]`, 1))
		}
		if strings.HasSuffix(e.Name(), "_test.rego") && strings.Contains(string(b), `"data_of": ["CUSTOMER"]`) {
			continue // the shipped policy's own test of the condition
		}
		if err := os.WriteFile(filepath.Join(widened, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	for _, c := range []struct {
		name       string
		env        map[string]string
		seesPerson bool
	}{{"shipped", nil, false}, {"widened", map[string]string{"POLICY_DIR": widened}, true}} {
		t.Run(c.name, func(t *testing.T) {
			s := startServer(t, c.env)
			admin := s.token("admin@bakkerij-de-vries.example")
			support := s.token("support@wvsoft.example")
			customer := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
			person := dig(s.query(admin, `{ persons(first: 1) { edges { node { id } } } }`, nil).Data, "persons", "edges", 0, "node", "id").(string)
			contact := dig(s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { contactPersons { id } } } }`,
				map[string]any{"id": customer}).Data, "node", "contactPersons", 0, "id").(string)
			register := `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ACCESS}) { id } }`
			if r := s.query(admin, register, map[string]any{"s": person}); len(r.Errors) > 0 {
				t.Fatalf("the admin registers a request about a person: %+v", r)
			}
			if r := s.query(support, register, map[string]any{"s": contact}); len(r.Errors) > 0 {
				t.Fatalf("support registers a request about a contact person: %+v", r)
			}
			if r := s.query(admin, `mutation($id: ID!) { updatePerson(input: {id: $id, city: "Zwolle"}) { id } }`, map[string]any{"id": person}); len(r.Errors) > 0 {
				t.Fatalf("the admin corrects a person: %+v", r)
			}

			about := map[string]bool{}
			r := s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { dataSubjectRequests { subjectId } } } }`, map[string]any{"id": customer})
			list, _ := dig(r.Data, "node", "dataSubjectRequests").([]any)
			for _, q := range list {
				id, _ := dig(q, "subjectId").(string)
				about[id] = true
			}
			if !about[contact] {
				t.Fatalf("support does not see the request about the contact person: %+v", r)
			}
			if about[person] != c.seesPerson {
				t.Fatalf("support sees the request about the person: %v, want %v (%+v)", about[person], c.seesPerson, r)
			}
			r = s.query(support, `query($id: ID!) { history(objectId: $id) { fields } }`, map[string]any{"id": person})
			history, ok := dig(r.Data, "history").([]any)
			if !ok || len(r.Errors) > 0 {
				t.Fatalf("support reads no history list (rows the SQL kept out come back as an empty list, not an error): %+v", r)
			}
			if (len(history) > 0) != c.seesPerson {
				t.Fatalf("support sees %d history entries of the person, want them: %v (%+v)", len(history), c.seesPerson, r)
			}
		})
	}
}

// An erasure takes the erased person's name out of the mail to its address, but where the address
// is also someone else's (here the customer's admin logs in with it), the mail stays addressed to
// that record and a breach notice not yet sent still goes out (P4); its greeting no longer names
// the erased person.
func TestErasureKeepsMailToAnotherHolderOfTheAddress(t *testing.T) {
	s := startServer(t, nil) // no SMTP_URL: mail stays in the outbox
	support := s.token("support@wvsoft.example")
	admin := "admin@jansen-installatie.example"
	jansen := dig(s.query(s.token(admin), `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	r := s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { contactPersons { id name } } } }`, map[string]any{"id": jansen})
	contactID, _ := dig(r.Data, "node", "contactPersons", 0, "id").(string)
	contactName, _ := dig(r.Data, "node", "contactPersons", 0, "name").(string)
	if contactID == "" || contactName == "" {
		t.Fatalf("no contact person: %+v", r)
	}
	if r := s.query(support, `mutation($id: ID!, $e: String!) { updateContactPerson(input: {id: $id, email: $e}) { id } }`,
		map[string]any{"id": contactID, "e": admin}); len(r.Errors) > 0 {
		t.Fatalf("the contact person takes the admin's address: %+v", r)
	}
	endRelationship(t, s, "jansen-installatie", time.Now().AddDate(0, -2, 0))
	if r := s.query(support, `mutation($c: ID!, $at: Time!) { recordBreach(input: { description: "Gestolen laptop",
		discoveredAt: $at, categories: [CONTACT], customerIds: [$c] }) { id } }`,
		map[string]any{"c": jansen, "at": time.Now().Add(-time.Hour).Format(time.RFC3339)}); len(r.Errors) > 0 {
		t.Fatalf("record breach: %+v", r)
	}
	r = s.query(support, `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ERASURE}) { id } }`, map[string]any{"s": contactID})
	if r = s.query(support, `mutation($id: ID!) { executeDataSubjectRequest(id: $id) { status } }`,
		map[string]any{"id": dig(r.Data, "registerDataSubjectRequest", "id")}); len(r.Errors) > 0 {
		t.Fatalf("erasure: %+v", r)
	}

	owner, err := sql.Open("postgres", s.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	rows, err := owner.Query(`SELECT recipient, recipient_source, body, status FROM outbox WHERE purpose = 'BREACH' AND lower(recipient) = $1`, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var recipient, source, body, status string
		if err := rows.Scan(&recipient, &source, &body, &status); err != nil {
			t.Fatal(err)
		}
		n++
		if source != "User.email" || status != "PENDING" || strings.Contains(body, contactName) || !strings.Contains(body, "Gestolen laptop") {
			t.Errorf("the breach notice to the admin's address after the erasure: source %s, status %s, body %q", source, status, body)
		}
	}
	if n != 1 {
		t.Fatalf("%d breach notices to the admin's address, want 1", n)
	}
}
