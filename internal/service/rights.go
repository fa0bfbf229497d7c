package service

// The privacy ledger: consent (P6), data-subject requests (articles 15 to 17), the processor
// register and the retention purge.

import (
	"context"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// configError is a mistake in how the service was put together: an internal error.
type configError string

func (e configError) Error() string { return string(e) }

// errNoSubjectReader: a server always configures what reads a subject's record.
const errNoSubjectReader = configError("service: access requests need WithSubjectReader")

// GiveConsent records that the customer consents to support access on the basis given.
func (s *Service) GiveConsent(ctx context.Context, input ConsentInput) (*wvsoft.Consent, error) {
	return s.recordConsent(ctx, input, wvsoft.ConsentGiven)
}

// WithdrawConsent records a withdrawal; it restricts staff from the next request on.
func (s *Service) WithdrawConsent(ctx context.Context, input ConsentInput) (*wvsoft.Consent, error) {
	return s.recordConsent(ctx, input, wvsoft.ConsentWithdrawn)
}

// recordConsent appends a consent step and returns the consent state after it.
func (s *Service) recordConsent(ctx context.Context, input ConsentInput, event string) (*wvsoft.Consent, error) {
	tenant, err := wvsoft.ParseGlobalIDOf("input.customerId", wvsoft.KindCustomer, input.CustomerID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	evidence := in.optional("input.evidence", input.Evidence, text(500), false)
	if in.err != nil {
		return nil, in.err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	who := actor(ctx)
	e := &wvsoft.ConsentEvent{TenantID: tenant, UUID: id, Event: event, Basis: input.Basis, Evidence: evidence,
		At: s.now(), ActorKind: who.Kind, ActorID: &who.ID}
	if err := s.store.RecordConsent(ctx, e); err != nil {
		return nil, err
	}
	return s.store.ConsentOf(ctx, tenant)
}

// RegisterDataSubjectRequest registers a request about a person or a contact person; it must be
// answered within wvsoft.RequestAnswerMonths.
func (s *Service) RegisterDataSubjectRequest(ctx context.Context, input RegisterDataSubjectRequestInput) (*wvsoft.DataSubjectRequest, error) {
	kind, subjectID, err := wvsoft.ParseGlobalID("input.subjectId", input.SubjectID)
	if err != nil {
		return nil, err
	}
	if kind != wvsoft.KindPerson && kind != wvsoft.KindContactPerson {
		return nil, wvsoft.Invalid("input.subjectId", "input.subjectId must be a person or a contact person")
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	now := s.now()
	req := &wvsoft.DataSubjectRequest{UUID: id, Kind: input.Kind, SubjectType: kind, SubjectID: subjectID, ReceivedAt: now,
		Deadline: now.AddDate(0, wvsoft.RequestAnswerMonths, 0), Status: wvsoft.RequestOpen, Outcome: []wvsoft.FieldOutcome{}}
	if err := s.store.RegisterRequest(ctx, req); err != nil {
		return nil, err
	}
	return req, nil
}

// ExecuteDataSubjectRequest carries a request out: the export for access, erasure within the
// legal holds, and for rectification the confirmation that the corrections (made with the update
// operations, whose history is kept) are done. A request is carried out once.
func (s *Service) ExecuteDataSubjectRequest(ctx context.Context, gid string) (*wvsoft.DataSubjectRequest, error) {
	id, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindDataSubjectRequest, gid)
	if err != nil {
		return nil, err
	}
	req, err := s.store.RequestToHandle(ctx, id)
	if err != nil {
		return nil, err
	}
	if req.Status != wvsoft.RequestOpen {
		return nil, &wvsoft.Error{Code: wvsoft.ECONFLICT, Message: "the request is done already", Field: "id"}
	}
	now := s.now()
	req.Status, req.CompletedAt, req.HandledBy = wvsoft.RequestDone, &now, &actor(ctx).ID
	switch req.Kind {
	case wvsoft.RequestErasure:
		// Erased and completed in one transaction.
		if req.Outcome, err = s.store.EraseSubject(ctx, req, s.retention, now); err != nil {
			return nil, err
		}
		return req, nil
	case wvsoft.RequestAccess:
		if req.Export, err = s.export(ctx, req, now); err != nil {
			return nil, err
		}
	}
	if err := s.store.CompleteRequest(ctx, req); err != nil {
		return nil, err
	}
	return req, nil
}

// RegisterProcessor adds a processor with its AVG declaration to the register.
func (s *Service) RegisterProcessor(ctx context.Context, input ProcessorInput) (*wvsoft.Processor, error) {
	in := &inputs{}
	name := in.required("input.name", input.Name, line(200))
	ref := in.required("input.declarationReference", input.DeclarationReference, line(500))
	if in.err != nil {
		return nil, in.err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	p := &wvsoft.Processor{UUID: id, Name: *name, Role: input.Role, DeclarationReference: *ref,
		DeclarationDate: input.DeclarationDate, CreatedAt: s.now()}
	if err := s.store.RegisterProcessor(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// RunPurge applies the retention schedule now; dryRun counts what would go and removes nothing.
// The purge acts on every customer; the policy lets only a subject that reaches all of them run
// it (Mutation.runPurge, rule mutation.whole_register).
func (s *Service) RunPurge(ctx context.Context, dryRun bool) (*wvsoft.PurgeRun, error) {
	return s.store.Purge(ctx, s.retention, s.now(), dryRun)
}
