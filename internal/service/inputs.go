package service

// The inputs and payloads of the service's operations. gqlgen binds the schema's input objects
// of the same names to these types (autobind in gqlgen.yml), so the GraphQL layer hands them
// over as decoded and the CLI builds them the same way. graphql.Omittable is gqlgen's "not
// given" versus "given as null": an update clears a field only when null is given.
//
// Keep them in step with schema.graphql: `go generate ./graph/` fails when a field is missing.

import (
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// An answer to an inquiry.
type AnswerInquiryInput struct {
	// The inquiry.
	ID string `json:"id"`
	// The answer, 1 to 10000 characters. It is e-mailed; then the inquiry is deleted.
	Answer string `json:"answer"`
}

// An approval, which may shorten the duration or narrow the scope.
type ApproveSupportAccessInput struct {
	// The request's id.
	ID string `json:"id"`
	// A shorter duration in minutes.
	DurationMinutes graphql.Omittable[*int] `json:"durationMinutes,omitempty"`
	// A subset of the requested types.
	Types graphql.Omittable[[]string] `json:"types,omitempty"`
	// False to leave out special categories.
	SpecialCategories graphql.Omittable[*bool] `json:"specialCategories,omitempty"`
	// False to leave out writing.
	Write graphql.Omittable[*bool] `json:"write,omitempty"`
}

// A consent step to record.
type ConsentInput struct {
	// The customer.
	CustomerID string `json:"customerId"`
	// The basis.
	Basis string `json:"basis"`
	// A reference to the evidence, at most 500 characters.
	Evidence graphql.Omittable[*string] `json:"evidence,omitempty"`
}

// A new API key.
type CreateAPIKeyInput struct {
	// What the key is for, 1 to 200 characters.
	Name string `json:"name"`
	// Whether the key may write. Default false.
	CanWrite graphql.Omittable[*bool] `json:"canWrite,omitempty"`
	// Whether the key may read special categories. Default false.
	SpecialCategories graphql.Omittable[*bool] `json:"specialCategories,omitempty"`
}

// A new API key with its secret.
type CreateAPIKeyPayload struct {
	// The key.
	APIKey *wvsoft.APIKey `json:"apiKey,omitempty"`
	// The secret to send as `Authorization: Bearer <secret>`. Shown only here, once.
	Secret *string `json:"secret,omitempty"`
}

// A new contact person.
type CreateContactPersonInput struct {
	// The customer's id.
	CustomerID string `json:"customerId"`
	// Salutation.
	Salutation graphql.Omittable[*string] `json:"salutation,omitempty"`
	// Full name, 1 to 200 characters.
	Name string `json:"name"`
	// Role at the customer.
	Role string `json:"role"`
	// E-mail address.
	Email graphql.Omittable[*string] `json:"email,omitempty"`
	// Phone number.
	Phone graphql.Omittable[*string] `json:"phone,omitempty"`
}

// A new customer.
type CreateCustomerInput struct {
	// Unique short name: lower-case letters, digits and dashes, 3 to 63 characters.
	Slug string `json:"slug"`
	// Company name, 1 to 200 characters.
	Name string `json:"name"`
	// General e-mail address.
	Email graphql.Omittable[*string] `json:"email,omitempty"`
	// Phone number, such as `+31 20 123 4567` or `020-1234567`.
	Phone graphql.Omittable[*string] `json:"phone,omitempty"`
	// Street and house number.
	Street graphql.Omittable[*string] `json:"street,omitempty"`
	// Dutch postal code, such as `1234 AB`.
	PostalCode graphql.Omittable[*string] `json:"postalCode,omitempty"`
	// City.
	City graphql.Omittable[*string] `json:"city,omitempty"`
	// KvK number, 8 digits.
	KVKNumber graphql.Omittable[*string] `json:"kvkNumber,omitempty"`
	// IBAN, checked with its checksum.
	Iban graphql.Omittable[*string] `json:"iban,omitempty"`
	// Start of the relationship; defaults to today.
	RelationshipStart graphql.Omittable[*time.Time] `json:"relationshipStart,omitempty"`
}

// A new person in a data space.
type CreatePersonInput struct {
	// The customer whose data space gets the person; defaults to the caller's own customer.
	CustomerID graphql.Omittable[*string] `json:"customerId,omitempty"`
	// Full name, 1 to 200 characters.
	Name string `json:"name"`
	// Street and house number.
	Street graphql.Omittable[*string] `json:"street,omitempty"`
	// Dutch postal code.
	PostalCode graphql.Omittable[*string] `json:"postalCode,omitempty"`
	// City.
	City graphql.Omittable[*string] `json:"city,omitempty"`
	// E-mail address.
	Email graphql.Omittable[*string] `json:"email,omitempty"`
	// Phone number.
	Phone graphql.Omittable[*string] `json:"phone,omitempty"`
	// Date of birth, not in the future.
	BirthDate graphql.Omittable[*time.Time] `json:"birthDate,omitempty"`
	// IBAN, checked with its checksum.
	Iban graphql.Omittable[*string] `json:"iban,omitempty"`
	// BSN, 9 digits passing the elfproef.
	Bsn graphql.Omittable[*string] `json:"bsn,omitempty"`
	// Marital status.
	MaritalStatus graphql.Omittable[*string] `json:"maritalStatus,omitempty"`
	// Household situation, at most 2000 characters.
	Household graphql.Omittable[*string] `json:"household,omitempty"`
	// Medical notes, at most 10000 characters.
	MedicalNotes graphql.Omittable[*string] `json:"medicalNotes,omitempty"`
}

// A new user of the caller's customer.
type CreateUserInput struct {
	// Login e-mail address, unique.
	Email string `json:"email"`
	// Full name, 1 to 200 characters.
	Name string `json:"name"`
	// The user's role.
	Role string `json:"role"`
}

// A confidentiality declaration.
type DeclarationInput struct {
	// The staff member.
	StaffID string `json:"staffId"`
	// When it was signed.
	SignedAt time.Time `json:"signedAt"`
	// When it lapses; after signedAt.
	ExpiresAt time.Time `json:"expiresAt"`
}

// The answer to submitInquiry. It says nothing about other inquiries.
type InquiryReceipt struct {
	// Whether the question was stored.
	Received bool `json:"received"`
	// What happens next.
	Message string `json:"message"`
}

// A phone call to log.
type LogBreachCallInput struct {
	// The breach.
	BreachID string `json:"breachId"`
	// The customer called.
	CustomerID string `json:"customerId"`
	// The contact person called: one of the customer's.
	ContactPersonID string `json:"contactPersonId"`
	// When; defaults to now.
	CalledAt graphql.Omittable[*time.Time] `json:"calledAt,omitempty"`
	// Whether the call reached the person.
	Reached bool `json:"reached"`
	// What was said or agreed.
	Outcome graphql.Omittable[*string] `json:"outcome,omitempty"`
}

// A processor to register.
type ProcessorInput struct {
	// Name, 1 to 200 characters.
	Name string `json:"name"`
	// Role.
	Role string `json:"role"`
	// Reference to the AVG declaration, 1 to 500 characters.
	DeclarationReference string `json:"declarationReference"`
	// The declaration's date.
	DeclarationDate time.Time `json:"declarationDate"`
}

// A support notice to publish.
type PublishSupportNoticeInput struct {
	// The subject, 1 to 200 characters.
	Title string `json:"title"`
	// The text, 1 to 20000 characters.
	Body string `json:"body"`
}

// A breach to record.
type RecordBreachInput struct {
	// What happened, 10 to 5000 characters.
	Description string `json:"description"`
	// When WvSoft discovered it; not in the future.
	DiscoveredAt time.Time `json:"discoveredAt"`
	// The categories of personal data concerned.
	Categories []string `json:"categories"`
	// Approximately how many persons.
	ApproximatePersons graphql.Omittable[*int] `json:"approximatePersons,omitempty"`
	// Approximately how many records.
	ApproximateRecords graphql.Omittable[*int] `json:"approximateRecords,omitempty"`
	// The likely consequences.
	Consequences graphql.Omittable[*string] `json:"consequences,omitempty"`
	// The measures taken or proposed.
	Measures graphql.Omittable[*string] `json:"measures,omitempty"`
	// The affected customers (at least one). Their admins and contact persons are e-mailed at once.
	CustomerIds []string `json:"customerIds"`
}

// A data-subject request to register.
type RegisterDataSubjectRequestInput struct {
	// The person or contact person it is about.
	SubjectID string `json:"subjectId"`
	// What is asked.
	Kind string `json:"kind"`
}

// The customer's report to the Autoriteit Persoonsgegevens.
type ReportBreachInput struct {
	// The breach.
	BreachID string `json:"breachId"`
	// When the customer reported; not in the future.
	ReportedAt time.Time `json:"reportedAt"`
	// The Autoriteit Persoonsgegevens' report number, 1 to 100 characters.
	ReportNumber string `json:"reportNumber"`
}

// A request for support access.
type RequestSupportAccessInput struct {
	// The customer whose data space the director needs.
	CustomerID string `json:"customerId"`
	// Why, such as a support ticket reference; 3 to 500 characters.
	Reason string `json:"reason"`
	// The types to open.
	Types []string `json:"types"`
	// Whether special categories are needed. Default false.
	SpecialCategories graphql.Omittable[*bool] `json:"specialCategories,omitempty"`
	// Whether writing is needed. Default false.
	Write graphql.Omittable[*bool] `json:"write,omitempty"`
	// How long, in minutes (1 to 10080; default 480, 8 hours).
	DurationMinutes graphql.Omittable[*int] `json:"durationMinutes,omitempty"`
}

// A website visitor's question.
type SubmitInquiryInput struct {
	// Name, 1 to 200 characters.
	Name string `json:"name"`
	// E-mail address for the answer.
	Email string `json:"email"`
	// The question, 1 to 5000 characters.
	Question string `json:"question"`
}

// Changes to a contact person. Omitted fields stay as they are.
type UpdateContactPersonInput struct {
	// The contact person's id.
	ID string `json:"id"`
	// Salutation.
	Salutation graphql.Omittable[*string] `json:"salutation,omitempty"`
	// Full name.
	Name graphql.Omittable[*string] `json:"name,omitempty"`
	// Role at the customer.
	Role graphql.Omittable[*string] `json:"role,omitempty"`
	// E-mail address.
	Email graphql.Omittable[*string] `json:"email,omitempty"`
	// Phone number.
	Phone graphql.Omittable[*string] `json:"phone,omitempty"`
}

// Changes to a customer. Omitted fields stay as they are; null clears a field where that is allowed.
type UpdateCustomerInput struct {
	// The customer's id.
	ID string `json:"id"`
	// Company name.
	Name graphql.Omittable[*string] `json:"name,omitempty"`
	// General e-mail address.
	Email graphql.Omittable[*string] `json:"email,omitempty"`
	// Phone number.
	Phone graphql.Omittable[*string] `json:"phone,omitempty"`
	// Street and house number.
	Street graphql.Omittable[*string] `json:"street,omitempty"`
	// Dutch postal code.
	PostalCode graphql.Omittable[*string] `json:"postalCode,omitempty"`
	// City.
	City graphql.Omittable[*string] `json:"city,omitempty"`
	// KvK number, 8 digits.
	KVKNumber graphql.Omittable[*string] `json:"kvkNumber,omitempty"`
	// IBAN.
	Iban graphql.Omittable[*string] `json:"iban,omitempty"`
	// End of the relationship.
	RelationshipEnd graphql.Omittable[*time.Time] `json:"relationshipEnd,omitempty"`
}

// Changes to a person. Omitted fields stay as they are; null clears a field.
type UpdatePersonInput struct {
	// The person's id.
	ID string `json:"id"`
	// Full name.
	Name graphql.Omittable[*string] `json:"name,omitempty"`
	// Street and house number.
	Street graphql.Omittable[*string] `json:"street,omitempty"`
	// Dutch postal code.
	PostalCode graphql.Omittable[*string] `json:"postalCode,omitempty"`
	// City.
	City graphql.Omittable[*string] `json:"city,omitempty"`
	// E-mail address.
	Email graphql.Omittable[*string] `json:"email,omitempty"`
	// Phone number.
	Phone graphql.Omittable[*string] `json:"phone,omitempty"`
	// Date of birth.
	BirthDate graphql.Omittable[*time.Time] `json:"birthDate,omitempty"`
	// IBAN.
	Iban graphql.Omittable[*string] `json:"iban,omitempty"`
	// BSN.
	Bsn graphql.Omittable[*string] `json:"bsn,omitempty"`
	// Marital status.
	MaritalStatus graphql.Omittable[*string] `json:"maritalStatus,omitempty"`
	// Household situation.
	Household graphql.Omittable[*string] `json:"household,omitempty"`
	// Medical notes.
	MedicalNotes graphql.Omittable[*string] `json:"medicalNotes,omitempty"`
}

// Changes to a user. Omitted fields stay as they are.
type UpdateUserInput struct {
	// The user's id.
	ID string `json:"id"`
	// Full name.
	Name graphql.Omittable[*string] `json:"name,omitempty"`
	// The user's role.
	Role graphql.Omittable[*string] `json:"role,omitempty"`
}
