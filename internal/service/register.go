package service

// The customer register and a customer's data space: customers, contact persons, users, API keys
// and persons. Each create validates every field it is given, mints the id and hands the store
// the names of the fields the client set, which the policy decides one by one.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/validate"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// CreateCustomer adds a customer to the register; the relationship starts today unless given.
func (s *Service) CreateCustomer(ctx context.Context, input CreateCustomerInput) (*wvsoft.Customer, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	c := &wvsoft.Customer{TenantID: id}
	if slug := in.required("input.slug", input.Slug, validate.Slug); slug != nil {
		c.Slug = *slug
	}
	c.Name = in.required("input.name", input.Name, line(200))
	c.Email = in.optional("input.email", input.Email, validate.Email, false)
	c.Phone = in.optional("input.phone", input.Phone, validate.Phone, false)
	c.Street = in.optional("input.street", input.Street, line(200), false)
	c.PostalCode = in.optional("input.postalCode", input.PostalCode, validate.PostalCode, false)
	c.City = in.optional("input.city", input.City, line(100), false)
	c.KvkNumber = in.optional("input.kvkNumber", input.KVKNumber, validate.KvK, false)
	c.Iban = in.optional("input.iban", input.Iban, validate.IBAN, false)
	now := s.now()
	c.RelationshipStart = in.date("input.relationshipStart", input.RelationshipStart, now, true)
	if c.RelationshipStart == nil {
		today := now.UTC().Truncate(24 * time.Hour)
		c.RelationshipStart = &today
	}
	if in.err != nil {
		return nil, in.err
	}
	if err := s.store.CreateCustomer(ctx, c, in.given); err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateCustomer changes the fields given.
func (s *Service) UpdateCustomer(ctx context.Context, input UpdateCustomerInput) (*wvsoft.Customer, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindCustomer, input.ID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	in.optional("input.name", input.Name, line(200), true)
	in.optional("input.email", input.Email, validate.Email, false)
	in.optional("input.phone", input.Phone, validate.Phone, false)
	in.optional("input.street", input.Street, line(200), false)
	in.optional("input.postalCode", input.PostalCode, validate.PostalCode, false)
	in.optional("input.city", input.City, line(100), false)
	in.optional("input.kvkNumber", input.KVKNumber, validate.KvK, false)
	in.optional("input.iban", input.Iban, validate.IBAN, false)
	// The end starts the retention clocks, and it is the end the paperwork says: it may lie in
	// the past (a termination letter arrives late; the purge then follows it), but not after
	// today, and not before the relationship started (the register's check, answered on
	// input.relationshipEnd by the store).
	in.date("input.relationshipEnd", input.RelationshipEnd, s.now(), true)
	if in.err != nil {
		return nil, in.err
	}
	return s.store.UpdateCustomer(ctx, id, in.changes)
}

// CreateContactPerson adds a contact person to a customer.
func (s *Service) CreateContactPerson(ctx context.Context, input CreateContactPersonInput) (*wvsoft.ContactPerson, error) {
	tenant, err := wvsoft.ParseGlobalIDOf("input.customerId", wvsoft.KindCustomer, input.CustomerID)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	c := &wvsoft.ContactPerson{TenantID: tenant, UUID: id}
	c.Salutation = in.optional("input.salutation", input.Salutation, oneOf, false)
	c.Name = in.required("input.name", input.Name, line(200))
	c.Role = in.required("input.role", input.Role, oneOf)
	c.Email = in.optional("input.email", input.Email, validate.Email, false)
	c.Phone = in.optional("input.phone", input.Phone, validate.Phone, false)
	if in.err != nil {
		return nil, in.err
	}
	if err := s.store.CreateContactPerson(ctx, c, in.given); err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateContactPerson changes the fields given.
func (s *Service) UpdateContactPerson(ctx context.Context, input UpdateContactPersonInput) (*wvsoft.ContactPerson, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindContactPerson, input.ID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	in.optional("input.salutation", input.Salutation, oneOf, false)
	in.optional("input.name", input.Name, line(200), true)
	in.optional("input.role", input.Role, oneOf, true)
	in.optional("input.email", input.Email, validate.Email, false)
	in.optional("input.phone", input.Phone, validate.Phone, false)
	if in.err != nil {
		return nil, in.err
	}
	return s.store.UpdateContactPerson(ctx, id, in.changes)
}

// DeleteContactPerson removes a contact person and returns its id.
func (s *Service) DeleteContactPerson(ctx context.Context, gid string) (*string, error) {
	return deleteByID(ctx, wvsoft.KindContactPerson, gid, s.store.DeleteContactPerson)
}

// CreateUser adds a login to the caller's own customer.
func (s *Service) CreateUser(ctx context.Context, input CreateUserInput) (*wvsoft.User, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	u := &wvsoft.User{TenantID: actor(ctx).TenantID, UUID: id}
	in.checkCreateUserInput(input, u, s.now())
	if in.err != nil {
		return nil, in.err
	}
	if err := s.store.CreateUser(ctx, u, in.given); err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser changes the fields given.
func (s *Service) UpdateUser(ctx context.Context, input UpdateUserInput) (*wvsoft.User, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindUser, input.ID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	in.checkUpdateUserInput(input, s.now())
	if in.err != nil {
		return nil, in.err
	}
	return s.store.UpdateUser(ctx, id, in.changes)
}

// DeleteUser removes a login and returns its id. Nobody removes their own login: a customer
// would otherwise be able to lock itself out by accident.
func (s *Service) DeleteUser(ctx context.Context, gid string) (*string, error) {
	if wvsoft.GlobalID(wvsoft.KindUser, actor(ctx).ID) == gid {
		return nil, wvsoft.Invalid("id", "a user cannot remove itself")
	}
	return deleteByID(ctx, wvsoft.KindUser, gid, s.store.DeleteUser)
}

// apiKeySecretBytes is the entropy of an API key's secret: 256 bits.
const apiKeySecretBytes = 32

// apiKeyShownPrefix is how many characters of the secret after auth.APIKeyPrefix stay visible,
// so that a customer can tell its keys apart without the secret.
const apiKeyShownPrefix = 6

// CreateAPIKey mints a key for the caller's own customer. The secret is returned once and only
// its hash is stored.
func (s *Service) CreateAPIKey(ctx context.Context, input CreateAPIKeyInput) (*CreateAPIKeyPayload, error) {
	in := &inputs{}
	name := in.required("input.name", input.Name, line(200))
	if in.err != nil {
		return nil, in.err
	}
	raw := make([]byte, apiKeySecretBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := auth.APIKeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	id, err := newID()
	if err != nil {
		return nil, err
	}
	prefix := secret[:len(auth.APIKeyPrefix)+apiKeyShownPrefix]
	canWrite, special := flag(input.CanWrite, false), flag(input.SpecialCategories, false)
	k := &wvsoft.APIKey{TenantID: actor(ctx).TenantID, UUID: id, Name: name, Prefix: &prefix,
		CanWrite: &canWrite, SpecialCategories: &special}
	if err := s.store.CreateAPIKey(ctx, k, auth.HashAPIKey(secret)); err != nil {
		return nil, err
	}
	return &CreateAPIKeyPayload{APIKey: k, Secret: &secret}, nil
}

// RevokeAPIKey revokes a key now; every server refuses it from then on.
func (s *Service) RevokeAPIKey(ctx context.Context, gid string) (*wvsoft.APIKey, error) {
	id, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindAPIKey, gid)
	if err != nil {
		return nil, err
	}
	return s.store.RevokeAPIKey(ctx, id, s.now())
}

// CreatePerson adds a person to a customer's data space: the caller's own unless customerId names
// another (staff under a grant).
func (s *Service) CreatePerson(ctx context.Context, input CreatePersonInput) (*wvsoft.Person, error) {
	tenant, err := CustomerArg(ctx, "input.customerId", input.CustomerID.Value())
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	p := &wvsoft.Person{TenantID: tenant, UUID: id}
	in.checkCreatePersonInput(input, p, s.now())
	if in.err != nil {
		return nil, in.err
	}
	if err := s.store.CreatePerson(ctx, p, in.given); err != nil {
		return nil, err
	}
	return p, nil
}

// UpdatePerson changes the fields given.
func (s *Service) UpdatePerson(ctx context.Context, input UpdatePersonInput) (*wvsoft.Person, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindPerson, input.ID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	in.checkUpdatePersonInput(input, s.now())
	if in.err != nil {
		return nil, in.err
	}
	return s.store.UpdatePerson(ctx, id, in.changes)
}

// DeletePerson removes a person and returns its id.
func (s *Service) DeletePerson(ctx context.Context, gid string) (*string, error) {
	return deleteByID(ctx, wvsoft.KindPerson, gid, s.store.DeletePerson)
}

// CustomerArg resolves an optional customer id argument; without one it is the caller's own
// customer.
func CustomerArg(ctx context.Context, field string, id *string) (uuid.UUID, error) {
	if id != nil {
		return wvsoft.ParseGlobalIDOf(field, wvsoft.KindCustomer, *id)
	}
	if t := actor(ctx).TenantID; t != uuid.Nil {
		return t, nil
	}
	return uuid.Nil, wvsoft.Invalid(field, "%s is required for WvSoft staff", field)
}

// deleteByID parses a global id of kind, removes the record and returns the id.
func deleteByID(ctx context.Context, kind, gid string, remove func(context.Context, uuid.UUID) error) (*string, error) {
	id, err := wvsoft.ParseGlobalIDOf("id", kind, gid)
	if err != nil {
		return nil, err
	}
	if err := remove(ctx, id); err != nil {
		return nil, err
	}
	return &gid, nil
}
