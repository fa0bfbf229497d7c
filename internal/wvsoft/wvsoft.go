// Package wvsoft holds the domain of the WvSoft privacy backend: its types, the services that keep
// them, and the errors that are safe to show. It depends on no other package of the project; the
// packages named after a dependency (postgres, authz, httpserver) implement or use it.
package wvsoft

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Subject kinds: who is behind a request.
const (
	SubjectUser   = "USER"
	SubjectAPIKey = "API_KEY"
	SubjectStaff  = "STAFF"
)

// Roles. Customer users are ADMIN or MEMBER, API keys INTEGRATOR_READ or INTEGRATOR_WRITE, WvSoft
// staff DIRECTOR, SUPPORT, BILLING or ACCOUNTANT.
const (
	RoleAdmin           = "ADMIN"
	RoleMember          = "MEMBER"
	RoleIntegratorRead  = "INTEGRATOR_READ"
	RoleIntegratorWrite = "INTEGRATOR_WRITE"
	RoleDirector        = "DIRECTOR"
	RoleSupport         = "SUPPORT"
	RoleBilling         = "BILLING"
	RoleAccountant      = "ACCOUNTANT"
)

// Subject is the verified caller of a request. The GraphQL type Viewer shows it.
type Subject struct {
	Kind string
	// ID is the user's, staff member's or API key's id.
	ID uuid.UUID
	// TenantID is the customer a user or API key belongs to; uuid.Nil for staff.
	TenantID uuid.UUID
	Role     string
	Email    *string
	Name     *string
	// CanWrite and SpecialCategories are an API key's scopes; users have both set by role.
	CanWrite          bool
	SpecialCategories bool
	// DeclarationExpiresAt is when a staff member's confidentiality declaration lapses (P10).
	DeclarationExpiresAt *time.Time
	// Grants are the director's active support-access grants (P9), read at authentication so
	// that a revoked grant stops the very next request on every server.
	Grants []Grant
	// ClientAddr is the network address of an anonymous caller, for rate limits.
	ClientAddr string
	// ConsentWithdrawn lists, for staff, the customers that withdrew consent (P6), read with
	// the identity so that a withdrawal restricts the next request.
	ConsentWithdrawn []uuid.UUID
}

// IsStaff reports whether the subject is a WvSoft employee.
func (s *Subject) IsStaff() bool { return s.Kind == SubjectStaff }

// Customer is a WvSoft customer (klant): one tenant. Its id is its tenant id.
type Customer struct {
	TenantID          uuid.UUID  `db:"tenant_id"`
	Slug              string     `db:"slug"`
	Name              *string    `db:"name"`
	Email             *string    `db:"email"`
	Phone             *string    `db:"phone"`
	Street            *string    `db:"street"`
	PostalCode        *string    `db:"postal_code"`
	City              *string    `db:"city"`
	KvkNumber         *string    `db:"kvk_number"`
	Iban              *string    `db:"iban"`
	RelationshipStart *time.Time `db:"relationship_start"`
	RelationshipEnd   *time.Time `db:"relationship_end"`
	CreatedAt         time.Time  `db:"created_at"`
}

// ID is the customer's global ID.
func (c *Customer) ID() string { return GlobalID(KindCustomer, c.TenantID) }

// ContactPerson is an owner, director or contact person of a customer.
type ContactPerson struct {
	TenantID   uuid.UUID `db:"tenant_id"`
	UUID       uuid.UUID `db:"id"`
	Salutation *string   `db:"salutation"`
	Name       *string   `db:"name"`
	Role       *string   `db:"role"`
	Email      *string   `db:"email"`
	Phone      *string   `db:"phone"`
	// RestrictedAt is when processing was restricted (an erasure under the fiscal hold).
	RestrictedAt *time.Time `db:"restricted_at"`
	// RelationshipEnd is the end of its customer's relationship, read with the row for the
	// policy's record state.
	RelationshipEnd *time.Time `db:"relationship_end"`
}

// ID is the contact person's global ID.
func (c *ContactPerson) ID() string { return GlobalID(KindContactPerson, c.UUID) }


// ID is the user's global ID.
func (u *User) ID() string { return GlobalID(KindUser, u.UUID) }

// APIKey is an integrator's key, bound to one customer. Only a hash of its secret is kept.
type APIKey struct {
	TenantID          uuid.UUID  `db:"tenant_id"`
	UUID              uuid.UUID  `db:"id"`
	Name              *string    `db:"name"`
	Prefix            *string    `db:"prefix"`
	CanWrite          *bool      `db:"can_write"`
	SpecialCategories *bool      `db:"special_categories"`
	CreatedAt         time.Time  `db:"created_at"`
	RevokedAt         *time.Time `db:"revoked_at"`
}

// ID is the key's global ID.
func (k *APIKey) ID() string { return GlobalID(KindAPIKey, k.UUID) }

// ID is the person's global ID.
func (p *Person) ID() string { return GlobalID(KindPerson, p.UUID) }

// Node is any object with a global ID.
type Node interface {
	ID() string
}

// Tenanted is an object owned by one customer. The authorization hook reads the tenant of the
// object whose field it decides.
type Tenanted interface {
	Tenant() uuid.UUID
}

func (c *Customer) Tenant() uuid.UUID      { return c.TenantID }
func (c *ContactPerson) Tenant() uuid.UUID { return c.TenantID }
func (u *User) Tenant() uuid.UUID          { return u.TenantID }
func (k *APIKey) Tenant() uuid.UUID        { return k.TenantID }
func (p *Person) Tenant() uuid.UUID        { return p.TenantID }

// TenantFilter says whose rows a request may touch. The authorization policy computes it per
// request and type; the store turns it into a WHERE clause and into the row-level-security
// settings of the transaction, so rows outside it are never fetched.
type TenantFilter struct {
	// All lets rows of every tenant through (WvSoft staff reading the customer register).
	All bool
	// Tenants lists the customers whose rows are visible when All is false.
	Tenants []uuid.UUID
	// DataOf, when not empty, lets through only rows about records that are these parties'
	// data (RecordState.DataOf): the policy's row condition by record state (staff see requests
	// and history about the customer register only). The store puts it into the SQL of the types
	// that have such rows.
	DataOf []DataOf
	// Rule is the id of the policy's branch that gave the filter (reach.staff, reach.own, …),
	// for the decision log; the stores do not read it.
	Rule string
}

// Shows reports whether the filter's record-state condition lets through a row about a record
// of kind (a Kind*).
func (f TenantFilter) Shows(kind string) bool {
	return len(f.DataOf) == 0 || slices.Contains(f.DataOf, DataOfKind(kind))
}

// Allows reports whether the filter lets rows of tenant t through.
func (f TenantFilter) Allows(t uuid.UUID) bool {
	if f.All {
		return true
	}
	for _, id := range f.Tenants {
		if id == t {
			return true
		}
	}
	return false
}

// Page asks for up to First rows after the cursor After (a row id; uuid.Nil for the start), or,
// Backward, for the last First rows before it (uuid.Nil: before the end), in Order, among the
// rows that meet every condition of Where.
type Page struct {
	First    int
	After    uuid.UUID
	Backward bool
	Order    Order
	Where    []Condition
}

// Page sizes. The largest page a client may ask for is configuration (graph.Limits.MaxPageSize,
// GRAPHQL_MAX_PAGE_SIZE); DefaultMaxPageSize is its default.
const (
	DefaultPageSize    = 50
	DefaultMaxPageSize = 500
)

// Clock is the time source; injected so that tests can move time.
type Clock func() time.Time

// Store is what the API needs from persistence. Every method takes the TenantFilter that the
// policy computed for the request, and reads or writes nothing outside it.
type Store interface {
	Customers(ctx context.Context, f TenantFilter, p Page) ([]*Customer, Window, error)
	CountCustomers(ctx context.Context, f TenantFilter, where []Condition) (int, error)
	ContactPersons(ctx context.Context, f TenantFilter, p Page) ([]*ContactPerson, Window, error)
	CountContactPersons(ctx context.Context, f TenantFilter, where []Condition) (int, error)
	CustomersByID(ctx context.Context, f TenantFilter, ids []uuid.UUID) ([]*Customer, error)
	CreateCustomer(ctx context.Context, f TenantFilter, c *Customer) error
	UpdateCustomer(ctx context.Context, f TenantFilter, id uuid.UUID, c Changes) (*Customer, error)

	ContactPersonsOf(ctx context.Context, f TenantFilter, tenants []uuid.UUID) (map[uuid.UUID][]*ContactPerson, error)
	ContactPersonsByID(ctx context.Context, f TenantFilter, ids []uuid.UUID) ([]*ContactPerson, error)
	CreateContactPerson(ctx context.Context, f TenantFilter, c *ContactPerson) error
	UpdateContactPerson(ctx context.Context, f TenantFilter, id uuid.UUID, c Changes) (*ContactPerson, error)
	DeleteContactPerson(ctx context.Context, f TenantFilter, id uuid.UUID) error

	UsersOf(ctx context.Context, f TenantFilter, tenant uuid.UUID) ([]*User, error)
	UsersByID(ctx context.Context, f TenantFilter, ids []uuid.UUID) ([]*User, error)
	CreateUser(ctx context.Context, f TenantFilter, u *User) error
	UpdateUser(ctx context.Context, f TenantFilter, id uuid.UUID, c Changes) (*User, error)
	DeleteUser(ctx context.Context, f TenantFilter, id uuid.UUID) error

	APIKeysOf(ctx context.Context, f TenantFilter, tenant uuid.UUID) ([]*APIKey, error)
	APIKeysByID(ctx context.Context, f TenantFilter, ids []uuid.UUID) ([]*APIKey, error)
	CreateAPIKey(ctx context.Context, f TenantFilter, k *APIKey, secretHash []byte) error
	RevokeAPIKey(ctx context.Context, f TenantFilter, id uuid.UUID, at time.Time) (*APIKey, error)

	Persons(ctx context.Context, f TenantFilter, tenant uuid.UUID, p Page) ([]*Person, Window, error)
	CountPersons(ctx context.Context, f TenantFilter, tenant uuid.UUID, where []Condition) (int, error)
	PersonsByID(ctx context.Context, f TenantFilter, ids []uuid.UUID) ([]*Person, error)
	CreatePerson(ctx context.Context, f TenantFilter, p *Person) error
	UpdatePerson(ctx context.Context, f TenantFilter, id uuid.UUID, c Changes) (*Person, error)
	DeletePerson(ctx context.Context, f TenantFilter, id uuid.UUID) error

	SupportAccess
	VerifiableLog
	Notifications
	Ledger
}

// Identities resolves credentials to subjects. It runs before any tenant is known.
type Identities interface {
	// SubjectByEmail finds the user or staff member with this e-mail address; when several
	// have it, a staff member first, then the oldest user.
	SubjectByEmail(ctx context.Context, email string) (*Subject, error)
	// SubjectByEmailIn finds the user with this e-mail address of the customer with this slug.
	SubjectByEmailIn(ctx context.Context, email, customer string) (*Subject, error)
	// SubjectByAPIKey finds the valid (unrevoked) API key whose secret hashes to hash.
	SubjectByAPIKey(ctx context.Context, hash []byte) (*Subject, error)
}

// Change sets one field of a type, by its GraphQL name, to a validated value (nil clears it).
// The store maps fields to its columns; column names never leave it.
type Change struct {
	Field string
	Value any
}

// Changes is a validated partial update: only the fields named change.
type Changes []Change

// Fields are the names of the fields the changes set.
func (c Changes) Fields() []string {
	out := make([]string, len(c))
	for i, ch := range c {
		out[i] = ch.Field
	}
	return out
}

// Grant statuses of support access (P9).
const (
	GrantPending  = "PENDING"
	GrantApproved = "APPROVED"
	GrantDenied   = "DENIED"
	GrantExpired  = "EXPIRED"
	GrantRevoked  = "REVOKED"
)

// Kinds of objects of support access.
const (
	KindSupportAccessGrant = "SupportAccessGrant"
	// KindAccessRequest is what the director writes when he asks; only the policy uses it.
	KindAccessRequest = "SupportAccessRequest"
	KindAccessLog     = "AccessLogEntry"
)

// Support access defaults: a grant lasts 8 hours unless the request says otherwise, at most a
// week; an unanswered request expires after 4 days.
const (
	DefaultGrantDuration = 8 * time.Hour
	MaxGrantDuration     = 7 * 24 * time.Hour
	DefaultAnswerWithin  = 4 * 24 * time.Hour
)

// SupportAccessGrant is the director's request for access to one customer's data space, and, once the
// customer's admin approved it, the grant.
type SupportAccessGrant struct {
	TenantID        uuid.UUID  `db:"tenant_id"`
	UUID            uuid.UUID  `db:"id"`
	RequestedBy     uuid.UUID  `db:"requested_by"`
	Reason          string     `db:"reason"`
	ScopeTypes      []string   `db:"-"`
	ScopeSpecial    bool       `db:"scope_special"`
	ScopeWrite      bool       `db:"scope_write"`
	DurationSeconds int        `db:"duration_seconds"`
	Status          string     `db:"status"`
	RequestedAt     time.Time  `db:"requested_at"`
	AnswerBy        time.Time  `db:"answer_by"`
	DecidedAt       *time.Time `db:"decided_at"`
	DecidedBy       *uuid.UUID `db:"decided_by"`
	StartsAt        *time.Time `db:"starts_at"`
	ExpiresAt       *time.Time `db:"expires_at"`
	RevokedAt       *time.Time `db:"revoked_at"`
	RevokedBy       *uuid.UUID `db:"revoked_by"`
}

// ID is the grant's global ID.
func (g *SupportAccessGrant) ID() string { return GlobalID(KindSupportAccessGrant, g.UUID) }

// Tenant is the customer whose data space the grant opens.
func (g *SupportAccessGrant) Tenant() uuid.UUID { return g.TenantID }

// StatusAt is the grant's status at now: a request unanswered past its deadline and a grant past
// its end are expired, even before the sweeper has written it down.
func (g *SupportAccessGrant) StatusAt(now time.Time) string {
	switch {
	case g.Status == GrantPending && !now.Before(g.AnswerBy):
		return GrantExpired
	case g.Status == GrantApproved && g.ExpiresAt != nil && !now.Before(*g.ExpiresAt):
		return GrantExpired
	}
	return g.Status
}

// Grant is an active grant as the policy sees it (input.context.grants).
type Grant struct {
	ID        uuid.UUID
	TenantID  uuid.UUID
	Types     []string
	Special   bool
	Write     bool
	ExpiresAt time.Time
}

// AccessLogEntry is one event of a customer's access log: a step of a grant's life or an access
// under it. Entries are the leaves of a Merkle tree per customer (internal/accesslog).
type AccessLogEntry struct {
	TenantID  uuid.UUID      `db:"tenant_id"`
	Seq       int64          `db:"seq"`
	UUID      uuid.UUID      `db:"id"`
	At        time.Time      `db:"at"`
	Event     string         `db:"event"`
	ActorKind string         `db:"actor_kind"`
	ActorID   *uuid.UUID     `db:"actor_id"`
	GrantID   *uuid.UUID     `db:"grant_id"`
	Detail    map[string]any `db:"-"`
	// Record is the canonical record the tree's leaf hash covers; Hash is that leaf hash.
	Record []byte `db:"record"`
	Hash   []byte `db:"-"`
	// Checkpoint is the signed checkpoint of the tree that ends with this entry, if any.
	Checkpoint *LogCheckpoint `db:"-"`
}

// ID is the entry's global ID.
func (e *AccessLogEntry) ID() string { return GlobalID(KindAccessLog, e.UUID) }

// Tenant is the customer whose log holds the entry.
func (e *AccessLogEntry) Tenant() uuid.UUID { return e.TenantID }

// DetailList is the list of names under key in the entry's detail ("records", "fields"),
// empty when there is none.
func (e *AccessLogEntry) DetailList(key string) []string {
	list, _ := e.Detail[key].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Access log events.
const (
	EventRequested = "REQUESTED"
	EventApproved  = "APPROVED"
	EventDenied    = "DENIED"
	EventExpired   = "EXPIRED"
	EventRevoked   = "REVOKED"
	EventAccess    = "ACCESS"
)

// Access is what one request read under one grant: never values, only which records and fields.
type Access struct {
	GrantID  uuid.UUID
	TenantID uuid.UUID
	Records  []string // global ids
	Fields   []string // Type.field
}

// AccessLogVerification is the result of checking a customer's access log against its checkpoints.
type AccessLogVerification struct {
	Intact         bool
	Entries        int
	FirstBrokenSeq *int
	Problem        *string
}

// AccessLogFilter narrows a customer's access log.
type AccessLogFilter struct {
	GrantID *uuid.UUID
	// Record keeps only entries about one record (its global ID in the entry's records).
	Record *string
	From   *time.Time
	To     *time.Time
}

// SupportAccess is what the support-access feature needs from persistence.
type SupportAccess interface {
	RequestAccess(ctx context.Context, f TenantFilter, g *SupportAccessGrant) error
	DecideAccess(ctx context.Context, f TenantFilter, id uuid.UUID, by uuid.UUID, approve bool, now time.Time, narrow func(*SupportAccessGrant) error) (*SupportAccessGrant, error)
	RevokeAccess(ctx context.Context, f TenantFilter, id uuid.UUID, by uuid.UUID, now time.Time) (*SupportAccessGrant, error)
	AccessGrants(ctx context.Context, f TenantFilter, tenant *uuid.UUID, requestedBy *uuid.UUID) ([]*SupportAccessGrant, error)
	AccessGrantsByID(ctx context.Context, f TenantFilter, ids []uuid.UUID) ([]*SupportAccessGrant, error)
	LogAccess(ctx context.Context, actor *Subject, accesses []Access, at time.Time) error
	AccessLog(ctx context.Context, f TenantFilter, tenant uuid.UUID, filter AccessLogFilter, afterSeq int64, first int) ([]*AccessLogEntry, bool, error)
	VerifyAccessLog(ctx context.Context, f TenantFilter, tenant uuid.UUID) (*AccessLogVerification, error)
	ExpireGrants(ctx context.Context, now time.Time) (int, error)
}

type actorKey struct{}

// WithActor puts the subject that acts in this request into ctx; the store records it in the
// change history.
func WithActor(ctx context.Context, s *Subject) context.Context {
	return context.WithValue(ctx, actorKey{}, s)
}

// ActorFrom returns the acting subject, or nil (system work such as the purge).
func ActorFrom(ctx context.Context) *Subject {
	s, _ := ctx.Value(actorKey{}).(*Subject)
	return s
}

// RecordState is the privacy state of one record: the attributes of the object itself that the
// authorization policy reads (input.resource.record, documented in policy/README.md). It is the
// one declaration of them: the policy input is built from its `policy` tags and the decision
// cache keys on the whole value, so a field added here reaches both. Keep it small: every
// distinct value is a class of objects with decisions of their own.
type RecordState struct {
	// DataOf says whose data the record is: the customer register that WvSoft keeps about its
	// customers (CUSTOMER), a customer's own accounts (ACCOUNT) or its data space (DATA_SPACE).
	DataOf DataOf `policy:"data_of"`
	// Relationship is the customer relationship's state: CURRENT or ENDED (P2).
	Relationship Relationship `policy:"relationship"`
	// ConsentWithdrawn says that the record's customer withdrew consent (P6). The server knows
	// it for staff only, who are the ones it restricts.
	ConsentWithdrawn bool `policy:"consent_withdrawn"`
	// Restricted says that processing is restricted (AVG art. 18): an erased contact person of a
	// former customer whose billing data is kept for the fiscal hold.
	Restricted bool `policy:"restricted"`
	// ContactRole is a contact person's role at its customer (OWNER, DIRECTOR, CONTACT).
	ContactRole ContactRole `policy:"contact_role"`
	// IsSubject says that the record is the caller's own: its user account or its entry in the
	// staff register. The server sets it.
	IsSubject bool `policy:"is_subject"`
}

// The attributes of a record state are small numbers, not strings: the decision cache hashes
// the whole state for every field of every object, and numbers hash fast. The policy sees their
// names (String).

// DataOf is whose data a record is (RecordState.DataOf).
type DataOf uint8

// Whose data a record is; the zero value is no one's in particular (not personal data's home).
const (
	DataOfNone DataOf = iota
	DataOfCustomer
	DataOfAccount
	DataOfDataSpace
)

func (d DataOf) String() string { return nameOf(d, "", "CUSTOMER", "ACCOUNT", "DATA_SPACE") }

// ParseDataOf is the DataOf named name (String's inverse).
func ParseDataOf(name string) (DataOf, bool) {
	for d := DataOfCustomer; d <= DataOfDataSpace; d++ {
		if d.String() == name {
			return d, true
		}
	}
	return DataOfNone, false
}

// DataOfKind is whose data the records of a kind are: the register WvSoft keeps of its customers
// (Customer, ContactPerson), a customer's accounts (User, ApiKey) or its data space (Person).
func DataOfKind(kind string) DataOf {
	switch kind {
	case KindCustomer, KindContactPerson:
		return DataOfCustomer
	case KindUser, KindAPIKey:
		return DataOfAccount
	case KindPerson:
		return DataOfDataSpace
	}
	return DataOfNone
}

// Relationship is the state of a customer relationship (RecordState.Relationship).
type Relationship uint8

// Relationship states; the zero value is a record without one.
const (
	RelationshipNone Relationship = iota
	RelationshipCurrent
	RelationshipEnded
)

func (r Relationship) String() string { return nameOf(r, "", "CURRENT", "ENDED") }

// ContactRole is a contact person's role at its customer (RecordState.ContactRole).
type ContactRole uint8

// Contact roles, as the schema's ContactRole enum names them.
const (
	ContactRoleNone ContactRole = iota
	ContactRoleOwner
	ContactRoleDirector
	ContactRoleContact
)

func (c ContactRole) String() string { return nameOf(c, "", "OWNER", "DIRECTOR", "CONTACT") }

// contactRoleOf reads a stored contact role.
func contactRoleOf(s string) ContactRole {
	switch s {
	case "OWNER":
		return ContactRoleOwner
	case "DIRECTOR":
		return ContactRoleDirector
	case "CONTACT":
		return ContactRoleContact
	}
	return ContactRoleNone
}

// nameOf is the name of a small number among names; an unknown number has none.
func nameOf[T ~uint8](v T, names ...string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return ""
}

// Stateful is a record whose privacy state the policy reads. now is the request's time, against
// which dates such as a relationship's end are judged.
type Stateful interface {
	RecordState(now time.Time) RecordState
}

// relationshipAt is the state of a relationship that ends (or ended) at end.
func relationshipAt(end *time.Time, now time.Time) Relationship {
	if end != nil && !end.After(now) {
		return RelationshipEnded
	}
	return RelationshipCurrent
}

func (c *Customer) RecordState(now time.Time) RecordState {
	return RecordState{DataOf: DataOfCustomer, Relationship: relationshipAt(c.RelationshipEnd, now)}
}

func (c *ContactPerson) RecordState(now time.Time) RecordState {
	s := RecordState{DataOf: DataOfCustomer, Relationship: relationshipAt(c.RelationshipEnd, now), Restricted: c.RestrictedAt != nil}
	if c.Role != nil {
		s.ContactRole = contactRoleOf(*c.Role)
	}
	return s
}

func (u *User) RecordState(time.Time) RecordState   { return RecordState{DataOf: DataOfAccount} }
func (k *APIKey) RecordState(time.Time) RecordState { return RecordState{DataOf: DataOfAccount} }
func (p *Person) RecordState(time.Time) RecordState { return RecordState{DataOf: DataOfDataSpace} }

// Derived is an object that shows a value whose home is a field of another record, such as an
// e-mail's recipient, which is a user's or a contact person's address. Fields marked @derived in
// the schema are decided by the rule of the field the value comes from (Source).
type Derived interface {
	// DerivedFrom names the source of the value shown in field: its type, field and tenant.
	// ok is false when the source is unknown; the field is then denied.
	DerivedFrom(field string) (src Source, ok bool)
}

// Source is the record field a derived value comes from.
type Source struct {
	Type, Field string
	TenantID    uuid.UUID
	// State is the source record's state as far as the deriving object knows it.
	State RecordState
}

type writeGrantKey struct{}

// WithWriteGrant puts into ctx the support-access grant that the policy's write decision rested
// on, for tenant; the store records it with the write in the customer's access log (P9).
func WithWriteGrant(ctx context.Context, tenant, grant uuid.UUID) context.Context {
	return context.WithValue(ctx, writeGrantKey{}, [2]uuid.UUID{tenant, grant})
}

// WriteGrantFrom returns the grant a write into tenant rests on, or nil.
func WriteGrantFrom(ctx context.Context, tenant uuid.UUID) *uuid.UUID {
	g, ok := ctx.Value(writeGrantKey{}).([2]uuid.UUID)
	if !ok || g[0] != tenant {
		return nil
	}
	return &g[1]
}
