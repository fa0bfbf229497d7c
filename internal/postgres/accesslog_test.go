package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

func openSigned(t testing.TB) (*pgtest.DB, *postgres.DB, string) {
	t.Helper()
	db := pgtest.New(t)
	skey, vkey, err := accesslog.GenerateKey("wvsoft-access-log-test")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := accesslog.NewKeys(skey)
	if err != nil {
		t.Fatal(err)
	}
	app, err := postgres.Open(context.Background(), db.AppURL, time.Now, postgres.WithKeyring(db.Keyring(t)), postgres.WithLogKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return db, app, vkey
}

// approvedGrant files and approves a grant of the director for the bakery, approved at at.
func approvedGrant(t testing.TB, app *postgres.DB, at time.Time, minutes int) *wvsoft.SupportAccessGrant {
	t.Helper()
	ctx := context.Background()
	tenant := postgres.SeedID("customer", "bakkerij-de-vries")
	g := &wvsoft.SupportAccessGrant{TenantID: tenant, UUID: uuid.Must(uuid.NewV7()), RequestedBy: postgres.SeedID("staff", "director@wvsoft.example"),
		Reason: "ticket", ScopeTypes: []string{wvsoft.KindPerson}, DurationSeconds: minutes * 60, RequestedAt: at, AnswerBy: at.Add(time.Hour)}
	if err := app.RequestAccess(ctx, wvsoft.TenantFilter{All: true}, g); err != nil {
		t.Fatal(err)
	}
	g, err := app.DecideAccess(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{tenant}}, g.UUID,
		postgres.SeedID("user", "admin@bakkerij-de-vries.example"), true, at, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func logAccess(app *postgres.DB, g *wvsoft.SupportAccessGrant, i int) error {
	return app.LogAccess(context.Background(), &wvsoft.Subject{Kind: wvsoft.SubjectStaff, ID: g.RequestedBy},
		[]wvsoft.Access{{GrantID: g.UUID, TenantID: g.TenantID, Records: []string{fmt.Sprintf("Person:%d", i)}, Fields: []string{"Person.name"}}}, time.Now())
}

// The database's tree (PL/pgSQL) and tlog agree at every size, also when servers append at
// once: every append checks the database's root against its own, and every size gets its
// signed checkpoint.
func TestAccessLogTreeUnderConcurrentAppends(t *testing.T) {
	_, app, vkey := openSigned(t)
	g := approvedGrant(t, app, time.Now(), 60)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 4 {
		wg.Go(func() {
			for i := range 20 {
				if err := logAccess(app, g, w*100+i); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	l, err := app.ReadLog(context.Background(), wvsoft.TenantFilter{Tenants: []uuid.UUID{g.TenantID}}, g.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	known, _ := accesslog.Verifiers(vkey)
	rep := accesslog.Verify(l, known, nil)
	if !rep.Intact() || rep.Entries != 82 || rep.Covered != 82 || len(l.Checkpoints) != 82 {
		t.Fatalf("report %+v, %d checkpoints", rep, len(l.Checkpoints))
	}
	v, err := app.VerifyAccessLog(context.Background(), wvsoft.TenantFilter{Tenants: []uuid.UUID{g.TenantID}}, g.TenantID)
	if err != nil || !v.Intact || v.Entries != 82 {
		t.Fatalf("the API's verification: %+v, %v", v, err)
	}
}

// A grant that runs out is written down by the sweeper, and the admins get the checkpoint that
// includes its end; an unanswered request that expires was never a grant and sends nothing.
func TestExpiryMailsTheCheckpoint(t *testing.T) {
	_, app, vkey := openSigned(t)
	ctx := context.Background()
	g := approvedGrant(t, app, time.Now().Add(-2*time.Hour), 60)
	if err := logAccess(app, g, 1); err != nil {
		t.Fatal(err)
	}
	if n, err := app.ExpireGrants(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("expired %d: %v", n, err)
	}
	mail, err := app.Outbox(ctx, wvsoft.TenantFilter{All: true}, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	var found string
	for _, m := range mail {
		if m.Recipient == "admin@bakkerij-de-vries.example" && strings.Contains(m.Body, accesslog.OriginPrefix) {
			found = m.Body
		}
	}
	start := strings.Index(found, accesslog.OriginPrefix)
	end := strings.Index(found, "\nPublieke sleutel")
	if start < 0 || end < start {
		t.Fatalf("no checkpoint mailed: %+v", mail)
	}
	known, _ := accesslog.Verifiers(vkey)
	cp, err := accesslog.Open([]byte(strings.TrimRight(found[start:end], "\n")+"\n"), known)
	if err != nil || cp.Size != 4 || !strings.Contains(found, "verlopen") {
		t.Fatalf("the mailed checkpoint %+v: %v\n%s", cp, err, found)
	}
}

// One append path: the application role writes none of the log's tables, and the functions it
// may call run with a fixed search_path.
func TestAccessLogPrivileges(t *testing.T) {
	_, app, _ := openSigned(t)
	raw := app.SQL()
	for _, table := range []string{"access_log", "access_log_tree", "access_log_checkpoints", "access_log_adopted"} {
		for _, priv := range []string{"INSERT", "UPDATE", "DELETE", "TRUNCATE"} {
			var has bool
			if err := raw.Get(&has, `SELECT has_table_privilege(current_user, $1, $2)`, table, priv); err != nil {
				t.Fatal(err)
			}
			if has {
				t.Errorf("the application role has %s on %s", priv, table)
			}
		}
	}
	var rows []struct {
		Name    string `db:"proname"`
		Definer bool   `db:"prosecdef"`
		Config  string `db:"config"`
	}
	if err := raw.Select(&rows, `SELECT proname, prosecdef, coalesce(array_to_string(proconfig, ','), '') AS config FROM pg_proc
		WHERE proname LIKE 'access_log%' AND has_function_privilege(current_user, oid, 'EXECUTE') AND prosecdef`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("SECURITY DEFINER functions the role may call: %+v", rows)
	}
	for _, r := range rows {
		if !strings.HasPrefix(r.Config, "search_path=pg_catalog") {
			t.Errorf("%s runs with %q", r.Name, r.Config)
		}
	}
}

// A log from before checkpoints (migration 00006 adopts it) is signed by the hourly look; an
// entry that came in later without a checkpoint is reported, and is not signed over.
func TestCheckpointLogsSignsAdoptedAndReportsUnsigned(t *testing.T) {
	db, app, vkey := openSigned(t)
	ctx := context.Background()
	tenant := postgres.SeedID("customer", "jansen-installatie")
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	legacy := func(seq int) string {
		return fmt.Sprintf(`WITH v AS (SELECT gen_random_uuid() AS id, now() AS at),
			e AS (INSERT INTO access_log (tenant_id, seq, id, at, event, actor_kind, detail, record)
			SELECT $1::uuid, %[1]d, v.id, v.at, 'ACCESS', 'STAFF', '{}', access_log_record($1::uuid, %[1]d, v.id, v.at, 'ACCESS', 'STAFF', NULL, NULL, '{}') FROM v
			RETURNING record) SELECT access_log_add_leaf($1::uuid, %[1]d - 1, sha256('\x00'::bytea || convert_to(record, 'UTF8'))) FROM e`, seq)
	}
	for _, q := range []string{legacy(1), legacy(2), `INSERT INTO access_log_adopted (tenant_id, size) VALUES ($1, 2)`} {
		if _, err := owner.ExecContext(ctx, q, tenant); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	signed, unsigned, err := app.CheckpointLogs(ctx)
	if err != nil || signed != 1 || len(unsigned) != 0 {
		t.Fatalf("signed %d, unsigned %v: %v", signed, unsigned, err)
	}
	l, err := app.ReadLog(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{tenant}}, tenant)
	if err != nil {
		t.Fatal(err)
	}
	known, _ := accesslog.Verifiers(vkey)
	if rep := accesslog.Verify(l, known, nil); !rep.Intact() || rep.Covered != 2 {
		t.Fatalf("adopted log: %+v", rep)
	}
	if signed, unsigned, err := app.CheckpointLogs(ctx); err != nil || signed != 0 || len(unsigned) != 0 {
		t.Fatalf("second look: signed %d, unsigned %v: %v", signed, unsigned, err)
	}
	if _, err := owner.ExecContext(ctx, legacy(3), tenant); err != nil {
		t.Fatal(err)
	}
	if signed, unsigned, err := app.CheckpointLogs(ctx); err != nil || signed != 0 || len(unsigned) != 1 || unsigned[0] != tenant {
		t.Fatalf("after a foreign entry: signed %d, unsigned %v: %v", signed, unsigned, err)
	}
}

// What one append costs, in its own transaction as LogAccess runs it: signed (the append
// function, the checks, the signature, the checkpoint) and, for comparison, unsigned (the append
// function alone, as a store without keys does).
func BenchmarkAppend(b *testing.B) {
	db, app, _ := openSigned(b)
	g := approvedGrant(b, app, time.Now(), 600)
	b.Run("signed", func(b *testing.B) {
		for i := range b.N {
			if err := logAccess(app, g, i); err != nil {
				b.Fatal(err)
			}
		}
	})
	unsigned, err := postgres.Open(context.Background(), db.AppURL, time.Now, postgres.WithKeyring(db.Keyring(b)))
	if err != nil {
		b.Fatal(err)
	}
	defer unsigned.Close()
	// The same log: a store without keys checks nothing (the signed one would refuse to go on).
	g2 := approvedGrant(b, unsigned, time.Now(), 600)
	b.Run("unsigned", func(b *testing.B) {
		for i := range b.N {
			if err := logAccess(unsigned, g2, i); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The append compares the database's text of a record with accesslog.Record.Text byte for byte
// (a mismatch is decoded and compared as values, so a wrong Text costs time, not safety): for
// access-like details the two must be the same text, or every access pays the slow way.
func TestRecordTextIsTheDatabases(t *testing.T) {
	db := pgtest.New(t)
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	actor, grant := uuid.New(), uuid.New()
	at := time.Date(2026, 11, 27, 16, 48, 37, 637460000, time.UTC)
	for name, c := range map[string]struct {
		actor, grant *uuid.UUID
		event, kind  string
		detail       map[string][]string
	}{
		"an access":           {&actor, &grant, "ACCESS", "STAFF", map[string][]string{"records": {wvsoft.GlobalID("Person", uuid.New()), wvsoft.GlobalID("Person", uuid.New())}, "fields": {"Person.iban", "Person.id"}}},
		"no fields":           {&actor, &grant, "ACCESS", "STAFF", map[string][]string{"records": {"UGVyc29uOng"}, "fields": nil}},
		"empty lists":         {&actor, &grant, "ACCESS", "STAFF", map[string][]string{"records": {}, "fields": {}}},
		"no actor, no grant":  {nil, nil, "EXPIRED", "SYSTEM", map[string][]string{}},
		"keys of one length":  {&actor, nil, "ACCESS", "USER", map[string][]string{"bb": {"x"}, "aa": {"y"}, "c": {"z"}, "records": {"r"}}},
		"a thousand records":  {&actor, &grant, "ACCESS", "STAFF", map[string][]string{"records": thousandIDs(), "fields": {"Person.id"}}},
		"names with - and _ ": {&actor, &grant, "ACCESS", "STAFF", map[string][]string{"records": {"a-b_c", "A.b/c d~"}}},
	} {
		want := &accesslog.Record{V: 1, Tenant: uuid.New(), Seq: 42, ID: uuid.New(), At: at.Format(accesslog.TimeFormat), Event: c.event,
			ActorKind: c.kind, ActorID: c.actor, GrantID: c.grant}
		detail, ok := accesslog.DetailText(c.detail)
		if !ok {
			t.Fatalf("%s: no detail text", name)
		}
		if raw, _ := json.Marshal(c.detail); !jsonEqual(t, raw, []byte(detail)) {
			t.Fatalf("%s: the detail's text %s is not the JSON of %s", name, detail, raw)
		}
		text, ok := want.Text(detail)
		if !ok {
			t.Fatalf("%s: no text", name)
		}
		raw := detail
		var got string
		if err := owner.QueryRow(`SELECT access_log_record($1, $2, $3, $4, $5, $6, $7, $8, $9)`, want.Tenant, want.Seq, want.ID, at,
			want.Event, want.ActorKind, want.ActorID, want.GrantID, string(raw)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != text {
			t.Fatalf("%s:\ndatabase %.400s\nText     %.400s", name, got, text)
		}
	}
	if _, ok := accesslog.DetailText(map[string][]string{"records": {`a"b`}}); ok {
		t.Fatal("a name with a quote got a text; jsonb escapes it")
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func thousandIDs() []string {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = wvsoft.GlobalID("Person", uuid.New())
	}
	return ids
}
