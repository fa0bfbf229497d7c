package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// The catalog queries of the invariants; each returns one line per violation.
const (
	tenantTables = `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnotnull AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`
	uniqueWithoutTenant = `SELECT i.indexrelid::regclass::text FROM pg_index i
			WHERE i.indrelid IN (` + tenantTables + `) AND (i.indisunique OR i.indisexclusion)
			AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attname = 'tenant_id'
			                AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1]))
			ORDER BY 1`
	undistributableKeys = `WITH t AS (` + tenantTables + `), fk AS (
			  SELECT k.conname::text AS name, k.conrelid, k.confrelid, k.conkey, k.confkey, k.confdeltype, k.confupdtype,
			         k.conrelid IN (SELECT oid FROM t) AS from_tenant, k.confrelid IN (SELECT oid FROM t) AS to_tenant,
			         (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attname = 'tenant_id') AS from_tid,
			         (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = k.confrelid AND a.attname = 'tenant_id') AS to_tid
			    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			   WHERE k.contype = 'f' AND n.nspname = 'public')
			SELECT format('%s on %s: %s', name, conrelid::regclass, why) FROM (
			  SELECT name, conrelid, 'a reference table points at a distributed table' AS why FROM fk WHERE NOT from_tenant AND to_tenant
			  UNION ALL
			  SELECT name, conrelid, 'tenant_id is not paired with tenant_id' FROM fk
			   WHERE from_tenant AND to_tenant AND NOT EXISTS (
			     SELECT 1 FROM generate_subscripts(conkey, 1) s WHERE conkey[s] = from_tid AND confkey[s] = to_tid)
			  UNION ALL
			  SELECT name, conrelid, 'ON DELETE SET NULL / SET DEFAULT on a key with tenant_id' FROM fk
			   WHERE from_tenant AND from_tid = ANY (conkey) AND confdeltype IN ('n', 'd')
			  UNION ALL
			  SELECT name, conrelid, 'an ON UPDATE action on a key with tenant_id' FROM fk
			   WHERE from_tenant AND from_tid = ANY (conkey) AND confupdtype NOT IN ('a', 'r')
			) x ORDER BY 1`
)

// The schema stays distributable by tenant on Citus. These invariants read the catalog
// of a plain PostgreSQL database migrated like production; each names what Citus would refuse.
// A "tenant table" has a NOT NULL tenant_id column and is distributed by it; every other table
// of the application is a reference table (migration 00010).
func TestCitusInvariants(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	strs := func(q string, args ...any) []string {
		t.Helper()
		return queryStrings(t, ctx, owner, q, args...)
	}
	tenants := strs(`SELECT c.relname::text FROM pg_class c WHERE c.oid IN (` + tenantTables + `) ORDER BY 1`)
	if len(tenants) < 15 {
		t.Fatalf("only %d tenant tables found: %v", len(tenants), tenants)
	}

	t.Run("every unique index or constraint of a tenant table includes tenant_id", func(t *testing.T) {
		// Citus enforces uniqueness per shard only: an index without the distribution column
		// cannot be created on a distributed table.
		bad := strs(uniqueWithoutTenant)
		if len(bad) > 0 {
			t.Fatalf("unique indexes without tenant_id on tenant tables (use a lookup table, migration 00009): %v", bad)
		}
	})

	t.Run("every foreign key allows distribution", func(t *testing.T) {
		// A reference table cannot point at a distributed one; between distributed tables the
		// key must pair tenant_id with tenant_id (colocated); and a key that includes tenant_id
		// takes no SET NULL / SET DEFAULT on delete and no action on update.
		bad := strs(undistributableKeys)
		if len(bad) > 0 {
			t.Fatalf("foreign keys that Citus refuses:\n%s", strings.Join(bad, "\n"))
		}
	})

	t.Run("no SQL-language function reads a table", func(t *testing.T) {
		// Citus cannot plan an SQL-language function's parameterized statements over distributed
		// (or reference) tables; PL/pgSQL's statements it plans one by one.
		if bad := sqlFunctionsReadingTables(t, ctx, owner); len(bad) > 0 {
			t.Fatalf("SQL-language functions that read tables (write them in PL/pgSQL):\n%s", strings.Join(bad, "\n"))
		}
		if n := queryStrings(t, ctx, owner, `SELECT count(*)::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
			WHERE p.pronamespace = 'public'::regnamespace AND l.lanname = 'sql'`); n[0] == "0" {
			t.Fatal("no SQL-language function found; the query is wrong")
		}
	})

	t.Run("every function statement that reads a tenant table names one tenant", func(t *testing.T) {
		// The per-request look-ups (and the access log's append) must route to one shard on
		// Citus: each statement over a tenant table compares tenant_id with one value. Only the
		// owner's bulk operations read across tenants: the fill of the lookup tables, and the
		// hourly purge of former customers' access logs, which is on no request's path.
		// The hourly retention purge of access logs and of the other evidence is such a bulk
		// operation too.
		if bad := fanOutStatements(t, ctx, owner, tenants, "wvsoft_fill_lookups", "purge_access_logs", "purge_evidence"); len(bad) > 0 {
			t.Fatalf("statements that would go to every shard:\n%s", strings.Join(bad, "\n"))
		}
	})

	t.Run("the checks find each kind of violation", func(t *testing.T) {
		tx, err := owner.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		// On Citus the violations are refused as they are made (that is the point): made here on
		// the coordinator's catalog only, where the checks read, and rolled back.
		for _, q := range []string{
			`SET LOCAL citus.enable_ddl_propagation = off`,
			`CREATE UNIQUE INDEX wv_bad_unique ON persons (email)`,
			`CREATE TABLE wv_bad_ref (id uuid PRIMARY KEY, customer uuid REFERENCES customers (tenant_id))`,
			`CREATE TABLE wv_bad_tenant (tenant_id uuid NOT NULL, id uuid NOT NULL, person uuid, other uuid, PRIMARY KEY (tenant_id, id),
			   CONSTRAINT wv_bad_set_null FOREIGN KEY (tenant_id, person) REFERENCES persons ON DELETE SET NULL,
			   CONSTRAINT wv_bad_unpaired FOREIGN KEY (other) REFERENCES customers (tenant_id))`,
			`CREATE FUNCTION wv_bad_sql(uuid) RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM persons WHERE tenant_id = $1'`,
			`CREATE FUNCTION wv_bad_fan_out(text) RETURNS uuid LANGUAGE plpgsql AS
			   'BEGIN RETURN (SELECT u.id FROM users u WHERE lower(u.email) = $1 AND u.tenant_id = ANY (app_tenants())); END'`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		got := strings.Join(queryStrings(t, ctx, tx, uniqueWithoutTenant), "\n") + "\n" +
			strings.Join(queryStrings(t, ctx, tx, undistributableKeys), "\n") + "\n" +
			strings.Join(sqlFunctionsReadingTables(t, ctx, tx), "\n") + "\n" +
			strings.Join(fanOutStatements(t, ctx, tx, tenants, "wvsoft_fill_lookups"), "\n")
		for _, want := range []string{"wv_bad_unique", "wv_bad_ref_customer_fkey on wv_bad_ref: a reference table",
			"wv_bad_set_null on wv_bad_tenant: ON DELETE SET NULL", "wv_bad_unpaired on wv_bad_tenant: tenant_id is not paired",
			"wv_bad_sql(uuid) reads persons", "wv_bad_fan_out(text): BEGIN RETURN (SELECT u.id FROM users"} {
			if !strings.Contains(got, want) {
				t.Errorf("not found: %s\nin:\n%s", want, got)
			}
		}
	})

	t.Run("the plan distributes every table in an order that works", func(t *testing.T) {
		type step struct {
			Step                   int
			Relation, Action, Name string
			Detail                 sql.NullString
		}
		rows, err := owner.QueryContext(ctx, `SELECT step, relation, action, coalesce(name, ''), detail FROM wvsoft_citus_plan() ORDER BY step, ord`)
		if err != nil {
			t.Fatal(err)
		}
		var plan []step
		for rows.Next() {
			var s step
			if err := rows.Scan(&s.Step, &s.Relation, &s.Action, &s.Name, &s.Detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, s)
		}
		rows.Close()
		isTenant := map[string]bool{}
		for _, n := range tenants {
			isTenant[n] = true
		}
		all := strs(`SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'goose_db_version'`)
		kind := map[string]string{}
		dropped, added := map[string]bool{}, map[string]bool{}
		firstDistributed := ""
		last := 0
		for _, s := range plan {
			if s.Step < last {
				t.Fatalf("plan out of order at %+v", s)
			}
			last = s.Step
			switch s.Action {
			case "drop_foreign_key":
				dropped[s.Relation+"."+s.Name] = true
			case "add_foreign_key":
				added[s.Relation+"."+s.Name] = true
			case "reference", "distribute":
				if kind[s.Relation] != "" {
					t.Fatalf("%s planned twice", s.Relation)
				}
				kind[s.Relation] = s.Action
				if s.Action == "distribute" {
					if firstDistributed == "" {
						firstDistributed = s.Relation
					}
					if s.Name != "tenant_id" || (s.Relation != "customers" && s.Detail.String != "customers") {
						t.Errorf("%s is not distributed by tenant_id colocated with customers: %+v", s.Relation, s)
					}
				}
			}
		}
		if firstDistributed != "customers" {
			t.Errorf("customers must be distributed first, got %q", firstDistributed)
		}
		for _, table := range all {
			want := "reference"
			if isTenant[table] {
				want = "distribute"
			}
			if kind[table] != want {
				t.Errorf("%s: planned %q, want %q", table, kind[table], want)
			}
		}
		for k := range dropped {
			if !added[k] {
				t.Errorf("foreign key %s dropped and not added again", k)
			}
		}
		if len(added) != len(dropped) || len(dropped) == 0 {
			t.Errorf("%d foreign keys dropped, %d added", len(dropped), len(added))
		}
		for _, s := range plan {
			if s.Action == "drop_truncate_trigger" && !strings.HasPrefix(s.Relation, "access_log") {
				t.Errorf("unexpected trigger dropped: %+v", s)
			}
		}
	})

	t.Run("without the citus extension the migration changes nothing; with it, running it again neither", func(t *testing.T) {
		// On plain PostgreSQL wvsoft_distribute does nothing; on Citus (make test-citus) every
		// table is distributed already, so a second run distributes nothing more, and the
		// foreign keys are back while the TRUNCATE triggers are gone (by design, step 2).
		citus := pgtest.Citus(t)
		var msg string
		if err := owner.QueryRowContext(ctx, `SELECT wvsoft_distribute()`).Scan(&msg); err != nil {
			t.Fatal(err)
		}
		if want := "not installed"; citus {
			if !strings.Contains(msg, "citus: 0 tables") {
				t.Fatalf("wvsoft_distribute again: %s", msg)
			}
		} else if !strings.Contains(msg, want) {
			t.Fatalf("wvsoft_distribute: %s", msg)
		}
		var fks, triggers int
		if err := owner.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace),
			(SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'access_log%no_truncate')`).Scan(&fks, &triggers); err != nil {
			t.Fatal(err)
		}
		wantTriggers := 3
		if citus {
			wantTriggers = 0
		}
		if fks < 10 || triggers != wantTriggers {
			t.Fatalf("foreign keys %d, truncate triggers %d: something was dropped", fks, triggers)
		}
	})

	t.Run("the lookup tables agree with the tables they index", func(t *testing.T) {
		// Written in the same transaction by the server, and by the seed through
		// wvsoft_fill_lookups; a difference would sign someone in wrongly or not at all.
		for name, q := range map[string]string{
			"slugs":      `SELECT count(*) FROM (SELECT slug, tenant_id FROM customers EXCEPT SELECT slug, tenant FROM customer_slugs) d`,
			"slugs back": `SELECT count(*) FROM (SELECT slug, tenant FROM customer_slugs EXCEPT SELECT slug, tenant_id FROM customers) d`,
			"logins": `SELECT count(*) FROM (SELECT lower(email), tenant_id, id, created_at FROM users
				EXCEPT SELECT email, tenant, user_id, created_at FROM login_index) d`,
			"logins back": `SELECT count(*) FROM (SELECT email, tenant, user_id, created_at FROM login_index
				EXCEPT SELECT lower(email), tenant_id, id, created_at FROM users) d`,
			"keys": `SELECT count(*) FROM (SELECT secret_hash, tenant_id, id FROM api_keys EXCEPT SELECT secret_hash, tenant, key_id FROM api_key_hashes) d`,
			"consent": `SELECT count(*) FROM ((SELECT DISTINCT ON (tenant_id) tenant_id, event FROM consent_events ORDER BY tenant_id, at DESC)
				EXCEPT SELECT tenant, event FROM consent_state) d`,
		} {
			var n int
			if err := owner.QueryRowContext(ctx, q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s: %d rows differ", name, n)
			}
		}
		var logins int
		if err := owner.QueryRowContext(ctx, `SELECT count(*) FROM login_index`).Scan(&logins); err != nil || logins < 4 {
			t.Fatalf("login_index has %d rows (%v): the seed's users are missing", logins, err)
		}
	})
}

// The request path sets the tenant with SET LOCAL only: set_config(..., true) does not reach
// Citus's workers, and a session-level SET would outlive the transaction on a pooled connection.
func TestTenantSetOnlyWithSetLocal(t *testing.T) {
	root := filepath.Join("..", "..")
	setConfig := regexp.MustCompile(`set_config\s*\(\s*'app\.`)
	sessionSet := regexp.MustCompile(`(?i)\bSET\s+(SESSION\s+)?app\.`)
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == ".data") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if setConfig.MatchString(line) || sessionSet.MatchString(line) {
				t.Errorf("%s:%d sets the tenant without SET LOCAL: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 30 {
		t.Fatalf("only %d Go files searched", files)
	}
	// The statement quotes what it is given.
	got := postgres.SetTenants([]uuid.UUID{uuid.MustParse("01890000-0000-7000-8000-000000000001")}, true)
	want := `SET LOCAL app.tenants = '{01890000-0000-7000-8000-000000000001}'; SET LOCAL app.all_tenants = 'on'`
	if got != want {
		t.Fatalf("setTenants = %s", got)
	}
	if got := postgres.SetTenants(nil, false); got != `SET LOCAL app.tenants = '{}'; SET LOCAL app.all_tenants = 'off'` {
		t.Fatalf("setTenants(none) = %s", got)
	}
}

// The tenant set with SET LOCAL ends with the transaction: the next transaction on the same
// connection sees no tenant, and fails closed.
func TestSetLocalEndsWithTheTransaction(t *testing.T) {
	ctx := context.Background()
	_, app := openApp(t)
	raw := app.SQL()
	raw.SetMaxOpenConns(1)
	bakkerij := postgres.SeedID("customer", "bakkerij-de-vries")
	tx, err := raw.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, postgres.SetTenants([]uuid.UUID{bakkerij}, false)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM persons`); err != nil || n == 0 {
		t.Fatalf("persons in the tenant's transaction: %d, %v", n, err)
	}
	tx.Commit()
	if err := raw.GetContext(ctx, &n, `SELECT count(*) FROM persons`); err != nil || n != 0 {
		t.Fatalf("persons after the transaction: %d, %v", n, err)
	}
}

// A slug and an API key's hash stay unique over all customers through their lookup tables, and
// a duplicate is still CONFLICT; a login address is unique per customer only.
func TestGlobalUniquenessThroughLookups(t *testing.T) {
	ctx := context.Background()
	_, app := openApp(t)
	staff := wvsoft.TenantFilter{All: true}
	newID := func() uuid.UUID { id, _ := uuid.NewV7(); return id }
	a, b := newID(), newID()
	name := "Klant"
	if err := app.CreateCustomer(ctx, staff, &wvsoft.Customer{TenantID: a, Slug: "klant-uniek", Name: &name}); err != nil {
		t.Fatal(err)
	}
	err := app.CreateCustomer(ctx, staff, &wvsoft.Customer{TenantID: b, Slug: "klant-uniek", Name: &name})
	var we *wvsoft.Error
	if !errors.As(err, &we) || we.Code != wvsoft.ECONFLICT {
		t.Fatalf("a taken slug: %v", err)
	}
	if err := app.CreateCustomer(ctx, staff, &wvsoft.Customer{TenantID: b, Slug: "klant-twee", Name: &name}); err != nil {
		t.Fatalf("the failed insert left something behind: %v", err)
	}

	hash := []byte("0123456789abcdef0123456789abcdef")
	no := false
	inA, inB := wvsoft.TenantFilter{Tenants: []uuid.UUID{a}}, wvsoft.TenantFilter{Tenants: []uuid.UUID{b}}
	if err := app.CreateAPIKey(ctx, inA, &wvsoft.APIKey{TenantID: a, UUID: newID(), Name: ptr("k"), Prefix: ptr("wv_1"), CanWrite: &no, SpecialCategories: &no}, hash); err != nil {
		t.Fatal(err)
	}
	err = app.CreateAPIKey(ctx, inB, &wvsoft.APIKey{TenantID: b, UUID: newID(), Name: ptr("k"), Prefix: ptr("wv_2"), CanWrite: &no, SpecialCategories: &no}, hash)
	if !errors.As(err, &we) || we.Code != wvsoft.ECONFLICT {
		t.Fatalf("a taken key hash in another customer: %v", err)
	}
	s, err := app.SubjectByAPIKey(ctx, hash)
	if err != nil || s.TenantID != a {
		t.Fatalf("the key signs in as %v, %v", s, err)
	}

	// The same address in both customers: the older user signs in, or the one the slug names;
	// once the older is deleted, the other.
	ua, ub := &wvsoft.User{TenantID: a, UUID: newID(), Email: ptr("Zelfde@Example.nl"), Role: ptr(wvsoft.RoleAdmin)},
		&wvsoft.User{TenantID: b, UUID: newID(), Email: ptr("zelfde@example.nl"), Role: ptr(wvsoft.RoleAdmin)}
	if err := app.CreateUser(ctx, inA, ua); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	if err := app.CreateUser(ctx, inB, ub); err != nil {
		t.Fatal(err)
	}
	if s, err := app.SubjectByEmail(ctx, "ZELFDE@example.nl"); err != nil || s.ID != ua.UUID {
		t.Fatalf("sign-in: %v, %v; want the older user", s, err)
	}
	if s, err := app.SubjectByEmailIn(ctx, "zelfde@example.nl", "klant-twee"); err != nil || s.ID != ub.UUID {
		t.Fatalf("sign-in to klant-twee: %v, %v", s, err)
	}
	if err := app.DeleteUser(ctx, inA, ua.UUID); err != nil {
		t.Fatal(err)
	}
	if s, err := app.SubjectByEmail(ctx, "zelfde@example.nl"); err != nil || s.ID != ub.UUID {
		t.Fatalf("sign-in after deleting the older user: %v, %v", s, err)
	}
	var left int
	if err := app.SQL().GetContext(ctx, &left, `SELECT count(*) FROM login_index`); err != nil || left != 0 {
		t.Fatalf("the application role reads %d login rows without a tenant (%v)", left, err)
	}
}

// The outbox claim keeps its limit (on Citus a LIMIT in the UPDATE's subquery was lost).
func TestClaimDueKeepsItsLimit(t *testing.T) {
	ctx := context.Background()
	db, app := openApp(t)
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	now := time.Now()
	ids := make([]uuid.UUID, 12)
	for i := range ids {
		ids[i], _ = uuid.NewV7()
	}
	if _, err := owner.ExecContext(ctx, `INSERT INTO outbox (id, recipient, subject, body, purpose, next_attempt_at, created_at)
		SELECT id, 'x@example.nl', 's', 'b', 'SUPPORT_NOTICE', $2, $2 FROM unnest($1::uuid[]) id`, pq.Array(ids), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := app.ClaimDue(ctx, now, 5, time.Minute)
	if err != nil || len(got) != 5 {
		t.Fatalf("claimed %d (%v), want 5", len(got), err)
	}
	rest, err := app.ClaimDue(ctx, now, 50, time.Minute)
	if err != nil || len(rest) != 7 {
		t.Fatalf("then claimed %d (%v), want the other 7", len(rest), err)
	}
}

func ptr(s string) *string { return &s }

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryStrings runs a query whose rows are one text column.
func queryStrings(t *testing.T, ctx context.Context, q queryer, query string, args ...any) []string {
	t.Helper()
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sqlFunctionsReadingTables names the SQL-language functions of the schema whose body names one
// of its tables (PostgreSQL records no dependencies of such a body, so its text is searched).
func sqlFunctionsReadingTables(t *testing.T, ctx context.Context, q queryer) []string {
	t.Helper()
	tables := queryStrings(t, ctx, q, `SELECT c.relname::text FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')`)
	fns := queryStrings(t, ctx, q, `SELECT p.oid::regprocedure::text || E'\x01' || p.prosrc FROM pg_proc p
		JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'public'::regnamespace AND l.lanname = 'sql'`)
	var out []string
	for _, f := range fns {
		name, src, _ := strings.Cut(f, "\x01")
		for _, table := range tables {
			if regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(table) + `\b`).MatchString(src) {
				out = append(out, name+" reads "+table)
			}
		}
	}
	return out
}

// The cost of giving a transaction its tenant: SET LOCAL (two statements in one simple-protocol
// round trip, no parameters) against the set_config query it replaced (one extended-protocol
// round trip with parameters), each in a transaction that then reads a persons page.
func BenchmarkTenantSetting(b *testing.B) {
	ctx := context.Background()
	db := pgtest.New(b)
	app, err := postgres.Open(ctx, db.AppURL, time.Now, postgres.WithKeyring(db.Keyring(b)))
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	raw := app.SQL()
	tenants := []uuid.UUID{postgres.SeedID("customer", "bakkerij-de-vries")}
	page := `SELECT id FROM persons WHERE tenant_id = $1 ORDER BY tenant_id, id LIMIT 26`
	for _, c := range []struct {
		name string
		set  func(tx *sql.Tx) error
	}{
		{"set_config", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `SELECT set_config('app.tenants', $1, true), set_config('app.all_tenants', $2, true)`,
				"{"+tenants[0].String()+"}", "off")
			return err
		}},
		{"SET_LOCAL", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, postgres.SetTenants(tenants, false))
			return err
		}},
	} {
		b.Run(c.name+"/alone", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				tx, err := raw.DB.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.set(tx); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/page", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				tx, err := raw.DB.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.set(tx); err != nil {
					b.Fatal(err)
				}
				rows, err := tx.QueryContext(ctx, page, tenants[0])
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				rows.Close()
				if n == 0 {
					b.Fatal("no persons: the tenant did not arrive")
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var (
	tableRef = regexp.MustCompile(`(?i)\b(?:from|join|update)\s+([a-z_][a-z0-9_]*)`)
	tenantEq = regexp.MustCompile(`(?i)tenant_id\s*=\s*([a-z_][a-z0-9_.]*)`)
)

// fanOutStatements names the statements of PL/pgSQL functions (except those in skip) that read a
// tenant table without comparing tenant_id with one value: on Citus, queries to every shard.
func fanOutStatements(t *testing.T, ctx context.Context, q queryer, tenantTables []string, skip ...string) []string {
	t.Helper()
	isTenant := map[string]bool{}
	for _, n := range tenantTables {
		isTenant[n] = true
	}
	fns := queryStrings(t, ctx, q, `SELECT p.oid::regprocedure::text || E'\x01' || p.prosrc FROM pg_proc p
		JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'public'::regnamespace AND l.lanname = 'plpgsql'
		AND NOT (p.proname = ANY ($1)) ORDER BY 1`, pq.Array(skip))
	var out []string
	for _, f := range fns {
		name, src, _ := strings.Cut(f, "\x01")
		for _, stmt := range strings.Split(src, ";") {
			reads := false
			for _, m := range tableRef.FindAllStringSubmatch(stmt, -1) {
				reads = reads || isTenant[strings.ToLower(m[1])]
			}
			if !reads {
				continue
			}
			one := false
			for _, m := range tenantEq.FindAllStringSubmatch(stmt, -1) {
				one = one || !strings.EqualFold(m[1], "any")
			}
			if !one {
				out = append(out, name+": "+strings.Join(strings.Fields(stmt), " "))
			}
		}
	}
	return out
}
