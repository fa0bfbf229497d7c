package ratelimit_test

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/ratelimit"
)

func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The limit is the database's: two stores on one database, taking at once, together allow the
// burst exactly, then one per interval; the refusal says how long to wait; other keys and other
// limits are apart; the table keeps no address and forgets full buckets.
const secret = "the servers' shared rate-limit secret"

func TestSharedLimit(t *testing.T) {
	db := pgtest.New(t)
	a, b := open(t, db.AppURL), open(t, db.AppURL)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	la := ratelimit.New(a, "inquiry", []byte(secret), 5, 10*time.Minute, clock)
	lb := ratelimit.New(b, "inquiry", []byte(secret), 5, 10*time.Minute, clock)
	ctx := context.Background()

	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		l := la
		if i%2 == 1 {
			l = lb
		}
		wg.Go(func() {
			wait, err := l.Take(ctx, "192.0.2.1")
			if err != nil {
				t.Error(err)
			}
			if wait == 0 {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 5 {
		t.Fatalf("%d of 20 allowed by two servers, want the burst of 5", allowed.Load())
	}
	wait, err := lb.Take(ctx, "192.0.2.1")
	if err != nil || wait != 10*time.Minute {
		t.Fatalf("refusal: wait %v, %v; want 10m", wait, err)
	}
	if wait, _ := la.Take(ctx, "192.0.2.2"); wait != 0 {
		t.Fatal("another address was limited")
	}
	if wait, _ := ratelimit.New(a, "other", []byte(secret), 1, time.Hour, clock).Take(ctx, "192.0.2.1"); wait != 0 {
		t.Fatal("another limit shares the bucket")
	}
	now = now.Add(4 * time.Minute)
	if wait, _ := la.Take(ctx, "192.0.2.1"); wait != 6*time.Minute {
		t.Fatalf("after 4 minutes: wait %v, want 6m", wait)
	}
	now = now.Add(6 * time.Minute)
	if wait, _ := lb.Take(ctx, "192.0.2.1"); wait != 0 {
		t.Fatalf("after one interval one more is allowed; wait %v", wait)
	}
	if wait, _ := la.Take(ctx, "192.0.2.1"); wait == 0 {
		t.Fatal("two more allowed after one interval")
	}

	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var rows int
	var hasAddr bool
	owner.QueryRow(`SELECT count(*), coalesce(bool_or(position('192.0.2' in encode(key, 'escape')) > 0), false) FROM rate_limits`).Scan(&rows, &hasAddr)
	if rows != 3 || hasAddr {
		t.Fatalf("rate_limits: %d rows, address kept: %v", rows, hasAddr)
	}
	// An hour on, every bucket is full again; the next take forgets them.
	now = now.Add(time.Hour)
	la.Take(ctx, "192.0.2.9")
	owner.QueryRow(`SELECT count(*) FROM rate_limits`).Scan(&rows)
	if rows != 1 {
		t.Fatalf("%d rows after every bucket filled up, want only the new one", rows)
	}
}

// The table's keys give no address back to someone who reads the database and hashes the
// candidates (there are only 2^32 IPv4 addresses): they are keyed with the servers' secret.
func TestKeysRevealNoAddress(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	l := ratelimit.New(open(t, db.AppURL), "inquiry", []byte(secret), 5, time.Minute, time.Now)
	if _, err := l.Take(ctx, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var rows, found int
	if err := owner.QueryRow(`SELECT count(*), count(*) FILTER (WHERE key = sha256('inquiry'::bytea || '\x00'::bytea || '192.0.2.1'::bytea)
		OR key = sha256('192.0.2.1'::bytea)) FROM rate_limits`).Scan(&rows, &found); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || found != 0 {
		t.Fatalf("rate_limits: %d rows, %d found by hashing the address", rows, found)
	}
}
