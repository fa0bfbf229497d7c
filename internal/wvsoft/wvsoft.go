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

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
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
