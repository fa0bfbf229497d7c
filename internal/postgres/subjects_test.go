package postgres_test

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Two servers keep subjects. A key revoked behind both their backs (straight in the
// database) stops within MaxSubjectAge; one revoked through a server stops on that server at
// once and on the other as soon as the notification arrives.
func TestSubjectCacheRevocation(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	open := func() *postgres.DB {
		d, err := postgres.Open(ctx, db.AppURL, time.Now, postgres.WithKeyring(db.Keyring(t)),
			postgres.WithSubjectCache(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	a, b := open(), open()
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	tenant := postgres.SeedID("customer", "bakkerij-de-vries")
	f := wvsoft.TenantFilter{Tenants: []uuid.UUID{tenant}}
	newKey := func(secret string) (uuid.UUID, []byte) {
		name, prefix, yes := "cache", "wvs_cache", true
		k := &wvsoft.APIKey{TenantID: tenant, UUID: uuid.New(), Name: &name, Prefix: &prefix, CanWrite: &yes, SpecialCategories: &yes}
		hash := []byte(secret + "-0123456789abcdef0123456789abcdef")[:32]
		if err := a.CreateAPIKey(ctx, f, k, hash); err != nil {
			t.Fatal(err)
		}
		return k.UUID, hash
	}
	known := func(d *postgres.DB, hash []byte) bool {
		s, err := d.SubjectByAPIKey(ctx, hash)
		if err != nil && wvsoft.ErrorCode(err) != wvsoft.EUNAUTHENTICATED {
			t.Fatal(err)
		}
		return s != nil
	}
	// stopsWithin waits until neither server knows the key, and fails after limit (the promise
	// that a revocation stops access on every server within MaxSubjectAge).
	stopsWithin := func(hash []byte, limit time.Duration) time.Duration {
		start := time.Now()
		for known(a, hash) || known(b, hash) {
			if time.Since(start) > limit {
				t.Fatalf("the revoked key still authenticates after %v", limit)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return time.Since(start)
	}

	t.Run("revoked in the database: within MaxSubjectAge", func(t *testing.T) {
		id, hash := newKey("direct")
		if !known(a, hash) || !known(b, hash) {
			t.Fatal("a fresh key does not authenticate")
		}
		if _, err := owner.ExecContext(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if !known(a, hash) {
			t.Fatal("the kept subject was not used: no cache to test")
		}
		stopsWithin(hash, postgres.MaxSubjectAge+100*time.Millisecond)
	})

	t.Run("revoked through a server: there at once, elsewhere by notification", func(t *testing.T) {
		id, hash := newKey("server")
		if !known(a, hash) || !known(b, hash) {
			t.Fatal("a fresh key does not authenticate")
		}
		if _, err := a.RevokeAPIKey(ctx, f, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		a.SubjectsChanged(ctx) // what every mutation does before its answer leaves
		if known(a, hash) {
			t.Fatal("the server that revoked the key still authenticates it")
		}
		// The other server's notification ends it sooner; what is promised is MaxSubjectAge.
		stopsWithin(hash, postgres.MaxSubjectAge)
	})
}
