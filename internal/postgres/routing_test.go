package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// shardName is a shard in a statement that the coordinator sends to a worker: Citus names a
// shard after its table and its shard id (persons_102042).
var shardName = regexp.MustCompile(`\b([a-z_]+)_(\d{6,})\b`)

// Routing by tenant, measured on the cluster (make test-citus): each request kind runs through
// the store as the server runs it, with citus.log_remote_commands on for the application role,
// and the statements the coordinator sends to the workers name the shards they touch. A request
// about one customer must reach that customer's one shard group (colocated shards of one hash
// range), a list of N named customers at most N; reference tables do not count. On plain
// PostgreSQL there are no shards to count: the test says so and ends.
func TestRoutingByTenant(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	if !pgtest.Citus(t) {
		t.Skip("routing is measured on a Citus cluster: make test-citus")
	}
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.ExecContext(ctx, `ALTER ROLE `+postgres.AppRole+` IN DATABASE `+db.Name+` SET citus.log_remote_commands = on`); err != nil {
		t.Fatal(err)
	}
	// The hash range of each shard: colocated shards share it, and are one group.
	group := map[string]string{}
	rows, err := owner.QueryContext(ctx, `SELECT shardid::text, coalesce(shardminvalue, '') FROM pg_dist_shard`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, min string
		if err := rows.Scan(&id, &min); err != nil {
			t.Fatal(err)
		}
		group[id] = min
	}
	rows.Close()

	var mu sync.Mutex
	var sent []string
	store, err := postgres.Open(ctx, db.AppURL, time.Now, postgres.WithKeyring(db.Keyring(t)),
		postgres.WithNotices(func(e *pq.Error) {
			if strings.HasPrefix(e.Message, "issuing ") {
				mu.Lock()
				sent = append(sent, e.Message)
				mu.Unlock()
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	id := func(q string, args ...any) uuid.UUID {
		t.Helper()
		var v uuid.UUID
		if err := owner.QueryRowContext(ctx, q, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	bakkerij := id(`SELECT tenant_id FROM customers WHERE slug = 'bakkerij-de-vries'`)
	jansen := id(`SELECT tenant_id FROM customers WHERE slug = 'jansen-installatie'`)
	person := id(`SELECT id FROM persons WHERE tenant_id = $1 ORDER BY id LIMIT 1`, bakkerij)
	contact := id(`SELECT id FROM contact_persons WHERE tenant_id = $1 ORDER BY id LIMIT 1`, bakkerij)
	support := id(`SELECT id FROM staff_members WHERE email = 'support@wvsoft.example'`)
	own := wvsoft.TenantFilter{Tenants: []uuid.UUID{bakkerij}}
	staff := wvsoft.TenantFilter{All: true}

	// max bounds the shard groups that a request's statements reach, maxWrite those that its
	// writes reach (-1: not bounded, by design).
	type kind struct {
		name          string
		max, maxWrite int
		run           func() error
	}
	kinds := []kind{
		{"sign-in by address", 1, 0, func() error { _, err := store.SubjectByEmail(ctx, "admin@bakkerij-de-vries.example"); return err }},
		{"sign-in at a customer", 1, 0, func() error {
			_, err := store.SubjectByEmailIn(ctx, "admin@bakkerij-de-vries.example", "bakkerij-de-vries")
			return err
		}},
		{"a customer's support-access grants", 1, 0, func() error {
			_, err := store.AccessGrants(ctx, own, &bakkerij, nil)
			return err
		}},
		{"a first page of persons", 1, 0, func() error {
			_, _, err := store.Persons(ctx, own, bakkerij, wvsoft.Page{First: 10})
			return err
		}},
		{"a page of persons after a cursor, ordered by name", 1, 0, func() error {
			_, _, err := store.Persons(ctx, own, bakkerij, wvsoft.Page{First: 10, After: person, Order: wvsoft.Order{Field: "name"}})
			return err
		}},
		{"a page of persons before a cursor, ordered by name", 1, 0, func() error {
			_, _, err := store.Persons(ctx, own, bakkerij, wvsoft.Page{First: 10, After: person, Backward: true, Order: wvsoft.Order{Field: "name"}})
			return err
		}},
		// The register of all contact persons is a list across all customers: every shard, by design.
		{"the contact persons' register after a cursor, staff", -1, 0, func() error {
			_, _, err := store.ContactPersons(ctx, wvsoft.TenantFilter{All: true, Tenants: []uuid.UUID{bakkerij}},
				wvsoft.Page{First: 10, After: contact, Order: wvsoft.Order{Field: "name"}})
			return err
		}},
		{"node(id:) of a person", 1, 0, func() error { _, err := store.PersonsByID(ctx, own, []uuid.UUID{person}); return err }},
		{"node(id:) of a contact person, its customer's admin", 1, 0, func() error {
			_, err := store.ContactPersonsByID(ctx, own, []uuid.UUID{contact})
			return err
		}},
		{"the contact persons of one named customer, staff", 1, 0, func() error {
			_, err := store.ContactPersonsOf(ctx, staff, []uuid.UUID{bakkerij})
			return err
		}},
		{"the contact persons of two named customers, staff", 2, 0, func() error {
			_, err := store.ContactPersonsOf(ctx, staff, []uuid.UUID{bakkerij, jansen})
			return err
		}},
		{"a customer's users", 1, 0, func() error { _, err := store.UsersOf(ctx, own, bakkerij); return err }},
		{"a write by the customer's admin: a contact person", 1, 1, func() error {
			_, err := store.UpdateContactPerson(ctx, own, contact, wvsoft.Changes{{Field: "phone", Value: "+31 20 555 0102"}})
			return err
		}},
		// Staff name a row by its id only: finding its customer reads every shard (one SELECT,
		// by design); the write then reaches that customer's shard only.
		{"a staff write by id: a contact person", -1, 1, func() error {
			_, err := store.UpdateContactPerson(ctx, staff, contact, wvsoft.Changes{{Field: "phone", Value: "+31 20 555 0101"}})
			return err
		}},
		{"a support-access request (the grant and the access log's append)", 1, 1, func() error {
			gid, _ := uuid.NewV7()
			now := time.Now()
			return store.RequestAccess(ctx, staff, &wvsoft.SupportAccessGrant{UUID: gid, TenantID: bakkerij, RequestedBy: support,
				Reason: "a ticket about the payroll export", ScopeTypes: []string{wvsoft.KindPerson}, DurationSeconds: 3600,
				RequestedAt: now, AnswerBy: now.Add(24 * time.Hour)})
		}},
	}
	write := regexp.MustCompile(`^issuing (INSERT|UPDATE|DELETE|WITH)\b`)
	var table []string
	for _, k := range kinds {
		mu.Lock()
		sent = nil
		mu.Unlock()
		if err := k.run(); err != nil {
			t.Errorf("%s: %v", k.name, err)
			continue
		}
		mu.Lock()
		groups, writes, shards := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, m := range sent {
			for _, s := range shardName.FindAllStringSubmatch(m, -1) {
				if min, ok := group[s[2]]; ok && min != "" {
					groups[min] = true
					shards[s[1]+"_"+s[2]] = true
					if write.MatchString(m) {
						writes[min] = true
					}
				}
			}
		}
		n := len(sent)
		mu.Unlock()
		names := make([]string, 0, len(shards))
		for s := range shards {
			names = append(names, s)
		}
		sort.Strings(names)
		table = append(table, fmt.Sprintf("%-66s %2d shard group(s), %d written, %3d statements to workers", k.name, len(groups), len(writes), n))
		if k.max >= 0 && len(groups) > k.max {
			t.Errorf("%s reaches %d shard groups (at most %d): %v", k.name, len(groups), k.max, names)
		}
		if k.maxWrite >= 0 && len(writes) > k.maxWrite {
			t.Errorf("%s writes %d shard groups (at most %d): %v", k.name, len(writes), k.maxWrite, names)
		}
	}
	t.Logf("routing measured:\n%s", strings.Join(table, "\n"))
}

// A database migrated and seeded on plain PostgreSQL, then given Citus (the extension on every
// node, the workers registered), distributes with `SELECT wvsoft_distribute()`, as the README
// says, and then serves: the access log's append on the customer's node, a staff write, a page,
// the purge. On plain PostgreSQL there is nothing to distribute to: the test says so and ends.
func TestDistributeLater(t *testing.T) {
	ctx := context.Background()
	if !pgtest.Citus(t) {
		t.Skip("distributing later needs a Citus cluster: make test-citus")
	}
	db, addCitus := pgtest.BeforeCitus(t)
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var citus bool
	if err := owner.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')`).Scan(&citus); err != nil || citus {
		t.Fatalf("migrated with citus already (%v)", err)
	}
	addCitus()
	var msg string
	if err := owner.QueryRowContext(ctx, `SELECT wvsoft_distribute()`).Scan(&msg); err != nil {
		t.Fatalf("wvsoft_distribute: %v", err)
	}
	var tables, distributed, delegated int
	if err := owner.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		   AND c.relname <> 'goose_db_version'),
		(SELECT count(*) FROM pg_dist_partition),
		(SELECT count(*) FROM pg_dist_object WHERE distribution_argument_index IS NOT NULL AND force_delegation)`).Scan(&tables, &distributed, &delegated); err != nil {
		t.Fatal(err)
	}
	if distributed != tables || delegated != 2 {
		t.Fatalf("%s: %d of %d tables distributed, %d functions delegated", msg, distributed, tables, delegated)
	}
	if err := owner.QueryRowContext(ctx, `SELECT wvsoft_distribute()`).Scan(&msg); err != nil || !strings.Contains(msg, "citus: 0 tables") {
		t.Fatalf("again: %s (%v)", msg, err)
	}

	skey, _, err := accesslog.GenerateKey("wvsoft-access-log-test")
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
	defer store.Close()
	id := func(q string) uuid.UUID {
		t.Helper()
		var v uuid.UUID
		if err := owner.QueryRowContext(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	bakkerij := id(`SELECT tenant_id FROM customers WHERE slug = 'bakkerij-de-vries'`)
	contact := id(`SELECT id FROM contact_persons WHERE tenant_id = (SELECT tenant_id FROM customers WHERE slug = 'bakkerij-de-vries') ORDER BY id LIMIT 1`)
	support := id(`SELECT id FROM staff_members WHERE email = 'support@wvsoft.example'`)
	staff := wvsoft.TenantFilter{All: true}
	gid, _ := uuid.NewV7()
	now := time.Now()
	if err := store.RequestAccess(ctx, staff, &wvsoft.SupportAccessGrant{UUID: gid, TenantID: bakkerij, RequestedBy: support,
		Reason: "a ticket about the payroll export", ScopeTypes: []string{wvsoft.KindPerson}, DurationSeconds: 3600,
		RequestedAt: now, AnswerBy: now.Add(24 * time.Hour)}); err != nil {
		t.Fatalf("support-access request: %v", err)
	}
	if _, err := store.UpdateContactPerson(ctx, staff, contact, wvsoft.Changes{{Field: "phone", Value: "+31 20 555 0101"}}); err != nil {
		t.Fatalf("staff write: %v", err)
	}
	if rows, _, err := store.Persons(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{bakkerij}}, bakkerij, wvsoft.Page{First: 10, Order: wvsoft.Order{Field: "name"}}); err != nil || len(rows) != 10 {
		t.Fatalf("a page of persons: %d rows, %v", len(rows), err)
	}
	if _, err := store.Purge(ctx, wvsoft.DefaultRetention(), now, false); err != nil {
		t.Fatalf("purge: %v", err)
	}
	if v, err := store.VerifyAccessLog(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{bakkerij}}, bakkerij); err != nil || !v.Intact || v.Entries != 1 {
		problem := ""
		if v != nil && v.Problem != nil {
			problem = *v.Problem
		}
		t.Fatalf("the access log after distributing: %+v %s, %v", v, problem, err)
	}
}
