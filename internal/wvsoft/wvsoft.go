// Package wvsoft holds the domain of the WvSoft privacy backend: its types, the services that keep
// them, and the errors that are safe to show. It depends on no other package of the project; the
// packages named after a dependency (postgres, authz, httpserver) implement or use it.
package wvsoft

import (
	"context"
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
}

// ID is the contact person's global ID.
func (c *ContactPerson) ID() string { return GlobalID(KindContactPerson, c.UUID) }

// User is a user of a customer.
type User struct {
	TenantID  uuid.UUID `db:"tenant_id"`
	UUID      uuid.UUID `db:"id"`
	Email     *string   `db:"email"`
	Name      *string   `db:"name"`
	Role      *string   `db:"role"`
	CreatedAt time.Time `db:"created_at"`
}

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

// Person is a person in a customer's data space.
type Person struct {
	TenantID      uuid.UUID  `db:"tenant_id"`
	UUID          uuid.UUID  `db:"id"`
	Name          *string    `db:"name"`
	Street        *string    `db:"street"`
	PostalCode    *string    `db:"postal_code"`
	City          *string    `db:"city"`
	Email         *string    `db:"email"`
	Phone         *string    `db:"phone"`
	BirthDate     *time.Time `db:"birth_date"`
	Iban          *string    `db:"iban"`
	Bsn           *string    `db:"bsn"`
	MaritalStatus *string    `db:"marital_status"`
	Household     *string    `db:"household"`
	MedicalNotes  *string    `db:"medical_notes"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
}

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

// Page asks for up to First rows after the cursor After (a row id; uuid.Nil for the start).
type Page struct {
	First int
	After uuid.UUID
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
	Customers(ctx context.Context, f TenantFilter, p Page) ([]*Customer, bool, error)
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

	Persons(ctx context.Context, f TenantFilter, tenant uuid.UUID, p Page) ([]*Person, bool, error)
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
	// SubjectByEmail finds the user or staff member with this e-mail address.
	SubjectByEmail(ctx context.Context, email string) (*Subject, error)
	// SubjectByAPIKey finds the valid (unrevoked) API key whose secret hashes to hash.
	SubjectByAPIKey(ctx context.Context, hash []byte) (*Subject, error)
}

// Change sets one column to a validated value (nil clears it).
type Change struct {
	Column string
	Value  any
}

// Changes is a validated partial update: only the columns named change.
type Changes []Change

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
	KindAccessGrant = "SupportAccessGrant"
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

// AccessGrant is the director's request for access to one customer's data space, and, once the
// customer's admin approved it, the grant.
type AccessGrant struct {
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
func (g *AccessGrant) ID() string { return GlobalID(KindAccessGrant, g.UUID) }

// Tenant is the customer whose data space the grant opens.
func (g *AccessGrant) Tenant() uuid.UUID { return g.TenantID }

// StatusAt is the grant's status at now: a request unanswered past its deadline and a grant past
// its end are expired, even before the sweeper has written it down.
func (g *AccessGrant) StatusAt(now time.Time) string {
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
}

// ID is the entry's global ID.
func (e *AccessLogEntry) ID() string { return GlobalID(KindAccessLog, e.UUID) }

// Tenant is the customer whose log holds the entry.
func (e *AccessLogEntry) Tenant() uuid.UUID { return e.TenantID }

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

// LogVerification is the result of checking a customer's access log against its checkpoints.
type LogVerification struct {
	Intact         bool
	Entries        int
	FirstBrokenSeq *int
	Problem        *string
}

// AccessLogFilter narrows a customer's access log.
type AccessLogFilter struct {
	GrantID *uuid.UUID
	From    *time.Time
	To      *time.Time
}

// SupportAccess is what the support-access feature needs from persistence.
type SupportAccess interface {
	RequestAccess(ctx context.Context, f TenantFilter, g *AccessGrant) error
	DecideAccess(ctx context.Context, f TenantFilter, id uuid.UUID, by uuid.UUID, approve bool, now time.Time, narrow func(*AccessGrant) error) (*AccessGrant, error)
	RevokeAccess(ctx context.Context, f TenantFilter, id uuid.UUID, by uuid.UUID, now time.Time) (*AccessGrant, error)
	AccessGrants(ctx context.Context, f TenantFilter, tenant *uuid.UUID, requestedBy *uuid.UUID) ([]*AccessGrant, error)
	AccessGrantsByID(ctx context.Context, f TenantFilter, ids []uuid.UUID) ([]*AccessGrant, error)
	LogAccess(ctx context.Context, actor *Subject, accesses []Access, at time.Time) error
	AccessLog(ctx context.Context, f TenantFilter, tenant uuid.UUID, filter AccessLogFilter, afterSeq int64, first int) ([]*AccessLogEntry, bool, error)
	VerifyAccessLog(ctx context.Context, f TenantFilter, tenant uuid.UUID) (*LogVerification, error)
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
