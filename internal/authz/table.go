package authz

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// table is a request's memory of decisions (or filters), read for every field of every object
// the response holds, from the goroutines gqlgen resolves list elements on. A read takes no lock
// and writes no shared memory: it looks into an immutable snapshot. A new entry goes into a
// small map under a mutex and is folded into a new snapshot once that map has grown to a quarter
// of the snapshot, or its entries are read often: copying stays proportional to the entries,
// and the entries read most are in the snapshot soon.
type table[K comparable, V any] struct {
	snapshot atomic.Pointer[map[K]V]
	mu       sync.Mutex
	pending  map[K]V
	hits     int // reads answered from pending since the last fold
}

// peek returns the entry under k if the snapshot has it: no lock at all.
func (t *table[K, V]) peek(k K) (V, bool) {
	if m := t.snapshot.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var none V
	return none, false
}

// get returns the entry under k.
func (t *table[K, V]) get(k K) (V, bool) {
	if v, ok := t.peek(k); ok {
		return v, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.pending[k]
	if ok {
		if t.hits++; t.hits > 8 {
			t.fold()
		}
	}
	return v, ok
}

// put stores v under k unless an entry is there already, and returns the entry stored: of two
// goroutines deciding the same key, both use the first decision.
func (t *table[K, V]) put(k K, v V) V {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.snapshot.Load()
	if old != nil {
		if prev, ok := (*old)[k]; ok {
			return prev
		}
	}
	if prev, ok := t.pending[k]; ok {
		return prev
	}
	if t.pending == nil {
		t.pending = make(map[K]V, 8)
	}
	t.pending[k] = v
	n := 0
	if old != nil {
		n = len(*old)
	}
	if len(t.pending) >= n/4+4 {
		t.fold()
	}
	return v
}

// fold makes a new snapshot of the old one and the pending entries; the caller holds mu.
func (t *table[K, V]) fold() {
	old := t.snapshot.Load()
	n := len(t.pending)
	if old != nil {
		n += len(*old)
	}
	next := make(map[K]V, n)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	for k, v := range t.pending {
		next[k] = v
	}
	t.snapshot.Store(&next)
	t.pending, t.hits = nil, 0
}

// each calls fn for every entry (in no order), under the table's lock.
func (t *table[K, V]) each(fn func(K, V)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m := t.snapshot.Load(); m != nil {
		for k, v := range *m {
			fn(k, v)
		}
	}
	for k, v := range t.pending {
		fn(k, v)
	}
}

// len is the number of entries.
func (t *table[K, V]) len() int {
	n := 0
	t.each(func(K, V) { n++ })
	return n
}

// counter counts from many goroutines at once without making them wait on one cache line:
// each add goes to one of a few shards, picked at random, each on a cache line of its own, and
// none on the line of the fields every reader of the decision reads (the leading pad).
type counter struct {
	_      [64]byte
	shards [8]struct {
		n atomic.Int64
		_ [56]byte
	}
}

func (c *counter) add() { c.shards[rand.Uint32()&7].n.Add(1) }

// addFor counts a value of the record whose id ends in b: the fields of one record (resolved
// on one goroutine) count on one shard, whose line then stays with that goroutine's core.
func (c *counter) addFor(b byte) { c.shards[b&7].n.Add(1) }

func (c *counter) load() int64 {
	var sum int64
	for i := range c.shards {
		sum += c.shards[i].n.Load()
	}
	return sum
}
