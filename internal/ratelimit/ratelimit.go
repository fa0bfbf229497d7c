// Package ratelimit limits events per key (a client address) with one limit shared by every
// server: the state is kept in PostgreSQL (postgres.DB.TakeRate, a generic cell rate algorithm
// decided in one statement), so N servers behind a load balancer allow the rate once, not N times.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"time"
)

// Store keeps the limits' state.
type Store interface {
	TakeRate(ctx context.Context, key []byte, burst int, interval time.Duration, now time.Time) (time.Duration, error)
}

// Limiter allows burst events at once per key, then one per interval.
type Limiter struct {
	store    Store
	name     string
	burst    int
	interval time.Duration
	now      func() time.Time
}

// New returns the limit called name (several limits share the store) of burst events at once
// and one more per interval.
func New(store Store, name string, burst int, interval time.Duration, now func() time.Time) *Limiter {
	return &Limiter{store: store, name: name, burst: burst, interval: interval, now: now}
}

// Take counts one event of key if the limit allows it and returns 0; otherwise it returns how
// long until one more is allowed. The store sees a hash of the limit's name and the key only:
// a client address is personal data and is not kept.
func (l *Limiter) Take(ctx context.Context, key string) (time.Duration, error) {
	sum := sha256.Sum256([]byte(l.name + "\x00" + key))
	return l.store.TakeRate(ctx, sum[:], l.burst, l.interval, l.now())
}
