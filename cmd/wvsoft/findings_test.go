package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// intArguments lists every integer argument of the schema: field arguments as Type.field(arg),
// input fields as Input.field.
func intArguments(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(src)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	var out []string
	for name, def := range schema.Types {
		if strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if def.Kind == ast.InputObject && f.Type.Name() == "Int" {
				out = append(out, name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if a.Type.Name() == "Int" {
					out = append(out, name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Every integer argument of the schema is bounded before any arithmetic: at its extremes (0, -1,
// the largest GraphQL Int, one above it, and 307445736 minutes, which overflowed time.Duration
// to one minute) the answer is BAD_USER_INPUT naming the argument, never a wrapped value, a
// database error or INTERNAL.
func TestIntegerArgumentsAreBounded(t *testing.T) {
	s := startServer(t, nil)
	member := s.token("member@bakkerij-de-vries.example")
	admin := s.token("admin@bakkerij-de-vries.example")
	support := s.token("support@wvsoft.example")
	director := s.token("director@wvsoft.example")
	customerID := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	r := s.query(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket 1",
		types: [Person]}) { id } }`, map[string]any{"c": customerID})
	grantID, _ := dig(r.Data, "requestSupportAccess", "id").(string)
	if grantID == "" {
		t.Fatalf("request: %+v", r)
	}
	breach := func(field string) string {
		return `mutation($n: Int, $c: ID!, $at: Time!) { recordBreach(input: {description: "Een test van de grenzen",
			discoveredAt: $at, categories: [CONTACT], ` + field + `: $n, customerIds: [$c]}) { id } }`
	}
	breachVars := map[string]any{"c": customerID, "at": time.Now().Add(-time.Hour).Format(time.RFC3339)}
	cases := map[string]struct {
		who, doc, field string
		vars            map[string]any
		// breaches: no one affected is a real answer, and so are 307445736 records
		countsValid bool
	}{
		"Query.customers(first)": {support, `query($n: Int) { customers(first: $n) { edges { node { id } } } }`, "first", nil, false},
		"Query.persons(first)":   {member, `query($n: Int) { persons(first: $n) { edges { node { id } } } }`, "first", nil, false},
		"Query.outbox(first)":    {support, `query($n: Int) { outbox(first: $n) { id } }`, "first", nil, false},
		"Query.customers(last)":  {support, `query($n: Int) { customers(last: $n) { edges { node { id } } } }`, "last", nil, false},
		"Query.contactPersons(first)": {support, `query($n: Int) { contactPersons(first: $n) { edges { node { id } } } }`,
			"first", nil, false},
		"Query.contactPersons(last)": {support, `query($n: Int) { contactPersons(last: $n) { edges { node { id } } } }`,
			"last", nil, false},
		"Query.persons(last)": {member, `query($n: Int) { persons(last: $n) { edges { node { id } } } }`, "last", nil, false},
		"Customer.persons(last)": {member, `query($n: Int) { me { customer { persons(last: $n) { edges { node { id } } } } } }`,
			"last", nil, false},
		"Customer.persons(first)": {member, `query($n: Int) { me { customer { persons(first: $n) { edges { node { id } } } } } }`,
			"first", nil, false},
		"Customer.accessLog(first)": {admin, `query($n: Int) { me { customer { accessLog(first: $n) { edges { node { seq } } } } } }`,
			"first", nil, false},
		"RequestSupportAccessInput.durationMinutes": {director, `mutation($n: Int, $c: ID!) { requestSupportAccess(input: {
			customerId: $c, reason: "ticket 2", types: [Person], durationMinutes: $n}) { id } }`, "input.durationMinutes",
			map[string]any{"c": customerID}, false},
		"ApproveSupportAccessInput.durationMinutes": {admin, `mutation($n: Int, $id: ID!) { approveSupportAccess(input: {
			id: $id, durationMinutes: $n}) { id } }`, "input.durationMinutes", map[string]any{"id": grantID}, false},
		// The access log has entries (the request above): the proofs' sizes are bounded by it.
		"Customer.accessLogInclusionProof(seq)": {admin, `query($n: Int!) { me { customer { accessLogInclusionProof(seq: $n) { seq } } } }`,
			"seq", nil, false},
		"Customer.accessLogInclusionProof(treeSize)": {admin, `query($n: Int) { me { customer { accessLogInclusionProof(seq: 1, treeSize: $n) { seq } } } }`,
			"treeSize", nil, false},
		"Customer.accessLogConsistencyProof(from)": {admin, `query($n: Int!) { me { customer { accessLogConsistencyProof(from: $n) { from } } } }`,
			"from", nil, false},
		"Customer.accessLogConsistencyProof(to)": {admin, `query($n: Int) { me { customer { accessLogConsistencyProof(from: 1, to: $n) { to } } } }`,
			"to", nil, false},
		"RecordBreachInput.approximatePersons": {support, breach("approximatePersons"), "input.approximatePersons", breachVars, true},
		"RecordBreachInput.approximateRecords": {support, breach("approximateRecords"), "input.approximateRecords", breachVars, true},
	}
	var covered []string
	for name := range cases {
		covered = append(covered, name)
	}
	sort.Strings(covered)
	if got := intArguments(t); strings.Join(got, " ") != strings.Join(covered, " ") {
		t.Fatalf("the schema's integer arguments %v, this test covers %v: add the new ones", got, covered)
	}
	for name, c := range cases {
		for _, n := range []int64{0, -1, math.MinInt32, math.MaxInt32, math.MaxInt32 + 1, 307445736, math.MaxInt64} {
			if (n == 0 || n == 307445736) && c.countsValid {
				continue
			}
			vars := map[string]any{"n": n}
			for k, v := range c.vars {
				vars[k] = v
			}
			r := s.query(c.who, c.doc, vars)
			if len(r.Errors) != 1 || r.codes()[0] != wvsoft.EINVALID || r.Errors[0].Extensions["field"] != c.field {
				t.Errorf("%s = %d: %+v", name, n, r.Errors)
			}
		}
	}
	// The reported case, as a literal in the document: no grant of one minute.
	r = s.query(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket 3",
		types: [Person], durationMinutes: 307445736}) { id durationMinutes } }`, map[string]any{"c": customerID})
	if len(r.Errors) != 1 || r.codes()[0] != wvsoft.EINVALID || r.Errors[0].Extensions["field"] != "input.durationMinutes" {
		t.Fatalf("durationMinutes 307445736: %+v", r)
	}
	// And the bounds themselves still pass.
	r = s.query(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket 4",
		types: [Person], durationMinutes: 10080}) { durationMinutes } }`, map[string]any{"c": customerID})
	if len(r.Errors) > 0 || dig(r.Data, "requestSupportAccess", "durationMinutes") != float64(10080) {
		t.Fatalf("durationMinutes 10080: %+v", r)
	}
}

// P10: a confidentiality declaration is made to someone else. The director records the others'
// declarations, never his own.
func TestNobodyRecordsTheirOwnDeclaration(t *testing.T) {
	s := startServer(t, nil)
	director := s.token("director@wvsoft.example")
	record := `mutation($id: ID!, $signed: Time!, $expires: Time!) { recordConfidentialityDeclaration(input: {
		staffId: $id, signedAt: $signed, expiresAt: $expires}) { id } }`
	vars := func(email string) map[string]any {
		return map[string]any{"id": wvsoft.GlobalID(wvsoft.KindStaffMember, postgres.SeedID("staff", email)),
			"signed": time.Now().Add(-time.Hour).Format(time.RFC3339), "expires": time.Now().AddDate(1, 0, 0).Format(time.RFC3339)}
	}
	r := s.query(director, record, vars("director@wvsoft.example"))
	if len(r.Errors) != 1 || r.codes()[0] != wvsoft.EFORBIDDEN || r.Errors[0].Extensions["field"] != "input.staffId" ||
		dig(r.Data, "recordConfidentialityDeclaration") != nil {
		t.Fatalf("the director renewed his own declaration: %+v", r)
	}
	if r := s.query(director, record, vars("support@wvsoft.example")); len(r.Errors) > 0 {
		t.Fatalf("the director recording support's declaration: %+v", r.Errors)
	}
}

// post sends a GraphQL operation with extra headers.
func (s *server) post(query string, header map[string]string) gqlResponse {
	s.t.Helper()
	return s.postBody(map[string]any{"query": query}, header)
}

// postBody sends a GraphQL request body (query, variables, extensions) with extra headers.
func (s *server) postBody(payload map[string]any, header map[string]string) gqlResponse {
	s.t.Helper()
	body, _ := json.Marshal(payload)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		s.t.Fatalf("status %d, not JSON: %v", resp.StatusCode, err)
	}
	out.status = resp.StatusCode
	return out
}

// P5's inquiry limit, as deployed: two servers on one database behind a proxy they trust. The
// visitor behind the proxy is counted, not the proxy; the two servers together allow the burst
// once; the refusal says when to try again; another visitor is not limited.
func TestInquiryLimitAcrossServers(t *testing.T) {
	db := pgtest.New(t)
	key := filepath.Join(t.TempDir(), "key.pem")
	env := map[string]string{"INQUIRY_BURST": "3", "INQUIRY_INTERVAL": "10m", "TRUSTED_PROXIES": "127.0.0.1"}
	a, b := startServerOn(t, db, key, env), startServerOn(t, db, key, env)
	ask := `mutation { submitInquiry(input: {name: "Bezoeker", email: "bezoeker@example.nl", question: "Hoe lang bewaart u dit?"}) { received } }`
	from := func(addr string) map[string]string {
		return map[string]string{"X-Forwarded-For": "198.51.100.77, " + addr}
	}
	for i := range 3 {
		s := []*server{a, b}[i%2]
		if r := s.post(ask, from("203.0.113.5")); dig(r.Data, "submitInquiry", "received") != true {
			t.Fatalf("question %d: %+v", i, r)
		}
	}
	for _, s := range []*server{a, b} {
		r := s.post(ask, from("203.0.113.5"))
		if len(r.Errors) != 1 || r.codes()[0] != wvsoft.ERATELIMITED {
			t.Fatalf("a fourth question: %+v", r)
		}
		wait, _ := r.Errors[0].Extensions["retryAfterSeconds"].(float64)
		if wait < 500 || wait > 600 {
			t.Fatalf("retryAfterSeconds %v, want about 600", r.Errors[0].Extensions["retryAfterSeconds"])
		}
	}
	if r := b.post(ask, from("203.0.113.6")); dig(r.Data, "submitInquiry", "received") != true {
		t.Fatalf("another visitor behind the same proxy: %+v", r)
	}
}

// Every error has extensions.code, whatever the request looks like: a WebSocket upgrade that the
// server refuses (another subprotocol, version or origin), other methods, other media types, an
// empty request.
func TestEveryErrorHasACode(t *testing.T) {
	s := startServer(t, nil)
	ws := func(change ...string) map[string]string {
		h := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
			"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "graphql-transport-ws"}
		for i := 0; i+1 < len(change); i += 2 {
			h[change[i]] = change[i+1]
		}
		return h
	}
	for _, c := range []struct {
		name, method, path, body string
		header                   map[string]string
	}{
		{"a WebSocket upgrade for the old subscriptions-transport-ws", http.MethodGet, "/graphql", "", ws("Sec-WebSocket-Protocol", "graphql-ws")},
		{"a WebSocket upgrade of another version", http.MethodGet, "/graphql?query=%7Bme%7Bkind%7D%7D", "", ws("Sec-WebSocket-Version", "8")},
		{"a WebSocket upgrade from another origin", http.MethodGet, "/graphql", "", ws("Origin", "https://evil.example")},
		{"a WebSocket upgrade by POST", http.MethodPost, "/graphql", "", ws()},
		{"an upgrade by POST", http.MethodPost, "/graphql", `{"query":"{ me { kind } }"}`, map[string]string{"Upgrade": "h2c", "Content-Type": "application/json"}},
		{"GET without a query", http.MethodGet, "/graphql", "", nil},
		{"PUT", http.MethodPut, "/graphql", `{"query":"{ me { kind } }"}`, map[string]string{"Content-Type": "application/json"}},
		{"text/plain", http.MethodPost, "/graphql", `{ me { kind } }`, map[string]string{"Content-Type": "text/plain"}},
		{"an empty body", http.MethodPost, "/graphql", ``, map[string]string{"Content-Type": "application/json"}},
		{"an empty object", http.MethodPost, "/graphql", `{}`, map[string]string{"Content-Type": "application/json"}},
		{"a bad token", http.MethodPost, "/graphql", `{"query":"{ me { kind } }"}`, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer nonsense"}},
	} {
		req, _ := http.NewRequest(c.method, s.url+c.path, strings.NewReader(c.body))
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out gqlResponse
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || len(out.Errors) == 0 {
			t.Errorf("%s: status %d, no GraphQL errors (%v)", c.name, resp.StatusCode, err)
			continue
		}
		for _, e := range out.Errors {
			if code, _ := e.Extensions["code"].(string); code == "" {
				t.Errorf("%s: status %d, error without a code: %+v", c.name, resp.StatusCode, e)
			}
		}
		if resp.StatusCode == http.StatusSwitchingProtocols || resp.StatusCode < 400 && c.header["Upgrade"] != "" {
			t.Errorf("%s: status %d", c.name, resp.StatusCode)
		}
	}
}

// createUser is no oracle: logins are unique per customer, so an admin's answer for an address
// that signs in elsewhere (another customer's user, a staff member) is the same as for a fresh
// one, and the added user takes nobody's sign-in over.
func TestCreateUserIsNoOracle(t *testing.T) {
	s := startServer(t, nil)
	admin := s.token("admin@bakkerij-de-vries.example")
	create := `mutation($e: String!) { createUser(input: {email: $e, name: "Nieuwe collega", role: MEMBER}) { email name role } }`
	shape := func(r gqlResponse) string {
		b, _ := json.Marshal(map[string]any{"errors": r.codes(), "name": dig(r.Data, "createUser", "name"), "role": dig(r.Data, "createUser", "role")})
		return string(b)
	}
	fresh := s.query(admin, create, map[string]any{"e": "nieuw@bakkerij-de-vries.example"})
	if len(fresh.Errors) > 0 {
		t.Fatalf("a fresh address: %+v", fresh.Errors)
	}
	for _, elsewhere := range []string{"member@jansen-installatie.example", "Admin@Jansen-Installatie.example", "director@wvsoft.example"} {
		r := s.query(admin, create, map[string]any{"e": elsewhere})
		if shape(r) != shape(fresh) {
			t.Fatalf("%s: %s, a fresh address: %s", elsewhere, shape(r), shape(fresh))
		}
	}
	// Within its own customer the admin sees its users anyway: a second one with an address is
	// refused, naming the field.
	r := s.query(admin, create, map[string]any{"e": "NIEUW@bakkerij-de-vries.example"})
	if len(r.Errors) != 1 || r.codes()[0] != wvsoft.ECONFLICT || r.Errors[0].Extensions["field"] != "input.email" {
		t.Fatalf("the same customer's address twice: %+v", r)
	}
	// Nobody's sign-in was taken over: the older identity signs in, the same one every time.
	for email, want := range map[string]string{"member@jansen-installatie.example": "jansen-installatie",
		"admin@jansen-installatie.example": "jansen-installatie", "nieuw@bakkerij-de-vries.example": "bakkerij-de-vries"} {
		for range 3 {
			r := s.query(s.token(email), `{ me { kind customer { slug } } }`, nil)
			if dig(r.Data, "me", "customer", "slug") != want {
				t.Fatalf("%s signs in as %+v, want %s", email, r, want)
			}
		}
	}
	if r := s.query(s.token("director@wvsoft.example"), `{ me { kind role } }`, nil); dig(r.Data, "me", "role") != "DIRECTOR" {
		t.Fatalf("the director signs in as %+v", r)
	}
	// The person behind an address that is a user of both customers chooses one with the
	// customer claim; a customer of which the address is no user lets nobody in.
	db, err := postgres.Open(context.Background(), s.db.AppURL, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	issuer, err := auth.NewDevelopment(db, time.Now, s.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	for customer, want := range map[string]string{"bakkerij-de-vries": "bakkerij-de-vries", "jansen-installatie": "jansen-installatie", "": "jansen-installatie"} {
		tok, err := issuer.IssueTokenIn("member@jansen-installatie.example", customer, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.query(tok, `{ me { customer { slug } } }`, nil); dig(r.Data, "me", "customer", "slug") != want {
			t.Fatalf("member@jansen-installatie.example choosing %q: %+v", customer, r)
		}
	}
	nowhere, _ := issuer.IssueTokenIn("member@jansen-installatie.example", "nergens", time.Hour)
	if r := s.query(nowhere, `{ me { kind } }`, nil); len(r.Errors) != 1 || r.codes()[0] != wvsoft.EUNAUTHENTICATED {
		t.Fatalf("choosing a customer the address is no user of: %+v", r)
	}
	// The director's address, added to Bakkerij above, chooses Bakkerij: a member there, with
	// none of the director's rights.
	asMember, _ := issuer.IssueTokenIn("director@wvsoft.example", "bakkerij-de-vries", time.Hour)
	if r := s.query(asMember, `{ me { kind role customer { slug } } }`, nil); dig(r.Data, "me", "kind") != "USER" || dig(r.Data, "me", "role") != "MEMBER" {
		t.Fatalf("the director's address choosing Bakkerij: %+v", r)
	}
	// Jansen's admin sees none of it: Bakkerij's users are not Jansen's.
	r = s.query(s.token("admin@jansen-installatie.example"), `{ me { customer { users { email } } } }`, nil)
	if strings.Contains(fmt.Sprint(r.Data), "Nieuwe") || strings.Count(fmt.Sprint(r.Data), "@") != 2 {
		t.Fatalf("Jansen's users: %+v", r)
	}
}
