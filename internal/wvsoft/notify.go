package wvsoft

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SubjectAnonymous is a caller without credentials: a website visitor (P5). The policy lets it
// submit an inquiry and nothing else.
const (
	SubjectAnonymous = "ANONYMOUS"
	RoleVisitor      = "VISITOR"
)

// Kinds of objects of the breach register, the outbox, inquiries and notices.
const (
	KindBreach             = "Breach"
	KindBreachNotification = "BreachNotification"
	KindBreachCall         = "BreachCall"
	KindInquiry            = "Inquiry"
	KindInquiryCount       = "InquiryCount"
	KindOutboxMessage      = "OutboxMessage"
	KindSupportNotice      = "SupportNotice"
)

// Outbox purposes and states.
const (
	PurposeBreach        = "BREACH"
	PurposeInquiryAnswer = "INQUIRY_ANSWER"
	PurposeSupportNotice = "SUPPORT_NOTICE"
	PurposeSupportAccess = "SUPPORT_ACCESS"

	OutboxPending = "PENDING"
	OutboxSent    = "SENT"
	OutboxFailed  = "FAILED"
)

// DerivedFrom names the record field an outbox message's value comes from: the recipient is
// the address of a record (a support employee sees an admin's login in the outbox only where he
// may read User.email), and the body greets that record by its name (Greeting), so it is
// decided as that record's name. An unknown source is denied.
func (m *OutboxMessage) DerivedFrom(field string) (Source, bool) {
	if m.RecipientSource == nil {
		return Source{}, false
	}
	typ, f, ok := strings.Cut(*m.RecipientSource, ".")
	if !ok {
		return Source{}, false
	}
	switch field {
	case "recipient":
	case "body":
		f = "name"
	default:
		return Source{}, false
	}
	src := Source{Type: typ, Field: f}
	if m.TenantID != nil {
		src.TenantID = *m.TenantID
	}
	switch typ {
	case KindUser:
		src.State.DataOf = DataOfAccount
	case KindContactPerson:
		src.State.DataOf = DataOfCustomer
	}
	return src, true
}

// ReportingWindow is the time a controller has to report a breach to the Autoriteit
// Persoonsgegevens (GDPR article 33(1)), counted here from when WvSoft informed the customer.
const ReportingWindow = 72 * time.Hour

// InquiryMaxAge is how long an unanswered website inquiry is kept (P5).
const InquiryMaxAge = 30 * 24 * time.Hour

// OutboxMessage is one e-mail to one recipient.
type OutboxMessage struct {
	UUID      uuid.UUID  `db:"id"`
	TenantID  *uuid.UUID `db:"tenant_id"`
	Recipient string     `db:"recipient"`
	// RecipientSource is the record field the address comes from (Type.field).
	RecipientSource *string    `db:"recipient_source"`
	Subject         string     `db:"subject"`
	Body            string     `db:"body"`
	Purpose         string     `db:"purpose"`
	RelatedID       *uuid.UUID `db:"related_id"`
	Status          string     `db:"status"`
	Attempts        int        `db:"attempts"`
	NextAttemptAt   time.Time  `db:"next_attempt_at"`
	LastError       *string    `db:"last_error"`
	CreatedAt       time.Time  `db:"created_at"`
	SentAt          *time.Time `db:"sent_at"`
}

// ID is the message's global ID.
func (m *OutboxMessage) ID() string { return GlobalID(KindOutboxMessage, m.UUID) }

// Breach is a (potential) data breach in WvSoft's register (GDPR article 33(5)).
type Breach struct {
	UUID          uuid.UUID `db:"id"`
	Description   string    `db:"description"`
	DiscoveredAt  time.Time `db:"discovered_at"`
	Categories    []string  `db:"-"`
	ApproxPersons *int      `db:"approx_persons"`
	ApproxRecords *int      `db:"approx_records"`
	Consequences  *string   `db:"consequences"`
	Measures      *string   `db:"measures"`
	RecordedBy    uuid.UUID `db:"recorded_by"`
	RecordedAt    time.Time `db:"recorded_at"`
	// ViewedAs is the customer through whose notification the breach was read; uuid.Nil when
	// staff read the register. The policy decides a customer's view by it.
	ViewedAs uuid.UUID `db:"-"`
}

// ID is the breach's global ID.
func (b *Breach) ID() string { return GlobalID(KindBreach, b.UUID) }

// Tenant is the customer the breach is shown to, if any.
func (b *Breach) Tenant() uuid.UUID { return b.ViewedAs }

// BreachNotification is a breach as one affected customer sees it: when it was informed by
// e-mail and by phone, and its own report to the Autoriteit Persoonsgegevens.
type BreachNotification struct {
	TenantID       uuid.UUID  `db:"tenant_id"`
	BreachID       uuid.UUID  `db:"breach_id"`
	EmailedAt      *time.Time `db:"emailed_at"`
	PhonedAt       *time.Time `db:"phoned_at"`
	ReportedToAPAt *time.Time `db:"reported_to_ap_at"`
	APReportNumber *string    `db:"ap_report_number"`
}

// Tenant is the affected customer.
func (n *BreachNotification) Tenant() uuid.UUID { return n.TenantID }

// InformedAt is when the customer was first informed, by either channel.
func (n *BreachNotification) InformedAt() *time.Time {
	switch {
	case n.EmailedAt == nil:
		return n.PhonedAt
	case n.PhonedAt == nil || n.EmailedAt.Before(*n.PhonedAt):
		return n.EmailedAt
	}
	return n.PhonedAt
}

// BreachCall is a phone call that staff logged to inform a customer of a breach.
// It names the contact person called by reference: the name it shows is that person's own.
type BreachCall struct {
	TenantID        uuid.UUID  `db:"tenant_id"`
	UUID            uuid.UUID  `db:"id"`
	BreachID        uuid.UUID  `db:"breach_id"`
	CalledBy        uuid.UUID  `db:"called_by"`
	ContactPersonID *uuid.UUID `db:"contact_person_id"`
	CalledAt        time.Time  `db:"called_at"`
	Reached         bool       `db:"reached"`
	Outcome         *string    `db:"outcome"`
	// The contact person as read with the call: name, role and whether it is restricted.
	ContactName       *string    `db:"contact_name"`
	ContactRole       *string    `db:"contact_role"`
	ContactRestricted *time.Time `db:"contact_restricted_at"`
}

// Tenant is the customer that was called.
func (c *BreachCall) Tenant() uuid.UUID { return c.TenantID }

// Called is whom staff called: the contact person's name and role at the customer.
func (c *BreachCall) Called() *string {
	if c.ContactName == nil {
		return nil
	}
	s := *c.ContactName
	if c.ContactRole != nil {
		s += " (" + *c.ContactRole + ")"
	}
	return &s
}

// DerivedFrom names the contact person's fields a call shows: whom it reached is that person's
// name, and what was said is decided as the number that was called, the person's support data.
// A call without its contact person (erased, or logged before calls named one) shows neither.
func (c *BreachCall) DerivedFrom(field string) (Source, bool) {
	if c.ContactPersonID == nil || c.ContactName == nil {
		return Source{}, false
	}
	src := Source{Type: KindContactPerson, TenantID: c.TenantID,
		State: RecordState{DataOf: DataOfCustomer, Restricted: c.ContactRestricted != nil}}
	if c.ContactRole != nil {
		src.State.ContactRole = contactRoleOf(*c.ContactRole)
	}
	switch field {
	case "called":
		src.Field = "name"
	case "outcome":
		src.Field = "phone"
	default:
		return Source{}, false
	}
	return src, true
}

// Inquiry is a website visitor's question (P5).
type Inquiry struct {
	UUID       uuid.UUID `db:"id"`
	Name       string    `db:"name"`
	Email      string    `db:"email"`
	Question   string    `db:"question"`
	ReceivedAt time.Time `db:"received_at"`
}

// ID is the inquiry's global ID.
func (i *Inquiry) ID() string { return GlobalID(KindInquiry, i.UUID) }

// InquiryCount is what remains of a day's inquiries: numbers only.
type InquiryCount struct {
	Day      time.Time `db:"day"`
	Received int       `db:"received"`
	Answered int       `db:"answered"`
	Expired  int       `db:"expired"`
}

// SupportNotice is irregular support information to the contact persons of current customers
// (P8): no newsletter, no subscription, no marketing purpose.
type SupportNotice struct {
	UUID        uuid.UUID `db:"id"`
	Title       string    `db:"title"`
	Body        string    `db:"body"`
	PublishedBy uuid.UUID `db:"published_by"`
	PublishedAt time.Time `db:"published_at"`
	Recipients  int       `db:"recipients"`
}

// Letter is an e-mail's subject and body.
type Letter struct{ Subject, Body string }

// Notifications is what breaches, inquiries, notices and the outbox need from persistence.
// Every method that causes mail writes it to the outbox in the same transaction.
type Notifications interface {
	RecordBreach(ctx context.Context, f TenantFilter, b *Breach, tenants []uuid.UUID) error
	Breaches(ctx context.Context, f TenantFilter) ([]*Breach, error)
	BreachNotifications(ctx context.Context, f TenantFilter, breach *uuid.UUID, tenant *uuid.UUID) ([]*BreachNotification, error)
	CustomerBreach(ctx context.Context, f TenantFilter, tenant, breach uuid.UUID) (*Breach, error)
	BreachCalls(ctx context.Context, f TenantFilter, tenant, breach uuid.UUID) ([]*BreachCall, error)
	LogBreachCall(ctx context.Context, f TenantFilter, c *BreachCall) (*BreachNotification, error)
	ReportBreach(ctx context.Context, f TenantFilter, tenant, breach uuid.UUID, at time.Time, number string) (*BreachNotification, error)
	NotFullyInformed(ctx context.Context, f TenantFilter) ([]*BreachNotification, error)

	SubmitInquiry(ctx context.Context, i *Inquiry) error
	Inquiries(ctx context.Context, f TenantFilter) ([]*Inquiry, error)
	AnswerInquiry(ctx context.Context, f TenantFilter, id uuid.UUID, answer Letter, now time.Time) error
	InquiryCounts(ctx context.Context, f TenantFilter) ([]*InquiryCount, error)

	// PublishNotice mails n to the contact persons of current customers (P8) that mayMail lets
	// through: the policy's decision whether the author may use the person's address.
	PublishNotice(ctx context.Context, f TenantFilter, n *SupportNotice, mayMail func(*ContactPerson) bool) error
	SupportNotices(ctx context.Context, f TenantFilter) ([]*SupportNotice, error)

	Outbox(ctx context.Context, f TenantFilter, status *string, limit int) ([]*OutboxMessage, error)
	// MailTo lists the mail of a customer sent (or to be sent) to an address that came from
	// source (Type.field), newest first: what a data subject's export lists (article 15).
	MailTo(ctx context.Context, f TenantFilter, tenant uuid.UUID, source, address string) ([]*OutboxMessage, error)
	// CallsTo lists the breach calls to a contact person, oldest first: what the person's
	// export lists (article 15).
	CallsTo(ctx context.Context, f TenantFilter, tenant, contactPerson uuid.UUID) ([]*BreachCall, error)
}

// BreachLetter is the e-mail that informs a customer of a breach (P4): what happened, which
// categories of data, what the customer should do and when its 72 hours run out. The
// greeting is added per recipient (Greeting). informed is when the mail goes out, from which
// the 72 hours are counted.
func BreachLetter(b *Breach, customer string, informed time.Time) Letter {
	cats := make([]string, len(b.Categories))
	for i, c := range b.Categories {
		cats[i] = CategoryLabel(c)
	}
	body := "WvSoft heeft een (mogelijk) datalek ontdekt dat gegevens van " + customer + " kan betreffen. " +
		"Wij informeren u direct, zodat u kunt beoordelen of u het moet melden.\n\n" +
		"Wat er gebeurde: " + b.Description + "\n" +
		"Ontdekt op: " + DateTimeNL(b.DiscoveredAt) + "\n" +
		"Welke soorten gegevens: " + strings.Join(cats, ", ") + "\n"
	if b.Consequences != nil && *b.Consequences != "" {
		body += "Mogelijke gevolgen: " + *b.Consequences + "\n"
	}
	if b.Measures != nil && *b.Measures != "" {
		body += "Wat WvSoft al deed: " + *b.Measures + "\n"
	}
	body += "\nWat u moet doen:\n" +
		"1. Beoordeel of het lek een risico is voor de mensen van wie de gegevens zijn. Is dat zo, meld het dan bij de " +
		"Autoriteit Persoonsgegevens (www.autoriteitpersoonsgegevens.nl, meldformulier datalekken).\n" +
		"2. Dat moet binnen 72 uur: uiterlijk " + DateTimeNL(informed.Add(ReportingWindow)) + ".\n" +
		"3. Is het risico hoog, informeer dan ook de betrokken mensen zelf.\n" +
		"4. Noteer in uw omgeving bij WvSoft, onder Datalekken, of en wanneer u meldde en het meldnummer.\n\n" +
		"Wij bellen u ook. Vragen? Antwoord op deze e-mail of bel WvSoft.\n\nMet vriendelijke groet,\nWvSoft\n"
	return Letter{Subject: "Melding van een (mogelijk) datalek bij WvSoft", Body: body}
}

// Greeting is the salutation of a mail: "Geachte heer Jansen," from a salutation (DHR, MW)
// and a name; "Beste Anna Jansen," with a name only; "Geachte heer, mevrouw," without either.
func Greeting(salutation, name *string) string {
	n := ""
	if name != nil {
		n = strings.TrimSpace(*name)
	}
	s := ""
	if salutation != nil {
		s = map[string]string{"DHR": "heer", "MW": "mevrouw"}[*salutation]
	}
	switch {
	case s != "" && n != "":
		return "Geachte " + s + " " + n + ","
	case n != "":
		return "Beste " + n + ","
	}
	return "Geachte heer, mevrouw,"
}

// DateTimeNL says a moment in Dutch, in Dutch time: "zaterdag 28 november 2026 om 09:00".
func DateTimeNL(t time.Time) string {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		loc = time.UTC
	}
	t = t.In(loc)
	days := [...]string{"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"}
	months := [...]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"}
	return days[t.Weekday()] + " " + strconv.Itoa(t.Day()) + " " + months[t.Month()-1] + " " + strconv.Itoa(t.Year()) + " om " + t.Format("15:04")
}

// ID is the notice's global ID.
func (n *SupportNotice) ID() string { return GlobalID(KindSupportNotice, n.UUID) }

// AccessRequestLetter tells a customer's admins that WvSoft's director asks for support access (P9).
func AccessRequestLetter(g *SupportAccessGrant) Letter {
	return Letter{
		Subject: "WvSoft vraagt toegang tot uw gegevens voor support",
		Body: "De directeur van WvSoft vraagt tijdelijk toegang tot de gegevens in uw omgeving, om u te helpen.\n\n" +
			"Reden: " + g.Reason + "\n" +
			"Welke gegevens: " + strings.Join(g.ScopeTypes, ", ") + "\n" +
			"Graag uw antwoord vóór: " + DateTimeNL(g.AnswerBy) + "\n\n" +
			"U beslist: in uw omgeving bij WvSoft, onder Toegang voor support, keurt u het verzoek goed, " +
			"beperkt u het (korter of minder gegevens) of weigert u het. Zonder antwoord vervalt het.\n\n" +
			"Met vriendelijke groet,\nWvSoft\n",
	}
}
