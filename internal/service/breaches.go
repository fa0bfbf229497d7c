package service

// Breaches (P4), the website's questions (P5) and support notices.

import (
	"context"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/validate"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// maxApproximate bounds a breach's approximate numbers of persons and records: far above any
// real breach, and within the database's integer column.
const maxApproximate = 1_000_000_000

// maxBreachCustomers bounds the customers one breach names in one request.
const maxBreachCustomers = 1000

// RecordBreach registers a breach; the store e-mails every affected customer in the same
// transaction.
func (s *Service) RecordBreach(ctx context.Context, input RecordBreachInput) (*wvsoft.Breach, error) {
	now := s.now()
	in := &inputs{}
	description := in.required("input.description", input.Description, between(10, 5000))
	consequences := in.optional("input.consequences", input.Consequences, text(5000), false)
	measures := in.optional("input.measures", input.Measures, text(5000), false)
	if in.err != nil {
		return nil, in.err
	}
	if input.DiscoveredAt.After(now) {
		return nil, wvsoft.Invalid("input.discoveredAt", "input.discoveredAt must not lie in the future")
	}
	if len(input.Categories) == 0 {
		return nil, wvsoft.Invalid("input.categories", "input.categories must name at least one category")
	}
	if len(input.CustomerIds) == 0 || len(input.CustomerIds) > maxBreachCustomers {
		return nil, wvsoft.Invalid("input.customerIds", "input.customerIds must name 1 to %d customers", maxBreachCustomers)
	}
	tenants := make([]uuid.UUID, 0, len(input.CustomerIds))
	for _, gid := range input.CustomerIds {
		t, err := wvsoft.ParseGlobalIDOf("input.customerIds", wvsoft.KindCustomer, gid)
		if err != nil {
			return nil, err
		}
		tenants = append(tenants, t)
	}
	for _, arg := range []struct {
		field string
		n     *int
	}{{"input.approximatePersons", input.ApproximatePersons.Value()}, {"input.approximateRecords", input.ApproximateRecords.Value()}} {
		if n := arg.n; n != nil && (*n < 0 || *n > maxApproximate) {
			return nil, wvsoft.Invalid(arg.field, "%s must be between 0 and %d", arg.field, maxApproximate)
		}
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	b := &wvsoft.Breach{UUID: id, Description: *description, DiscoveredAt: input.DiscoveredAt, Categories: dedupe(input.Categories),
		ApproxPersons: input.ApproximatePersons.Value(), ApproxRecords: input.ApproximateRecords.Value(),
		Consequences: consequences, Measures: measures, RecordedBy: actor(ctx).ID, RecordedAt: now}
	if err := s.store.RecordBreach(ctx, b, dedupeIDs(tenants)); err != nil {
		return nil, err
	}
	return b, nil
}

// LogBreachCall records a phone call to a customer about a breach.
func (s *Service) LogBreachCall(ctx context.Context, input LogBreachCallInput) (*wvsoft.BreachNotification, error) {
	breach, err := wvsoft.ParseGlobalIDOf("input.breachId", wvsoft.KindBreach, input.BreachID)
	if err != nil {
		return nil, err
	}
	tenant, err := wvsoft.ParseGlobalIDOf("input.customerId", wvsoft.KindCustomer, input.CustomerID)
	if err != nil {
		return nil, err
	}
	contact, err := wvsoft.ParseGlobalIDOf("input.contactPersonId", wvsoft.KindContactPerson, input.ContactPersonID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	outcome := in.optional("input.outcome", input.Outcome, text(2000), false)
	if in.err != nil {
		return nil, in.err
	}
	at := s.now()
	if v := input.CalledAt.Value(); v != nil {
		if v.After(at) {
			return nil, wvsoft.Invalid("input.calledAt", "input.calledAt must not lie in the future")
		}
		at = *v
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	return s.store.LogBreachCall(ctx, &wvsoft.BreachCall{TenantID: tenant, UUID: id, BreachID: breach,
		CalledBy: actor(ctx).ID, ContactPersonID: &contact, CalledAt: at, Reached: input.Reached, Outcome: outcome})
}

// ReportBreachToAuthority records the caller's customer's report to the Autoriteit
// Persoonsgegevens.
func (s *Service) ReportBreachToAuthority(ctx context.Context, input ReportBreachInput) (*wvsoft.BreachNotification, error) {
	breach, err := wvsoft.ParseGlobalIDOf("input.breachId", wvsoft.KindBreach, input.BreachID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	number := in.required("input.reportNumber", input.ReportNumber, line(100))
	if in.err != nil {
		return nil, in.err
	}
	if input.ReportedAt.After(s.now()) {
		return nil, wvsoft.Invalid("input.reportedAt", "input.reportedAt must not lie in the future")
	}
	return s.store.ReportBreach(ctx, actor(ctx).TenantID, breach, input.ReportedAt, *number)
}

// inquiryReceived is the receipt of every stored question: the same whatever happens to it.
const inquiryReceived = "Thank you. We answer by e-mail and then delete your question and address."

// SubmitInquiry stores a website visitor's question (P5), within the per-address limit.
func (s *Service) SubmitInquiry(ctx context.Context, input SubmitInquiryInput) (*InquiryReceipt, error) {
	in := &inputs{}
	name := in.required("input.name", input.Name, line(200))
	email := in.required("input.email", input.Email, validate.Email)
	question := in.required("input.question", input.Question, text(5000))
	if in.err != nil {
		return nil, in.err
	}
	// The limit guards what is stored; rejected input stores nothing.
	if s.inquiryLimit != nil {
		wait, err := s.inquiryLimit.Take(ctx, actor(ctx).ClientAddr)
		if err != nil {
			return nil, err
		}
		if wait > 0 {
			seconds := int(math.Ceil(wait.Seconds()))
			return nil, &wvsoft.Error{Code: wvsoft.ERATELIMITED, Extensions: map[string]any{"retryAfterSeconds": seconds},
				Message: fmt.Sprintf("too many questions from this address; try again in %d seconds", seconds)}
		}
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	if err := s.store.SubmitInquiry(ctx, &wvsoft.Inquiry{UUID: id, Name: *name, Email: *email, Question: *question, ReceivedAt: s.now()}); err != nil {
		return nil, err
	}
	return &InquiryReceipt{Received: true, Message: inquiryReceived}, nil
}

// AnswerInquiry e-mails the answer and deletes the question with its name and address.
func (s *Service) AnswerInquiry(ctx context.Context, input AnswerInquiryInput) (*bool, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindInquiry, input.ID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	answer := in.required("input.answer", input.Answer, text(10000))
	if in.err != nil {
		return nil, in.err
	}
	letter := wvsoft.Letter{Subject: "Antwoord op uw vraag aan WvSoft", Body: *answer +
		"\n\nMet vriendelijke groet,\nWvSoft\n\n-- \nUw vraag, naam en e-mailadres zijn nu bij ons verwijderd; wij bewaren alleen dat er een vraag was.\n"}
	if err := s.store.AnswerInquiry(ctx, id, letter, s.now()); err != nil {
		return nil, err
	}
	done := true
	return &done, nil
}

// PublishSupportNotice publishes a notice to every customer.
func (s *Service) PublishSupportNotice(ctx context.Context, input PublishSupportNoticeInput) (*wvsoft.SupportNotice, error) {
	in := &inputs{}
	title := in.required("input.title", input.Title, line(200))
	body := in.required("input.body", input.Body, text(20000))
	if in.err != nil {
		return nil, in.err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	n := &wvsoft.SupportNotice{UUID: id, Title: *title, Body: *body, PublishedBy: actor(ctx).ID, PublishedAt: s.now()}
	if err := s.store.PublishNotice(ctx, n); err != nil {
		return nil, err
	}
	return n, nil
}

// between checks free text of min to max characters.
func between(min, max int) check {
	return func(s string) (string, error) { return validate.Text(s, min, max) }
}

// dedupeIDs drops repeated ids, keeping the first occurrence's order.
func dedupeIDs(ids []uuid.UUID) []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
