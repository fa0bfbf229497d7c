package postgres_test

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Change events travel by LISTEN/NOTIFY in the transaction of their write: a committed request,
// approval and expiry each raise one, with the grant's tenant and id; a write that fails raises
// none. The sweeper knows when to wake for the next expiry.
func TestGrantEventsByListenNotify(t *testing.T) {
	db, app, _ := openSigned(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := postgres.NewListener(db.AppURL, slog.New(slog.DiscardHandler))
	go l.Run(ctx)
	events := l.Subscribe(ctx)
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	marker := uuid.New()
	// The listener connects in the background: knock until it hears.
	deadline := time.Now().Add(10 * time.Second)
	for heard := false; !heard; {
		if time.Now().After(deadline) {
			t.Fatal("the listener never heard")
		}
		if _, err := owner.Exec(`SELECT pg_notify('wvsoft_events', $1)`, "access "+uuid.Nil.String()+" "+marker.String()); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			heard = ev.ID == marker
		case <-time.After(100 * time.Millisecond):
		}
	}
	drain := func() {
		for {
			select {
			case ev := <-events:
				if ev.ID == marker {
					continue
				}
			case <-time.After(200 * time.Millisecond):
				return
			}
		}
	}
	drain()
	next := func() wvsoft.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return wvsoft.Event{}
	}

	g := approvedGrant(t, app, time.Now().Add(-2*time.Hour), 60)
	for _, step := range []string{"requested", "approved"} {
		if ev := next(); ev.Kind != wvsoft.EventGrantChanged || ev.ID != g.UUID || ev.Tenant != g.TenantID {
			t.Fatalf("%s: %+v", step, ev)
		}
	}
	// The database keeps microseconds (rounded): the deadline is the grant's end to within one.
	if at, err := app.NextGrantDeadline(ctx); err != nil || at == nil || at.Sub(*g.ExpiresAt).Abs() > time.Microsecond {
		t.Fatalf("next deadline %v (%v), want %v", at, err, g.ExpiresAt)
	}
	if n, err := app.ExpireGrants(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("expired %d: %v", n, err)
	}
	if ev := next(); ev.Kind != wvsoft.EventGrantChanged || ev.ID != g.UUID {
		t.Fatalf("expired: %+v", ev)
	}
	// Revoking what expired is a conflict: rolled back, and nobody is told.
	if _, err := app.RevokeAccess(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{g.TenantID}}, g.UUID, g.RequestedBy, time.Now()); wvsoft.ErrorCode(err) != wvsoft.ECONFLICT {
		t.Fatalf("revoking an expired grant: %v", err)
	}
	select {
	case ev := <-events:
		t.Fatalf("a failed write raised %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
	if at, err := app.NextGrantDeadline(ctx); err != nil || at != nil {
		t.Fatalf("next deadline with nothing open: %v %v", at, err)
	}
}
