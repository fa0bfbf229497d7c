package main

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/service"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// testClock is a jobClock that the test moves: now is set by the test, and every wait the job
// asks for is handed to the test, which fires it.
type testClock struct {
	mu    sync.Mutex
	at    time.Time
	waits chan wait
}

type wait struct {
	d    time.Duration
	fire chan time.Time
}

func (c *testClock) jobClock() jobClock {
	return jobClock{
		now: func() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.at },
		after: func(d time.Duration) <-chan time.Time {
			w := wait{d, make(chan time.Time, 1)}
			c.waits <- w
			return w.fire
		},
	}
}

func (c *testClock) set(at time.Time) { c.mu.Lock(); c.at = at; c.mu.Unlock() }

// The hourly purge runs at once, then waits an hour on the jobs' clock, not the machine's: a
// test moves that clock, and each hour that passes on it is one purge, at the clock's time.
func TestThePurgeRunsEveryHourOfTheJobsClock(t *testing.T) {
	db := pgtest.New(t)
	start := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := &testClock{at: start, waits: make(chan wait)}
	store, err := postgres.Open(context.Background(), db.AppURL, clock.jobClock().now, postgres.WithKeyring(db.Keyring(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	purger := service.New(authz.NewStore(store), service.WithClock(clock.jobClock().now))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		purgeEveryHour(ctx, purger, store, slog.New(slog.DiscardHandler), clock.jobClock())
		close(done)
	}()
	runs := func() []*wvsoft.PurgeRun {
		t.Helper()
		r, err := store.PurgeRuns(context.Background(), wvsoft.TenantFilter{All: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for hour := 0; hour < 3; hour++ {
		w := <-clock.waits // the job waits: its purge of this hour is done
		if w.d != time.Hour {
			t.Fatalf("the purge waits %v, want an hour", w.d)
		}
		got := runs()
		if len(got) != hour+1 {
			t.Fatalf("after %d hours of the jobs' clock: %d purges, want %d", hour, len(got), hour+1)
		}
		newest := got[0]
		for _, r := range got {
			if r.At.After(newest.At) {
				newest = r
			}
		}
		if want := start.Add(time.Duration(hour) * time.Hour); !newest.At.Equal(want) {
			t.Fatalf("purge at %v, want the jobs' clock's %v", newest.At, want)
		}
		clock.set(start.Add(time.Duration(hour+1) * time.Hour))
		w.fire <- clock.jobClock().now()
	}
	<-clock.waits // the fourth purge is done; stop the job while it waits
	cancel()
	<-done
}
