package service

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

func str(s string) *string { return &s }
func num(n int) *int       { return &n }
func yes() *bool           { b := true; return &b }

// Invalid input is refused before anything is stored, with a BAD_USER_INPUT error that names the
// offending field. The service here has no store: reaching it would panic, which shows the
// refusal came first.
func TestInvalidInputIsRefusedWithItsField(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	s := New(nil, WithClock(func() time.Time { return now }))
	ctx := context.Background()
	tomorrow := now.AddDate(0, 0, 1)
	cases := []struct {
		name, field string
		call        func() error
	}{
		{"customer slug", "input.slug", func() error {
			_, err := s.CreateCustomer(ctx, CreateCustomerInput{Slug: "No Slug", Name: "Bakkerij"})
			return err
		}},
		{"customer iban checksum", "input.iban", func() error {
			_, err := s.CreateCustomer(ctx, CreateCustomerInput{Slug: "bakkerij", Name: "Bakkerij",
				Iban: graphql.OmittableOf(str("NL00BANK0123456789"))})
			return err
		}},
		{"customer name cannot be cleared", "input.name", func() error {
			_, err := s.UpdateCustomer(ctx, UpdateCustomerInput{ID: wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1}),
				Name: graphql.OmittableOf[*string](nil)})
			return err
		}},
		{"relationship end in the future", "input.relationshipEnd", func() error {
			_, err := s.UpdateCustomer(ctx, UpdateCustomerInput{ID: wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1}),
				RelationshipEnd: graphql.OmittableOf(&tomorrow)})
			return err
		}},
		{"customer id of another kind", "input.id", func() error {
			_, err := s.UpdateCustomer(ctx, UpdateCustomerInput{ID: wvsoft.GlobalID(wvsoft.KindPerson, [16]byte{1})})
			return err
		}},
		{"person bsn elfproef", "input.bsn", func() error {
			_, err := s.CreatePerson(ctx, CreatePersonInput{CustomerID: graphql.OmittableOf(str(wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1}))),
				Name: "Jan", Bsn: graphql.OmittableOf(str("123456789"))})
			return err
		}},
		{"birth date in the future", "input.birthDate", func() error {
			_, err := s.CreatePerson(ctx, CreatePersonInput{CustomerID: graphql.OmittableOf(str(wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1}))),
				Name: "Jan", BirthDate: graphql.OmittableOf(&tomorrow)})
			return err
		}},
		{"support reason too short", "input.reason", func() error {
			_, err := s.RequestSupportAccess(ctx, RequestSupportAccessInput{CustomerID: wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1}),
				Reason: "ab", Types: []string{"Person"}})
			return err
		}},
		{"support duration wraps around", "input.durationMinutes", func() error {
			_, err := s.RequestSupportAccess(ctx, RequestSupportAccessInput{CustomerID: wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1}),
				Reason: "ticket 42", Types: []string{"Person"}, DurationMinutes: graphql.OmittableOf(num(153_722_868))})
			return err
		}},
		{"support without types", "input.types", func() error {
			_, err := s.RequestSupportAccess(ctx, RequestSupportAccessInput{CustomerID: wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1}),
				Reason: "ticket 42"})
			return err
		}},
		{"declaration expiring before signed", "input.expiresAt", func() error {
			_, err := s.RecordConfidentialityDeclaration(ctx, DeclarationInput{StaffID: wvsoft.GlobalID(wvsoft.KindStaffMember, [16]byte{1}),
				SignedAt: now, ExpiresAt: now.Add(-time.Hour)})
			return err
		}},
		{"breach discovered tomorrow", "input.discoveredAt", func() error {
			_, err := s.RecordBreach(ctx, RecordBreachInput{Description: "a laptop was stolen", DiscoveredAt: tomorrow,
				Categories: []string{"CONTACT"}, CustomerIds: []string{wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1})}})
			return err
		}},
		{"breach count out of range", "input.approximatePersons", func() error {
			_, err := s.RecordBreach(ctx, RecordBreachInput{Description: "a laptop was stolen", DiscoveredAt: now,
				Categories: []string{"CONTACT"}, CustomerIds: []string{wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1})},
				ApproximatePersons: graphql.OmittableOf(num(-1))})
			return err
		}},
		{"inquiry e-mail", "input.email", func() error {
			_, err := s.SubmitInquiry(ctx, SubmitInquiryInput{Name: "Jan", Email: "not an address", Question: "Hoe?"})
			return err
		}},
		{"request about a customer", "input.subjectId", func() error {
			_, err := s.RegisterDataSubjectRequest(ctx, RegisterDataSubjectRequestInput{SubjectID: wvsoft.GlobalID(wvsoft.KindCustomer, [16]byte{1}),
				Kind: wvsoft.RequestAccess})
			return err
		}},
		{"api key without a name", "input.name", func() error {
			_, err := s.CreateAPIKey(ctx, CreateAPIKeyInput{Name: "  "})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			var e *wvsoft.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want a BAD_USER_INPUT error on %s", err, c.field)
			}
			if e.Code != wvsoft.EINVALID || e.Field != c.field {
				t.Fatalf("got %s on %q (%s), want %s on %q", e.Code, e.Field, e.Message, wvsoft.EINVALID, c.field)
			}
			if !strings.Contains(e.Message, c.field) && !strings.Contains(e.Message, strings.TrimPrefix(c.field, "input.")) {
				t.Errorf("message %q does not name %s", e.Message, c.field)
			}
		})
	}
}

// An approval may shorten a grant and narrow its scope, never lengthen or widen it.
func TestApprovalOnlyNarrows(t *testing.T) {
	requested := func() *wvsoft.SupportAccessGrant {
		return &wvsoft.SupportAccessGrant{ScopeTypes: []string{"Customer", "Person"}, DurationSeconds: 3600}
	}
	hour := time.Hour
	twoHours := 2 * time.Hour
	cases := []struct {
		name    string
		input   ApproveSupportAccessInput
		shorter *time.Duration
		field   string // "" when the approval is valid
		check   func(*wvsoft.SupportAccessGrant) bool
	}{
		{"as requested", ApproveSupportAccessInput{}, nil, "", func(g *wvsoft.SupportAccessGrant) bool { return g.DurationSeconds == 3600 && len(g.ScopeTypes) == 2 }},
		{"shorter", ApproveSupportAccessInput{}, &hour, "", func(g *wvsoft.SupportAccessGrant) bool { return g.DurationSeconds == 3600 }},
		{"longer", ApproveSupportAccessInput{}, &twoHours, "input.durationMinutes", nil},
		{"fewer types", ApproveSupportAccessInput{Types: graphql.OmittableOf([]string{"Person", "Person"})}, nil, "",
			func(g *wvsoft.SupportAccessGrant) bool { return len(g.ScopeTypes) == 1 && g.ScopeTypes[0] == "Person" }},
		{"another type", ApproveSupportAccessInput{Types: graphql.OmittableOf([]string{"User"})}, nil, "input.types", nil},
		{"no types", ApproveSupportAccessInput{Types: graphql.OmittableOf([]string{})}, nil, "input.types", nil},
		{"special categories not requested", ApproveSupportAccessInput{SpecialCategories: graphql.OmittableOf(yes())}, nil, "input.specialCategories", nil},
		{"writing not requested", ApproveSupportAccessInput{Write: graphql.OmittableOf(yes())}, nil, "input.write", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := requested()
			err := narrowGrant(g, c.input, c.shorter)
			if c.field == "" {
				if err != nil || !c.check(g) {
					t.Fatalf("err %v, grant %+v", err, g)
				}
				return
			}
			var e *wvsoft.Error
			if !errors.As(err, &e) || e.Field != c.field {
				t.Fatalf("got %v, want a refusal on %s", err, c.field)
			}
		})
	}
}
