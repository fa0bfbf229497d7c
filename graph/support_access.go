package graph

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// requestSupportAccess files the director's request (P9). The customer's admins decide; until
// e-mail delivery exists, the request is in their log and in Customer.supportAccessGrants.
func (r *Resolver) requestSupportAccess(ctx context.Context, input model.RequestSupportAccessInput) (*wvsoft.AccessGrant, error) {
	tenant, err := wvsoft.ParseGlobalIDOf("input.customerId", wvsoft.KindCustomer, input.CustomerID)
	if err != nil {
		return nil, err
	}
	in := &inputs{}
	reason := in.required("input.reason", input.Reason, func(s string) (string, error) {
		if len([]rune(s)) < 3 {
			return "", errTooShort
		}
		return text(500)(s)
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
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	now := r.Now()
	g := &wvsoft.AccessGrant{TenantID: tenant, UUID: id, RequestedBy: authz.FromContext(ctx).Subject().ID, Reason: *reason,
		ScopeTypes: dedupe(input.Types), ScopeSpecial: flag(input.SpecialCategories, false), ScopeWrite: flag(input.Write, false),
		DurationSeconds: int(duration / time.Second), RequestedAt: now, AnswerBy: now.Add(wvsoft.DefaultAnswerWithin)}
	if err := r.authorized.RequestAccess(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// approveSupportAccess approves a pending request; the admin may shorten it or narrow its scope,
// never widen it.
func (r *Resolver) approveSupportAccess(ctx context.Context, input model.ApproveSupportAccessInput) (*wvsoft.AccessGrant, error) {
	id, err := wvsoft.ParseGlobalIDOf("input.id", wvsoft.KindAccessGrant, input.ID)
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
	narrow := func(g *wvsoft.AccessGrant) error {
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
	return r.authorized.DecideAccess(ctx, id, authz.FromContext(ctx).Subject().ID, true, r.Now(), narrow)
}

func (r *Resolver) grantByID(ctx context.Context, id uuid.UUID) (*wvsoft.AccessGrant, error) {
	rows, err := r.authorized.AccessGrantsByID(ctx, []uuid.UUID{id})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// accessLog returns a page of a customer's access log. Its cursors carry the entry's sequence
// number.
func (r *Resolver) accessLog(ctx context.Context, tenant uuid.UUID, grantID *string, from, to *time.Time, first *int, after *string) (*model.AccessLogConnection, error) {
	n, err := r.first(first)
	if err != nil {
		return nil, err
	}
	var afterSeq int64
	if after != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*after)
		if err != nil || len(raw) != 8 {
			return nil, wvsoft.Invalid("after", "after is not a cursor of this connection")
		}
		afterSeq = int64(binary.BigEndian.Uint64(raw))
	}
	var filter wvsoft.AccessLogFilter
	if grantID != nil {
		id, err := wvsoft.ParseGlobalIDOf("grantId", wvsoft.KindAccessGrant, *grantID)
		if err != nil {
			return nil, err
		}
		filter.GrantID = &id
	}
	filter.From, filter.To = from, to
	rows, hasNext, err := r.authorized.AccessLog(ctx, tenant, filter, afterSeq, n)
	if err != nil {
		return nil, err
	}
	seqCursor := func(seq int64) string {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(seq))
		return base64.RawURLEncoding.EncodeToString(b[:])
	}
	c := &model.AccessLogConnection{Edges: make([]*model.AccessLogEdge, len(rows)), PageInfo: &model.PageInfo{HasNextPage: hasNext}}
	for i, e := range rows {
		c.Edges[i] = &model.AccessLogEdge{Cursor: seqCursor(e.Seq), Node: e}
	}
	if len(rows) > 0 {
		start, end := seqCursor(rows[0].Seq), seqCursor(rows[len(rows)-1].Seq)
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &start, &end
	}
	return c, nil
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

func dedupe(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func detailStrings(detail map[string]any, key string) []string {
	list, _ := detail[key].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
