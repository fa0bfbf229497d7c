package graph

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

func (r *Resolver) grantByID(ctx context.Context, id uuid.UUID) (*wvsoft.SupportAccessGrant, error) {
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
		id, err := wvsoft.ParseGlobalIDOf("grantId", wvsoft.KindSupportAccessGrant, *grantID)
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
