package model

import (
	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// PersonConnection is a page of persons, and what its totalCount counts: the same data space
// with the same conditions, resolved only when asked for.
type PersonConnection struct {
	Edges    []*PersonEdge
	PageInfo *PageInfo
	TenantID uuid.UUID
	Where    []wvsoft.Condition
}

// Tenant is the data space the connection lists: the policy decides its totalCount there.
func (c *PersonConnection) Tenant() uuid.UUID { return c.TenantID }

// ID names the data space counted, so that a count under a support-access grant is recorded in
// the access log as a read of that customer's data space.
func (c *PersonConnection) ID() string { return wvsoft.GlobalID(wvsoft.KindCustomer, c.TenantID) }

// CustomerConnection is a page of customers, and what its totalCount counts.
type CustomerConnection struct {
	Edges    []*CustomerEdge
	PageInfo *PageInfo
	Where    []wvsoft.Condition
}

// ContactPersonConnection is a page of contact persons, and what its totalCount counts.
type ContactPersonConnection struct {
	Edges    []*ContactPersonEdge
	PageInfo *PageInfo
	Where    []wvsoft.Condition
}
