package authz

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Store is the store as the API sees it: every operation declares once which type it reads or
// writes and with which action, asks the policy for its row filter (data.wvsoft.authz.rows) for
// the request in ctx, and passes the filter to the persistence store, which puts it into the SQL
// and into row-level security. Writes of fields are decided field by field on the record as
// stored (data.wvsoft.authz.decision, action "write"), and the grant a write rests on goes with
// it to the access log. Like Coder's dbauthz, the resolvers call nothing else, so no resolver
// chooses a kind or reads a filter, and no authorization decision is made outside this package.
type Store struct {
	next wvsoft.Store
	// fields are the fields of the schema's types (wvsoft.Declarations), each once, as the
	// decisions of a request key them: what a write, a filter, an order or a subscription
	// decides. The store needs no executable schema, so the operator's commands use it as the
	// server does.
	fields map[typeField]*ast.FieldDefinition
}

// NewStore wraps next.
func NewStore(next wvsoft.Store) *Store {
	s := &Store{next: next, fields: map[typeField]*ast.FieldDefinition{}}
	for _, f := range wvsoft.Declarations() {
		s.fields[typeField{f.Type, f.Field}] = &ast.FieldDefinition{Name: f.Field}
	}
	return s
}

// field is the field typ.name of the schema; nil when the type has no such field.
func (s *Store) field(typ, name string) *ast.FieldDefinition { return s.fields[typeField{typ, name}] }

// authorizeWrite decides, field by field with action "write", what the request sets on obj of
// type typ: the record as stored for an update or a deletion, the record to be written for a
// create. The record itself (its id) is decided too, so that a write that sets no personal field
// still rests on the policy's grant. The returned context carries that grant, which the store
// records with a staff write into a data space. recordField is the argument that names the
// record ("input.id"), for the error when the record itself is refused; "" for a create.
func (s *Store) authorizeWrite(ctx context.Context, typ string, obj any, recordField string, fields []string) (context.Context, error) {
	r := FromContext(ctx)
	if r == nil || s.field(typ, "id") == nil {
		return ctx, wvsoft.Errorf(wvsoft.EFORBIDDEN, "not allowed to write %s", typ)
	}
	var grant string
	for _, name := range append([]string{"id"}, fields...) {
		fd := s.field(typ, name)
		if fd == nil {
			continue // an input that is not a field of the type (customerId)
		}
		d := r.WriteField(ctx, typ, fd, obj)
		if d.Effect != Allow {
			if name == "id" {
				return ctx, &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed to write this " + typ, Field: recordField}
			}
			return ctx, &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed to write " + typ + "." + name, Field: "input." + name}
		}
		if d.Grant != "" {
			grant = d.Grant
		}
	}
	if id, err := uuid.Parse(grant); err == nil {
		if t, ok := obj.(wvsoft.Tenanted); ok {
			ctx = wvsoft.WithWriteGrant(ctx, t.Tenant(), id)
		}
	}
	return ctx, nil
}

// stored reads the record id of kind within the request's filter for action; a record outside
// it is not found, like one that does not exist.
func stored[T wvsoft.Tenanted](ctx context.Context, kind, action string, id uuid.UUID,
	byID func(context.Context, wvsoft.TenantFilter, []uuid.UUID) ([]T, error)) (T, wvsoft.TenantFilter, error) {
	var none T
	f, err := Filter(ctx, kind, action)
	if err != nil {
		return none, f, err
	}
	rows, err := byID(ctx, f, []uuid.UUID{id})
	if err != nil {
		return none, f, err
	}
	if len(rows) == 0 {
		return none, f, wvsoft.NotFound(kind)
	}
	return rows[0], f, nil
}

// update decides the changes on the record as stored, then applies them within the filter.
func update[T wvsoft.Tenanted](ctx context.Context, s *Store, kind string, id uuid.UUID, c wvsoft.Changes,
	byID func(context.Context, wvsoft.TenantFilter, []uuid.UUID) ([]T, error),
	apply func(context.Context, wvsoft.TenantFilter, uuid.UUID, wvsoft.Changes) (T, error)) (T, error) {
	cur, f, err := stored(ctx, kind, ActionWrite, id, byID)
	if err != nil {
		return cur, err
	}
	if ctx, err = s.authorizeWrite(ctx, kind, cur, "input.id", c.Fields()); err != nil {
		var none T
		return none, err
	}
	return apply(ctx, f, id, c)
}

// remove decides the deletion on the record as stored (deleting is writing the record), then
// deletes it within the filter.
func remove[T wvsoft.Tenanted](ctx context.Context, s *Store, kind string, id uuid.UUID,
	byID func(context.Context, wvsoft.TenantFilter, []uuid.UUID) ([]T, error),
	del func(context.Context, wvsoft.TenantFilter, uuid.UUID) error) error {
	cur, f, err := stored(ctx, kind, ActionWrite, id, byID)
	if err != nil {
		return err
	}
	if ctx, err = s.authorizeWrite(ctx, kind, cur, "id", nil); err != nil {
		return err
	}
	return del(ctx, f, id)
}

// create decides the fields set on a new record, then writes it within the filter.
func create[T wvsoft.Tenanted](ctx context.Context, s *Store, kind string, obj T, fields []string,
	write func(context.Context, wvsoft.TenantFilter, T) error) error {
	f, err := Filter(ctx, kind, ActionWrite)
	if err != nil {
		return err
	}
	if ctx, err = s.authorizeWrite(ctx, kind, obj, "", fields); err != nil {
		return err
	}
	return write(ctx, f, obj)
}

func (s *Store) CreateCustomer(ctx context.Context, c *wvsoft.Customer, fields []string) error {
	return create(ctx, s, wvsoft.KindCustomer, c, fields, s.next.CreateCustomer)
}

func (s *Store) UpdateCustomer(ctx context.Context, id uuid.UUID, c wvsoft.Changes) (*wvsoft.Customer, error) {
	return update(ctx, s, wvsoft.KindCustomer, id, c, s.next.CustomersByID, s.next.UpdateCustomer)
}

// CreateContactPerson writes a contact person, decided with its customer's state (relationship,
// consent), which the new record takes.
func (s *Store) CreateContactPerson(ctx context.Context, c *wvsoft.ContactPerson, fields []string) error {
	customer, _, err := stored(ctx, wvsoft.KindCustomer, ActionRead, c.TenantID, s.next.CustomersByID)
	if err != nil {
		return err
	}
	c.RelationshipEnd = customer.RelationshipEnd
	return create(ctx, s, wvsoft.KindContactPerson, c, fields, s.next.CreateContactPerson)
}

func (s *Store) UpdateContactPerson(ctx context.Context, id uuid.UUID, c wvsoft.Changes) (*wvsoft.ContactPerson, error) {
	return update(ctx, s, wvsoft.KindContactPerson, id, c, s.next.ContactPersonsByID, s.next.UpdateContactPerson)
}

func (s *Store) DeleteContactPerson(ctx context.Context, id uuid.UUID) error {
	return remove(ctx, s, wvsoft.KindContactPerson, id, s.next.ContactPersonsByID, s.next.DeleteContactPerson)
}

func (s *Store) CreateUser(ctx context.Context, u *wvsoft.User, fields []string) error {
	return create(ctx, s, wvsoft.KindUser, u, fields, s.next.CreateUser)
}

func (s *Store) UpdateUser(ctx context.Context, id uuid.UUID, c wvsoft.Changes) (*wvsoft.User, error) {
	return update(ctx, s, wvsoft.KindUser, id, c, s.next.UsersByID, s.next.UpdateUser)
}

func (s *Store) DeleteUser(ctx context.Context, id uuid.UUID) error {
	return remove(ctx, s, wvsoft.KindUser, id, s.next.UsersByID, s.next.DeleteUser)
}

func (s *Store) CreatePerson(ctx context.Context, p *wvsoft.Person, fields []string) error {
	return create(ctx, s, wvsoft.KindPerson, p, fields, s.next.CreatePerson)
}

func (s *Store) UpdatePerson(ctx context.Context, id uuid.UUID, c wvsoft.Changes) (*wvsoft.Person, error) {
	return update(ctx, s, wvsoft.KindPerson, id, c, s.next.PersonsByID, s.next.UpdatePerson)
}

func (s *Store) DeletePerson(ctx context.Context, id uuid.UUID) error {
	return remove(ctx, s, wvsoft.KindPerson, id, s.next.PersonsByID, s.next.DeletePerson)
}

// requestType is the policy type that writes requests about a kind of subject: a customer's
// admin handles persons of its data space, WvSoft staff its customers' contact persons.
func requestType(subjectKind string) string {
	if subjectKind == wvsoft.KindPerson {
		return "PersonRequest"
	}
	return "ContactPersonRequest"
}

// filingType is the policy type that files requests about a kind of subject: a customer's admin
// also files requests about its own contact persons, which WvSoft staff then execute.
func filingType(subjectKind string) string {
	if subjectKind == wvsoft.KindPerson {
		return "PersonRequest"
	}
	return "ContactPersonRequestFiling"
}

func (s *Store) RegisterRequest(ctx context.Context, r *wvsoft.DataSubjectRequest) error {
	f, err := Filter(ctx, filingType(r.SubjectType), ActionWrite)
	if err != nil {
		return err
	}
	return s.next.RegisterRequest(ctx, f, r)
}

// RequestToHandle reads a data-subject request that the caller carries out: one it reads, about
// a subject whose requests it handles (PersonRequest or ContactPersonRequest for writing).
func (s *Store) RequestToHandle(ctx context.Context, id uuid.UUID) (*wvsoft.DataSubjectRequest, error) {
	req, err := s.RequestByID(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := Filter(ctx, requestType(req.SubjectType), ActionWrite)
	if err != nil {
		return nil, err
	}
	if !f.Allows(req.TenantID) {
		return nil, wvsoft.Errorf(wvsoft.EFORBIDDEN, "this request is handled by someone else")
	}
	return req, nil
}

func (s *Store) CompleteRequest(ctx context.Context, r *wvsoft.DataSubjectRequest) error {
	f, err := Filter(ctx, requestType(r.SubjectType), ActionWrite)
	if err != nil {
		return err
	}
	return s.next.CompleteRequest(ctx, f, r)
}

func (s *Store) EraseSubject(ctx context.Context, r *wvsoft.DataSubjectRequest, rules wvsoft.RetentionPolicy, now time.Time) ([]wvsoft.FieldOutcome, error) {
	f, err := Filter(ctx, requestType(r.SubjectType), ActionWrite)
	if err != nil {
		return nil, err
	}
	return s.next.EraseSubject(ctx, f, r, rules, now)
}

// SubmitInquiry is a website visitor's: the policy decided Mutation.submitInquiry, and an
// inquiry belongs to no customer.
// RecordDeclaration records a staff member's confidentiality declaration (P10), decided as a
// write of the member's declaration fields: the policy refuses one's own (record.own_declaration).
func (s *Store) RecordDeclaration(ctx context.Context, staff uuid.UUID, signed, expires time.Time) (*wvsoft.StaffMember, error) {
	f, err := Filter(ctx, wvsoft.KindStaffMember, ActionWrite)
	if err != nil {
		return nil, err
	}
	members, err := s.next.StaffMembers(ctx, f)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(members, func(m *wvsoft.StaffMember) bool { return m.UUID == staff })
	if i < 0 {
		return nil, wvsoft.NotFound(wvsoft.KindStaffMember)
	}
	if ctx, err = s.authorizeWrite(ctx, wvsoft.KindStaffMember, members[i], "input.staffId", []string{"declarationSignedAt", "declarationExpiresAt"}); err != nil {
		return nil, err
	}
	return s.next.RecordDeclaration(ctx, f, staff, signed, expires)
}

func (s *Store) SubmitInquiry(ctx context.Context, i *wvsoft.Inquiry) error {
	return s.next.SubmitInquiry(ctx, i)
}

// Purge acts on every customer; the policy decided Mutation.runPurge (mutation.whole_register).
func (s *Store) Purge(ctx context.Context, rules wvsoft.RetentionPolicy, now time.Time, dryRun bool) (*wvsoft.PurgeRun, error) {
	return s.next.Purge(ctx, rules, now, dryRun)
}

// LogAccess writes what a request read under grants, as the policy's decisions recorded it.
func (s *Store) LogAccess(ctx context.Context, actor *wvsoft.Subject, accesses []wvsoft.Access, at time.Time) error {
	return s.next.LogAccess(ctx, actor, accesses, at)
}

// SubjectsChanged tells the persistence store, when it keeps subjects between requests, that a
// mutation ran: users, keys, grants or consents may have changed. It is called before
// the mutation's answer leaves.
func (s *Store) SubjectsChanged(ctx context.Context) {
	if c, ok := s.next.(interface{ SubjectsChanged(context.Context) }); ok {
		c.SubjectsChanged(ctx)
	}
}

// The operations below each declare their type and action, and nothing more.

func (s *Store) CustomersByID(ctx context.Context, ids []uuid.UUID) ([]*wvsoft.Customer, error) {
	f, err := Filter(ctx, wvsoft.KindCustomer, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.CustomersByID(ctx, f, ids)
}

func (s *Store) ContactPersonsOf(ctx context.Context, tenants []uuid.UUID) (map[uuid.UUID][]*wvsoft.ContactPerson, error) {
	f, err := Filter(ctx, wvsoft.KindContactPerson, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.ContactPersonsOf(ctx, f, tenants)
}

func (s *Store) ContactPersonsByID(ctx context.Context, ids []uuid.UUID) ([]*wvsoft.ContactPerson, error) {
	f, err := Filter(ctx, wvsoft.KindContactPerson, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.ContactPersonsByID(ctx, f, ids)
}

func (s *Store) UsersOf(ctx context.Context, tenant uuid.UUID) ([]*wvsoft.User, error) {
	f, err := Filter(ctx, wvsoft.KindUser, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.UsersOf(ctx, f, tenant)
}

func (s *Store) UsersByID(ctx context.Context, ids []uuid.UUID) ([]*wvsoft.User, error) {
	f, err := Filter(ctx, wvsoft.KindUser, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.UsersByID(ctx, f, ids)
}

func (s *Store) APIKeysOf(ctx context.Context, tenant uuid.UUID) ([]*wvsoft.APIKey, error) {
	f, err := Filter(ctx, wvsoft.KindAPIKey, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.APIKeysOf(ctx, f, tenant)
}

func (s *Store) APIKeysByID(ctx context.Context, ids []uuid.UUID) ([]*wvsoft.APIKey, error) {
	f, err := Filter(ctx, wvsoft.KindAPIKey, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.APIKeysByID(ctx, f, ids)
}

func (s *Store) CreateAPIKey(ctx context.Context, k *wvsoft.APIKey, secretHash []byte) error {
	f, err := Filter(ctx, wvsoft.KindAPIKey, ActionWrite)
	if err != nil {
		return err
	}
	return s.next.CreateAPIKey(ctx, f, k, secretHash)
}

func (s *Store) RevokeAPIKey(ctx context.Context, id uuid.UUID, at time.Time) (*wvsoft.APIKey, error) {
	f, err := Filter(ctx, wvsoft.KindAPIKey, ActionWrite)
	if err != nil {
		return nil, err
	}
	return s.next.RevokeAPIKey(ctx, f, id, at)
}

func (s *Store) PersonsByID(ctx context.Context, ids []uuid.UUID) ([]*wvsoft.Person, error) {
	f, err := Filter(ctx, wvsoft.KindPerson, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.PersonsByID(ctx, f, ids)
}

func (s *Store) RequestAccess(ctx context.Context, g *wvsoft.SupportAccessGrant) error {
	f, err := Filter(ctx, wvsoft.KindAccessRequest, ActionWrite)
	if err != nil {
		return err
	}
	return s.next.RequestAccess(ctx, f, g)
}

func (s *Store) DecideAccess(ctx context.Context, id uuid.UUID, by uuid.UUID, approve bool, now time.Time, narrow func(*wvsoft.SupportAccessGrant) error) (*wvsoft.SupportAccessGrant, error) {
	f, err := Filter(ctx, wvsoft.KindSupportAccessGrant, ActionWrite)
	if err != nil {
		return nil, err
	}
	return s.next.DecideAccess(ctx, f, id, by, approve, now, narrow)
}

func (s *Store) RevokeAccess(ctx context.Context, id uuid.UUID, by uuid.UUID, now time.Time) (*wvsoft.SupportAccessGrant, error) {
	f, err := Filter(ctx, wvsoft.KindSupportAccessGrant, ActionWrite)
	if err != nil {
		return nil, err
	}
	return s.next.RevokeAccess(ctx, f, id, by, now)
}

func (s *Store) AccessGrants(ctx context.Context, tenant *uuid.UUID, requestedBy *uuid.UUID) ([]*wvsoft.SupportAccessGrant, error) {
	f, err := Filter(ctx, wvsoft.KindSupportAccessGrant, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.AccessGrants(ctx, f, tenant, requestedBy)
}

func (s *Store) AccessGrantsByID(ctx context.Context, ids []uuid.UUID) ([]*wvsoft.SupportAccessGrant, error) {
	f, err := Filter(ctx, wvsoft.KindSupportAccessGrant, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.AccessGrantsByID(ctx, f, ids)
}

func (s *Store) AccessLog(ctx context.Context, tenant uuid.UUID, filter wvsoft.AccessLogFilter, afterSeq int64, first int) ([]*wvsoft.AccessLogEntry, bool, error) {
	f, err := Filter(ctx, wvsoft.KindAccessLog, ActionRead)
	if err != nil {
		return nil, false, err
	}
	if !f.Allows(tenant) {
		return nil, false, wvsoft.NotFound("customer")
	}
	return s.next.AccessLog(ctx, f, tenant, filter, afterSeq, first)
}

func (s *Store) VerifyAccessLog(ctx context.Context, tenant uuid.UUID) (*wvsoft.AccessLogVerification, error) {
	f, err := Filter(ctx, wvsoft.KindAccessLog, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.VerifyAccessLog(ctx, f, tenant)
}

func (s *Store) RecordBreach(ctx context.Context, b *wvsoft.Breach, tenants []uuid.UUID) error {
	f, err := Filter(ctx, wvsoft.KindBreach, ActionWrite)
	if err != nil {
		return err
	}
	return s.next.RecordBreach(ctx, f, b, tenants)
}

func (s *Store) Breaches(ctx context.Context) ([]*wvsoft.Breach, error) {
	f, err := Filter(ctx, wvsoft.KindBreach, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.Breaches(ctx, f)
}

func (s *Store) BreachNotifications(ctx context.Context, breach *uuid.UUID, tenant *uuid.UUID) ([]*wvsoft.BreachNotification, error) {
	f, err := Filter(ctx, wvsoft.KindBreachNotification, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.BreachNotifications(ctx, f, breach, tenant)
}

func (s *Store) CustomerBreach(ctx context.Context, tenant, breach uuid.UUID) (*wvsoft.Breach, error) {
	f, err := Filter(ctx, wvsoft.KindBreach, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.CustomerBreach(ctx, f, tenant, breach)
}

func (s *Store) BreachCalls(ctx context.Context, tenant, breach uuid.UUID) ([]*wvsoft.BreachCall, error) {
	f, err := Filter(ctx, wvsoft.KindBreachCall, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.BreachCalls(ctx, f, tenant, breach)
}

func (s *Store) LogBreachCall(ctx context.Context, c *wvsoft.BreachCall) (*wvsoft.BreachNotification, error) {
	f, err := Filter(ctx, wvsoft.KindBreachCall, ActionWrite)
	if err != nil {
		return nil, err
	}
	return s.next.LogBreachCall(ctx, f, c)
}

func (s *Store) ReportBreach(ctx context.Context, tenant, breach uuid.UUID, at time.Time, number string) (*wvsoft.BreachNotification, error) {
	f, err := Filter(ctx, wvsoft.KindBreachNotification, ActionWrite)
	if err != nil {
		return nil, err
	}
	return s.next.ReportBreach(ctx, f, tenant, breach, at, number)
}

func (s *Store) NotFullyInformed(ctx context.Context) ([]*wvsoft.BreachNotification, error) {
	f, err := Filter(ctx, wvsoft.KindBreachNotification, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.NotFullyInformed(ctx, f)
}

func (s *Store) Inquiries(ctx context.Context) ([]*wvsoft.Inquiry, error) {
	f, err := Filter(ctx, wvsoft.KindInquiry, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.Inquiries(ctx, f)
}

func (s *Store) AnswerInquiry(ctx context.Context, id uuid.UUID, answer wvsoft.Letter, now time.Time) error {
	f, err := Filter(ctx, wvsoft.KindInquiry, ActionWrite)
	if err != nil {
		return err
	}
	return s.next.AnswerInquiry(ctx, f, id, answer, now)
}

func (s *Store) InquiryCounts(ctx context.Context) ([]*wvsoft.InquiryCount, error) {
	f, err := Filter(ctx, wvsoft.KindInquiryCount, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.InquiryCounts(ctx, f)
}

// PublishNotice mails a notice to the contact persons whose address the author may use: each is
// decided as reading its ContactPerson.email (after a customer withdrew consent, support may not).
func (s *Store) PublishNotice(ctx context.Context, n *wvsoft.SupportNotice) error {
	f, err := Filter(ctx, wvsoft.KindSupportNotice, ActionWrite)
	if err != nil {
		return err
	}
	r := FromContext(ctx)
	email := s.field(wvsoft.KindContactPerson, "email")
	if r == nil || email == nil {
		return wvsoft.Errorf(wvsoft.EFORBIDDEN, "not allowed to mail contact persons")
	}
	return s.next.PublishNotice(ctx, f, n, func(c *wvsoft.ContactPerson) bool {
		return r.ReadField(ctx, wvsoft.KindContactPerson, email, c).Effect == Allow
	})
}

func (s *Store) SupportNotices(ctx context.Context) ([]*wvsoft.SupportNotice, error) {
	f, err := Filter(ctx, wvsoft.KindSupportNotice, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.SupportNotices(ctx, f)
}

func (s *Store) Outbox(ctx context.Context, status *string, limit int) ([]*wvsoft.OutboxMessage, error) {
	f, err := Filter(ctx, wvsoft.KindOutboxMessage, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.Outbox(ctx, f, status, limit)
}

// MailTo lists the mail to a data subject's address (the article 15 export), read as outbox
// messages.
func (s *Store) MailTo(ctx context.Context, tenant uuid.UUID, source, address string) ([]*wvsoft.OutboxMessage, error) {
	f, err := Filter(ctx, wvsoft.KindOutboxMessage, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.MailTo(ctx, f, tenant, source, address)
}

// CallsTo lists the breach calls to a contact person (the article 15 export).
func (s *Store) CallsTo(ctx context.Context, tenant, contactPerson uuid.UUID) ([]*wvsoft.BreachCall, error) {
	f, err := Filter(ctx, wvsoft.KindBreachCall, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.CallsTo(ctx, f, tenant, contactPerson)
}

func (s *Store) RecordConsent(ctx context.Context, e *wvsoft.ConsentEvent) error {
	f, err := Filter(ctx, wvsoft.KindConsent, ActionWrite)
	if err != nil {
		return err
	}
	return s.next.RecordConsent(ctx, f, e)
}

func (s *Store) ConsentOf(ctx context.Context, tenant uuid.UUID) (*wvsoft.Consent, error) {
	f, err := Filter(ctx, wvsoft.KindConsent, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.ConsentOf(ctx, f, tenant)
}

func (s *Store) Requests(ctx context.Context, tenant uuid.UUID) ([]*wvsoft.DataSubjectRequest, error) {
	f, err := Filter(ctx, wvsoft.KindDataSubjectRequest, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.Requests(ctx, f, tenant)
}

func (s *Store) RequestByID(ctx context.Context, id uuid.UUID) (*wvsoft.DataSubjectRequest, error) {
	f, err := Filter(ctx, wvsoft.KindDataSubjectRequest, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.RequestByID(ctx, f, id)
}

func (s *Store) History(ctx context.Context, objectID uuid.UUID) ([]*wvsoft.HistoryEntry, error) {
	f, err := Filter(ctx, wvsoft.KindHistoryEntry, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.History(ctx, f, objectID)
}

func (s *Store) StaffMembers(ctx context.Context) ([]*wvsoft.StaffMember, error) {
	f, err := Filter(ctx, wvsoft.KindStaffMember, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.StaffMembers(ctx, f)
}

func (s *Store) Processors(ctx context.Context) ([]*wvsoft.Processor, error) {
	f, err := Filter(ctx, wvsoft.KindProcessor, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.Processors(ctx, f)
}

func (s *Store) RegisterProcessor(ctx context.Context, p *wvsoft.Processor) error {
	f, err := Filter(ctx, wvsoft.KindProcessor, ActionWrite)
	if err != nil {
		return err
	}
	return s.next.RegisterProcessor(ctx, f, p)
}

func (s *Store) PurgeRuns(ctx context.Context) ([]*wvsoft.PurgeRun, error) {
	f, err := Filter(ctx, wvsoft.KindPurgeRun, ActionRead)
	if err != nil {
		return nil, err
	}
	return s.next.PurgeRuns(ctx, f)
}

// logFilter is the request's reach into a customer's access log; a customer outside it is not
// found. The checkpoints, proofs and summaries ask the same as the entry list.
func logFilter(ctx context.Context, tenant uuid.UUID) (wvsoft.TenantFilter, error) {
	f, err := Filter(ctx, wvsoft.KindAccessLog, ActionRead)
	if err != nil {
		return f, err
	}
	if !f.Allows(tenant) {
		return f, wvsoft.NotFound("customer")
	}
	return f, nil
}

func (s *Store) LatestCheckpoint(ctx context.Context, tenant uuid.UUID) (*wvsoft.LogCheckpoint, error) {
	f, err := logFilter(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return s.next.LatestCheckpoint(ctx, f, tenant)
}

func (s *Store) SignedFrom(ctx context.Context, tenant uuid.UUID) (int64, error) {
	f, err := logFilter(ctx, tenant)
	if err != nil {
		return 0, err
	}
	return s.next.SignedFrom(ctx, f, tenant)
}

func (s *Store) InclusionProof(ctx context.Context, tenant uuid.UUID, seq int64, treeSize *int64) (*wvsoft.InclusionProof, error) {
	f, err := logFilter(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return s.next.InclusionProof(ctx, f, tenant, seq, treeSize)
}

func (s *Store) ConsistencyProof(ctx context.Context, tenant uuid.UUID, from int64, to *int64) (*wvsoft.ConsistencyProof, error) {
	f, err := logFilter(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return s.next.ConsistencyProof(ctx, f, tenant, from, to)
}

func (s *Store) AccessSummaries(ctx context.Context, tenant uuid.UUID, grant *uuid.UUID) ([]*wvsoft.AccessGrantSummary, error) {
	f, err := logFilter(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return s.next.AccessSummaries(ctx, f, tenant, grant)
}

// Subscription events. A subscriber is told of an event only when, at that moment and with its
// credentials just checked again, the policy still lets it subscribe (the subscription's root
// field, decided again) and the record the event names is within its rows. An event of another
// kind only decides the subscription again.

// subscribed decides the root field of a subscription again for the request in ctx.
func (s *Store) subscribed(ctx context.Context, field string) error {
	r := FromContext(ctx)
	def := s.field("Subscription", field)
	if r == nil || def == nil || r.ReadField(ctx, "Subscription", def, nil).Effect != Allow {
		return &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed to read Subscription." + field}
	}
	return nil
}

// GrantEvent reads the support-access grant an event names, for a subscriber of
// supportAccessGrants: nil when it is outside the subscriber's rows, or, for WvSoft staff, when
// someone else asked for it (the director is told of his own grants).
func (s *Store) GrantEvent(ctx context.Context, ev wvsoft.Event) (*wvsoft.SupportAccessGrant, error) {
	if err := s.subscribed(ctx, "supportAccessGrants"); err != nil || ev.Kind != wvsoft.EventGrantChanged {
		return nil, err
	}
	rows, err := s.AccessGrantsByID(ctx, []uuid.UUID{ev.ID})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	if sub := FromContext(ctx).Subject(); sub.IsStaff() && rows[0].RequestedBy != sub.ID {
		return nil, nil
	}
	return rows[0], nil
}

// BreachNotificationEvent reads the breach notification an event names (a breach, a customer),
// for a subscriber of breachNotifications: nil when it is outside the subscriber's rows.
func (s *Store) BreachNotificationEvent(ctx context.Context, ev wvsoft.Event) (*wvsoft.BreachNotification, error) {
	if err := s.subscribed(ctx, "breachNotifications"); err != nil || ev.Kind != wvsoft.EventBreachNotified {
		return nil, err
	}
	rows, err := s.BreachNotifications(ctx, &ev.ID, &ev.Tenant)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}
