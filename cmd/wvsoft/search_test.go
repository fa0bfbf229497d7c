package main

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// Against the real server: filters and orders that the policy decides
// as reads of their fields, complete Relay connections, and counts that tell no more than the
// rows the caller can page through.
func TestSearchOrderAndCount(t *testing.T) {
	s := startServer(t, nil)
	member := s.token("member@bakkerij-de-vries.example")
	admin := s.token("admin@bakkerij-de-vries.example")
	support := s.token("support@wvsoft.example")
	billing := s.token("billing@wvsoft.example")
	director := s.token("director@wvsoft.example")

	// mustOK fails on any error and returns the data.
	mustOK := func(cred, q string, vars map[string]any) map[string]any {
		t.Helper()
		r := s.query(cred, q, vars)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", q, r.Errors)
		}
		return r.Data
	}
	// refused checks one error with the code and the field named.
	refused := func(cred, q string, vars map[string]any, code, field string) {
		t.Helper()
		r := s.query(cred, q, vars)
		if len(r.Errors) != 1 || r.codes()[0] != code || r.Errors[0].Extensions["field"] != field {
			t.Fatalf("%s: want %s on %q, got %+v", q, code, field, r.Errors)
		}
	}

	// A person whose name, city and postal code have accents, capitals and spaces.
	created := mustOK(member, `mutation { createPerson(input: {name: "José Müller-Çelik", city: "'s-Hertogenbosch", postalCode: "5211 AB"}) { id } }`, nil)
	joseID := dig(created, "createPerson", "id")

	const search = `query($f: PersonFilter, $o: PersonOrder, $first: Int, $after: String, $last: Int, $before: String) {
		persons(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
			totalCount edges { cursor node { id name city } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	ids := func(data map[string]any) []string {
		var out []string
		edges, _ := dig(data, "persons", "edges").([]any)
		for _, e := range edges {
			out = append(out, dig(e, "node", "id").(string))
		}
		return out
	}

	t.Run("text search ignores case, accents and spaces", func(t *testing.T) {
		for _, f := range []map[string]any{
			{"name": map[string]any{"startsWith": "jose mu"}},
			{"name": map[string]any{"contains": "MULLER-CEL"}},
			{"city": map[string]any{"startsWith": "'S-HERTOG"}},
			{"postalCode": map[string]any{"startsWith": "5211ab"}},
			{"postalCode": map[string]any{"contains": "1 a"}, "name": map[string]any{"startsWith": "José"}},
		} {
			d := mustOK(member, search, map[string]any{"f": f})
			if got := ids(d); len(got) != 1 || got[0] != joseID || dig(d, "persons", "totalCount") != 1.0 {
				t.Errorf("filter %v: %v, totalCount %v", f, got, dig(d, "persons", "totalCount"))
			}
		}
		// LIKE's wildcards are text like any other.
		if got := ids(mustOK(member, search, map[string]any{"f": map[string]any{"name": map[string]any{"startsWith": "%"}}})); len(got) != 0 {
			t.Errorf("a %% matched %d persons", len(got))
		}
	})

	t.Run("totalCount is what the caller can page through", func(t *testing.T) {
		for _, f := range []map[string]any{nil, {"name": map[string]any{"startsWith": "jan"}}, {"city": map[string]any{"contains": "dam"}, "maritalStatus": []string{"MARRIED", "DIVORCED"}}} {
			var seen []string
			var after any
			total := -1.0
			for {
				d := mustOK(member, search, map[string]any{"f": f, "first": 90, "after": after})
				total = dig(d, "persons", "totalCount").(float64)
				seen = append(seen, ids(d)...)
				if dig(d, "persons", "pageInfo", "hasNextPage") != true {
					break
				}
				after = dig(d, "persons", "pageInfo", "endCursor")
			}
			if int(total) != len(seen) || len(seen) == 0 {
				t.Errorf("filter %v: totalCount %v, paged through %d", f, total, len(seen))
			}
		}
	})

	t.Run("last/before round-trips with first/after in every order", func(t *testing.T) {
		f := map[string]any{"city": map[string]any{"startsWith": "a"}} // Amsterdam, Apeldoorn: a few dozen
		for _, o := range []map[string]any{nil, {"field": "NAME"}, {"field": "CITY", "direction": "DESC"}, {"field": "BIRTH_DATE"}, {"field": "POSTAL_CODE", "direction": "DESC"}} {
			// Forward, 7 at a time.
			var forward []string
			var after any
			for page := 0; ; page++ {
				d := mustOK(member, search, map[string]any{"f": f, "o": o, "first": 7, "after": after})
				info := dig(d, "persons", "pageInfo").(map[string]any)
				if info["hasPreviousPage"] != (page > 0) {
					t.Fatalf("order %v, page %d forward: hasPreviousPage %v", o, page, info["hasPreviousPage"])
				}
				forward = append(forward, ids(d)...)
				if info["hasNextPage"] != true {
					break
				}
				after = info["endCursor"]
			}
			// Backward, 5 at a time, from the end.
			var backward []string
			var before any
			for page := 0; ; page++ {
				d := mustOK(member, search, map[string]any{"f": f, "o": o, "last": 5, "before": before})
				info := dig(d, "persons", "pageInfo").(map[string]any)
				if info["hasNextPage"] != (page > 0) {
					t.Fatalf("order %v, page %d backward: hasNextPage %v", o, page, info["hasNextPage"])
				}
				backward = append(ids(d), backward...)
				if info["hasPreviousPage"] != true {
					break
				}
				before = info["startCursor"]
			}
			if len(forward) < 15 || !slices.Equal(forward, backward) {
				t.Fatalf("order %v: forward %d rows, backward %d, equal %v", o, len(forward), len(backward), slices.Equal(forward, backward))
			}
		}
		// The order by name is by name, whatever the case.
		d := mustOK(member, search, map[string]any{"o": map[string]any{"field": "NAME"}, "first": 100})
		var names []string
		for _, e := range dig(d, "persons", "edges").([]any) {
			names = append(names, strings.ToLower(dig(e, "node", "name").(string)))
		}
		if !slices.IsSorted(names) {
			t.Fatalf("not ordered by name: %v", names[:10])
		}
	})

	// forged is a cursor of an order by field at the row id.
	forged := func(field, id string) string {
		b, _ := json.Marshal(map[string]any{"f": field, "i": id})
		return base64.RawURLEncoding.EncodeToString(b)
	}
	t.Run("cursors hold no values", func(t *testing.T) {
		// A cursor of an order by a field names its row, not the row's value: a name in a URL
		// or a log would outlive an erasure. The store reads the key of the cursor's row.
		d := mustOK(member, search, map[string]any{"o": map[string]any{"field": "NAME"}, "f": map[string]any{"name": map[string]any{"startsWith": "José"}}})
		end, _ := dig(d, "persons", "pageInfo", "endCursor").(string)
		raw, err := base64.RawURLEncoding.DecodeString(end)
		if err != nil || end == "" || strings.Contains(strings.ToLower(string(raw)), "jos") || strings.Contains(string(raw), "ller") {
			t.Fatalf("cursor %q (%s): %v", end, raw, err)
		}
		// A cursor at a row the caller cannot see (another customer's, or none) ends the list:
		// nothing after it, no error that would tell it exists.
		d = mustOK(member, search, map[string]any{"o": map[string]any{"field": "NAME"}, "after": forged("name", "019abc00-0000-7000-8000-000000000001")})
		if got := ids(d); len(got) != 0 {
			t.Fatalf("after a cursor at no row: %v", got)
		}
	})
	t.Run("validation names the argument", func(t *testing.T) {
		cursorByID := dig(mustOK(member, search, map[string]any{"first": 1}), "persons", "pageInfo", "endCursor")
		for _, c := range []struct {
			vars  map[string]any
			field string
		}{
			{map[string]any{"first": 2, "last": 2}, "last"},
			{map[string]any{"first": -1}, "first"},
			{map[string]any{"last": 0}, "last"},
			{map[string]any{"after": "bm90IGEgY3Vyc29y"}, "after"},
			{map[string]any{"after": "!!"}, "after"},
			{map[string]any{"last": 2, "after": cursorByID}, "after"},
			{map[string]any{"before": cursorByID, "after": cursorByID}, "before"},
			{map[string]any{"o": map[string]any{"field": "NAME"}, "after": cursorByID}, "after"}, // a cursor of another order
			{map[string]any{"f": map[string]any{"name": map[string]any{"contains": "ab"}}}, "filter.name.contains"},
			{map[string]any{"f": map[string]any{"name": map[string]any{}}}, "filter.name"},
			{map[string]any{"f": map[string]any{"birthDate": map[string]any{"from": "2000-01-02", "to": "2000-01-01"}}}, "filter.birthDate.to"},
			// Text PostgreSQL cannot take: the client's input, never an internal error.
			{map[string]any{"f": map[string]any{"name": map[string]any{"startsWith": "ja\u0000n"}}}, "filter.name.startsWith"},
			{map[string]any{"f": map[string]any{"city": map[string]any{"contains": "dam\u0007"}}}, "filter.city.contains"},
			{map[string]any{"o": map[string]any{"field": "BIRTH_DATE"}, "after": forged("name", "019abc00-0000-7000-8000-000000000001")}, "after"},
		} {
			refused(member, search, c.vars, "BAD_USER_INPUT", c.field)
		}
	})

	t.Run("a read-only key filters what it reads, never the BSN", func(t *testing.T) {
		r := s.query(admin, `mutation { createApiKey(input: {name: "zoeken"}) { secret } }`, nil)
		key, _ := dig(r.Data, "createApiKey", "secret").(string)
		if key == "" {
			t.Fatalf("no key: %+v", r.Errors)
		}
		// Encrypted fields are not in the filter's type: the schema refuses them.
		for _, q := range []string{
			`{ persons(filter: {bsn: {startsWith: "1"}}) { totalCount } }`,
			`{ persons(filter: {medicalNotes: {contains: "diabetes"}}) { totalCount } }`,
			`{ persons(orderBy: {field: BSN}) { totalCount } }`,
		} {
			r := s.query(key, q, nil)
			if len(r.Errors) != 1 || r.codes()[0] != "GRAPHQL_VALIDATION_FAILED" || r.Data != nil {
				t.Fatalf("%s: %+v", q, r)
			}
		}
		d := mustOK(key, search, map[string]any{"f": map[string]any{"name": map[string]any{"startsWith": "jose"}}, "o": map[string]any{"field": "BIRTH_DATE"}})
		if got := ids(d); len(got) != 1 || dig(d, "persons", "totalCount") != 1.0 {
			t.Fatalf("the key's search by name: %v", got)
		}
	})

	const customers = `query($f: CustomerFilter, $o: CustomerOrder) { customers(filter: $f, orderBy: $o, first: 500) {
		totalCount edges { node { id slug } } } }`
	countCustomers := func(cred string, f map[string]any) (float64, int) {
		d := mustOK(cred, customers, map[string]any{"f": f})
		edges, _ := dig(d, "customers", "edges").([]any)
		return dig(d, "customers", "totalCount").(float64), len(edges)
	}

	t.Run("the customer register: each role filters what it reads", func(t *testing.T) {
		if total, n := countCustomers(support, map[string]any{"name": map[string]any{"contains": "akker"}}); total != 1 || n != 1 {
			t.Fatalf("support by name: total %v, %d rows", total, n)
		}
		if total, n := countCustomers(support, nil); int(total) != n || n < 2 {
			t.Fatalf("support: total %v, %d rows", total, n)
		}
		// A customer's own users see and count their own customer only.
		if total, n := countCustomers(member, nil); total != 1 || n != 1 {
			t.Fatalf("member: total %v, %d rows", total, n)
		}
		if total, n := countCustomers(member, map[string]any{"name": map[string]any{"startsWith": "jansen"}}); total != 0 || n != 0 {
			t.Fatalf("member searching another customer: total %v, %d rows", total, n)
		}
		// Support does not read a customer's city or postal code (billing data): no filter, no order.
		refused(support, customers, map[string]any{"f": map[string]any{"city": map[string]any{"startsWith": "a"}}}, "FORBIDDEN", "filter.city")
		refused(support, customers, map[string]any{"o": map[string]any{"field": "POSTAL_CODE"}}, "FORBIDDEN", "orderBy.field")
		mustOK(billing, customers, map[string]any{"f": map[string]any{"city": map[string]any{"startsWith": "a"}}, "o": map[string]any{"field": "CITY"}})
		// Nobody at WvSoft reaches a data space without a grant: no rows, no count.
		for _, cred := range []string{support, director} {
			r := s.query(cred, `query($c: ID) { persons(customerId: $c) { totalCount } }`, map[string]any{"c": dig(mustOK(member, `{ me { customer { id } } }`, nil), "me", "customer", "id")})
			if len(r.Errors) != 1 || r.codes()[0] != "NOT_FOUND" {
				t.Fatalf("staff counting a data space: %+v", r)
			}
		}
		// Neither does a customer's user reach another's.
		jansen := dig(mustOK(support, customers, map[string]any{"f": map[string]any{"name": map[string]any{"startsWith": "jansen"}}}), "customers", "edges", 0, "node", "id")
		if r := s.query(member, `query($c: ID) { persons(customerId: $c) { totalCount } }`, map[string]any{"c": jansen}); len(r.Errors) != 1 || r.codes()[0] != "NOT_FOUND" {
			t.Fatalf("a member counting another data space: %+v", r)
		}
	})

	t.Run("under a grant, a search and a count are accesses the customer reads", func(t *testing.T) {
		c := dig(mustOK(admin, `{ me { customer { id } } }`, nil), "me", "customer", "id")
		g := dig(mustOK(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket 17",
			types: [Person], durationMinutes: 60}) { id } }`, map[string]any{"c": c}), "requestSupportAccess", "id")
		mustOK(admin, `mutation($id: ID!) { approveSupportAccess(input: {id: $id}) { status } }`, map[string]any{"id": g})
		// No person is returned: only the search and the count read the data space.
		d := mustOK(director, `query($c: ID) { persons(customerId: $c, filter: {name: {startsWith: "jose"}}, first: 1) { totalCount } }`, map[string]any{"c": c})
		if dig(d, "persons", "totalCount") != 1.0 {
			t.Fatalf("the director's count under the grant: %v", d)
		}
		var fields, records []any
		for range 50 { // the access log is written when the request ends
			log := mustOK(admin, `query($g: ID) { me { customer { accessLog(grantId: $g) { edges { node { event records fields } } } } } }`, map[string]any{"g": g})
			for _, e := range dig(log, "me", "customer", "accessLog", "edges").([]any) {
				if dig(e, "node", "event") == "ACCESS" {
					fields, _ = dig(e, "node", "fields").([]any)
					records, _ = dig(e, "node", "records").([]any)
				}
			}
			if fields != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !slices.Contains(fields, any("Person.name")) || !slices.Contains(fields, any("PersonConnection.totalCount")) || !slices.Contains(records, c) {
			t.Fatalf("the access log of the search: fields %v, records %v", fields, records)
		}
		mustOK(admin, `mutation($id: ID!) { revokeSupportAccess(id: $id) { status } }`, map[string]any{"id": g})
	})

	t.Run("a withdrawal of consent takes the customer out of support's search by name", func(t *testing.T) {
		me := mustOK(admin, `{ me { customer { id } } }`, nil)
		mustOK(admin, `mutation($c: ID!) { withdrawConsent(input: {customerId: $c, basis: EMAIL, evidence: "mail 17"}) { given } }`,
			map[string]any{"c": dig(me, "me", "customer", "id")})
		// Support may no longer read the name of that customer: a search by name looks only at
		// the customers whose name support may read, so the bakery matches no name at all (not
		// even its own), and the others still match theirs. What is searched is decided per
		// class of customers (consent given or withdrawn), never per row.
		for _, name := range []string{"bakker", "bakkerij de vries", "b"} {
			if total, n := countCustomers(support, map[string]any{"name": map[string]any{"startsWith": name}}); total != 0 || n != 0 {
				t.Fatalf("support's search for %q after the withdrawal: total %v, %d rows", name, total, n)
			}
		}
		if total, n := countCustomers(support, map[string]any{"name": map[string]any{"startsWith": "jansen"}}); total != 1 || n != 1 {
			t.Fatalf("support's search for a consenting customer: total %v, %d rows", total, n)
		}
		// An order moves every row, the bakery's too: refused.
		refused(support, customers, map[string]any{"o": map[string]any{"field": "NAME"}}, "FORBIDDEN", "orderBy.field")
		// Billing keeps the billing data after a withdrawal, and searches it.
		if total, n := countCustomers(billing, map[string]any{"name": map[string]any{"startsWith": "bakker"}}); total != 1 || n != 1 {
			t.Fatalf("billing after the withdrawal: total %v, %d rows", total, n)
		}
		// The register itself stays listed and counted for support: ids are no personal data.
		if total, n := countCustomers(support, nil); int(total) != n {
			t.Fatalf("support's count after the withdrawal: %v, %d rows", total, n)
		}
	})

	// The refusals named the field, never a value.
	if logs := s.logs.String(); strings.Contains(logs, "José") || strings.Contains(logs, "Hertogenbosch") {
		t.Fatalf("a personal value in the log: %.300s", logs)
	}
}
