package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wvsoft/privacy/internal/accesslog"
)

// explained is the explanation of a response, by type.field, or nil when there is none.
func explained(r gqlResponse) (available bool, byField map[string]map[string]any) {
	ex, _ := r.Extensions["explain"].(map[string]any)
	available, _ = ex["available"].(bool)
	list, _ := ex["decisions"].([]any)
	if len(list) == 0 {
		return available, nil
	}
	byField = map[string]map[string]any{}
	for _, d := range list {
		m := d.(map[string]any)
		byField[m["type"].(string)+"."+m["field"].(string)+"/"+m["action"].(string)] = m
	}
	return available, byField
}

// An author asks for the decisions of a request (a header, or the operation's extensions) and
// sees, per distinct decision, its effect and rule; in production only the configured policy
// authors may, and everyone else who asks is told so and sees none of it.
func TestExplainDecisions(t *testing.T) {
	const query = `{ persons(first: 3) { edges { node { name bsn iban } } } }`
	dev := startServer(t, nil)
	key := dev.token("member@bakkerij-de-vries.example")
	r := dev.post(query, map[string]string{"Authorization": "Bearer " + key, "X-WvSoft-Explain": "1"})
	ok, byField := explained(r)
	if !ok || byField["Person.bsn/read"]["effect"] != "allow" || byField["Person.bsn/read"]["rule"] != "customer.own_data" ||
		byField["Person.name/read"]["count"] != float64(3) || byField["Query.persons/read"]["rule"] != "structural" {
		t.Fatalf("explanation in development: %+v", r.Extensions)
	}
	if rec, _ := byField["Person.bsn/read"]["record"].(map[string]any); rec["data_of"] != "DATA_SPACE" {
		t.Fatalf("the record class: %v", byField["Person.bsn/read"])
	}
	// Asked through the operation's extensions, with a write: the write's decisions too.
	r = dev.postBody(map[string]any{"query": `mutation($id: ID!) { updatePerson(input: {id: $id, city: "Delft"}) { city } }`,
		"variables":  map[string]any{"id": dig(dev.query(key, `{ persons(first: 1) { edges { node { id } } } }`, nil).Data, "persons", "edges", 0, "node", "id")},
		"extensions": map[string]any{"explain": true}}, map[string]string{"Authorization": "Bearer " + key})
	if _, byField := explained(r); byField["Person.city/write"]["rule"] != "customer.own_data" || byField["Person.id/write"]["effect"] != "allow" {
		t.Fatalf("explanation of a write: %+v %+v", r.Errors, r.Extensions)
	}
	if r := dev.query(key, query, nil); r.Extensions["explain"] != nil {
		t.Fatalf("an explanation nobody asked for: %+v", r.Extensions)
	}
	// The development playground's identity switch: every demo login with a working token.
	var ids []struct{ Email, Role, Token string }
	resp, err := http.Get(dev.url + "/playground/identities.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&ids); err != nil || len(ids) != 8 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("demo identities: %v %+v", err, ids)
	}
	resp.Body.Close()
	for _, id := range ids {
		if r := dev.query(id.Token, `{ me { role } }`, nil); id.Role != "ACCOUNTANT" && dig(r.Data, "me", "role") != id.Role {
			t.Errorf("%s's token: %+v", id.Email, r)
		}
	}

	skey, _, err := accesslog.GenerateKey("wvsoft-access-log-test")
	if err != nil {
		t.Fatal(err)
	}
	prod := startServer(t, map[string]string{"WVSOFT_ENV": "production", "ACCESS_LOG_SIGNING_KEY": skey, "ALLOW_DEVELOPMENT_TOKENS": "true", "POLICY_AUTHORS": "Support@WvSoft.example"})
	if resp, err := http.Get(prod.url + "/playground/identities.json"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("production hands out demo tokens: %v %v", err, resp.Status)
	}
	member := prod.token("member@bakkerij-de-vries.example")
	r = prod.post(query, map[string]string{"Authorization": "Bearer " + member, "X-WvSoft-Explain": "1"})
	if ok, byField := explained(r); ok || byField != nil || len(r.Errors) > 0 || dig(r.Data, "persons", "edges", 0, "node", "bsn") == nil {
		t.Fatalf("a customer's member got an explanation in production: %+v", r.Extensions)
	}
	support := prod.token("support@wvsoft.example")
	r = prod.post(`{ customers(first: 2) { edges { node { name iban } } } }`, map[string]string{"Authorization": "Bearer " + support, "X-WvSoft-Explain": "1"})
	if ok, byField := explained(r); !ok || byField["Customer.iban/read"]["effect"] != "mask" || byField["Customer.iban/read"]["rule"] != "staff.support_iban" {
		t.Fatalf("the configured author's explanation: %+v", r.Extensions)
	}
}
