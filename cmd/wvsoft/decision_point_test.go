package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/policy"
)

// The five failures of "one decision point" (issue 12), end to end against the real server and
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
	r := s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { contactPersons { id } } } }`, map[string]any{"id": jansen})
	contactID, _ := dig(r.Data, "node", "contactPersons", 0, "id").(string)
	if contactID == "" {
		t.Fatalf("no contact person: %+v", r)
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
		return s.query(support, `{ outbox(first: 100) { purpose recipient } }`, nil)
	}
	contactAddresses := func(r gqlResponse) (shown, denied int) {
		list, _ := dig(r.Data, "outbox").([]any)
		for i, m := range list {
			if dig(m, "purpose") != "BREACH" {
				continue
			}
			if dig(m, "recipient") != nil {
				shown++
			}
			for _, e := range r.Errors {
				if len(e.Path) == 3 && e.Path[1] == float64(i) && e.Message == "not allowed to read ContactPerson.email" {
					denied++
				}
			}
		}
		return shown, denied
	}
	if shown, _ := contactAddresses(outbox()); shown == 0 {
		t.Fatalf("support sees no contact person's address before the withdrawal: %+v", outbox())
	}
	update := `mutation($id: ID!) { updateContactPerson(input: {id: $id, phone: "+31 20 123 4567"}) { phone } }`
	if r := s.query(support, update, map[string]any{"id": contact}); len(r.Errors) > 0 {
		t.Fatalf("support updates a contact person while the customer consents: %+v", r)
	}

	if r := s.query(admin, `mutation($c: ID!) { withdrawConsent(input: {customerId: $c, basis: EMAIL}) { given } }`,
		map[string]any{"c": customer}); dig(r.Data, "withdrawConsent", "given") != false {
		t.Fatalf("withdraw: %+v", r)
	}
	if r := s.query(support, update, map[string]any{"id": contact}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" ||
		r.Errors[0].Extensions["field"] != "input.phone" {
		t.Fatalf("support wrote a contact person after the withdrawal: %+v", r)
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
	if shown, denied := contactAddresses(outbox()); shown != 0 || denied == 0 {
		t.Fatalf("support sees %d contact persons' addresses in the outbox after the withdrawal (%d denied)", shown, denied)
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
