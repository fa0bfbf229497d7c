package main

import (
	"testing"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Bad input is refused on the field that carries it, and nothing is written: a reference to a
// customer that does not exist, a relationship that starts in the future, and a name, street or
// title of more than one line (which would start a new line in a printed document or a mail).
func TestInputRefusalsNameTheField(t *testing.T) {
	s := startServer(t, nil)
	director := s.token("director@wvsoft.example")
	support := s.token("support@wvsoft.example")
	member := s.token("member@bakkerij-de-vries.example")

	refused := func(who, query string, vars map[string]any, field string) {
		t.Helper()
		r := s.query(who, query, vars)
		if len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != field {
			t.Errorf("%s: want BAD_USER_INPUT on %s, got %+v", query, field, r.Errors)
		}
	}
	unknown := wvsoft.GlobalID(wvsoft.KindCustomer, uuid.New())
	refused(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket #1", types: [Person]}) { id } }`,
		map[string]any{"c": unknown}, "input.customerId")

	customers := func() float64 {
		r := s.query(support, `{ customers(first: 100) { totalCount } }`, nil)
		n, _ := dig(r.Data, "customers", "totalCount").(float64)
		return n
	}
	before := customers()
	refused(support, `mutation { createCustomer(input: {slug: "toekomst", name: "Toekomst BV", relationshipStart: "2999-01-01"}) { id } }`, nil,
		"input.relationshipStart")
	refused(support, `mutation($n: String!) { createCustomer(input: {slug: "twee-regels", name: $n}) { id } }`,
		map[string]any{"n": "Twee\nRegels BV"}, "input.name")
	refused(support, `mutation($n: String!) { createCustomer(input: {slug: "tab", name: "Tab BV", city: $n}) { id } }`,
		map[string]any{"n": "Amster\tdam"}, "input.city")
	if after := customers(); after != before {
		t.Errorf("refused creations wrote customers: %v before, %v after", before, after)
	}
	refused(member, `mutation($n: String!) { createPerson(input: {name: $n}) { id } }`,
		map[string]any{"n": "Jan\r\nJansen"}, "input.name")
	// Free text keeps its lines.
	if r := s.query(member, `mutation($h: String!) { createPerson(input: {name: "Jan Jansen", household: $h}) { id } }`,
		map[string]any{"h": "Gehuwd\nTwee kinderen"}); len(r.Errors) > 0 {
		t.Errorf("a household of two lines was refused: %+v", r.Errors)
	}
}
