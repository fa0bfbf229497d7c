package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// 200 mixed operations at once, of the kinds that write across customers or to WvSoft's own
// tables (reference tables on Citus, whose writes lock on every node): the purge, erasures of
// contact persons, breaches of two customers, support-access requests and their approval, staff
// corrections of contact persons. Each ends without error: no deadlock (40P01, on Citus the
// distributed deadlock detector's cancellation), no other failure. On plain PostgreSQL it runs
// the same, and holds there too.
func TestNoDeadlockInMixedTraffic(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	store, err := postgres.Open(ctx, db.AppURL, time.Now, postgres.WithKeyring(db.Keyring(t)))
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
	tenants := []uuid.UUID{
		id(`SELECT tenant_id FROM customers WHERE slug = 'bakkerij-de-vries'`),
		id(`SELECT tenant_id FROM customers WHERE slug = 'jansen-installatie'`),
	}
	admins := []uuid.UUID{
		id(`SELECT id FROM users WHERE tenant_id = $1 AND role = 'ADMIN' ORDER BY id LIMIT 1`, tenants[0]),
		id(`SELECT id FROM users WHERE tenant_id = $1 AND role = 'ADMIN' ORDER BY id LIMIT 1`, tenants[1]),
	}
	support := id(`SELECT id FROM staff_members WHERE email = 'support@wvsoft.example'`)
	staff := wvsoft.TenantFilter{All: true}
	str := func(s string) *string { return &s }

	const ops = 200
	corrected := id(`SELECT id FROM contact_persons WHERE tenant_id = $1 ORDER BY id LIMIT 1`, tenants[1])
	// The erasures' subjects: contact persons made for them, with an address that the outbox
	// has mail for (the erasure rewrites that mail).
	type erasure struct{ tenant, person uuid.UUID }
	var subjects []erasure
	for i := 0; i < ops/5; i++ {
		tenant := tenants[i%2]
		cp := &wvsoft.ContactPerson{TenantID: tenant, UUID: uuid.New(), Name: str(fmt.Sprintf("Contact %d", i)), Role: str("CONTACT"),
			Email: str(fmt.Sprintf("contact%d@example.com", i)), Phone: str("+31 20 555 0100")}
		if err := store.CreateContactPerson(ctx, staff, cp); err != nil {
			t.Fatal(err)
		}
		subjects = append(subjects, erasure{tenant, cp.UUID})
	}

	var wg sync.WaitGroup
	errs := make(chan error, ops)
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				now := time.Now()
				var err error
				switch kind := i % 5; kind {
				case 0: // the purge (every shard, by design)
					_, err = store.Purge(ctx, wvsoft.DefaultRetention(), now, false)
				case 1: // an erasure of a contact person, registered and carried out
					s := subjects[i/5]
					r := &wvsoft.DataSubjectRequest{UUID: uuid.New(), Kind: wvsoft.RequestErasure, SubjectType: wvsoft.KindContactPerson,
						SubjectID: s.person, ReceivedAt: now, Deadline: now.AddDate(0, 1, 0), Status: wvsoft.RequestOpen}
					if err = store.RegisterRequest(ctx, staff, r); err == nil {
						r.CompletedAt, r.HandledBy = &now, &support
						_, err = store.EraseSubject(ctx, staff, r, wvsoft.DefaultRetention(), now)
					}
				case 2: // a breach of both customers: the register, their notifications, mail
					n := 3
					err = store.RecordBreach(ctx, staff, &wvsoft.Breach{UUID: uuid.New(), Description: "a lost laptop",
						DiscoveredAt: now, Categories: []string{"contact"}, ApproxPersons: &n, RecordedBy: support, RecordedAt: now}, tenants)
				case 3: // a support-access request, approved by the customer's admin
					tenant := tenants[(i/5)%2]
					g := &wvsoft.SupportAccessGrant{UUID: uuid.New(), TenantID: tenant, RequestedBy: support, Reason: "a ticket",
						ScopeTypes: []string{wvsoft.KindPerson}, DurationSeconds: 3600, RequestedAt: now, AnswerBy: now.Add(time.Hour)}
					if err = store.RequestAccess(ctx, staff, g); err == nil {
						_, err = store.DecideAccess(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{tenant}}, g.UUID, admins[(i/5)%2], true, now, nil)
					}
				case 4: // a staff correction by id
					_, err = store.UpdateContactPerson(ctx, staff, corrected, wvsoft.Changes{{Field: "phone", Value: fmt.Sprintf("+31 20 555 %04d", i)}})
				}
				if err != nil {
					errs <- fmt.Errorf("operation %d (kind %d): %w", i, i%5, err)
				}
			}
		}()
	}
	for i := 0; i < ops; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	deadlocks := 0
	for err := range errs {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "40P01" {
			deadlocks++
		}
		t.Error(err)
	}
	if deadlocks > 0 {
		t.Errorf("%d deadlocks in %d operations", deadlocks, ops)
	}
	var erased int
	if err := owner.QueryRowContext(ctx, `SELECT count(*) FROM data_subject_requests WHERE kind = 'ERASURE' AND status = 'DONE'`).Scan(&erased); err != nil || erased < ops/5 {
		t.Errorf("%d erasures done (%v), want %d", erased, err, ops/5)
	}
}
