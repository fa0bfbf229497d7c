package graph

import (
	"encoding/base64"
	"encoding/json"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// connectionArgs are the Relay arguments of a connection: first/after pages forward from the
// start or a cursor, last/before backward from the end or a cursor.
type connectionArgs struct {
	first, last   *int
	after, before *string
}

// pageArgs validates the Relay arguments for a list in order: BAD_USER_INPUT names the argument.
func (r *Resolver) pageArgs(a connectionArgs, order wvsoft.Order) (wvsoft.Page, error) {
	p := wvsoft.Page{Order: order}
	switch {
	case a.first != nil && a.last != nil:
		return p, wvsoft.Invalid("last", "first and last cannot be used together")
	case a.after != nil && a.before != nil:
		return p, wvsoft.Invalid("before", "after and before cannot be used together")
	case a.after != nil && a.last != nil:
		return p, wvsoft.Invalid("after", "after pages forward, with first; use before with last")
	case a.before != nil && a.first != nil:
		return p, wvsoft.Invalid("before", "before pages backward, with last; use after with first")
	}
	p.Backward = a.last != nil || a.before != nil
	size, arg, cur, curArg := a.first, "first", a.after, "after"
	if p.Backward {
		size, arg, cur, curArg = a.last, "last", a.before, "before"
	}
	n, err := r.pageSize(arg, size)
	if err != nil {
		return p, err
	}
	p.First = n
	if cur != nil {
		if p.After, err = parseCursor(curArg, *cur, order.Field); err != nil {
			return p, err
		}
	}
	return p, nil
}

// first validates a page size: 1 to the configured maximum, DefaultPageSize when not given.
func (r *Resolver) first(first *int) (int, error) { return r.pageSize("first", first) }

// pageSize validates the page size in argument arg.
func (r *Resolver) pageSize(arg string, n *int) (int, error) {
	if n == nil {
		return wvsoft.DefaultPageSize, nil
	}
	maxPage := r.maxPageSize
	if maxPage <= 0 {
		maxPage = wvsoft.DefaultMaxPageSize
	}
	if *n < 1 || *n > maxPage {
		return 0, wvsoft.Invalid(arg, "%s must be between 1 and %d", arg, maxPage)
	}
	return *n, nil
}

// A cursor is the opaque position of a row in a connection. In the order of creation it is the
// row's id (16 bytes), as it always was; in an order by a field it also names the field, and the
// store reads the row's sort key itself (keyset), so that a cursor holds no value of the row (a
// name in a URL or a log would outlive an erasure). A cursor is checked against the order it is
// used with.
type orderedCursor struct {
	Field string    `json:"f"`
	ID    uuid.UUID `json:"i"`
}

func cursor(id uuid.UUID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func cursorIn(order wvsoft.Order, id uuid.UUID) string {
	if order.Field == "" {
		return cursor(id)
	}
	b, _ := json.Marshal(orderedCursor{Field: order.Field, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

// searchable says whether s is text a search can hold: valid UTF-8 without control characters
// (PostgreSQL takes no NUL in a text at all).
func searchable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// parseCursor reads the cursor in argument arg for a list ordered by field ("" for creation).
func parseCursor(arg, s, field string) (uuid.UUID, error) {
	bad := wvsoft.Invalid(arg, "%s is not a cursor of this connection and order", arg)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return uuid.Nil, bad
	}
	if len(raw) == 16 {
		if field != "" {
			return uuid.Nil, bad
		}
		return uuid.UUID(raw), nil
	}
	var c orderedCursor
	if json.Unmarshal(raw, &c) != nil || c.Field != field || field == "" || c.ID == uuid.Nil {
		return uuid.Nil, bad
	}
	return c.ID, nil
}

func pageInfo(order wvsoft.Order, w wvsoft.Window, ids []uuid.UUID) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: w.HasNext, HasPreviousPage: w.HasPrevious}
	if n := len(ids); n > 0 {
		start, end := cursorIn(order, ids[0]), cursorIn(order, ids[n-1])
		info.StartCursor, info.EndCursor = &start, &end
	}
	return info
}

// edgesOf makes the edges of a page, each with its cursor in the page's order, and its pageInfo.
func edgesOf[R, E any](rows []R, w wvsoft.Window, order wvsoft.Order, id func(R) uuid.UUID, edge func(cursor string, row R) E) ([]E, *model.PageInfo) {
	edges := make([]E, len(rows))
	ids := make([]uuid.UUID, len(rows))
	for i, row := range rows {
		ids[i] = id(row)
		edges[i] = edge(cursorIn(order, ids[i]), row)
	}
	return edges, pageInfo(order, w, ids)
}

func personConnection(rows []*wvsoft.Person, w wvsoft.Window, p wvsoft.Page, tenant uuid.UUID) *model.PersonConnection {
	c := &model.PersonConnection{TenantID: tenant, Where: p.Where}
	c.Edges, c.PageInfo = edgesOf(rows, w, p.Order, func(r *wvsoft.Person) uuid.UUID { return r.UUID },
		func(cursor string, r *wvsoft.Person) *model.PersonEdge {
			return &model.PersonEdge{Cursor: cursor, Node: r}
		})
	return c
}

func customerConnection(rows []*wvsoft.Customer, w wvsoft.Window, p wvsoft.Page) *model.CustomerConnection {
	c := &model.CustomerConnection{Where: p.Where}
	c.Edges, c.PageInfo = edgesOf(rows, w, p.Order, func(r *wvsoft.Customer) uuid.UUID { return r.TenantID },
		func(cursor string, r *wvsoft.Customer) *model.CustomerEdge {
			return &model.CustomerEdge{Cursor: cursor, Node: r}
		})
	return c
}

func contactPersonConnection(rows []*wvsoft.ContactPerson, w wvsoft.Window, p wvsoft.Page) *model.ContactPersonConnection {
	c := &model.ContactPersonConnection{Where: p.Where}
	c.Edges, c.PageInfo = edgesOf(rows, w, p.Order, func(r *wvsoft.ContactPerson) uuid.UUID { return r.UUID },
		func(cursor string, r *wvsoft.ContactPerson) *model.ContactPersonEdge {
			return &model.ContactPersonEdge{Cursor: cursor, Node: r}
		})
	return c
}

// conditions collects the conditions of a filter argument, validated; err is the first problem.
type conditions struct {
	list []wvsoft.Condition
	err  error
}

func (c *conditions) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// text adds a text condition on field from arg ("filter.name").
func (c *conditions) text(arg, field string, f graphql.Omittable[*model.TextFilter]) {
	tf := f.Value()
	if tf == nil {
		return
	}
	starts, contains := tf.StartsWith.Value(), tf.Contains.Value()
	if starts == nil && contains == nil {
		c.fail(wvsoft.Invalid(arg, "give startsWith or contains"))
	}
	for _, t := range []struct {
		arg  string
		text *string
	}{{arg + ".startsWith", starts}, {arg + ".contains", contains}} {
		if t.text != nil && !searchable(*t.text) {
			c.fail(wvsoft.Invalid(t.arg, "%s must be text without control characters", t.arg))
		}
	}
	if starts != nil {
		if n := utf8.RuneCountInString(*starts); n < 1 || n > 100 {
			c.fail(wvsoft.Invalid(arg+".startsWith", "startsWith must be 1 to 100 characters"))
		}
		c.list = append(c.list, wvsoft.Condition{Field: field, Op: wvsoft.OpStartsWith, Values: []string{*starts}, Arg: arg})
	}
	if contains != nil {
		// Fewer than three characters hold no trigram for the index to look up.
		if n := utf8.RuneCountInString(*contains); n < 3 || n > 100 {
			c.fail(wvsoft.Invalid(arg+".contains", "contains must be 3 to 100 characters"))
		}
		c.list = append(c.list, wvsoft.Condition{Field: field, Op: wvsoft.OpContains, Values: []string{*contains}, Arg: arg})
	}
}

// dates adds a date range on field from arg.
func (c *conditions) dates(arg, field string, r graphql.Omittable[*model.DateRange]) {
	dr := r.Value()
	if dr == nil {
		return
	}
	from, to := dr.From.Value(), dr.To.Value()
	if from == nil && to == nil {
		c.fail(wvsoft.Invalid(arg, "give from, to or both"))
	}
	if from != nil && to != nil && to.Before(*from) {
		c.fail(wvsoft.Invalid(arg+".to", "to is before from"))
	}
	if from != nil {
		c.list = append(c.list, wvsoft.Condition{Field: field, Op: wvsoft.OpFrom, Values: []string{from.Format(time.DateOnly)}, Arg: arg})
	}
	if to != nil {
		c.list = append(c.list, wvsoft.Condition{Field: field, Op: wvsoft.OpTo, Values: []string{to.Format(time.DateOnly)}, Arg: arg})
	}
}

// oneOf adds an enum condition on field from arg: the value is one of values.
func (c *conditions) oneOf(arg, field string, values []string, max int) {
	if values == nil {
		return
	}
	if len(values) < 1 || len(values) > max {
		c.fail(wvsoft.Invalid(arg, "give 1 to %d values", max))
	}
	c.list = append(c.list, wvsoft.Condition{Field: field, Op: wvsoft.OpIn, Values: values, Arg: arg})
}

// personQuery turns the arguments of a persons connection into a page of the store.
func (r *Resolver) personQuery(a connectionArgs, filter *model.PersonFilter, orderBy *model.PersonOrder) (wvsoft.Page, error) {
	var c conditions
	if filter != nil {
		c.text("filter.name", "name", filter.Name)
		c.text("filter.city", "city", filter.City)
		c.text("filter.postalCode", "postalCode", filter.PostalCode)
		c.dates("filter.birthDate", "birthDate", filter.BirthDate)
		c.oneOf("filter.maritalStatus", "maritalStatus", filter.MaritalStatus.Value(), 5)
	}
	var order wvsoft.Order
	if orderBy != nil {
		order = orderOf(personOrderField(orderBy.Field), orderBy.Direction)
	}
	return r.pageOf(a, c, order)
}

// customerQuery turns the arguments of a customers connection into a page of the store.
func (r *Resolver) customerQuery(a connectionArgs, filter *model.CustomerFilter, orderBy *model.CustomerOrder) (wvsoft.Page, error) {
	var c conditions
	if filter != nil {
		c.text("filter.name", "name", filter.Name)
		c.text("filter.city", "city", filter.City)
		c.text("filter.postalCode", "postalCode", filter.PostalCode)
		c.dates("filter.relationshipStart", "relationshipStart", filter.RelationshipStart)
		c.dates("filter.relationshipEnd", "relationshipEnd", filter.RelationshipEnd)
	}
	var order wvsoft.Order
	if orderBy != nil {
		order = orderOf(customerOrderField(orderBy.Field), orderBy.Direction)
	}
	return r.pageOf(a, c, order)
}

// contactPersonQuery turns the arguments of a contact persons connection into a page of the store.
func (r *Resolver) contactPersonQuery(a connectionArgs, filter *model.ContactPersonFilter, orderBy *model.ContactPersonOrder) (wvsoft.Page, error) {
	var c conditions
	if filter != nil {
		c.text("filter.name", "name", filter.Name)
		c.oneOf("filter.role", "role", filter.Role.Value(), 3)
	}
	var order wvsoft.Order
	if orderBy != nil && orderBy.Field == model.ContactPersonOrderFieldName {
		order = orderOf("name", orderBy.Direction)
	}
	return r.pageOf(a, c, order)
}

// pageOf is the page of a list: its conditions, its order and its Relay arguments; the first
// invalid condition, else the first invalid argument, is the error.
func (r *Resolver) pageOf(a connectionArgs, c conditions, order wvsoft.Order) (wvsoft.Page, error) {
	p, err := r.pageArgs(a, order)
	p.Where = c.list
	if c.err != nil {
		return p, c.err
	}
	return p, err
}

func orderOf(field string, dir graphql.Omittable[*model.OrderDirection]) wvsoft.Order {
	d := dir.Value()
	return wvsoft.Order{Field: field, Desc: d != nil && *d == model.OrderDirectionDesc, Arg: "orderBy.field"}
}

// personOrderField is the field an order names; creation is the order of ids ("").
func personOrderField(f model.PersonOrderField) string {
	switch f {
	case model.PersonOrderFieldName:
		return "name"
	case model.PersonOrderFieldCity:
		return "city"
	case model.PersonOrderFieldPostalCode:
		return "postalCode"
	case model.PersonOrderFieldBirthDate:
		return "birthDate"
	}
	return ""
}

// customerOrderField is the field an order names; creation is the order of ids ("").
func customerOrderField(f model.CustomerOrderField) string {
	switch f {
	case model.CustomerOrderFieldName:
		return "name"
	case model.CustomerOrderFieldCity:
		return "city"
	case model.CustomerOrderFieldPostalCode:
		return "postalCode"
	case model.CustomerOrderFieldRelationshipStart:
		return "relationshipStart"
	}
	return ""
}
