package main

import (
	"slices"
	"testing"
	"time"
)

// Contact persons searched across the customer register. A filter looks only where the
// caller may read its field: a contact person whose name is restricted to billing after an
// erasure never matches support's name search, though it matches billing's, and support's
// count agrees with what it can page through. An order, which moves every row, is refused where
// the field is not readable in every contact person.
func TestContactPersonSearchLooksOnlyWhereTheFieldIsReadable(t *testing.T) {
	s := startServer(t, nil)
	support := s.token("support@wvsoft.example")
	billing := s.token("billing@wvsoft.example")
	bakkerijAdmin := s.token("admin@bakkerij-de-vries.example")
	jansenAdmin := s.token("admin@jansen-installatie.example")
	jansen := dig(s.query(jansenAdmin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)

	// A contact person of a customer whose relationship ended, erased: the name is kept,
	// restricted to billing.
	endRelationship(t, s, "jansen-installatie", time.Now().AddDate(0, -2, 0))
	r := s.query(support, `query($id: ID!) { node(id: $id) { ... on Customer { contactPersons { id name } } } }`, map[string]any{"id": jansen})
	restrictedID, _ := dig(r.Data, "node", "contactPersons", 0, "id").(string)
	name, _ := dig(r.Data, "node", "contactPersons", 0, "name").(string)
	if restrictedID == "" || len(name) < 4 {
		t.Fatalf("no contact person with a name: %+v", r)
	}
	r = s.query(support, `mutation($s: ID!) { registerDataSubjectRequest(input: {subjectId: $s, kind: ERASURE}) { id } }`, map[string]any{"s": restrictedID})
	r = s.query(support, `mutation($id: ID!) { executeDataSubjectRequest(id: $id) { status } }`,
		map[string]any{"id": dig(r.Data, "registerDataSubjectRequest", "id")})
	if len(r.Errors) > 0 {
		t.Fatalf("erasure: %+v", r.Errors)
	}
	// A current customer's contact person with the same name: readable by support.
	r = s.query(bakkerijAdmin, `{ me { customer { id } } }`, nil)
	bakkerij := dig(r.Data, "me", "customer", "id").(string)
	r = s.query(support, `mutation($c: ID!, $n: String!) { createContactPerson(input: {customerId: $c, name: $n, role: CONTACT}) { id } }`,
		map[string]any{"c": bakkerij, "n": name})
	currentID, _ := dig(r.Data, "createContactPerson", "id").(string)
	if currentID == "" {
		t.Fatalf("create: %+v", r.Errors)
	}

	const search = `query($f: ContactPersonFilter, $o: ContactPersonOrder, $first: Int, $after: String) {
		contactPersons(filter: $f, orderBy: $o, first: $first, after: $after) {
			totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`
	found := func(cred string, f map[string]any) ([]string, float64) {
		t.Helper()
		var ids []string
		var after any
		total := -1.0
		for {
			r := s.query(cred, search, map[string]any{"f": f, "first": 2, "after": after})
			if len(r.Errors) > 0 {
				t.Fatalf("search %v: %+v", f, r.Errors)
			}
			total, _ = dig(r.Data, "contactPersons", "totalCount").(float64)
			edges, _ := dig(r.Data, "contactPersons", "edges").([]any)
			for _, e := range edges {
				ids = append(ids, dig(e, "node", "id").(string))
			}
			if dig(r.Data, "contactPersons", "pageInfo", "hasNextPage") != true {
				return ids, total
			}
			after = dig(r.Data, "contactPersons", "pageInfo", "endCursor")
		}
	}
	byName := map[string]any{"name": map[string]any{"startsWith": name[:4]}}

	supportFound, supportTotal := found(support, byName)
	if slices.Contains(supportFound, restrictedID) {
		t.Errorf("support's name search matched the contact person whose name is restricted to billing")
	}
	if !slices.Contains(supportFound, currentID) {
		t.Errorf("support's name search missed a current customer's contact person: %v", supportFound)
	}
	if int(supportTotal) != len(supportFound) {
		t.Errorf("support's totalCount %v, paged through %d", supportTotal, len(supportFound))
	}
	billingFound, billingTotal := found(billing, byName)
	if !slices.Contains(billingFound, restrictedID) || !slices.Contains(billingFound, currentID) {
		t.Errorf("billing's name search: %v, want both %s and %s", billingFound, restrictedID, currentID)
	}
	if int(billingTotal) != len(billingFound) {
		t.Errorf("billing's totalCount %v, paged through %d", billingTotal, len(billingFound))
	}
	// Without a filter, support lists the restricted contact person like any other (its name
	// is denied at its path, as in any query): only the condition looks away from it.
	all, _ := found(support, nil)
	if !slices.Contains(all, restrictedID) {
		t.Errorf("support's unfiltered list lacks the restricted contact person")
	}

	// An admin searches only its own customer's contact persons.
	adminFound, _ := found(bakkerijAdmin, byName)
	if !slices.Equal(adminFound, []string{currentID}) {
		t.Errorf("the bakery's admin found %v, want only %s", adminFound, currentID)
	}

	// An order moves every row: support may not order on a name it cannot read everywhere.
	r = s.query(support, search, map[string]any{"o": map[string]any{"field": "NAME"}})
	if len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" || r.Errors[0].Extensions["field"] != "orderBy.field" {
		t.Errorf("support ordered by name: %+v", r.Errors)
	}
	if r := s.query(billing, search, map[string]any{"o": map[string]any{"field": "NAME"}}); len(r.Errors) > 0 {
		t.Errorf("billing ordered by name: %+v", r.Errors)
	}
	// A role filter is an enum condition; bad input names its argument.
	if r := s.query(support, search, map[string]any{"f": map[string]any{"role": []string{}}}); len(r.Errors) != 1 || r.Errors[0].Extensions["field"] != "filter.role" {
		t.Errorf("an empty role list: %+v", r.Errors)
	}
}
