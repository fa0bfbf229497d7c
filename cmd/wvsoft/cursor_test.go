package main

import "testing"

// A cursor is valid for the list it came from only: the director, under grants at two
// customers, pages one customer's persons by name after a cursor of the other's. The row of a
// foreign cursor is not among the list's rows, so the list ends there; it must not resume after
// where the other customer's person sorts (which would read that person's name key under a
// grant without an entry in that customer's access log).
func TestForeignCursorEndsTheList(t *testing.T) {
	s := startServer(t, nil)
	director := s.token("director@wvsoft.example")
	customers := map[string]string{}
	for slug, admin := range map[string]string{"bakkerij-de-vries": "admin@bakkerij-de-vries.example", "jansen-installatie": "admin@jansen-installatie.example"} {
		tok := s.token(admin)
		id := dig(s.query(tok, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
		customers[slug] = id
		r := s.query(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket #7",
			types: [Person], durationMinutes: 60}) { id } }`, map[string]any{"c": id})
		grant, _ := dig(r.Data, "requestSupportAccess", "id").(string)
		if r := s.query(tok, `mutation($id: ID!) { approveSupportAccess(input: {id: $id}) { status } }`, map[string]any{"id": grant}); len(r.Errors) > 0 {
			t.Fatalf("approve at %s: %+v", slug, r)
		}
	}
	page := `query($c: ID!, $after: String) { persons(customerId: $c, first: 3, after: $after, orderBy: {field: NAME}) {
		edges { cursor node { id name } } } }`
	edges := func(customer string, after any) []any {
		t.Helper()
		r := s.query(director, page, map[string]any{"c": customer, "after": after})
		if len(r.Errors) > 0 {
			t.Fatalf("persons: %+v", r.Errors)
		}
		e, _ := dig(r.Data, "persons", "edges").([]any)
		return e
	}
	own := edges(customers["bakkerij-de-vries"], nil)
	if len(own) != 3 {
		t.Fatalf("a first page of 3: %v", own)
	}
	// The list's own cursor goes on.
	if next := edges(customers["bakkerij-de-vries"], dig(own[2], "cursor")); len(next) != 3 || dig(next[0], "node", "id") == dig(own[2], "node", "id") {
		t.Fatalf("the next page: %v", next)
	}
	foreign := edges(customers["jansen-installatie"], nil)
	if len(foreign) == 0 {
		t.Fatal("no persons at the other customer")
	}
	for _, e := range foreign {
		if got := edges(customers["bakkerij-de-vries"], dig(e, "cursor")); len(got) != 0 {
			t.Fatalf("a cursor of another customer's person (%v) resumed the list: %v", dig(e, "node", "name"), got)
		}
	}
}
