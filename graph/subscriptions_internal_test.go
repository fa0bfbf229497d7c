package graph

import (
	"testing"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// A customer's user or key is checked again only for its own customer's events; staff for every
// customer's; resyncs and events of no customer reach everyone.
func TestWhichEventsConcernASubscriber(t *testing.T) {
	mine, other := uuid.New(), uuid.New()
	user := &wvsoft.Subject{Kind: wvsoft.SubjectUser, TenantID: mine}
	staff := &wvsoft.Subject{Kind: wvsoft.SubjectStaff}
	cases := []struct {
		subject *wvsoft.Subject
		ev      wvsoft.Event
		want    bool
	}{
		{user, wvsoft.Event{Kind: wvsoft.EventAccessChanged, Tenant: mine}, true},
		{user, wvsoft.Event{Kind: wvsoft.EventAccessChanged, Tenant: other}, false},
		{user, wvsoft.Event{Kind: wvsoft.EventBreachNotified, Tenant: other}, false},
		{user, wvsoft.Event{Kind: wvsoft.EventGrantChanged, Tenant: other}, false},
		{user, wvsoft.Event{Kind: wvsoft.EventResync}, true},
		{user, wvsoft.Event{Kind: wvsoft.EventAccessChanged}, true}, // of no customer: a declaration
		{staff, wvsoft.Event{Kind: wvsoft.EventGrantChanged, Tenant: other}, true},
		{staff, wvsoft.Event{Kind: wvsoft.EventAccessChanged, Tenant: mine}, true},
	}
	for _, c := range cases {
		if got := concerns(c.subject, c.ev); got != c.want {
			t.Errorf("%s of tenant %v, event %s of %v: %v, want %v", c.subject.Kind, c.subject.TenantID, c.ev.Kind, c.ev.Tenant, got, c.want)
		}
	}
}
