// Package ratelimit limits events per key (a client address) with a token bucket per key
// (golang.org/x/time/rate). The limit is per server: several servers behind a load balancer
// together allow that many times the rate.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// forgetAfter drops the bucket of a key that has been quiet this long (it is full again by then).
const forgetAfter = time.Hour

// Limiter allows burst events at once per key, then one per interval.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	burst    int
	now      func() time.Time
	keys     map[string]*bucket
	swept    time.Time
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

// New returns a limiter of burst events at once and one more per interval.
func New(burst int, interval time.Duration, now func() time.Time) *Limiter {
	return &Limiter{interval: interval, burst: burst, now: now, keys: map[string]*bucket{}}
}

// Allow reports whether one more event of key may happen now, and counts it if so.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) > forgetAfter {
		for k, b := range l.keys {
			if now.Sub(b.seen) > forgetAfter {
				delete(l.keys, k)
			}
		}
		l.swept = now
	}
	b := l.keys[key]
	if b == nil {
		b = &bucket{limiter: rate.NewLimiter(rate.Every(l.interval), l.burst)}
		l.keys[key] = b
	}
	b.seen = now
	return b.limiter.AllowN(now, 1)
}
