package graph

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/validate"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// maxApproximate bounds a breach's approximate numbers of persons and records: far above any
// real breach, and within the database's integer column.
const maxApproximate = 1_000_000_000

// RateLimiter limits the public inquiry mutation per client address, across every server. Take
// counts one event of key when allowed and returns 0, else how long until one more is allowed.
type RateLimiter interface {
	Take(ctx context.Context, key string) (time.Duration, error)
}

// recordBreach registers a breach; the store e-mails every affected customer in the same
// transaction (P4).
func (r *Resolver) recordBreach(ctx context.Context, input model.RecordBreachInput) (*wvsoft.Breach, error) {
	now := r.Now()
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
	if len(input.CustomerIds) == 0 || len(input.CustomerIds) > 1000 {
		return nil, wvsoft.Invalid("input.customerIds", "input.customerIds must name 1 to 1000 customers")
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
		if field, n := arg.field, arg.n; n != nil && (*n < 0 || *n > maxApproximate) {
			return nil, wvsoft.Invalid(field, "%s must be between 0 and %d", field, maxApproximate)
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	b := &wvsoft.Breach{UUID: id, Description: *description, DiscoveredAt: input.DiscoveredAt, Categories: dedupe(input.Categories),
		ApproxPersons: input.ApproximatePersons.Value(), ApproxRecords: input.ApproximateRecords.Value(),
		Consequences: consequences, Measures: measures, RecordedBy: authz.FromContext(ctx).Subject().ID, RecordedAt: now}
	if err := r.authorized.RecordBreach(ctx, b, dedupeIDs(tenants)); err != nil {
		return nil, err
	}
	return b, nil
}

func (r *Resolver) logBreachCall(ctx context.Context, input model.LogBreachCallInput) (*wvsoft.BreachNotification, error) {
	breach, err := wvsoft.ParseGlobalIDOf("input.breachId", wvsoft.KindBreach, input.BreachID)
	if err != nil {
		return nil, err
	}
	tenant, err := wvsoft.ParseGlobalIDOf("input.customerId", wvsoft.KindCustomer, input.CustomerID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	called := in.required("input.called", input.Called, text(200))
	outcome := in.optional("input.outcome", input.Outcome, text(2000), false)
	if in.err != nil {
		return nil, in.err
	}
	at := r.Now()
	if v := input.CalledAt.Value(); v != nil {
		if v.After(at) {
			return nil, wvsoft.Invalid("input.calledAt", "input.calledAt must not lie in the future")
		}
		at = *v
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	return r.authorized.LogBreachCall(ctx, &wvsoft.BreachCall{TenantID: tenant, UUID: id, BreachID: breach,
		CalledBy: authz.FromContext(ctx).Subject().ID, Called: *called, CalledAt: at, Reached: input.Reached, Outcome: outcome})
}

func (r *Resolver) reportBreach(ctx context.Context, input model.ReportBreachInput) (*wvsoft.BreachNotification, error) {
	breach, err := wvsoft.ParseGlobalIDOf("input.breachId", wvsoft.KindBreach, input.BreachID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	number := in.required("input.reportNumber", input.ReportNumber, text(100))
	if in.err != nil {
		return nil, in.err
	}
	if input.ReportedAt.After(r.Now()) {
		return nil, wvsoft.Invalid("input.reportedAt", "input.reportedAt must not lie in the future")
	}
	return r.authorized.ReportBreach(ctx, authz.FromContext(ctx).Subject().TenantID, breach, input.ReportedAt, *number)
}

// submitInquiry stores a website visitor's question (P5). The receipt is the same whatever
// happens to the question afterwards.
func (r *Resolver) submitInquiry(ctx context.Context, input model.SubmitInquiryInput) (*model.InquiryReceipt, error) {
	in := &inputs{}
	name := in.required("input.name", input.Name, text(200))
	email := in.required("input.email", input.Email, validate.Email)
	question := in.required("input.question", input.Question, text(5000))
	if in.err != nil {
		return nil, in.err
	}
	// The limit guards what is stored; rejected input stores nothing.
	subject := authz.FromContext(ctx).Subject()
	if r.InquiryLimit != nil {
		wait, err := r.InquiryLimit.Take(ctx, subject.ClientAddr)
		if err != nil {
			return nil, err
		}
		if wait > 0 {
			seconds := int(math.Ceil(wait.Seconds()))
			return nil, &wvsoft.Error{Code: wvsoft.ERATELIMITED, Extensions: map[string]any{"retryAfterSeconds": seconds},
				Message: fmt.Sprintf("too many questions from this address; try again in %d seconds", seconds)}
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	if err := r.authorized.SubmitInquiry(ctx, &wvsoft.Inquiry{UUID: id, Name: *name, Email: *email, Question: *question, ReceivedAt: r.Now()}); err != nil {
		return nil, err
	}
	return &model.InquiryReceipt{Received: true, Message: "Thank you. We answer by e-mail and then delete your question and address."}, nil
}

func (r *Resolver) answerInquiry(ctx context.Context, input model.AnswerInquiryInput) (*bool, error) {
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
	if err := r.authorized.AnswerInquiry(ctx, id, letter, r.Now()); err != nil {
		return nil, err
	}
	done := true
	return &done, nil
}

func (r *Resolver) publishNotice(ctx context.Context, input model.PublishSupportNoticeInput) (*wvsoft.SupportNotice, error) {
	in := &inputs{}
	title := in.required("input.title", input.Title, text(200))
	body := in.required("input.body", input.Body, text(20000))
	if in.err != nil {
		return nil, in.err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	n := &wvsoft.SupportNotice{UUID: id, Title: *title, Body: *body, PublishedBy: authz.FromContext(ctx).Subject().ID, PublishedAt: r.Now()}
	if err := r.authorized.PublishNotice(ctx, n); err != nil {
		return nil, err
	}
	return n, nil
}

// between checks free text of min to max characters.
func between(min, max int) check {
	return func(s string) (string, error) { return validate.Text(s, min, max) }
}

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
