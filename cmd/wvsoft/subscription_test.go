package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// wsClient speaks graphql-transport-ws to a real server, as graphql-ws does in a browser.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	// pending keeps messages read while waiting for another subscription's.
	pending []wsMessage
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func wsURL(s *server) string { return "ws" + strings.TrimPrefix(s.url, "http") + "/graphql" }

// dialWS opens a WebSocket to s's /graphql from origin ("" sends none, as a script does).
func dialWS(t *testing.T, s *server, origin string) (*wsClient, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, wsURL(s), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: t, conn: conn}, resp, nil
}

// connect opens a connection and authenticates it with credential.
func connect(t *testing.T, s *server, credential string) *wsClient {
	t.Helper()
	c, _, err := dialWS(t, s, "")
	if err != nil {
		t.Fatal(err)
	}
	c.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"authorization":"Bearer ` + credential + `"}`)})
	if m, err := c.read(5 * time.Second); err != nil || m.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v %v", m, err)
	}
	return c
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	if err := wsjson.Write(context.Background(), c.conn, m); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message, answering the server's pings.
func (c *wsClient) read(timeout time.Duration) (wsMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			return m, err
		}
		if m.Type == "ping" {
			wsjson.Write(ctx, c.conn, wsMessage{Type: "pong"})
			continue
		}
		return m, nil
	}
}

func (c *wsClient) subscribe(id, query string) {
	c.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": query})
	c.send(wsMessage{ID: id, Type: "subscribe", Payload: payload})
}

// next waits for the next message of subscription id: a result ("next"), or its end ("error",
// "complete"), whose payload it returns as a response.
func (c *wsClient) next(id string, timeout time.Duration) (string, gqlResponse) {
	c.t.Helper()
	for i, m := range c.pending {
		if m.ID == id {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return m.Type, decodeWS(c.t, m)
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("subscription %s: no message within %v: %v", id, timeout, err)
		}
		if m.ID != id {
			c.pending = append(c.pending, m)
			continue
		}
		return m.Type, decodeWS(c.t, m)
	}
}

func decodeWS(t *testing.T, m wsMessage) gqlResponse {
	var r gqlResponse
	switch m.Type {
	case "next":
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			t.Fatalf("next: %v %s", err, m.Payload)
		}
	case "error":
		if err := json.Unmarshal(m.Payload, &r.Errors); err != nil {
			t.Fatalf("error: %v %s", err, m.Payload)
		}
	}
	return r
}

// result waits for the next result of subscription id and fails on anything else.
func (c *wsClient) result(id string, timeout time.Duration) gqlResponse {
	c.t.Helper()
	typ, r := c.next(id, timeout)
	if typ != "next" {
		c.t.Fatalf("subscription %s: %s %+v, want a result", id, typ, r)
	}
	return r
}

// closed waits until the server closes the connection and returns the close status and reason.
func (c *wsClient) closed(timeout time.Duration) (websocket.StatusCode, string) {
	c.t.Helper()
	for {
		_, err := c.read(timeout)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("the connection was not closed with a status: %v", err)
		}
		return ce.Code, ce.Reason
	}
}

// quiet asserts that subscription id gets nothing for a while.
func (c *wsClient) quiet(id string, d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			return
		}
		if m.ID == id {
			c.t.Fatalf("subscription %s got %s %s", id, m.Type, m.Payload)
		}
		c.pending = append(c.pending, m)
	}
}

// Subscriptions end to end, on two servers of one database: what one server writes reaches
// subscribers on the other through LISTEN/NOTIFY; every event is read again with the
// subscriber's credentials checked again and every field decided as in a query; a revoked grant,
// a revoked key and a lapsed declaration stop delivery within a second, on the other server.
func TestSubscriptionsEndToEnd(t *testing.T) {
	db := pgtest.New(t)
	key := filepath.Join(t.TempDir(), "key.pem")
	env := map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.bakkerij-de-vries.example"}
	a := startServerOn(t, db, key, env)
	b := startServerOn(t, db, key, env)
	director := a.token("director@wvsoft.example")
	admin := a.token("admin@bakkerij-de-vries.example")
	support := a.token("support@wvsoft.example")
	customerID := dig(a.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)

	t.Run("origins and credentials are checked at the door", func(t *testing.T) {
		_, resp, err := dialWS(t, b, "https://evil.example")
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a foreign origin: %v %+v", err, resp)
		}
		var body gqlResponse
		raw, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(raw, &body) != nil || len(body.codes()) != 1 || body.codes()[0] != wvsoft.EFORBIDDEN {
			t.Fatalf("a foreign origin's refusal is not coded: %s", raw)
		}
		for _, origin := range []string{"https://app.bakkerij-de-vries.example", b.url} {
			if _, _, err := dialWS(t, b, origin); err != nil {
				t.Fatalf("origin %s: %v", origin, err)
			}
		}
		for name, payload := range map[string]string{"no credential": `{}`, "a bad token": `{"authorization":"Bearer nonsense"}`} {
			c, _, err := dialWS(t, b, "")
			if err != nil {
				t.Fatal(err)
			}
			c.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(payload)})
			if code, reason := c.closed(5 * time.Second); code != 4403 || !strings.HasPrefix(reason, wvsoft.EUNAUTHENTICATED+": ") {
				t.Fatalf("%s: closed %d %q", name, code, reason)
			}
		}
	})

	// The subscribers, all on server b; the writes all go through server a.
	adminWS := connect(t, b, admin)
	adminWS.subscribe("grants", `subscription { supportAccessGrants { id status reason customer { name } } }`)
	adminWS.subscribe("breaches", `subscription { breachNotifications { breach { description categories } customer { name } } }`)
	otherWS := connect(t, b, a.token("admin@jansen-installatie.example"))
	otherWS.subscribe("grants", `subscription { supportAccessGrants { id status } }`)
	directorWS := connect(t, b, director)
	directorWS.subscribe("mine", `subscription { supportAccessGrants { status customer { name persons(first: 2) { edges { node { name bsn } } } } } }`)
	supportWS := connect(t, b, support)
	supportWS.subscribe("breaches", `subscription { breachNotifications { customer { name iban } } }`)
	memberWS := connect(t, b, a.token("member@bakkerij-de-vries.example"))
	memberWS.subscribe("grants", `subscription { supportAccessGrants { id } }`)

	t.Run("a member may not subscribe", func(t *testing.T) {
		typ, r := memberWS.next("grants", 5*time.Second)
		if typ != "next" || len(r.Errors) != 1 || r.codes()[0] != wvsoft.EFORBIDDEN {
			t.Fatalf("%s %+v", typ, r)
		}
		if typ, _ := memberWS.next("grants", 5*time.Second); typ != "complete" {
			t.Fatalf("then %s", typ)
		}
	})
	time.Sleep(500 * time.Millisecond) // the subscriptions above have started listening

	var grantID string
	t.Run("the admin is told of a request at once; another customer's admin is not", func(t *testing.T) {
		start := time.Now()
		r := a.query(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket #5150",
			types: [Person], durationMinutes: 60}) { id } }`, map[string]any{"c": customerID})
		if len(r.Errors) > 0 {
			t.Fatalf("%+v", r)
		}
		grantID = dig(r.Data, "requestSupportAccess", "id").(string)
		ev := adminWS.result("grants", 5*time.Second)
		took := time.Since(start)
		if len(ev.Errors) > 0 || dig(ev.Data, "supportAccessGrants", "id") != grantID || dig(ev.Data, "supportAccessGrants", "status") != "PENDING" ||
			dig(ev.Data, "supportAccessGrants", "reason") != "ticket #5150" || dig(ev.Data, "supportAccessGrants", "customer", "name") != "Bakkerij De Vries B.V." {
			t.Fatalf("the admin's event: %+v", ev)
		}
		t.Logf("request on server a, event at the admin on server b after %v", took)
		if took > time.Second {
			t.Fatalf("the event took %v", took)
		}
		// The director is told of his own request; without a grant the data space stays shut.
		ev = directorWS.result("mine", 5*time.Second)
		if dig(ev.Data, "supportAccessGrants", "status") != "PENDING" || dig(ev.Data, "supportAccessGrants", "customer", "persons") != nil ||
			len(ev.Errors) != 1 || ev.codes()[0] != wvsoft.EFORBIDDEN || !equalPath(ev.Errors[0].Path, "supportAccessGrants", "customer", "persons") {
			t.Fatalf("the director's event without a grant: %+v", ev)
		}
	})

	t.Run("approval opens the data space in the director's events, as in queries", func(t *testing.T) {
		if r := a.query(admin, `mutation($id: ID!) { approveSupportAccess(input: {id: $id}) { status } }`, map[string]any{"id": grantID}); len(r.Errors) > 0 {
			t.Fatalf("%+v", r)
		}
		ev := directorWS.result("mine", 5*time.Second)
		edges, _ := dig(ev.Data, "supportAccessGrants", "customer", "persons", "edges").([]any)
		if dig(ev.Data, "supportAccessGrants", "status") != "APPROVED" || len(edges) != 2 || dig(edges[0], "node", "name") == nil {
			t.Fatalf("the director's event under the grant: %+v", ev)
		}
		// The grant leaves out special categories: BSN is denied at its path, like in a query.
		for _, e := range ev.Errors {
			if e.Extensions["code"] != wvsoft.EFORBIDDEN || e.Message != "not allowed to read Person.bsn" {
				t.Fatalf("unexpected error %+v", e)
			}
		}
		if len(ev.Errors) != 2 || dig(edges[0], "node", "bsn") != nil {
			t.Fatalf("BSN outside the grant's scope: %+v", ev)
		}
		if ev := adminWS.result("grants", 5*time.Second); dig(ev.Data, "supportAccessGrants", "status") != "APPROVED" {
			t.Fatalf("the admin's event: %+v", ev)
		}
		// What the director read through his subscription is in the customer's access log.
		log := a.query(admin, `{ me { customer { accessLog(first: 50) { edges { node { event fields } } } } } }`, nil)
		found := false
		for _, e := range dig(log.Data, "me", "customer", "accessLog", "edges").([]any) {
			if dig(e, "node", "event") == "ACCESS" && strings.Contains(strings.Join(toStrings(dig(e, "node", "fields")), ","), "Person.name") {
				found = true
			}
		}
		if !found {
			t.Fatalf("the subscription's read under the grant is not in the access log: %+v", log)
		}
	})

	t.Run("a revocation on server a stops the data at the director on server b within a second", func(t *testing.T) {
		start := time.Now()
		if r := a.query(admin, `mutation($id: ID!) { revokeSupportAccess(id: $id) { status } }`, map[string]any{"id": grantID}); len(r.Errors) > 0 {
			t.Fatalf("%+v", r)
		}
		ev := directorWS.result("mine", 5*time.Second)
		took := time.Since(start)
		if dig(ev.Data, "supportAccessGrants", "status") != "REVOKED" || dig(ev.Data, "supportAccessGrants", "customer", "persons") != nil ||
			len(ev.Errors) != 1 || ev.codes()[0] != wvsoft.EFORBIDDEN {
			t.Fatalf("the director's event after revocation: %+v", ev)
		}
		t.Logf("revocation on server a, the director's event on server b without the data space after %v", took)
		if took > time.Second {
			t.Fatalf("took %v", took)
		}
		otherWS.quiet("grants", 300*time.Millisecond)
	})

	t.Run("breach notifications reach the admin; support sees the bank account masked", func(t *testing.T) {
		r := a.query(support, `mutation($c: ID!, $at: Time!) { recordBreach(input: {description: "Back-up onversleuteld verstuurd",
			discoveredAt: $at, categories: [CONTACT], customerIds: [$c]}) { id } }`,
			map[string]any{"c": customerID, "at": time.Now().Add(-time.Hour).Format(time.RFC3339)})
		if len(r.Errors) > 0 {
			t.Fatalf("%+v", r)
		}
		ev := adminWS.result("breaches", 5*time.Second)
		if len(ev.Errors) > 0 || dig(ev.Data, "breachNotifications", "breach", "description") != "Back-up onversleuteld verstuurd" ||
			dig(ev.Data, "breachNotifications", "customer", "name") != "Bakkerij De Vries B.V." {
			t.Fatalf("the admin's breach event: %+v", ev)
		}
		ev = supportWS.result("breaches", 5*time.Second)
		q := a.query(support, `query($c: ID!) { node(id: $c) { ... on Customer { iban } } }`, map[string]any{"c": customerID})
		iban, _ := dig(ev.Data, "breachNotifications", "customer", "iban").(string)
		if iban == "" || iban != dig(q.Data, "node", "iban") || !strings.Contains(iban, "*") {
			t.Fatalf("support's event shows the IBAN as %q, a query as %v", iban, dig(q.Data, "node", "iban"))
		}
	})

	t.Run("a declaration that lapses ends support's subscription", func(t *testing.T) {
		expires := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
		r := a.query(director, `mutation($id: ID!, $signed: Time!, $expires: Time!) { recordConfidentialityDeclaration(input: {
			staffId: $id, signedAt: $signed, expiresAt: $expires}) { id } }`,
			map[string]any{"id": wvsoft.GlobalID(wvsoft.KindStaffMember, postgres.SeedID("staff", "support@wvsoft.example")),
				"signed": time.Now().Add(-time.Hour).Format(time.RFC3339), "expires": expires.Format(time.RFC3339)})
		if len(r.Errors) > 0 {
			t.Fatalf("%+v", r)
		}
		typ, ev := supportWS.next("breaches", 10*time.Second)
		took := time.Since(expires)
		if typ != "error" || len(ev.Errors) != 1 || ev.codes()[0] != wvsoft.EFORBIDDEN {
			t.Fatalf("after the declaration lapsed: %s %+v", typ, ev)
		}
		t.Logf("declaration lapsed; support's subscription ended %v later", took)
		if took < 0 || took > time.Second {
			t.Fatalf("ended %v after the declaration lapsed", took)
		}
	})

	t.Run("a key revoked on server a closes its connection on server b within a second", func(t *testing.T) {
		r := a.query(admin, `mutation { createApiKey(input: {name: "live"}) { secret apiKey { id } } }`, nil)
		secret, _ := dig(r.Data, "createApiKey", "secret").(string)
		keyID, _ := dig(r.Data, "createApiKey", "apiKey", "id").(string)
		if secret == "" {
			t.Fatalf("%+v", r)
		}
		keyWS := connect(t, b, secret)
		// An integrator key reaches no support access: the policy refuses the subscription.
		keyWS.subscribe("grants", `subscription { supportAccessGrants { id } }`)
		if typ, ev := keyWS.next("grants", 5*time.Second); typ != "next" || len(ev.Errors) != 1 || ev.codes()[0] != wvsoft.EFORBIDDEN {
			t.Fatalf("the key's subscription: %s %+v", typ, ev)
		}
		start := time.Now()
		if r := a.query(admin, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": keyID}); len(r.Errors) > 0 {
			t.Fatalf("%+v", r)
		}
		code, reason := keyWS.closed(5 * time.Second)
		took := time.Since(start)
		if code != 4403 || !strings.HasPrefix(reason, wvsoft.EUNAUTHENTICATED+": ") {
			t.Fatalf("closed %d %q", code, reason)
		}
		t.Logf("key revoked on server a; its connection on server b closed after %v (%d %s)", took, code, reason)
		if took > time.Second {
			t.Fatalf("took %v", took)
		}
	})
}

func equalPath(path []any, want ...string) bool {
	if len(path) != len(want) {
		return false
	}
	for i := range want {
		if path[i] != want[i] {
			return false
		}
	}
	return true
}
