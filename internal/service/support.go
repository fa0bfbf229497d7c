package service

// Support access (P9): the director asks a customer for access to its data space, an admin of
// the customer approves (possibly for less) or denies, and either side can end it. And the
// confidentiality declaration without which no staff member reads anything.

import (
	"context"
	"slices"
	"time"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// RequestSupportAccess files the director's request. The customer's admins decide; the request
// is e-mailed to them and listed in Customer.supportAccessGrants.
func (s *Service) RequestSupportAccess(ctx context.Context, input RequestSupportAccessInput) (*wvsoft.SupportAccessGrant, error) {
	tenant, err := wvsoft.ParseGlobalIDOf("input.customerId", wvsoft.KindCustomer, input.CustomerID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	reason := in.required("input.reason", input.Reason, func(v string) (string, error) {
		if len([]rune(v)) < 3 {
			return "", errTooShort
		}
		return text(500)(v)
	})
	if in.err != nil {
		return nil, in.err
	}
	if len(input.Types) == 0 {
		return nil, wvsoft.Invalid("input.types", "input.types must name at least one type")
	}
	duration, err := minutes("input.durationMinutes", input.DurationMinutes.Value(), wvsoft.DefaultGrantDuration)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	now := s.now()
	g := &wvsoft.SupportAccessGrant{TenantID: tenant, UUID: id, RequestedBy: actor(ctx).ID, Reason: *reason,
		ScopeTypes: dedupe(input.Types), ScopeSpecial: flag(input.SpecialCategories, false), ScopeWrite: flag(input.Write, false),
		DurationSeconds: int(duration / time.Second), RequestedAt: now, AnswerBy: now.Add(wvsoft.DefaultAnswerWithin)}
	if err := s.store.RequestAccess(ctx, g); err != nil {
		return nil, wvsoft.OnField(err, "input.customerId")
	}
	return g, nil
}

// ApproveSupportAccess approves a pending request; the admin may shorten it or narrow its scope,
// never widen it.
func (s *Service) ApproveSupportAccess(ctx context.Context, input ApproveSupportAccessInput) (*wvsoft.SupportAccessGrant, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindSupportAccessGrant, input.ID)
	if err != nil {
		return nil, err
	}
	var shorter *time.Duration
	if m := input.DurationMinutes.Value(); m != nil {
		d, err := minutes("input.durationMinutes", m, 0)
		if err != nil {
			return nil, err
		}
		shorter = &d
	}
	narrow := func(g *wvsoft.SupportAccessGrant) error { return narrowGrant(g, input, shorter) }
	return s.store.DecideAccess(ctx, id, actor(ctx).ID, true, s.now(), narrow)
}

// narrowGrant applies an approval's narrowing to the requested grant, refusing any widening.
func narrowGrant(g *wvsoft.SupportAccessGrant, input ApproveSupportAccessInput, shorter *time.Duration) error {
	if shorter != nil {
		if int(*shorter/time.Second) > g.DurationSeconds {
			return wvsoft.Invalid("input.durationMinutes", "an approval may shorten the duration, not lengthen it")
		}
		g.DurationSeconds = int(*shorter / time.Second)
	}
	if types, given := input.Types.ValueOK(); given && types != nil {
		for _, t := range types {
			if !slices.Contains(g.ScopeTypes, t) {
				return wvsoft.Invalid("input.types", "an approval may narrow the scope, not widen it (%s was not requested)", t)
			}
		}
		if len(types) == 0 {
			return wvsoft.Invalid("input.types", "input.types must keep at least one type; deny the request instead")
		}
		g.ScopeTypes = dedupe(types)
	}
	if special := input.SpecialCategories.Value(); special != nil && *special && !g.ScopeSpecial {
		return wvsoft.Invalid("input.specialCategories", "special categories were not requested")
	} else if special != nil {
		g.ScopeSpecial = *special
	}
	if write := input.Write.Value(); write != nil && *write && !g.ScopeWrite {
		return wvsoft.Invalid("input.write", "writing was not requested")
	} else if write != nil {
		g.ScopeWrite = *write
	}
	return nil
}

// DenySupportAccess denies a pending request.
func (s *Service) DenySupportAccess(ctx context.Context, gid string) (*wvsoft.SupportAccessGrant, error) {
	id, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindSupportAccessGrant, gid)
	if err != nil {
		return nil, err
	}
	return s.store.DecideAccess(ctx, id, actor(ctx).ID, false, s.now(), nil)
}

// RevokeSupportAccess ends a grant now.
func (s *Service) RevokeSupportAccess(ctx context.Context, gid string) (*wvsoft.SupportAccessGrant, error) {
	id, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindSupportAccessGrant, gid)
	if err != nil {
		return nil, err
	}
	return s.store.RevokeAccess(ctx, id, actor(ctx).ID, s.now())
}

// RecordConfidentialityDeclaration records a staff member's signed declaration (P2): signed
// before it lapses, and not in the future.
func (s *Service) RecordConfidentialityDeclaration(ctx context.Context, input DeclarationInput) (*wvsoft.StaffMember, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.staffId", wvsoft.KindStaffMember, input.StaffID)
	if err != nil {
		return nil, err
	}
	if !input.ExpiresAt.After(input.SignedAt) {
		return nil, wvsoft.Invalid("input.expiresAt", "input.expiresAt must lie after input.signedAt")
	}
	if input.SignedAt.After(s.now()) {
		return nil, wvsoft.Invalid("input.signedAt", "input.signedAt must not lie in the future")
	}
	return s.store.RecordDeclaration(ctx, id, input.SignedAt, input.ExpiresAt)
}

// minutes validates a duration in minutes, up to the longest grant. The bound is checked on the
// number before it is multiplied: time.Duration(m)*time.Minute overflows for m above about
// 153 million and wraps around to a short, plausible duration.
func minutes(field string, m *int, def time.Duration) (time.Duration, error) {
	if m == nil {
		return def, nil
	}
	maxMinutes := int(wvsoft.MaxGrantDuration / time.Minute)
	if *m < 1 || *m > maxMinutes {
		return 0, wvsoft.Invalid(field, "%s must be between 1 and %d minutes", field, maxMinutes)
	}
	return time.Duration(*m) * time.Minute, nil
}

// dedupe sorts a list of names and drops repeats.
func dedupe(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
