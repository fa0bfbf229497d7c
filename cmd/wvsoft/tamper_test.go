package main

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// tamperLog is a customer's access log of six entries with a checkpoint of the first five that
// the customer kept, in a database of its own.
type tamperLog struct {
	t      *testing.T
	db     *pgtest.DB
	store  *postgres.DB
	owner  *sql.DB
	tenant uuid.UUID
	grant  uuid.UUID
	kept   string // file
	vkey   string
}

func newTamperLog(t *testing.T) *tamperLog {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	skey, vkey, err := accesslog.GenerateKey("wvsoft-access-log-test")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := accesslog.NewKeys(skey)
	if err != nil {
		t.Fatal(err)
	}
	store, err := postgres.Open(ctx, db.AppURL, time.Now, postgres.WithKeyring(db.Keyring(t)), postgres.WithLogKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	owner, err := sql.Open("postgres", db.TamperURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	l := &tamperLog{t: t, db: db, store: store, owner: owner, tenant: postgres.SeedID("customer", "bakkerij-de-vries"), vkey: vkey}
	director := postgres.SeedID("staff", "director@wvsoft.example")
	admin := postgres.SeedID("user", "admin@bakkerij-de-vries.example")
	now := time.Now()
	g := &wvsoft.SupportAccessGrant{TenantID: l.tenant, UUID: uuid.Must(uuid.NewV7()), RequestedBy: director, Reason: "ticket #4711",
		ScopeTypes: []string{wvsoft.KindPerson}, DurationSeconds: 3600, RequestedAt: now, AnswerBy: now.Add(time.Hour)}
	l.grant = g.UUID
	if err := store.RequestAccess(ctx, wvsoft.TenantFilter{All: true}, g); err != nil {
		t.Fatal(err)
	}
	if _, err := store.DecideAccess(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{l.tenant}}, g.UUID, admin, true, now, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 4 { // entries 3 to 6
		l.access(t, wvsoft.GlobalID(wvsoft.KindPerson, postgres.SeedID("person", "bakkerij-de-vries", string(rune('a'+i)))))
		if i == 2 {
			cp, err := store.LatestCheckpoint(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{l.tenant}}, l.tenant)
			if err != nil || cp == nil || cp.Size != 5 {
				t.Fatalf("checkpoint after five entries: %+v, %v", cp, err)
			}
			l.kept = filepath.Join(t.TempDir(), "checkpoint.txt")
			if err := os.WriteFile(l.kept, []byte(cp.Note), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, err := l.verify(); err != nil || !strings.Contains(out, "intact (6 entries, signed up to 6)") {
		t.Fatalf("the untouched log does not verify: %v\n%s", err, out)
	}
	return l
}

// access appends an ACCESS entry through the server's path.
func (l *tamperLog) access(t *testing.T, record string) error {
	err := l.store.LogAccess(context.Background(), &wvsoft.Subject{Kind: wvsoft.SubjectStaff, ID: postgres.SeedID("staff", "director@wvsoft.example")},
		[]wvsoft.Access{{GrantID: l.grant, TenantID: l.tenant, Records: []string{record}, Fields: []string{"Person.name"}}}, time.Now())
	if err != nil && t != nil {
		t.Fatal(err)
	}
	return err
}

// verify runs `wvsoft audit verify --checkpoint FILE --key PUBLIC_KEY`, as the customer would.
func (l *tamperLog) verify() (string, error) {
	var out strings.Builder
	env := map[string]string{"DATABASE_URL": l.db.OwnerURL}
	err := run(context.Background(), []string{"wvsoft", "audit", "verify", "--checkpoint", l.kept, "--key", l.vkey},
		func(k string) string { return env[k] }, &out, io.Discard)
	return out.String(), err
}

// asOwner runs statements as the database owner with the log's triggers off, as someone with
// full control of the database would.
func (l *tamperLog) asOwner(stmts ...string) {
	l.t.Helper()
	tx, err := l.owner.Begin()
	if err != nil {
		l.t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(tamperHelpers); err != nil {
		l.t.Fatal(err)
	}
	for _, table := range []string{"access_log", "access_log_tree", "access_log_checkpoints"} {
		if _, err := tx.Exec(`ALTER TABLE ` + table + ` DISABLE TRIGGER USER`); err != nil {
			l.t.Fatal(err)
		}
	}
	for _, s := range stmts {
		if _, err := tx.Exec(s, l.tenant); err != nil {
			l.t.Fatalf("%s: %v", s, err)
		}
	}
	for _, table := range []string{"access_log", "access_log_tree", "access_log_checkpoints"} {
		if _, err := tx.Exec(`ALTER TABLE ` + table + ` ENABLE TRIGGER USER`); err != nil {
			l.t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		l.t.Fatal(err)
	}
}

// The owner covers his tracks as far as he can without the signing key: every record rewritten
// to its (new) position, the whole tree recomputed. Only the signatures he cannot make. Row by
// row, in functions of the session (tamperHelpers): Citus takes no STABLE function over columns
// in an UPDATE of a distributed table, nor a function that writes shards called from a query on
// one; on plain PostgreSQL the same.
const (
	rewriteRecords = `SELECT pg_temp.wv_rewrite_records($1)`
	refillTree     = `SELECT pg_temp.wv_refill_tree($1)`
	tamperHelpers  = `
CREATE FUNCTION pg_temp.wv_rewrite_records(p_tenant uuid) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE e record; n bigint := 0;
BEGIN
  FOR e IN SELECT * FROM access_log WHERE p_tenant IS NULL OR tenant_id = p_tenant ORDER BY tenant_id, seq LOOP
    UPDATE access_log SET record = access_log_record(e.tenant_id, e.seq, e.id, e.at, e.event, e.actor_kind, e.actor_id, e.grant_id, e.detail)
     WHERE tenant_id = e.tenant_id AND seq = e.seq;
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
CREATE FUNCTION pg_temp.wv_refill_tree(p_tenant uuid) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE e record; n bigint := 0;
BEGIN
  FOR e IN SELECT tenant_id, seq, record FROM access_log WHERE p_tenant IS NULL OR tenant_id = p_tenant ORDER BY tenant_id, seq LOOP
    PERFORM access_log_add_leaf(e.tenant_id, e.seq - 1, sha256('\x00'::bytea || convert_to(e.record, 'UTF8')));
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;`
	renumberFrom = `UPDATE access_log SET seq = seq + 1000 WHERE tenant_id = $1 AND seq >= 3`
)

func wantBroken(t *testing.T, out string, err error, at string) {
	t.Helper()
	if err == nil || !strings.Contains(out, "BROKEN at entry "+at+":") {
		t.Fatalf("not detected at entry %s: %v\n%s", at, err, out)
	}
	t.Logf("detected:\n%s", out)
}

// Each of the five ways WvSoft could tamper with a customer's access log is detected
// against a checkpoint the customer kept before, by `wvsoft audit verify --checkpoint --key`.
func TestTamperingIsDetectedAgainstAKeptCheckpoint(t *testing.T) {
	t.Run("an altered entry", func(t *testing.T) {
		l := newTamperLog(t)
		l.asOwner(`UPDATE access_log SET detail = jsonb_set(detail, '{fields}', '["Person.city"]') WHERE tenant_id = $1 AND seq = 4`,
			rewriteRecords, `DELETE FROM access_log_tree WHERE tenant_id = $1`, refillTree)
		out, err := l.verify()
		wantBroken(t, out, err, "4")
		if !strings.Contains(out, "your checkpoint vouches for") && !strings.Contains(out, "not those your checkpoint vouches for") {
			t.Fatalf("the kept checkpoint did not catch it:\n%s", out)
		}
	})

	t.Run("an entry inserted as the application role", func(t *testing.T) {
		l := newTamperLog(t)
		ctx := context.Background()
		app := l.store.SQL()
		tx, err := app.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`SELECT set_config('app.tenants', $1, true)`, "{"+l.tenant.String()+"}"); err != nil {
			t.Fatal(err)
		}
		// A direct insert fails outright: the role has no INSERT on the log any more.
		_, err = tx.Exec(`INSERT INTO access_log (tenant_id, seq, id, at, event, actor_kind, grant_id, detail, record)
			VALUES ($1, 7, gen_random_uuid(), now(), 'REVOKED', 'USER', $2, '{}', '{}')`, l.tenant, l.grant)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("the application role inserted into the log: %v", err)
		}
		tx.Rollback()
		// Through the append function it gets an entry in, but cannot sign it.
		tx, _ = app.BeginTxx(ctx, nil)
		tx.Exec(`SELECT set_config('app.tenants', $1, true)`, "{"+l.tenant.String()+"}")
		if _, err := tx.Exec(`SELECT * FROM access_log_append($1, gen_random_uuid(), now(), 'REVOKED', 'USER', NULL, $2, '{}')`, l.tenant, l.grant); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`SELECT access_log_add_checkpoint($1, 7, $2)`, l.tenant, "forged\n7\nAAAA\n\n— x AAAA\n"); err == nil {
			t.Fatal("a checkpoint with another root was stored")
		}
		tx.Rollback()
		tx, _ = app.BeginTxx(ctx, nil)
		tx.Exec(`SELECT set_config('app.tenants', $1, true)`, "{"+l.tenant.String()+"}")
		if _, err := tx.Exec(`SELECT * FROM access_log_append($1, gen_random_uuid(), now(), 'REVOKED', 'USER', NULL, $2, '{}')`, l.tenant, l.grant); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		out, err := l.verify()
		wantBroken(t, out, err, "7")
		// The server refuses to sign over it, so the next real entry cannot hide it.
		if err := l.access(nil, "Person:x"); err == nil || !strings.Contains(err.Error(), "refusing to sign") {
			t.Fatalf("the server signed over a foreign entry: %v", err)
		}
		// A revocation still takes effect on a tampered log: its entry stays unsigned.
		g, err := l.store.RevokeAccess(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{l.tenant}}, l.grant,
			postgres.SeedID("user", "admin@bakkerij-de-vries.example"), time.Now())
		if err != nil || g.Status != wvsoft.GrantRevoked {
			t.Fatalf("the revocation failed on a tampered log: %v", err)
		}
		if out, err := l.verify(); err == nil || !strings.Contains(out, "BROKEN at entry 7") {
			t.Fatalf("after the revocation: %v\n%s", err, out)
		}
	})

	t.Run("an entry inserted as the owner", func(t *testing.T) {
		l := newTamperLog(t)
		// Between entries 2 and 3: a REVOKED that would make the accesses after it look unauthorised.
		l.asOwner(renumberFrom, `UPDATE access_log SET seq = seq - 999 WHERE tenant_id = $1 AND seq > 1000`,
			`INSERT INTO access_log (tenant_id, seq, id, at, event, actor_kind, grant_id, detail, record)
			 SELECT tenant_id, 3, gen_random_uuid(), at, 'REVOKED', 'USER', grant_id, '{}', '' FROM access_log WHERE tenant_id = $1 AND seq = 2`,
			rewriteRecords, `DELETE FROM access_log_tree WHERE tenant_id = $1`, refillTree)
		out, err := l.verify()
		wantBroken(t, out, err, "3")
	})

	t.Run("an entry inserted as the owner at the end", func(t *testing.T) {
		l := newTamperLog(t)
		l.asOwner(`INSERT INTO access_log (tenant_id, seq, id, at, event, actor_kind, grant_id, detail, record)
			SELECT tenant_id, 7, gen_random_uuid(), at, 'REVOKED', 'USER', grant_id, '{}', '' FROM access_log WHERE tenant_id = $1 AND seq = 6`,
			rewriteRecords, `DELETE FROM access_log_tree WHERE tenant_id = $1`, refillTree)
		out, err := l.verify()
		wantBroken(t, out, err, "7")
	})

	t.Run("an entry deleted in the middle", func(t *testing.T) {
		l := newTamperLog(t)
		l.asOwner(`DELETE FROM access_log WHERE tenant_id = $1 AND seq = 3`)
		out, err := l.verify()
		wantBroken(t, out, err, "3")
	})

	t.Run("an entry deleted in the middle, the rest renumbered", func(t *testing.T) {
		l := newTamperLog(t)
		l.asOwner(`DELETE FROM access_log WHERE tenant_id = $1 AND seq = 3`, renumberFrom,
			`UPDATE access_log SET seq = seq - 1001 WHERE tenant_id = $1 AND seq > 1000`,
			`DELETE FROM access_log_checkpoints WHERE tenant_id = $1 AND size = 6`,
			rewriteRecords, `DELETE FROM access_log_tree WHERE tenant_id = $1`, refillTree)
		out, err := l.verify()
		wantBroken(t, out, err, "3")
	})

	t.Run("a truncated tail", func(t *testing.T) {
		l := newTamperLog(t)
		// Everything after entry 4 goes, with its tree nodes and checkpoints: what is left is a
		// complete, correctly signed log of four entries.
		l.asOwner(`DELETE FROM access_log WHERE tenant_id = $1 AND seq > 4`,
			`DELETE FROM access_log_checkpoints WHERE tenant_id = $1 AND size > 4`,
			`DELETE FROM access_log_tree WHERE tenant_id = $1`, refillTree)
		out, err := l.verify()
		wantBroken(t, out, err, "5")
		if !strings.Contains(out, "your checkpoint vouches for 5 entries, the log has 4") {
			t.Fatalf("the kept checkpoint did not catch it:\n%s", out)
		}
	})
}
