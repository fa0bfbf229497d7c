package wvsoft

import (
	"context"

	"github.com/google/uuid"
)

// Kinds of change events (Event.Kind).
const (
	// EventGrantChanged: a support-access request was filed, decided, revoked or expired.
	EventGrantChanged = "grant"
	// EventBreachNotified: a customer was told of a breach, or how it was told changed (e-mail
	// delivered, call logged, report recorded). ID is the breach, Tenant the customer.
	EventBreachNotified = "breach"
	// EventAccessChanged: what a subject may do changed without a record of its own to show (an
	// API key revoked, a user removed or its role changed, a declaration recorded, consent given
	// or withdrawn). Every live connection checks its credentials and reach again.
	EventAccessChanged = "access"
	// EventResync says events may have been lost (the connection that listens was re-made, or a
	// subscriber fell behind): subscribers check everything again.
	EventResync = "resync"
)

// Event names a change that live subscribers may be told of: its kind, whose it is and which
// record. It never carries the record's values: a subscriber reads the record again, under its
// own, current authorization, when it delivers the event.
type Event struct {
	Kind   string
	Tenant uuid.UUID
	ID     uuid.UUID
}

// Events delivers the change events raised on any server (PostgreSQL LISTEN/NOTIFY): a write
// raises its event in its own transaction, so an event is seen only once its change is
// committed, and by every server.
type Events interface {
	// Subscribe delivers every event from now until ctx ends, in order. A subscriber that falls
	// far behind gets one EventResync instead of what it missed.
	Subscribe(ctx context.Context) <-chan Event
}
