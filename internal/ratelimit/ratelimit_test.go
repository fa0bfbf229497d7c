package ratelimit

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(3, time.Minute, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if !l.Allow("192.0.2.1") {
			t.Fatalf("event %d refused within the burst", i)
		}
	}
	if l.Allow("192.0.2.1") {
		t.Fatal("a fourth event within the burst was allowed")
	}
	if !l.Allow("192.0.2.2") {
		t.Fatal("another address was limited")
	}
	now = now.Add(time.Minute)
	if !l.Allow("192.0.2.1") || l.Allow("192.0.2.1") {
		t.Fatal("after one interval exactly one more event is allowed")
	}
}
