package wvsoft

import (
	"time"

	"github.com/google/uuid"
)

// Filter operators of a Condition.
const (
	// OpStartsWith: the field's value starts with the text, insensitive to case and accents.
	OpStartsWith = "startsWith"
	// OpContains: the field's value contains the text, insensitive to case and accents.
	OpContains = "contains"
	// OpIn: the field's value is one of Values (an enum).
	OpIn = "in"
	// OpFrom and OpTo: the field's date is on or after (on or before) the date in Values.
	OpFrom = "from"
	OpTo   = "to"
)

// Condition narrows a list to the rows whose field matches. Like Change, it names the field as
// the API does ("postalCode"); the store maps it to its columns. Reading the value through a
// condition is reading the field, so the authorized store asks the policy about Field first.
type Condition struct {
	Field  string
	Op     string
	Values []string
	// Arg is the argument the condition came from ("filter.name.startsWith"), for errors.
	Arg string
	// Readable, when set by the authorized store, narrows the condition to the rows in which
	// the caller may read Field; nil: every row the list holds.
	Readable *Readable
}

// Readable is where a condition may look: the classes of records (their states) in which the
// policy lets the caller read the condition's field unmasked. A row of any other class never
// matches, so a condition tells nothing about a value the caller may not read, and a list whose
// records the caller may read only in part can still be searched on what it may read. The store
// turns the states into SQL over the columns they come from.
type Readable struct {
	States []RecordState
	// Withdrawn lists the customers that withdrew consent: the rows whose state has
	// ConsentWithdrawn.
	Withdrawn []uuid.UUID
	// At is the request's time, at which the states hold (a relationship ended by then).
	At time.Time
}

// Order is the order of a list: by a field (as the API names it; "" is the order of creation),
// ascending unless Desc, and then by id, so that the order is total and cursors are stable.
type Order struct {
	Field string
	Desc  bool
	// Arg is the argument the order came from ("orderBy.field"), for errors.
	Arg string
}

// Window says what lies beyond a page, in the list's order, and where each row of the page
// stands in it.
type Window struct {
	HasNext     bool
	HasPrevious bool
}

// StatesOf lists every record state that the RecordState method of a kind's records can give,
// with ConsentWithdrawn and IsSubject false (the server sets those from the subject). Filtering
// or ordering on a field reads it in every row the list may hold, so it is allowed only when the
// field is readable in each of these states (authz.Store).
func StatesOf(kind string) []RecordState {
	switch kind {
	case KindPerson:
		return []RecordState{{DataOf: DataOfDataSpace}}
	case KindCustomer:
		return []RecordState{
			{DataOf: DataOfCustomer, Relationship: RelationshipCurrent},
			{DataOf: DataOfCustomer, Relationship: RelationshipEnded},
		}
	case KindContactPerson:
		var out []RecordState
		for _, rel := range []Relationship{RelationshipCurrent, RelationshipEnded} {
			for _, restricted := range []bool{false, true} {
				for _, role := range []ContactRole{ContactRoleOwner, ContactRoleDirector, ContactRoleContact} {
					out = append(out, RecordState{DataOf: DataOfCustomer, Relationship: rel, Restricted: restricted, ContactRole: role})
				}
			}
		}
		return out
	}
	return nil
}
