package wvsoft

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Kinds of the privacy ledger.
const (
	KindConsent            = "Consent"
	KindDataSubjectRequest = "DataSubjectRequest"
	KindHistoryEntry       = "HistoryEntry"
	KindStaffMember        = "StaffMember"
	KindProcessor          = "Processor"
	KindPurgeRun           = "PurgeRun"
	KindProcessingRecords  = "ProcessingRecords"
)

// Consent events and bases (P6).
const (
	ConsentGiven     = "GIVEN"
	ConsentWithdrawn = "WITHDRAWN"
)

// Data-subject request kinds (GDPR articles 15 to 17 and 20) and states.
const (
	RequestAccess        = "ACCESS"
	RequestRectification = "RECTIFICATION"
	RequestErasure       = "ERASURE"
	RequestOpen          = "OPEN"
	RequestDone          = "DONE"
	// RequestAnswerWithin is the deadline of article 12(3).
	RequestAnswerMonths = 1
)

// ConsentEvent is one entry of a customer's consent history.
type ConsentEvent struct {
	TenantID  uuid.UUID  `db:"tenant_id"`
	UUID      uuid.UUID  `db:"id"`
	Event     string     `db:"event"`
	Basis     string     `db:"basis"`
	Evidence  *string    `db:"evidence"`
	At        time.Time  `db:"at"`
	ActorKind string     `db:"actor_kind"`
	ActorID   *uuid.UUID `db:"actor_id"`
}

// RecordState says whose data the request is about: a contact person is the customer register's,
// a person its data space's.
func (r *DataSubjectRequest) RecordState(time.Time) RecordState {
	return RecordState{DataOf: DataOfKind(r.SubjectType)}
}

// RecordState says whose data the changed object is (ObjectType is its kind).
func (c *HistoryEntry) RecordState(time.Time) RecordState {
	return RecordState{DataOf: DataOfKind(c.ObjectType)}
}

// Tenant is the customer.
func (e *ConsentEvent) Tenant() uuid.UUID { return e.TenantID }

// Consent is a customer's consent: its history, latest first.
type Consent struct {
	TenantID uuid.UUID
	History  []*ConsentEvent
}

// Tenant is the customer.
func (c *Consent) Tenant() uuid.UUID { return c.TenantID }

// Given reports whether the latest event gives consent.
func (c *Consent) Given() bool { return len(c.History) > 0 && c.History[0].Event == ConsentGiven }

// DataSubjectRequest is a request of a data subject, with its deadline and outcome.
type DataSubjectRequest struct {
	TenantID    uuid.UUID      `db:"tenant_id"`
	UUID        uuid.UUID      `db:"id"`
	Kind        string         `db:"kind"`
	SubjectType string         `db:"subject_type"`
	SubjectID   uuid.UUID      `db:"subject_id"`
	ReceivedAt  time.Time      `db:"received_at"`
	Deadline    time.Time      `db:"deadline"`
	Status      string         `db:"status"`
	CompletedAt *time.Time     `db:"completed_at"`
	Outcome     []FieldOutcome `db:"-"`
	HandledBy   *uuid.UUID     `db:"handled_by"`
	// Export is the access export, made when an ACCESS request is executed; not stored.
	Export *DataExport `db:"-"`
}

// ID is the request's global ID.
func (r *DataSubjectRequest) ID() string { return GlobalID(KindDataSubjectRequest, r.UUID) }

// Tenant is the customer the subject belongs to.
func (r *DataSubjectRequest) Tenant() uuid.UUID { return r.TenantID }

// FieldOutcome says what an erasure did with one field, and why.
type FieldOutcome struct {
	Field     string     `json:"field"`
	Action    string     `json:"action"` // ERASED or KEPT
	Reason    string     `json:"reason"`
	KeptUntil *time.Time `json:"kept_until,omitempty"`
}

// DataExport is everything held about a data subject: machine-readable and human-readable.
type DataExport struct {
	JSON string
	HTML string
}

// HistoryEntry is one entry of the change history: which fields of which object changed, when,
// by whom; never the values.
type HistoryEntry struct {
	TenantID   uuid.UUID  `db:"tenant_id"`
	UUID       uuid.UUID  `db:"id"`
	ObjectType string     `db:"object_type"` // the changed object's kind (Kind*)
	ObjectID   uuid.UUID  `db:"object_id"`
	Fields     []string   `db:"-"`
	At         time.Time  `db:"at"`
	ActorKind  string     `db:"actor_kind"`
	ActorID    *uuid.UUID `db:"actor_id"`
	// ActorName and ActorRole are read from the actor's own record (users, api_keys,
	// staff_members) where the request reaches it; null otherwise.
	ActorName *string `db:"actor_name"`
	ActorRole *string `db:"actor_role"`
}

// Tenant is the customer.
func (c *HistoryEntry) Tenant() uuid.UUID { return c.TenantID }

// actorType is the kind of record the actor is.
func (c *HistoryEntry) actorType() string {
	switch c.ActorKind {
	case "USER":
		return KindUser
	case "API_KEY":
		return KindAPIKey
	case "STAFF":
		return KindStaffMember
	}
	return ""
}

// DerivedFrom names the actor's name field: HistoryEntry.actor shows User.name, ApiKey.name or
// StaffMember.name and is decided as that field of that record (a customer's admin sees the
// names of its own users; a staff member's name only who may read the staff register).
func (c *HistoryEntry) DerivedFrom(field string) (Source, bool) {
	if field != "actor" {
		return Source{}, false
	}
	typ := c.actorType()
	if typ == "" {
		// The system has no name; the value is null, decided as the entry's own kind, with the
		// entry's own state (whose data it is about).
		return Source{Type: KindHistoryEntry, Field: "actorKind", TenantID: c.TenantID, State: c.RecordState(time.Time{})}, true
	}
	src := Source{Type: typ, Field: "name"}
	switch typ {
	case KindUser, KindAPIKey:
		src.TenantID = c.TenantID
		src.State.DataOf = DataOfAccount
	}
	return src, true
}

// StaffMember is a WvSoft employee with a confidentiality declaration (P10).
type StaffMember struct {
	UUID                 uuid.UUID  `db:"id"`
	Email                string     `db:"email"`
	Name                 *string    `db:"name"`
	Role                 string     `db:"role"`
	DeclarationSignedAt  *time.Time `db:"declaration_signed_at"`
	DeclarationExpiresAt *time.Time `db:"declaration_expires_at"`
}

// ID is the staff member's global ID.
func (s *StaffMember) ID() string { return GlobalID(KindStaffMember, s.UUID) }

// Processor is an organisation that processes personal data for WvSoft (P11).
type Processor struct {
	UUID                 uuid.UUID `db:"id"`
	Name                 string    `db:"name"`
	Role                 string    `db:"role"`
	DeclarationReference string    `db:"declaration_reference"`
	DeclarationDate      time.Time `db:"declaration_date"`
	CreatedAt            time.Time `db:"created_at"`
}

// ID is the processor's global ID.
func (p *Processor) ID() string { return GlobalID(KindProcessor, p.UUID) }

// PurgeRun is what one run of the purge removed, by rule: counts, never values.
type PurgeRun struct {
	UUID   uuid.UUID      `db:"id"`
	At     time.Time      `db:"at"`
	DryRun bool           `db:"dry_run"`
	Counts map[string]int `db:"-"`
}

// Ledger is what the privacy ledger needs from persistence.
type Ledger interface {
	RecordConsent(ctx context.Context, f TenantFilter, e *ConsentEvent) error
	ConsentOf(ctx context.Context, f TenantFilter, tenant uuid.UUID) (*Consent, error)

	RegisterRequest(ctx context.Context, f TenantFilter, r *DataSubjectRequest) error
	Requests(ctx context.Context, f TenantFilter, tenant uuid.UUID) ([]*DataSubjectRequest, error)
	RequestByID(ctx context.Context, f TenantFilter, id uuid.UUID) (*DataSubjectRequest, error)
	CompleteRequest(ctx context.Context, f TenantFilter, r *DataSubjectRequest) error
	EraseSubject(ctx context.Context, f TenantFilter, r *DataSubjectRequest, rules RetentionPolicy, now time.Time) ([]FieldOutcome, error)

	History(ctx context.Context, f TenantFilter, objectID uuid.UUID) ([]*HistoryEntry, error)

	StaffMembers(ctx context.Context, f TenantFilter) ([]*StaffMember, error)
	RecordDeclaration(ctx context.Context, f TenantFilter, staff uuid.UUID, signed, expires time.Time) (*StaffMember, error)

	Processors(ctx context.Context, f TenantFilter) ([]*Processor, error)
	RegisterProcessor(ctx context.Context, f TenantFilter, p *Processor) error

	Purge(ctx context.Context, rules RetentionPolicy, now time.Time, dryRun bool) (*PurgeRun, error)
	PurgeRuns(ctx context.Context, f TenantFilter) ([]*PurgeRun, error)
}

// RetentionPolicy holds the retention rules' configurable periods (P2). The rules themselves
// are RetentionRules.
type RetentionPolicy struct {
	// SupportGrace is how long support-only data outlives the customer relationship.
	SupportGrace time.Duration
	// FiscalYears is how many years after the end of the year the relationship ended billing
	// data is kept (the Dutch fiscal retention obligation).
	FiscalYears int
	// ExportWindow is how long a former customer's data space is kept for its export.
	ExportWindow time.Duration
	// InquiryMaxAge and SentMailAge bound website inquiries and delivered mail.
	InquiryMaxAge time.Duration
	SentMailAge   time.Duration
}

// DefaultRetention is the retention of the privacy protocol.
func DefaultRetention() RetentionPolicy {
	return RetentionPolicy{SupportGrace: 30 * 24 * time.Hour, FiscalYears: 7, ExportWindow: 90 * 24 * time.Hour,
		InquiryMaxAge: InquiryMaxAge, SentMailAge: 30 * 24 * time.Hour}
}

// FiscalHoldUntil is the last day billing data of a relationship that ended on end is kept:
// the end of the year, plus the fiscal years.
func (p RetentionPolicy) FiscalHoldUntil(end time.Time) time.Time {
	return time.Date(end.Year()+p.FiscalYears, 12, 31, 0, 0, 0, 0, time.UTC)
}

// RetentionRule is one rule of the retention schedule, as documented and exported (article 30).
// Data and Kept are in English; DataNL and KeptNL say the same in Dutch for the documents a
// person reads.
type RetentionRule struct {
	Name       string
	Categories []string
	Purposes   []string
	Data       string
	Kept       string
	DataNL     string
	KeptNL     string
}

// RequestRecordYears is how long the record of a completed data-subject request is kept, as
// evidence that it was answered.
const RequestRecordYears = 5

// RetentionRules is the retention schedule in one place (P2); Purge applies it. Every table
// that holds personal data or evidence about a customer falls under one of these rules.
func RetentionRules(p RetentionPolicy) []RetentionRule {
	fiscal := itoa(p.FiscalYears)
	return []RetentionRule{
		{"support-data", []string{"CONTACT"}, []string{"SUPPORT"},
			"contact persons' e-mail addresses and phone numbers",
			"while the customer relationship lasts, then " + DurationEN(p.SupportGrace) + " grace",
			"e-mailadressen en telefoonnummers van contactpersonen",
			"zolang de klantrelatie duurt, daarna nog " + Duration(p.SupportGrace)},
		{"billing-data", []string{"IDENTITY", "CONTACT", "FINANCIAL"}, []string{"BILLING"},
			"the customer's name, address, e-mail, phone, KvK number and IBAN; contact persons' names and salutations",
			"until the end of the year the relationship ended, plus " + fiscal + " years (fiscal retention)",
			"naam, adres, e-mail, telefoon, KvK-nummer en IBAN van de klant; naam en aanhef van contactpersonen",
			"tot het einde van het jaar waarin de klantrelatie eindigde, plus " + fiscal + " jaar (fiscale bewaarplicht)"},
		{"data-space", []string{"IDENTITY", "CONTACT", "FINANCIAL", "NATIONAL_ID", "FAMILY", "HEALTH"}, []string{"SERVICE"},
			"the customer's data space: persons, users and API keys",
			"while the contract lasts, then " + DurationEN(p.ExportWindow) + " for the customer's export",
			"de eigen omgeving van de klant: personen, gebruikers en API-sleutels",
			"zolang het contract loopt, daarna nog " + Duration(p.ExportWindow) + " zodat de klant zijn gegevens kan ophalen"},
		{"website-inquiries", []string{"IDENTITY", "CONTACT"}, []string{"SUPPORT"},
			"name, e-mail address and question of a website visitor",
			"until answered; unanswered at most " + DurationEN(p.InquiryMaxAge),
			"naam, e-mailadres en vraag van een bezoeker van de website",
			"tot de vraag beantwoord is; onbeantwoord hooguit " + Duration(p.InquiryMaxAge)},
		{"delivered-mail", []string{"CONTACT"}, []string{"SUPPORT", "BILLING"},
			"delivered e-mail in the outbox",
			DurationEN(p.SentMailAge) + " after delivery",
			"verzonden e-mail (de verzendwachtrij)",
			Duration(p.SentMailAge) + " na verzending"},
		{"evidence", []string{"IDENTITY"}, []string{"SUPPORT", "BILLING"},
			"evidence about a customer: consent history, change history, breach notifications and calls, records of data-subject requests, the access log and the support-access grants",
			"while the relationship lasts and, after it, as long as the billing data (fiscal retention)",
			"bewijs over een klant: toestemmingsgeschiedenis, wijzigingsgeschiedenis, meldingen en telefoontjes over datalekken, verzoeken van betrokkenen, het toegangslogboek en de toegangsverzoeken",
			"zolang de klantrelatie duurt en daarna zo lang als de factuurgegevens (fiscale bewaarplicht)"},
		{"request-records", []string{"IDENTITY"}, []string{"SUPPORT"},
			"records of completed data-subject requests (which request, when answered, the outcome; no values)",
			itoa(RequestRecordYears) + " years after completion",
			"verslagen van afgehandelde verzoeken van betrokkenen (welk verzoek, wanneer afgehandeld, de uitkomst; geen gegevens zelf)",
			itoa(RequestRecordYears) + " jaar na afhandeling"},
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
