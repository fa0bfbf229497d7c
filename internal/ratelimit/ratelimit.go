// Package ratelimit limits events per key (a client address) with one limit shared by every
// server: the state is kept in PostgreSQL (postgres.DB.TakeRate, a generic cell rate algorithm
// decided in one statement), so N servers behind a load balancer allow the rate once, not N times.
package ratelimit

import (
	"context"
	"crypto/hmac"
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
	secret   []byte
	burst    int
	interval time.Duration
	now      func() time.Time
}

// New returns the limit called name (several limits share the store) of burst events at once
// and one more per interval. secret keys the hash the store sees of each key; every server that
// shares the limit has the same secret, and the store does not.
func New(store Store, name string, secret []byte, burst int, interval time.Duration, now func() time.Time) *Limiter {
	return &Limiter{store: store, name: name, secret: secret, burst: burst, interval: interval, now: now}
}

// Take counts one event of key if the limit allows it and returns 0; otherwise it returns how
// long until one more is allowed. The store sees an HMAC of the limit's name and the key only:
// a client address is personal data and is not kept, and a plain hash of so few possible
// addresses would give them back to anyone who hashes the candidates.
func (l *Limiter) Take(ctx context.Context, key string) (time.Duration, error) {
	mac := hmac.New(sha256.New, l.secret)
	mac.Write([]byte(l.name + "\x00" + key))
	return l.store.TakeRate(ctx, mac.Sum(nil), l.burst, l.interval, l.now())
}
