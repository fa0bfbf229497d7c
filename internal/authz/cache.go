package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// sharedCacheLimit bounds the decisions remembered in one second; past it the cache starts over.
const sharedCacheLimit = 50_000

// sharedCache remembers decisions across requests, for one compiled policy and one second of
// time. The policy is a pure function of its input, and requests see the time truncated to the
// second, so a remembered decision is the one the policy would make again. A changed subject,
// grant or policy makes a different key or a different cache; a new second empties all three.
type sharedCache struct {
	mu        sync.Mutex
	second    int64
	decisions map[sharedKey]Decision
	rows      map[sharedKey]wvsoft.TenantFilter
	// inputs are decisions' inputs as the decision log writes them (loggedInput).
	inputs map[sharedKey]json.RawMessage
}

// sharedKey is the whole policy input but the time. The category and purposes of a field are
// part of the schema, so type and field stand for them; the record state is its declaration
// (wvsoft.RecordState) itself, so a new attribute is part of the key by construction.
type sharedKey struct {
	kind, role         string
	subject, subTenant uuid.UUID
	canWrite, special  bool
	declaration        int64
	action, typ, field string
	tenant             uuid.UUID
	state              wvsoft.RecordState
	grants             string // the director's grants in force, written out
}

func keyOf(in Input) sharedKey {
	s := in.Subject
	k := sharedKey{kind: s.Kind, role: s.Role, subject: s.ID, subTenant: s.TenantID, canWrite: s.CanWrite,
		special: s.SpecialCategories, action: in.Action, typ: in.Resource.Type, field: in.Resource.Field,
		tenant: in.Resource.TenantID, state: in.Resource.State}
	if s.DeclarationExpiresAt != nil {
		k.declaration = s.DeclarationExpiresAt.UnixNano()
	}
	for _, g := range s.Grants {
		k.grants += fmt.Sprintf("%s/%s/%v/%t/%t/%d;", g.ID, g.TenantID, g.Types, g.Special, g.Write, g.ExpiresAt.UnixNano())
	}
	return k
}

// generation empties the cache when the second changed; the caller holds mu.
func (c *sharedCache) generation(now time.Time) {
	sec := now.Unix()
	// Only a newer second starts over; a request from an older second just misses (see keep).
	if sec > c.second || len(c.decisions)+len(c.rows)+len(c.inputs) > sharedCacheLimit || c.decisions == nil {
		c.second = sec
		c.decisions = make(map[sharedKey]Decision, 256)
		c.rows = make(map[sharedKey]wvsoft.TenantFilter, 16)
		// The logged inputs hold the second's time: kept on, the next second's events would
		// carry this one's (and the map would grow for as long as the server runs).
		c.inputs = make(map[sharedKey]json.RawMessage, 64)
	}
}

// decideCached is decide through the shared cache.
func (c *compiled) decideCached(ctx context.Context, in Input) Decision {
	k := keyOf(in)
	c.cache.mu.Lock()
	c.cache.generation(in.Time)
	d, ok := c.cache.decisions[k]
	if c.cache.second != in.Time.Unix() {
		ok = false // a request of an older second decides for itself
	}
	c.cache.mu.Unlock()
	if ok {
		return d
	}
	d = c.decide(ctx, in)
	c.cache.mu.Lock()
	if c.cache.second == in.Time.Unix() {
		c.cache.decisions[k] = d
	}
	c.cache.mu.Unlock()
	return d
}

// loggedInput is a decision's input as the decision log writes it, the caller's id erased
// (erasedSubjectID), encoded once per key and second: every request of that second that applies
// the decision logs the same text (encoding the input maps was ~10% of a small
// request's CPU).
func (c *compiled) loggedInput(in Input) json.RawMessage {
	k := keyOf(in)
	c.cache.mu.Lock()
	c.cache.generation(in.Time)
	raw, ok := c.cache.inputs[k]
	current := c.cache.second == in.Time.Unix()
	c.cache.mu.Unlock()
	if ok && current {
		return raw
	}
	v := in.value()
	if s, ok := v["subject"].(map[string]any); ok {
		delete(s, "id")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil // the event keeps the map (DecisionEvent.MarshalJSON)
	}
	c.cache.mu.Lock()
	if c.cache.second == in.Time.Unix() {
		c.cache.inputs[k] = raw
	}
	c.cache.mu.Unlock()
	return raw
}

// rowsCached is rowsFor through the shared cache; errors are not remembered.
func (c *compiled) rowsCached(ctx context.Context, in Input) (wvsoft.TenantFilter, error) {
	k := keyOf(in)
	c.cache.mu.Lock()
	c.cache.generation(in.Time)
	f, ok := c.cache.rows[k]
	if c.cache.second != in.Time.Unix() {
		ok = false
	}
	c.cache.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := c.rowsFor(ctx, in)
	if err != nil {
		return f, err
	}
	c.cache.mu.Lock()
	if c.cache.second == in.Time.Unix() {
		c.cache.rows[k] = f
	}
	c.cache.mu.Unlock()
	return f, nil
}
