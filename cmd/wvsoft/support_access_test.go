package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/pgtest"
)

// The lockbox end to end (P9): the director asks, the customer's admin approves, the director
// reads what the scope names and nothing else, the admin revokes, and both servers on the
// database deny the next request; every step and access is in a verified, tamper-evident log.
func TestSupportAccessEndToEnd(t *testing.T) {
	db := pgtest.New(t)
	key := filepath.Join(t.TempDir(), "key.pem")
	a := startServerOn(t, db, key, nil)
	b := startServerOn(t, db, key, nil)
	director := a.token("director@wvsoft.example")
	admin := a.token("admin@bakkerij-de-vries.example")
	otherAdmin := a.token("admin@jansen-installatie.example")
	customerID := dig(a.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	personsOf := `query($c: ID!) { node(id: $c) { ... on Customer { persons(first: 3) { edges { node { id name iban bsn } } } } } }`

	readsPersons := func(s *server) gqlResponse {
		return s.query(director, personsOf, map[string]any{"c": customerID})
	}

	t.Run("without a grant the director reaches no data space", func(t *testing.T) {
		r := readsPersons(a)
		if dig(r.Data, "node", "persons") != nil || len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
			t.Fatalf("%+v", r)
		}
	})

	var grantID string
	t.Run("the director asks; only the customer's admin may decide", func(t *testing.T) {
		r := a.query(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket #4711",
			types: [Person], specialCategories: false, durationMinutes: 60}) { id status scope { types } } }`,
			map[string]any{"c": customerID})
		if len(r.Errors) > 0 || dig(r.Data, "requestSupportAccess", "status") != "PENDING" {
			t.Fatalf("%+v", r)
		}
		grantID = dig(r.Data, "requestSupportAccess", "id").(string)
		// Without SMTP_URL the e-mail to the customer's admins waits in the outbox.
		// Support sees that the mail waits, but not the admin's login address: the recipient is
		// decided as User.email, which support may not read.
		outbox := a.query(a.token("support@wvsoft.example"), `{ outbox { recipient purpose subject } }`, nil)
		if dig(outbox.Data, "outbox", 0, "purpose") != "SUPPORT_ACCESS" || dig(outbox.Data, "outbox", 0, "recipient") != nil ||
			len(outbox.Errors) != 1 || outbox.Errors[0].Message != "not allowed to read User.email" {
			t.Fatalf("the outbox: %+v", outbox)
		}
		var recipient, source string
		if err := a.owner(t).QueryRow(`SELECT recipient, recipient_source FROM outbox WHERE purpose = 'SUPPORT_ACCESS'`).Scan(&recipient, &source); err != nil ||
			recipient != "admin@bakkerij-de-vries.example" || source != "User.email" {
			t.Fatalf("the admins were not told: %q from %q, %v", recipient, source, err)
		}
		approve := `mutation($id: ID!) { approveSupportAccess(input: {id: $id}) { status } }`
		if r := a.query(director, approve, map[string]any{"id": grantID}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
			t.Fatalf("the director approved his own request: %+v", r)
		}
		if r := a.query(otherAdmin, approve, map[string]any{"id": grantID}); len(r.Errors) != 1 || r.codes()[0] != "NOT_FOUND" {
			t.Fatalf("another customer's admin decided: %+v", r)
		}
		pending := a.query(admin, `{ me { customer { supportAccessGrants { id status reason } } } }`, nil)
		if dig(pending.Data, "me", "customer", "supportAccessGrants", 0, "reason") != "ticket #4711" {
			t.Fatalf("the admin does not see the request: %+v", pending)
		}
		if r := a.query(admin, `mutation($id: ID!) { approveSupportAccess(input: {id: $id, durationMinutes: 30}) { status durationMinutes } }`,
			map[string]any{"id": grantID}); dig(r.Data, "approveSupportAccess", "status") != "APPROVED" ||
			dig(r.Data, "approveSupportAccess", "durationMinutes") != float64(30) {
			t.Fatalf("approve: %+v", r)
		}
	})

	t.Run("in scope: persons; out of scope: BSN, users", func(t *testing.T) {
		for _, s := range []*server{a, b} {
			r := readsPersons(s)
			edges, _ := dig(r.Data, "node", "persons", "edges").([]any)
			if len(edges) != 3 || dig(edges[0], "node", "name") == nil || dig(edges[0], "node", "bsn") != nil {
				t.Fatalf("director under grant: %+v", r)
			}
			for _, e := range r.Errors {
				if e.Extensions["code"] != "FORBIDDEN" || !strings.HasSuffix(e.Message, "Person.bsn") {
					t.Fatalf("unexpected error %+v", e)
				}
			}
		}
		r := a.query(director, `query($c: ID!) { node(id: $c) { ... on Customer { users { email } } } }`, map[string]any{"c": customerID})
		if dig(r.Data, "node", "users") != nil || len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
			t.Fatalf("users outside the scope: %+v", r)
		}
		other := dig(a.query(otherAdmin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
		r = a.query(director, personsOf, map[string]any{"c": other})
		if dig(r.Data, "node", "persons") != nil {
			t.Fatalf("the grant opened another customer: %+v", r)
		}
	})

	t.Run("revocation stops both servers at once", func(t *testing.T) {
		r := b.query(admin, `mutation($id: ID!) { revokeSupportAccess(id: $id) { status revokedAt } }`, map[string]any{"id": grantID})
		if dig(r.Data, "revokeSupportAccess", "status") != "REVOKED" {
			t.Fatalf("revoke: %+v", r)
		}
		revoked := time.Now()
		for _, s := range []*server{a, b} {
			r := readsPersons(s)
			if dig(r.Data, "node", "persons") != nil || len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
				t.Fatalf("after revocation: %+v", r)
			}
		}
		if took := time.Since(revoked); took > time.Second {
			t.Fatalf("denial on both servers took %v", took)
		}
		if r := a.query(admin, `mutation($id: ID!) { revokeSupportAccess(id: $id) { status } }`, map[string]any{"id": grantID}); len(r.Errors) != 1 || r.codes()[0] != "CONFLICT" {
			t.Fatalf("revoking twice: %+v", r)
		}
	})

	t.Run("the log has every step and every access, and verifies", func(t *testing.T) {
		r := a.query(admin, `query($g: ID) { me { customer {
			accessLog(grantId: $g, first: 100) { edges { node { seq event actorKind records fields reason } } }
			accessLogVerification { intact entries } } } }`, map[string]any{"g": grantID})
		edges, _ := dig(r.Data, "me", "customer", "accessLog", "edges").([]any)
		var events []string
		for _, e := range edges {
			events = append(events, dig(e, "node", "event").(string))
		}
		want := "REQUESTED APPROVED ACCESS ACCESS REVOKED"
		if strings.Join(events, " ") != want {
			t.Fatalf("events %v, want %s (%+v)", events, want, r.Errors)
		}
		access := dig(edges[2], "node")
		if recs, _ := dig(access, "records").([]any); len(recs) != 3 {
			t.Fatalf("records of the access: %v", access)
		}
		if fields := dig(access, "fields"); !strings.Contains(strings.Join(toStrings(fields), ","), "Person.name") {
			t.Fatalf("fields of the access: %v", fields)
		}
		if dig(r.Data, "me", "customer", "accessLogVerification", "intact") != true {
			t.Fatalf("log does not verify: %+v", r)
		}
		if r := a.query(a.token("member@bakkerij-de-vries.example"), `{ me { customer { accessLog { edges { cursor } } } } }`, nil); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
			t.Fatalf("a member read the access log: %+v", r)
		}
	})

	t.Run("tampering is detected", func(t *testing.T) {
		owner, err := sql.Open("postgres", db.TamperURL())
		if err != nil {
			t.Fatal(err)
		}
		defer owner.Close()
		ctx := context.Background()
		if _, err := owner.ExecContext(ctx, `UPDATE access_log SET detail = '{}'`); err == nil {
			t.Fatal("the log accepted an UPDATE")
		}
		verify := func() map[string]any {
			r := a.query(admin, `{ me { customer { accessLogVerification { intact firstBrokenSeq problem } } } }`, nil)
			return dig(r.Data, "me", "customer", "accessLogVerification").(map[string]any)
		}
		mustExec := func(q string) {
			if _, err := owner.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		mustExec(`ALTER TABLE access_log DISABLE TRIGGER access_log_append_only`)
		mustExec(`UPDATE access_log SET detail = jsonb_set(detail, '{reason}', '"harmless"') WHERE seq = 2`)
		if v := verify(); v["intact"] != false || v["firstBrokenSeq"] != float64(2) {
			t.Fatalf("an altered entry went unnoticed: %v", v)
		}
		mustExec(`DELETE FROM access_log WHERE seq = 2`)
		if v := verify(); v["intact"] != false || v["firstBrokenSeq"] != float64(2) {
			t.Fatalf("a deleted entry went unnoticed: %v", v)
		}
		var out strings.Builder
		env := map[string]string{"DATABASE_URL": db.OwnerURL}
		err = run(ctx, []string{"wvsoft", "audit", "verify"}, func(k string) string { return env[k] }, &out, io.Discard)
		if err == nil || !strings.Contains(out.String(), "bakkerij-de-vries: BROKEN at entry 2") ||
			!strings.Contains(out.String(), "jansen-installatie: intact") {
			t.Fatalf("audit verify: %v\n%s", err, out.String())
		}
	})
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, x := range list {
		out[i], _ = x.(string)
	}
	return out
}

// A write under a grant is in the customer's access log too, with the record and the fields;
// special categories stay outside a grant that does not name them.
func TestDirectorWriteUnderGrantIsLogged(t *testing.T) {
	s := startServer(t, nil)
	director, admin, customerID, grantID := grantPersons(t, s, true)
	person := dig(s.query(admin, `{ persons(first: 1) { edges { node { id } } } }`, nil).Data, "persons", "edges", 0, "node", "id")
	if r := s.query(director, `mutation($id: ID!) { updatePerson(input: {id: $id, bsn: "111222333"}) { id } }`, map[string]any{"id": person}); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
		t.Fatalf("the director wrote a BSN outside the grant: %+v", r)
	}
	if r := s.query(director, `mutation($id: ID!) { updatePerson(input: {id: $id, city: "Zwolle"}) { id } }`, map[string]any{"id": person}); len(r.Errors) > 0 {
		t.Fatalf("update under the grant: %+v", r)
	}
	r := s.query(admin, `query($g: ID) { me { customer { accessLog(grantId: $g) { edges { node { event records fields } } } accessLogVerification { intact } } } }`,
		map[string]any{"g": grantID})
	found := false
	for _, e := range dig(r.Data, "me", "customer", "accessLog", "edges").([]any) {
		recs := toStrings(dig(e, "node", "records"))
		if dig(e, "node", "event") == "ACCESS" && len(recs) == 1 && recs[0] == person && strings.Contains(strings.Join(toStrings(dig(e, "node", "fields")), ","), "city") {
			found = true
		}
	}
	if !found || dig(r.Data, "me", "customer", "accessLogVerification", "intact") != true {
		t.Fatalf("the write is not in the access log: %+v", r)
	}
	// A person created under the grant: the entry names the new record and every field written.
	r = s.query(director, `mutation($c: ID!) { createPerson(input: {customerId: $c, name: "Piet Puk", city: "Zwolle", iban: "NL91ABNA0417164300"}) { id } }`,
		map[string]any{"c": customerID})
	created, _ := dig(r.Data, "createPerson", "id").(string)
	if created == "" {
		t.Fatalf("create under the grant: %+v", r)
	}
	r = s.query(admin, `query($g: ID) { me { customer { accessLog(grantId: $g) { edges { node { event records fields } } } } } }`,
		map[string]any{"g": grantID})
	// (The answer's id, read under the grant, is an entry of its own.)
	var entries [][]string
	want := []string{"Person.city", "Person.iban", "Person.name"}
	for _, e := range dig(r.Data, "me", "customer", "accessLog", "edges").([]any) {
		if recs := toStrings(dig(e, "node", "records")); len(recs) == 1 && recs[0] == created {
			entries = append(entries, toStrings(dig(e, "node", "fields")))
		}
	}
	if !slices.ContainsFunc(entries, func(fields []string) bool { return slices.Equal(fields, want) }) {
		t.Fatalf("the create is logged with fields %v, want one with %v", entries, want)
	}
}

// P9: what the director reads under a grant is in the customer's log before the answer leaves.
// The entry is written while the answer is (graph.grantReads), so this checks that an entry that
// cannot be written still withholds the answer: after an unsigned entry slipped into the log, the
// server refuses to sign over it, and every read under the grant fails with UNAVAILABLE and no data,
// with one root field, with two, and with a __typename beside them.
func TestAnswerWithheldWhenTheAccessCannotBeLogged(t *testing.T) {
	s := startServer(t, nil)
	director, _, customerID, _ := grantPersons(t, s, false)
	persons := `persons(customerId: "` + customerID + `", first: 3) { edges { node { id name } } }`
	queries := map[string]string{
		"one root field":  `{ ` + persons + ` }`,
		"two root fields": `{ a: ` + persons + ` b: node(id: "` + customerID + `") { id } }`,
		"and __typename":  `{ __typename ` + persons + ` }`,
	}
	answered := func(r gqlResponse) bool {
		b, _ := json.Marshal(r.Data)
		return strings.Contains(string(b), `"edges"`)
	}
	for name, q := range queries {
		if r := s.query(director, q, nil); len(r.Errors) > 0 || !answered(r) {
			t.Fatalf("%s: under the grant, before: %+v", name, r)
		}
	}
	owner := s.owner(t)
	// One entry per request, written once.
	var entries int
	if err := owner.QueryRow(`SELECT count(*) FROM access_log WHERE event = 'ACCESS'`).Scan(&entries); err != nil || entries != len(queries) {
		t.Fatalf("%d ACCESS entries after %d requests (%v)", entries, len(queries), err)
	}
	tx, err := owner.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var tenant string
	if err := tx.QueryRow(`SELECT tenant_id FROM access_grants WHERE status = 'APPROVED'`).Scan(&tenant); err != nil {
		t.Fatal(err)
	}
	tx.Exec(`SELECT set_config('app.tenants', $1, true)`, "{"+tenant+"}")
	if _, err := tx.Exec(`SELECT * FROM access_log_append($1, gen_random_uuid(), now(), 'REVOKED', 'USER', NULL, NULL, '{}')`, tenant); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, q := range queries {
		r := s.query(director, q, nil)
		if len(r.Errors) != 1 || r.codes()[0] != "UNAVAILABLE" || answered(r) {
			t.Fatalf("%s: an access that could not be logged was answered: %+v", name, r)
		}
	}
	// What is not read under the grant is answered.
	if r := s.query(director, `{ __typename }`, nil); len(r.Errors) > 0 {
		t.Fatalf("a read outside the grant: %+v", r)
	}
}

// What the director's answer showed under a grant is what its access-log entry lists: written
// while the answer is built (graph.foresee), the entry names every record and field the answer
// showed, no field it refused, and a read beyond what was foreseen (a nested record) is logged too.
func TestAccessLogEntryIsWhatTheAnswerShowed(t *testing.T) {
	s := startServer(t, nil)
	director, admin, customerID, grantID := grantPersons(t, s, false)
	type entry struct{ records, fields []string }
	entries := func() []entry {
		r := s.query(admin, `query($g: ID) { me { customer { accessLog(grantId: $g, first: 100) { edges { node { event records fields } } } } } }`,
			map[string]any{"g": grantID})
		var out []entry
		for _, e := range dig(r.Data, "me", "customer", "accessLog", "edges").([]any) {
			if dig(e, "node", "event") == "ACCESS" {
				out = append(out, entry{toStrings(dig(e, "node", "records")), toStrings(dig(e, "node", "fields"))})
			}
		}
		return out
	}
	persons := `persons(customerId: "` + customerID + `", first: 3)`
	for _, c := range []struct {
		name, query string
		entries     int      // entries the request adds
		fields      []string // exactly these
		nested      bool     // a Person's customer is read too
	}{
		{"a page's leaf fields", `{ ` + persons + ` { edges { node { id name iban bsn } } } }`, 1,
			[]string{"Person.iban", "Person.id", "Person.name"}, false},
		{"with aliases and __typename", `{ __typename ` + persons + ` { edges { cursor node { __typename id n: name city } } } }`, 1,
			[]string{"Person.city", "Person.id", "Person.name"}, false},
		{"a shape not foreseen", `{ ` + persons + ` { a: edges { node { id } } b: edges { node { email } } } }`, 1,
			[]string{"Person.email", "Person.id"}, false},
		// The customer is read as register data (not under the grant); its persons are read under
		// it, with a field the page did not select.
		{"a nested list beyond the page", `{ ` + persons + ` { edges { node { id customer { id persons(first: 1) { edges { node { id email } } } } } } } }`, 0, nil, true},
	} {
		before := len(entries())
		r := s.query(director, c.query, nil)
		shown := idsIn(r.Data["persons"])
		if len(shown) == 0 {
			t.Fatalf("%s: nothing shown: %+v", c.name, r)
		}
		after := entries()
		added := after[before:] // oldest first
		if c.entries > 0 && len(added) != c.entries {
			t.Fatalf("%s: %d entries added, want %d: %+v", c.name, len(added), c.entries, added)
		}
		if len(added) == 0 {
			t.Fatalf("%s: no entry", c.name)
		}
		logged := map[string]bool{}
		var fields []string
		for _, e := range added {
			for _, rec := range e.records {
				logged[rec] = true
			}
			fields = append(fields, e.fields...)
		}
		for _, id := range shown {
			if raw, _ := base64.RawURLEncoding.DecodeString(id); strings.HasPrefix(string(raw), "Customer:") {
				continue // register data, which the director reads without the grant
			}
			if !logged[id] {
				t.Fatalf("%s: record %s shown but not logged: %+v", c.name, id, added)
			}
		}
		slices.Sort(fields)
		fields = slices.Compact(fields)
		if c.fields != nil && !slices.Equal(fields, c.fields) {
			t.Fatalf("%s: fields logged %v, want %v", c.name, fields, c.fields)
		}
		if c.nested && (!slices.Contains(fields, "Person.id") || !slices.Contains(fields, "Person.email")) {
			t.Fatalf("%s: fields %v", c.name, fields)
		}
	}
}

// idsIn is every "id" value in an answer's data, at any depth.
func idsIn(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if id, ok := x.(string); ok && k == "id" {
				out = append(out, id)
			} else {
				out = append(out, idsIn(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, idsIn(x)...)
		}
	}
	return out
}

// grantPersons has the director ask for a grant on the bakery's persons (writing too, if write)
// and its admin approve it; it returns their tokens, the customer's id and the grant's.
func grantPersons(t *testing.T, s *server, write bool) (director, admin, customerID, grantID string) {
	t.Helper()
	director = s.token("director@wvsoft.example")
	admin = s.token("admin@bakkerij-de-vries.example")
	customerID = dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	r := s.query(director, `mutation($c: ID!, $w: Boolean) { requestSupportAccess(input: {customerId: $c, reason: "a ticket",
		types: [Person], write: $w}) { id } }`, map[string]any{"c": customerID, "w": write})
	grantID, _ = dig(r.Data, "requestSupportAccess", "id").(string)
	if r := s.query(admin, `mutation($id: ID!) { approveSupportAccess(input: {id: $id}) { status } }`, map[string]any{"id": grantID}); grantID == "" || len(r.Errors) > 0 {
		t.Fatalf("the grant: %+v", r)
	}
	return director, admin, customerID, grantID
}
