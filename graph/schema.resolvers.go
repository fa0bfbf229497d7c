package graph

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/validate"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

func (r *apiKeyResolver) Customer(ctx context.Context, obj *wvsoft.APIKey) (*wvsoft.Customer, error) {
	return loadersFrom(ctx).customers.Load(ctx, obj.TenantID)
}

func (r *contactPersonResolver) Customer(ctx context.Context, obj *wvsoft.ContactPerson) (*wvsoft.Customer, error) {
	return loadersFrom(ctx).customers.Load(ctx, obj.TenantID)
}

func (r *customerResolver) ContactPersons(ctx context.Context, obj *wvsoft.Customer) ([]*wvsoft.ContactPerson, error) {
	return loadersFrom(ctx).contactPersons.Load(ctx, obj.TenantID)
}

func (r *customerResolver) Users(ctx context.Context, obj *wvsoft.Customer) ([]*wvsoft.User, error) {
	f, err := authz.Filter(ctx, wvsoft.KindUser, authz.ActionRead)
	if err != nil {
		return nil, err
	}
	return r.Store.UsersOf(ctx, f, obj.TenantID)
}

func (r *customerResolver) APIKeys(ctx context.Context, obj *wvsoft.Customer) ([]*wvsoft.APIKey, error) {
	f, err := authz.Filter(ctx, wvsoft.KindAPIKey, authz.ActionRead)
	if err != nil {
		return nil, err
	}
	return r.Store.APIKeysOf(ctx, f, obj.TenantID)
}

func (r *customerResolver) Persons(ctx context.Context, obj *wvsoft.Customer, first *int, after *string) (*model.PersonConnection, error) {
	return r.persons(ctx, obj.TenantID, first, after)
}

func (r *mutationResolver) CreateCustomer(ctx context.Context, input model.CreateCustomerInput) (*wvsoft.Customer, error) {
	f, err := authz.Filter(ctx, wvsoft.KindCustomer, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	c := &wvsoft.Customer{TenantID: id}
	if s := in.required("slug", "input.slug", input.Slug, validate.Slug); s != nil {
		c.Slug = *s
	}
	c.Name = in.required("name", "input.name", input.Name, text(200))
	c.Email = in.optional("email", "input.email", input.Email, validate.Email, false)
	c.Phone = in.optional("phone", "input.phone", input.Phone, validate.Phone, false)
	c.Street = in.optional("street", "input.street", input.Street, text(200), false)
	c.PostalCode = in.optional("postal_code", "input.postalCode", input.PostalCode, validate.PostalCode, false)
	c.City = in.optional("city", "input.city", input.City, text(100), false)
	c.KvkNumber = in.optional("kvk_number", "input.kvkNumber", input.KVKNumber, validate.KvK, false)
	c.Iban = in.optional("iban", "input.iban", input.Iban, validate.IBAN, false)
	now := r.Now()
	c.RelationshipStart = in.date("relationship_start", "input.relationshipStart", input.RelationshipStart, now, false)
	if c.RelationshipStart == nil {
		today := now.UTC().Truncate(24 * time.Hour)
		c.RelationshipStart = &today
	}
	if in.err != nil {
		return nil, in.err
	}
	if err := r.Store.CreateCustomer(ctx, f, c); err != nil {
		return nil, err
	}
	return c, nil
}

func (r *mutationResolver) UpdateCustomer(ctx context.Context, input model.UpdateCustomerInput) (*wvsoft.Customer, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindCustomer, input.ID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	in.optional("name", "input.name", input.Name, text(200), true)
	in.optional("email", "input.email", input.Email, validate.Email, false)
	in.optional("phone", "input.phone", input.Phone, validate.Phone, false)
	in.optional("street", "input.street", input.Street, text(200), false)
	in.optional("postal_code", "input.postalCode", input.PostalCode, validate.PostalCode, false)
	in.optional("city", "input.city", input.City, text(100), false)
	in.optional("kvk_number", "input.kvkNumber", input.KVKNumber, validate.KvK, false)
	in.optional("iban", "input.iban", input.Iban, validate.IBAN, false)
	in.date("relationship_end", "input.relationshipEnd", input.RelationshipEnd, r.Now(), false)
	if in.err != nil {
		return nil, in.err
	}
	f, err := authz.Filter(ctx, wvsoft.KindCustomer, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	return r.Store.UpdateCustomer(ctx, f, id, in.changes)
}

func (r *mutationResolver) CreateContactPerson(ctx context.Context, input model.CreateContactPersonInput) (*wvsoft.ContactPerson, error) {
	tenant, err := wvsoft.ParseGlobalIDOf("input.customerId", wvsoft.KindCustomer, input.CustomerID)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	c := &wvsoft.ContactPerson{TenantID: tenant, UUID: id}
	c.Salutation = in.optional("salutation", "input.salutation", input.Salutation, oneOf, false)
	c.Name = in.required("name", "input.name", input.Name, text(200))
	c.Role = in.required("role", "input.role", input.Role, oneOf)
	c.Email = in.optional("email", "input.email", input.Email, validate.Email, false)
	c.Phone = in.optional("phone", "input.phone", input.Phone, validate.Phone, false)
	if in.err != nil {
		return nil, in.err
	}
	f, err := authz.Filter(ctx, wvsoft.KindContactPerson, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	if err := r.Store.CreateContactPerson(ctx, f, c); err != nil {
		return nil, err
	}
	return c, nil
}

func (r *mutationResolver) UpdateContactPerson(ctx context.Context, input model.UpdateContactPersonInput) (*wvsoft.ContactPerson, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindContactPerson, input.ID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	in.optional("salutation", "input.salutation", input.Salutation, oneOf, false)
	in.optional("name", "input.name", input.Name, text(200), true)
	in.optional("role", "input.role", input.Role, oneOf, true)
	in.optional("email", "input.email", input.Email, validate.Email, false)
	in.optional("phone", "input.phone", input.Phone, validate.Phone, false)
	if in.err != nil {
		return nil, in.err
	}
	f, err := authz.Filter(ctx, wvsoft.KindContactPerson, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	return r.Store.UpdateContactPerson(ctx, f, id, in.changes)
}

func (r *mutationResolver) DeleteContactPerson(ctx context.Context, id string) (*string, error) {
	return r.delete(ctx, wvsoft.KindContactPerson, id, r.Store.DeleteContactPerson)
}

func (r *mutationResolver) CreateUser(ctx context.Context, input model.CreateUserInput) (*wvsoft.User, error) {
	subject := authz.FromContext(ctx).Subject()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	u := &wvsoft.User{TenantID: subject.TenantID, UUID: id}
	u.Email = in.required("email", "input.email", input.Email, validate.Email)
	u.Name = in.required("name", "input.name", input.Name, text(200))
	u.Role = in.required("role", "input.role", input.Role, oneOf)
	if in.err != nil {
		return nil, in.err
	}
	f, err := authz.Filter(ctx, wvsoft.KindUser, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	if err := r.Store.CreateUser(ctx, f, u); err != nil {
		return nil, err
	}
	return u, nil
}

func (r *mutationResolver) UpdateUser(ctx context.Context, input model.UpdateUserInput) (*wvsoft.User, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindUser, input.ID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	in.optional("name", "input.name", input.Name, text(200), true)
	in.optional("role", "input.role", input.Role, oneOf, true)
	if in.err != nil {
		return nil, in.err
	}
	f, err := authz.Filter(ctx, wvsoft.KindUser, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	return r.Store.UpdateUser(ctx, f, id, in.changes)
}

func (r *mutationResolver) DeleteUser(ctx context.Context, id string) (*string, error) {
	if subject := authz.FromContext(ctx).Subject(); wvsoft.GlobalID(wvsoft.KindUser, subject.ID) == id {
		return nil, wvsoft.Invalid("id", "a user cannot remove itself")
	}
	return r.delete(ctx, wvsoft.KindUser, id, r.Store.DeleteUser)
}

func (r *mutationResolver) CreateAPIKey(ctx context.Context, input model.CreateAPIKeyInput) (*model.CreateAPIKeyPayload, error) {
	subject := authz.FromContext(ctx).Subject()
	in := &inputs{}
	name := in.required("name", "input.name", input.Name, text(200))
	if in.err != nil {
		return nil, in.err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := auth.APIKeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	prefix := secret[:len(auth.APIKeyPrefix)+6]
	canWrite, special := flag(input.CanWrite, false), flag(input.SpecialCategories, false)
	k := &wvsoft.APIKey{TenantID: subject.TenantID, UUID: id, Name: name, Prefix: &prefix,
		CanWrite: &canWrite, SpecialCategories: &special}
	f, err := authz.Filter(ctx, wvsoft.KindAPIKey, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	if err := r.Store.CreateAPIKey(ctx, f, k, auth.HashAPIKey(secret)); err != nil {
		return nil, err
	}
	return &model.CreateAPIKeyPayload{APIKey: k, Secret: &secret}, nil
}

func (r *mutationResolver) RevokeAPIKey(ctx context.Context, id string) (*wvsoft.APIKey, error) {
	keyID, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindAPIKey, id)
	if err != nil {
		return nil, err
	}
	f, err := authz.Filter(ctx, wvsoft.KindAPIKey, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	return r.Store.RevokeAPIKey(ctx, f, keyID, r.Now())
}

func (r *mutationResolver) CreatePerson(ctx context.Context, input model.CreatePersonInput) (*wvsoft.Person, error) {
	tenant, err := r.customerArg(ctx, "input.customerId", input.CustomerID.Value())
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	p := &wvsoft.Person{TenantID: tenant, UUID: id}
	p.Name = in.required("name", "input.name", input.Name, text(200))
	p.Street = in.optional("street", "input.street", input.Street, text(200), false)
	p.PostalCode = in.optional("postal_code", "input.postalCode", input.PostalCode, validate.PostalCode, false)
	p.City = in.optional("city", "input.city", input.City, text(100), false)
	p.Email = in.optional("email", "input.email", input.Email, validate.Email, false)
	p.Phone = in.optional("phone", "input.phone", input.Phone, validate.Phone, false)
	p.BirthDate = in.date("birth_date", "input.birthDate", input.BirthDate, r.Now(), true)
	p.Iban = in.optional("iban", "input.iban", input.Iban, validate.IBAN, false)
	p.Bsn = in.optional("bsn", "input.bsn", input.Bsn, validate.BSN, false)
	p.MaritalStatus = in.optional("marital_status", "input.maritalStatus", input.MaritalStatus, oneOf, false)
	p.Household = in.optional("household", "input.household", input.Household, text(2000), false)
	p.MedicalNotes = in.optional("medical_notes", "input.medicalNotes", input.MedicalNotes, text(10000), false)
	if in.err != nil {
		return nil, in.err
	}
	f, err := authz.Filter(ctx, wvsoft.KindPerson, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	if err := r.Store.CreatePerson(ctx, f, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (r *mutationResolver) UpdatePerson(ctx context.Context, input model.UpdatePersonInput) (*wvsoft.Person, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindPerson, input.ID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	in.optional("name", "input.name", input.Name, text(200), true)
	in.optional("street", "input.street", input.Street, text(200), false)
	in.optional("postal_code", "input.postalCode", input.PostalCode, validate.PostalCode, false)
	in.optional("city", "input.city", input.City, text(100), false)
	in.optional("email", "input.email", input.Email, validate.Email, false)
	in.optional("phone", "input.phone", input.Phone, validate.Phone, false)
	in.date("birth_date", "input.birthDate", input.BirthDate, r.Now(), true)
	in.optional("iban", "input.iban", input.Iban, validate.IBAN, false)
	in.optional("bsn", "input.bsn", input.Bsn, validate.BSN, false)
	in.optional("marital_status", "input.maritalStatus", input.MaritalStatus, oneOf, false)
	in.optional("household", "input.household", input.Household, text(2000), false)
	in.optional("medical_notes", "input.medicalNotes", input.MedicalNotes, text(10000), false)
	if in.err != nil {
		return nil, in.err
	}
	f, err := authz.Filter(ctx, wvsoft.KindPerson, authz.ActionWrite)
	if err != nil {
		return nil, err
	}
	return r.Store.UpdatePerson(ctx, f, id, in.changes)
}

func (r *mutationResolver) DeletePerson(ctx context.Context, id string) (*string, error) {
	return r.delete(ctx, wvsoft.KindPerson, id, r.Store.DeletePerson)
}

func (r *personResolver) Customer(ctx context.Context, obj *wvsoft.Person) (*wvsoft.Customer, error) {
	return loadersFrom(ctx).customers.Load(ctx, obj.TenantID)
}

func (r *queryResolver) Node(ctx context.Context, id string) (wvsoft.Node, error) {
	nodes, err := r.lookup(ctx, "id", []string{id})
	if err != nil {
		return nil, err
	}
	if nodes[0] == nil {
		return nil, wvsoft.NotFound("object")
	}
	return nodes[0], nil
}

func (r *queryResolver) Nodes(ctx context.Context, ids []string) ([]wvsoft.Node, error) {
	if len(ids) > maxNodes {
		return nil, wvsoft.Invalid("ids", "at most %d ids at once", maxNodes)
	}
	return r.lookup(ctx, "ids", ids)
}

func (r *queryResolver) Me(ctx context.Context) (*wvsoft.Subject, error) {
	return authz.FromContext(ctx).Subject(), nil
}

func (r *queryResolver) Customers(ctx context.Context, first *int, after *string) (*model.CustomerConnection, error) {
	p, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	f, err := authz.Filter(ctx, wvsoft.KindCustomer, authz.ActionRead)
	if err != nil {
		return nil, err
	}
	rows, hasNext, err := r.Store.Customers(ctx, f, p)
	if err != nil {
		return nil, err
	}
	if selected(ctx, "edges", "node", "contactPersons") {
		if err := r.prefetchContactPersons(ctx, rows); err != nil {
			return nil, err
		}
	}
	return customerConnection(rows, hasNext), nil
}

func (r *queryResolver) Persons(ctx context.Context, customerID *string, first *int, after *string) (*model.PersonConnection, error) {
	tenant, err := r.customerArg(ctx, "customerId", customerID)
	if err != nil {
		return nil, err
	}
	return r.persons(ctx, tenant, first, after)
}

func (r *userResolver) Customer(ctx context.Context, obj *wvsoft.User) (*wvsoft.Customer, error) {
	return loadersFrom(ctx).customers.Load(ctx, obj.TenantID)
}

func (r *viewerResolver) Customer(ctx context.Context, obj *wvsoft.Subject) (*wvsoft.Customer, error) {
	if obj.TenantID == uuid.Nil {
		return nil, nil
	}
	return loadersFrom(ctx).customers.Load(ctx, obj.TenantID)
}

func (r *Resolver) ApiKey() ApiKeyResolver { return &apiKeyResolver{r} }

func (r *Resolver) ContactPerson() ContactPersonResolver { return &contactPersonResolver{r} }

func (r *Resolver) Customer() CustomerResolver { return &customerResolver{r} }

func (r *Resolver) Mutation() MutationResolver { return &mutationResolver{r} }

func (r *Resolver) Person() PersonResolver { return &personResolver{r} }

func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

func (r *Resolver) User() UserResolver { return &userResolver{r} }

func (r *Resolver) Viewer() ViewerResolver { return &viewerResolver{r} }

type apiKeyResolver struct{ *Resolver }
type contactPersonResolver struct{ *Resolver }
type customerResolver struct{ *Resolver }
type mutationResolver struct{ *Resolver }
type personResolver struct{ *Resolver }
type queryResolver struct{ *Resolver }
type userResolver struct{ *Resolver }
type viewerResolver struct{ *Resolver }
