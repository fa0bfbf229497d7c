package authz_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// The rows the SQL fetches and the records the policy shows agree: on the seeded database, for
// every demo identity and every tenant-owned type, a record comes back through the store (the
// policy's `rows` filter in the SQL, row-level security behind it) exactly when the policy allows
// reading its `id` with the record's tenant and state. Data-subject requests are hidden from staff
// by their state (data_of: about a person's data space), the policy's condition in the SQL; this
// test is what notices a rule by state that the SQL does not follow.
func TestRowFilterAgreesWithDecisions(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	app, err := postgres.Open(ctx, db.AppURL, time.Now, postgres.WithKeyring(db.Keyring(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	engine, err := authz.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store := authz.NewStore(app)

	// The fixtures: every record of every type, read below the policy (all tenants).
	everything := wvsoft.TenantFilter{All: true}
	customers, _, err := app.Customers(ctx, everything, wvsoft.Page{First: 1000})
	if err != nil || len(customers) < 2 {
		t.Fatalf("customers: %d, %v", len(customers), err)
	}
	var tenants []uuid.UUID
	for _, c := range customers {
		tenants = append(tenants, c.TenantID)
	}
	type fixture struct {
		kind    string
		records []record
		// fetch reads the records with these ids through the authorized store.
		fetch func(context.Context, []uuid.UUID) ([]uuid.UUID, error)
	}
	var contacts, users, keys, persons []record
	byTenant, err := app.ContactPersonsOf(ctx, everything, tenants)
	if err != nil {
		t.Fatal(err)
	}
	for _, t := range tenants {
		for _, c := range byTenant[t] {
			contacts = append(contacts, record{c.UUID, c})
		}
	}
	for _, tenant := range tenants {
		us, err := app.UsersOf(ctx, everything, tenant)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			users = append(users, record{u.UUID, u})
		}
		ks, err := app.APIKeysOf(ctx, everything, tenant)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			keys = append(keys, record{k.UUID, k})
		}
		ps, _, err := app.Persons(ctx, everything, tenant, wvsoft.Page{First: 20})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			persons = append(persons, record{p.UUID, p})
		}
	}
	var customerRecords []record
	for _, c := range customers {
		customerRecords = append(customerRecords, record{c.TenantID, c})
	}
	// Data-subject requests about a person and about a contact person of each customer: rows that
	// the policy's condition by record state (data_of) tells apart for staff.
	var requests []record
	name := "Rows Agree"
	person := &wvsoft.Person{TenantID: tenants[0], UUID: uuid.New(), Name: &name}
	if err := app.CreatePerson(ctx, wvsoft.TenantFilter{Tenants: tenants[:1]}, person); err != nil {
		t.Fatal(err)
	}
	persons = append(persons, record{person.UUID, person}) // the demo data has none
	for i, subject := range []record{{person.UUID, person}, {person.UUID, person}, contacts[0], contacts[len(contacts)-1]} {
		kind := wvsoft.KindPerson
		if i >= 2 {
			kind = wvsoft.KindContactPerson
		}
		now := time.Now()
		r := &wvsoft.DataSubjectRequest{UUID: uuid.New(), Kind: "ACCESS", SubjectType: kind, SubjectID: subject.id,
			ReceivedAt: now, Deadline: now.AddDate(0, 1, 0), Status: "OPEN"}
		if err := app.RegisterRequest(ctx, wvsoft.TenantFilter{Tenants: tenants}, r); err != nil {
			t.Fatal(err)
		}
		requests = append(requests, record{r.UUID, r})
	}
	requestsByID := func(ctx context.Context, want []uuid.UUID) ([]uuid.UUID, error) {
		var out []uuid.UUID
		for _, id := range want {
			r, err := store.RequestByID(ctx, id)
			switch {
			case wvsoft.ErrorCode(err) == wvsoft.ENOTFOUND:
			case err != nil:
				return nil, err
			default:
				out = append(out, r.UUID)
			}
		}
		return out, nil
	}
	fixtures := []fixture{
		{wvsoft.KindCustomer, customerRecords, ids(store.CustomersByID, func(c *wvsoft.Customer) uuid.UUID { return c.TenantID })},
		{wvsoft.KindContactPerson, contacts, ids(store.ContactPersonsByID, func(c *wvsoft.ContactPerson) uuid.UUID { return c.UUID })},
		{wvsoft.KindUser, users, ids(store.UsersByID, func(u *wvsoft.User) uuid.UUID { return u.UUID })},
		{wvsoft.KindAPIKey, keys, ids(store.APIKeysByID, func(k *wvsoft.APIKey) uuid.UUID { return k.UUID })},
		{wvsoft.KindPerson, persons, ids(store.PersonsByID, func(p *wvsoft.Person) uuid.UUID { return p.UUID })},
		{wvsoft.KindDataSubjectRequest, requests, requestsByID},
	}

	emails := []string{
		"admin@bakkerij-de-vries.example", "member@bakkerij-de-vries.example", "admin@jansen-installatie.example",
		"member@jansen-installatie.example", "director@wvsoft.example", "support@wvsoft.example",
		"billing@wvsoft.example", "accountant@wvsoft.example",
	}
	compared, shown := 0, 0
	for _, email := range emails {
		subject, err := app.SubjectByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().Truncate(time.Second)
		rctx := authz.WithRequest(ctx, engine.NewRequest(subject))
		for _, fx := range fixtures {
			all := make([]uuid.UUID, len(fx.records))
			for i, r := range fx.records {
				all[i] = r.id
			}
			fetched, err := fx.fetch(rctx, all)
			if err != nil {
				t.Fatalf("%s reading %s: %v", email, fx.kind, err)
			}
			for _, r := range fx.records {
				tenant := r.obj.(wvsoft.Tenanted).Tenant()
				state := r.obj.(wvsoft.Stateful).RecordState(now)
				state.ConsentWithdrawn = slices.Contains(subject.ConsentWithdrawn, tenant)
				d := engine.Decide(ctx, authz.Input{Subject: subject, Action: authz.ActionRead, Time: now,
					Resource: authz.Resource{Type: fx.kind, Field: "id", TenantID: tenant, State: state}})
				inSQL := slices.Contains(fetched, r.id)
				if inSQL != (d.Effect == authz.Allow) {
					t.Errorf("%s, %s %s: the SQL filter fetched it: %v; the policy reads its id: %s (%s)", email, fx.kind, r.id, inSQL, d.Effect, d.Rule)
				}
				compared++
				if inSQL {
					shown++
				}
			}
		}
	}
	if shown == 0 || shown == compared {
		t.Fatalf("%d of %d records shown: the fixtures do not tell the two apart", shown, compared)
	}
	t.Logf("%d (subject, record) pairs compared, %d shown", compared, shown)
}

type record struct {
	id  uuid.UUID
	obj any
}

// ids adapts a store read to the ids it returns.
func ids[T any](byID func(context.Context, []uuid.UUID) ([]T, error), id func(T) uuid.UUID) func(context.Context, []uuid.UUID) ([]uuid.UUID, error) {
	return func(ctx context.Context, want []uuid.UUID) ([]uuid.UUID, error) {
		rows, err := byID(ctx, want)
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		out := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			out[i] = id(r)
		}
		return out, nil
	}
}
