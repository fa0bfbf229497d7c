package graph_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/postgres"
)

// The cross-tenant leak search. Queries are generated from the schema: every
// path of fields that lead to objects, through node, nodes, every list and every connection, up
// to leakDepth hops (a connection's edges and node count as one), with every scalar field on
// the way. Each runs as every role of each demo customer (admin, member, a read key, a write key
// with the special categories), with ids, cursors and customer ids of the OTHER customer as
// arguments. No answer may hold anything of the other customer: its ids, its tenant id, its
// slug, or the markers its data was written with. Then every mutation that takes an id is sent
// with the other customer's ids, and the other customer's rows must be as they were.
//
// `make test` searches to depth 4 with one id per type; `make test-long` (WVSOFT_LEAK_SEARCH=long)
// to depth 5 with every id.

// tenantData is what the search knows of one demo customer.
type tenantData struct {
	slug, tenant string
	// ids of its objects by type name, cursors of its connections by field.
	ids     map[string][]string
	cursors map[string]string
	// roles are credentials (bearer tokens and API key secrets) by role name.
	roles map[string]string
}

// secrets are the strings of t that no other customer may ever see.
func (t *tenantData) secrets() []string {
	out := []string{"MARKER-" + t.slug, t.slug, t.tenant}
	for _, ids := range t.ids {
		out = append(out, ids...)
	}
	return out
}

// post sends a GraphQL operation with a bearer credential and returns the raw answer.
func (s *stack) send(t testing.TB, client *http.Client, credential, query string, vars map[string]any) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+credential)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		t.Fatalf("status %d for %s: %s", resp.StatusCode, query, raw)
	}
	return raw
}

func mustData(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("set-up failed: %s", raw)
	}
	return out.Data
}

func digAny(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// prepareTenants marks every customer's data, gives it API keys, a support-access grant with an
// access-log entry and a few medical notes, and harvests its ids and cursors.
func prepareTenants(t *testing.T, s *stack) []*tenantData {
	t.Helper()
	owner, err := sql.Open("postgres", s.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	for _, q := range []string{
		`UPDATE customers SET name = 'MARKER-' || slug || ' name', city = 'MARKER-' || slug || ' city', street = 'MARKER-' || slug || ' street'`,
		`UPDATE contact_persons x SET name = 'MARKER-' || c.slug || ' contact' FROM customers c WHERE c.tenant_id = x.tenant_id`,
		`UPDATE users x SET name = 'MARKER-' || c.slug || ' user' FROM customers c WHERE c.tenant_id = x.tenant_id`,
		`UPDATE persons x SET name = 'MARKER-' || c.slug || ' person', household = 'MARKER-' || c.slug || ' household', street = 'MARKER-' || c.slug || ' street' FROM customers c WHERE c.tenant_id = x.tenant_id`,
	} {
		if _, err := owner.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	client := &http.Client{Timeout: time.Minute}
	token := func(email string) string {
		tok, err := s.authn.IssueToken(email, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	director := token("director@wvsoft.example")
	var out []*tenantData
	for _, slug := range postgres.DemoCustomers {
		td := &tenantData{slug: slug, tenant: postgres.SeedID("customer", slug).String(), ids: map[string][]string{},
			cursors: map[string]string{}, roles: map[string]string{}}
		admin, member := token("admin@"+slug+".example"), token("member@"+slug+".example")
		td.roles["admin"], td.roles["member"] = admin, member
		for role, input := range map[string]string{
			"read key":  `{name: "MARKER-` + slug + ` read key"}`,
			"write key": `{name: "MARKER-` + slug + ` write key", canWrite: true, specialCategories: true}`,
		} {
			d := mustData(t, s.send(t, client, admin, `mutation { createApiKey(input: `+input+`) { secret } }`, nil))
			td.roles[role] = digAny(d, "createApiKey", "secret").(string)
		}
		d := mustData(t, s.send(t, client, member, `{ persons(first: 2) { edges { node { id } } } }`, nil))
		for i := 0; i < 2; i++ {
			mustData(t, s.send(t, client, member, `mutation($id: ID!, $n: String) { updatePerson(input: {id: $id, medicalNotes: $n}) { id } }`,
				map[string]any{"id": digAny(d, "persons", "edges", i, "node", "id"), "n": fmt.Sprintf("MARKER-%s medical %d", slug, i)}))
		}
		customerID := digAny(mustData(t, s.send(t, client, admin, `{ me { customer { id } } }`, nil)), "me", "customer", "id")
		g := mustData(t, s.send(t, client, director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c,
			reason: "MARKER-`+slug+` reason", types: [Person, User, ApiKey], specialCategories: true}) { id } }`, map[string]any{"c": customerID}))
		mustData(t, s.send(t, client, admin, `mutation($id: ID!) { approveSupportAccess(input: {id: $id}) { status } }`,
			map[string]any{"id": digAny(g, "requestSupportAccess", "id")}))
		mustData(t, s.send(t, client, director, `query($c: ID!) { node(id: $c) { ... on Customer { persons(first: 2) { edges { node { name } } } } } }`,
			map[string]any{"c": customerID}))

		h := mustData(t, s.send(t, client, admin, `{ me { customer { id contactPersons { id } users { id } apiKeys { id }
			persons(first: 3) { edges { cursor node { id } } } supportAccessGrants { id }
			accessLog(first: 3) { edges { cursor node { id } } } } } }`, nil))
		c := digAny(h, "me", "customer").(map[string]any)
		td.ids["Customer"] = []string{c["id"].(string)}
		for field, kind := range map[string]string{"contactPersons": "ContactPerson", "users": "User", "apiKeys": "ApiKey", "supportAccessGrants": "SupportAccessGrant"} {
			for _, o := range c[field].([]any) {
				td.ids[kind] = append(td.ids[kind], o.(map[string]any)["id"].(string))
			}
		}
		for field, kind := range map[string]string{"persons": "Person", "accessLog": "AccessLogEntry"} {
			for i, e := range digAny(c, field, "edges").([]any) {
				td.ids[kind] = append(td.ids[kind], digAny(e, "node", "id").(string))
				if i == 0 {
					td.cursors[field] = digAny(e, "cursor").(string)
				}
			}
		}
		for kind, ids := range td.ids {
			if len(ids) == 0 {
				t.Fatalf("%s has no %s to harvest", slug, kind)
			}
		}
		out = append(out, td)
	}
	return out
}

// step is one hop of a path: a field that leads to objects, with its arguments, and for node
// and nodes the type the fragment selects.
type step struct {
	field *ast.FieldDefinition
	args  string
	on    string // the concrete type selected under an interface
	// target is the object type the hop arrives at (a connection's node type for connections).
	target *ast.Definition
	conn   bool
}

// leakPaths generates every path of depth hops or fewer from Query, with argument variants
// that carry the other customer's ids.
func leakPaths(s *ast.Schema, other *tenantData, depth int, long bool) [][]step {
	var out [][]step
	var walk func(path []step, typ *ast.Definition)
	walk = func(path []step, typ *ast.Definition) {
		if len(path) > 0 {
			out = append(out, path)
		}
		if len(path) == depth {
			return
		}
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			inner := s.Types[f.Type.Name()]
			if inner.Kind == ast.Scalar || inner.Kind == ast.Enum {
				continue
			}
			for _, st := range hops(s, f, inner, other, long) {
				if st.target.Kind != ast.Object {
					continue
				}
				// A hop to a type with no fields of its own besides leaves ends the path.
				walk(append(append([]step{}, path...), st), st.target)
			}
		}
	}
	walk(nil, s.Query)
	return out
}

// hops are the variants of following field f: one per concrete type under an interface, one
// per interesting argument set.
func hops(s *ast.Schema, f *ast.FieldDefinition, inner *ast.Definition, other *tenantData, long bool) []step {
	target, conn := inner, false
	if strings.HasSuffix(inner.Name, "Connection") {
		if edges := inner.Fields.ForName("edges"); edges != nil {
			if node := s.Types[edges.Type.Name()].Fields.ForName("node"); node != nil {
				target, conn = s.Types[node.Type.Name()], true
			}
		}
	}
	quote := func(v string) string { b, _ := json.Marshal(v); return string(b) }
	// Arguments: the other customer's values wherever an argument takes one.
	var args []string
	for _, a := range f.Arguments {
		switch a.Name {
		case "first":
			args = append(args, "first: 3")
		case "after":
			if c, ok := other.cursors[f.Name]; ok {
				args = append(args, "after: "+quote(c))
			}
		case "customerId":
			args = append(args, "customerId: "+quote(other.ids["Customer"][0]))
		case "grantId":
			args = append(args, "grantId: "+quote(other.ids["SupportAccessGrant"][0]))
		case "ids":
			var all []string
			for _, ids := range other.ids {
				all = append(all, ids...)
			}
			sort.Strings(all)
			b, _ := json.Marshal(all)
			args = append(args, "ids: "+string(b))
		}
	}
	join := func(a []string) string {
		if len(a) == 0 {
			return ""
		}
		return "(" + strings.Join(a, ", ") + ")"
	}
	var out []step
	switch {
	case target.Kind == ast.Interface && f.Arguments.ForName("id") != nil:
		// node(id:): one hop per type, with an id of the other customer of that type.
		for _, impl := range s.GetPossibleTypes(target) {
			ids := other.ids[impl.Name]
			if !long {
				ids = ids[:min(1, len(ids))]
			}
			for _, id := range ids {
				out = append(out, step{field: f, args: join(append([]string{"id: " + quote(id)}, args...)), on: impl.Name, target: impl})
			}
		}
	case target.Kind == ast.Interface:
		for _, impl := range s.GetPossibleTypes(target) {
			out = append(out, step{field: f, args: join(args), on: impl.Name, target: impl})
		}
	default:
		out = append(out, step{field: f, args: join(args), target: target, conn: conn})
		// Query.persons also without customerId: one's own data space, and from there on.
		if f.Arguments.ForName("customerId") != nil {
			var own []string
			for _, a := range args {
				if !strings.HasPrefix(a, "customerId") {
					own = append(own, a)
				}
			}
			out = append(out, step{field: f, args: join(own), target: target, conn: conn})
		}
	}
	return out
}

// scalars selects every scalar field of typ that takes no required argument.
func scalars(typ *ast.Definition, s *ast.Schema) string {
	var b strings.Builder
	b.WriteString("__typename")
	for _, f := range typ.Fields {
		if k := s.Types[f.Type.Name()].Kind; (k == ast.Scalar || k == ast.Enum) && !hasRequiredArgs(f) {
			b.WriteString(" " + f.Name)
		}
	}
	return b.String()
}

// pathQuery writes the query of a path: every scalar at every level, the path's fields in turn.
func pathQuery(s *ast.Schema, path []step) string {
	var build func(i int) string
	build = func(i int) string {
		st := path[i]
		inner := scalars(st.target, s)
		if i+1 < len(path) {
			inner += " " + build(i+1)
		}
		if st.on != "" {
			inner = "... on " + st.on + " { " + inner + " }"
		}
		if st.conn {
			inner = "edges { cursor node { " + inner + " } } pageInfo { hasNextPage startCursor endCursor }"
		}
		return st.field.Name + st.args + " { " + inner + " }"
	}
	return "{ " + build(0) + " }"
}

// leakLong selects the large search of `make test-long`: 5 hops instead of 4, and node(id:)
// with every harvested id of the other customer instead of one per type.
func leakLong() bool { return os.Getenv("WVSOFT_LEAK_SEARCH") == "long" }

// checkREADMEFigure finds "prefix N" in the README (N such as 5,800) and fails unless N is
// within a tenth of got.
func checkREADMEFigure(t *testing.T, prefix string, got int) {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(raw)), " ") // the sentence may wrap
	_, rest, ok := strings.Cut(text, prefix)
	if !ok {
		t.Fatalf("README.md no longer says %q", prefix)
	}
	digits := strings.ReplaceAll(strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == ')' })[0], ",", "")
	stated, err := strconv.Atoi(digits)
	if err != nil {
		t.Fatalf("README.md: %q is followed by %q, not a number", prefix, digits)
	}
	if stated*10 < got*9 || stated*10 > got*11 {
		t.Fatalf("README.md says %s%d; it is %d: correct the README", prefix, stated, got)
	}
}

func leakDepth() int {
	if leakLong() {
		return 5
	}
	return 4
}

func TestCrossTenantLeakSearch(t *testing.T) {
	st := newConfiguredStack(t, nil, unlimited)
	tenants := prepareTenants(t, st)
	s := schema()
	depth := leakDepth()
	client := &http.Client{Timeout: time.Minute}

	var mu sync.Mutex
	requests, ownSeen := 0, 0
	for i, mine := range tenants {
		other := tenants[1-i]
		paths := leakPaths(s, other, depth, leakLong())
		if len(paths) < 50 {
			t.Fatalf("only %d paths generated", len(paths))
		}
		roles := make([]string, 0, len(mine.roles))
		for r := range mine.roles {
			roles = append(roles, r)
		}
		sort.Strings(roles)
		for _, role := range roles {
			credential := mine.roles[role]
			// Two clients at a time: the machine is shared.
			work := make(chan []step)
			var wg sync.WaitGroup
			for w := 0; w < 2; w++ {
				wg.Go(func() {
					for path := range work {
						q := pathQuery(s, path)
						raw := st.send(t, client, credential, q, nil)
						for _, secret := range other.secrets() {
							if bytes.Contains(raw, []byte(secret)) {
								t.Errorf("LEAK: %s of %s reads %q of %s\nquery: %s\nanswer: %.2000s", role, mine.slug, secret, other.slug, q, raw)
								break
							}
						}
						mu.Lock()
						requests++
						if bytes.Contains(raw, []byte("MARKER-"+mine.slug)) {
							ownSeen++
						}
						mu.Unlock()
					}
				})
			}
			for _, p := range paths {
				work <- p
			}
			close(work)
			wg.Wait()
			if t.Failed() {
				return
			}
		}
	}
	t.Logf("depth %d: %d queries; %d answers held the caller's own markers", depth, requests, ownSeen)
	// The README states how many queries each search sends; the figures are checked here, so that
	// they stay true as the schema grows. The long search's number is counted, not sent.
	planned := map[bool]int{}
	for i, mine := range tenants {
		for _, long := range []bool{false, true} {
			planned[long] += len(mine.roles) * len(leakPaths(s, tenants[1-i], map[bool]int{false: 4, true: 5}[long], long))
		}
	}
	if planned[leakLong()] != requests {
		t.Fatalf("%d queries sent, %d counted", requests, planned[leakLong()])
	}
	checkREADMEFigure(t, "`make test` searches 4 hops deep (about ", planned[false])
	checkREADMEFigure(t, "`make test-long` 5 hops with every harvested id (about ", planned[true])
	// The search proves nothing if nobody reads anything: the callers' own data must come back.
	if ownSeen < requests/10 {
		t.Fatalf("only %d of %d answers held the caller's own data", ownSeen, requests)
	}

	t.Run("mutations with the other customer's ids change nothing of it", func(t *testing.T) {
		owner, err := sql.Open("postgres", st.db.OwnerURL)
		if err != nil {
			t.Fatal(err)
		}
		defer owner.Close()
		fingerprint := func(tenant string) string {
			var out []string
			for _, table := range []string{"customers", "contact_persons", "users", "api_keys", "persons", "access_grants"} {
				var sum sql.NullString
				if err := owner.QueryRow(`SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM `+table+` t WHERE tenant_id = $1`, tenant).Scan(&sum); err != nil {
					t.Fatal(err)
				}
				out = append(out, table+"="+sum.String)
			}
			return strings.Join(out, " ")
		}
		for i, mine := range tenants {
			other := tenants[1-i]
			id := func(kind string) string { b, _ := json.Marshal(other.ids[kind][0]); return string(b) }
			mutations := []string{
				`updateCustomer(input: {id: ` + id("Customer") + `, name: "taken over"}) { id name }`,
				`createContactPerson(input: {customerId: ` + id("Customer") + `, name: "intruder", role: CONTACT}) { id }`,
				`updateContactPerson(input: {id: ` + id("ContactPerson") + `, name: "taken over"}) { id name }`,
				`deleteContactPerson(id: ` + id("ContactPerson") + `)`,
				`updateUser(input: {id: ` + id("User") + `, role: ADMIN}) { id role }`,
				`deleteUser(id: ` + id("User") + `)`,
				`revokeApiKey(id: ` + id("ApiKey") + `) { id revokedAt }`,
				`createPerson(input: {customerId: ` + id("Customer") + `, name: "intruder"}) { id }`,
				`updatePerson(input: {id: ` + id("Person") + `, name: "taken over"}) { id name }`,
				`deletePerson(id: ` + id("Person") + `)`,
				`approveSupportAccess(input: {id: ` + id("SupportAccessGrant") + `}) { id status }`,
				`denySupportAccess(id: ` + id("SupportAccessGrant") + `) { id status }`,
				`revokeSupportAccess(id: ` + id("SupportAccessGrant") + `) { id status }`,
			}
			before := fingerprint(other.tenant)
			for role, credential := range mine.roles {
				for _, m := range mutations {
					raw := st.send(t, client, credential, "mutation { "+m+" }", nil)
					if !bytes.Contains(raw, []byte(`"errors"`)) {
						t.Errorf("%s of %s: %s succeeded: %s", role, mine.slug, m, raw)
					}
					for _, secret := range other.secrets() {
						if bytes.Contains(raw, []byte(secret)) {
							t.Errorf("LEAK: %s of %s: %s answers %q: %s", role, mine.slug, m, secret, raw)
						}
					}
				}
			}
			if after := fingerprint(other.tenant); after != before {
				t.Fatalf("%s's rows changed under mutations by %s:\n%s\n%s", other.slug, mine.slug, before, after)
			}
		}
	})
}
