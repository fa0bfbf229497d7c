package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// retention is the retention policy of the resolver, the protocol's by default.
func (r *Resolver) retention() wvsoft.RetentionPolicy {
	if r.Retention != nil {
		return *r.Retention
	}
	return wvsoft.DefaultRetention()
}

// recordConsent appends a consent step (P6); a withdrawal restricts staff from the next request.
func (r *Resolver) recordConsent(ctx context.Context, input model.ConsentInput, event string) (*wvsoft.Consent, error) {
	tenant, err := wvsoft.ParseGlobalIDOf("input.customerId", wvsoft.KindCustomer, input.CustomerID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	evidence := in.optional("input.evidence", input.Evidence, text(500), false)
	if in.err != nil {
		return nil, in.err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	subject := authz.FromContext(ctx).Subject()
	e := &wvsoft.ConsentEvent{TenantID: tenant, UUID: id, Event: event, Basis: input.Basis, Evidence: evidence,
		At: r.Now(), ActorKind: subject.Kind, ActorID: &subject.ID}
	if err := r.authorized.RecordConsent(ctx, e); err != nil {
		return nil, err
	}
	return r.authorized.ConsentOf(ctx, tenant)
}

func (r *Resolver) registerRequest(ctx context.Context, input model.RegisterDataSubjectRequestInput) (*wvsoft.DataSubjectRequest, error) {
	kind, subjectID, err := wvsoft.ParseGlobalID("input.subjectId", input.SubjectID)
	if err != nil {
		return nil, err
	}
	if kind != wvsoft.KindPerson && kind != wvsoft.KindContactPerson {
		return nil, wvsoft.Invalid("input.subjectId", "input.subjectId must be a person or a contact person")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	now := r.Now()
	req := &wvsoft.DataSubjectRequest{UUID: id, Kind: input.Kind, SubjectType: kind, SubjectID: subjectID, ReceivedAt: now,
		Deadline: now.AddDate(0, wvsoft.RequestAnswerMonths, 0), Status: wvsoft.RequestOpen, Outcome: []wvsoft.FieldOutcome{}}
	if err := r.authorized.RegisterRequest(ctx, req); err != nil {
		return nil, err
	}
	return req, nil
}

// executeRequest carries a request out: the export for access, erasure within the legal holds,
// and for rectification the confirmation that the corrections (made with the update mutations,
// whose history is kept) are done.
func (r *Resolver) executeRequest(ctx context.Context, gid string) (*wvsoft.DataSubjectRequest, error) {
	id, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindDataSubjectRequest, gid)
	if err != nil {
		return nil, err
	}
	req, err := r.authorized.RequestToHandle(ctx, id)
	if err != nil {
		return nil, err
	}
	if req.Status != wvsoft.RequestOpen {
		return nil, &wvsoft.Error{Code: wvsoft.ECONFLICT, Message: "the request is done already", Field: "id"}
	}
	now := r.Now()
	subject := authz.FromContext(ctx).Subject()
	req.Status, req.CompletedAt, req.HandledBy = wvsoft.RequestDone, &now, &subject.ID
	switch req.Kind {
	case wvsoft.RequestErasure:
		// Erased and completed in one transaction.
		if req.Outcome, err = r.authorized.EraseSubject(ctx, req, r.retention(), now); err != nil {
			return nil, err
		}
		return req, nil
	case wvsoft.RequestAccess:
		if req.Export, err = r.export(ctx, req, now); err != nil {
			return nil, err
		}
	}
	if err := r.authorized.CompleteRequest(ctx, req); err != nil {
		return nil, err
	}
	return req, nil
}
