package graph

import (
	"encoding/base64"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// pageArgs validates the Relay arguments first and after.
func (r *Resolver) pageArgs(first *int, after *string) (wvsoft.Page, error) {
	n, err := r.first(first)
	p := wvsoft.Page{First: n}
	if err != nil {
		return p, err
	}
	if after != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*after)
		if err != nil || len(raw) != 16 {
			return p, wvsoft.Invalid("after", "after is not a cursor of this connection")
		}
		p.After = uuid.UUID(raw)
	}
	return p, nil
}

// first validates a page size: 1 to the configured maximum, DefaultPageSize when not given.
func (r *Resolver) first(first *int) (int, error) {
	if first == nil {
		return wvsoft.DefaultPageSize, nil
	}
	maxPage := r.maxPageSize
	if maxPage <= 0 {
		maxPage = wvsoft.DefaultMaxPageSize
	}
	if *first < 1 || *first > maxPage {
		return 0, wvsoft.Invalid("first", "first must be between 1 and %d", maxPage)
	}
	return *first, nil
}

// cursor is the opaque position of a row in a connection: its id, which is the keyset order.
func cursor(id uuid.UUID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func pageInfo(first, last uuid.UUID, n int, hasNext bool) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: hasNext}
	if n > 0 {
		start, end := cursor(first), cursor(last)
		info.StartCursor, info.EndCursor = &start, &end
	}
	return info
}

func personConnection(rows []*wvsoft.Person, hasNext bool) *model.PersonConnection {
	c := &model.PersonConnection{Edges: make([]*model.PersonEdge, len(rows))}
	for i, p := range rows {
		c.Edges[i] = &model.PersonEdge{Cursor: cursor(p.UUID), Node: p}
	}
	if len(rows) > 0 {
		c.PageInfo = pageInfo(rows[0].UUID, rows[len(rows)-1].UUID, len(rows), hasNext)
	} else {
		c.PageInfo = pageInfo(uuid.Nil, uuid.Nil, 0, false)
	}
	return c
}

func customerConnection(rows []*wvsoft.Customer, hasNext bool) *model.CustomerConnection {
	c := &model.CustomerConnection{Edges: make([]*model.CustomerEdge, len(rows))}
	for i, cu := range rows {
		c.Edges[i] = &model.CustomerEdge{Cursor: cursor(cu.TenantID), Node: cu}
	}
	if len(rows) > 0 {
		c.PageInfo = pageInfo(rows[0].TenantID, rows[len(rows)-1].TenantID, len(rows), hasNext)
	} else {
		c.PageInfo = pageInfo(uuid.Nil, uuid.Nil, 0, false)
	}
	return c
}
