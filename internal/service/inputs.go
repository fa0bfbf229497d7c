package service

// The payloads of the service's operations. The inputs are generated from schema.graphql into
// inputs_gen.go (make generate), with the checks of the inputs that write a @table type; gqlgen
// binds the schema's input objects of the same names to them (autobind in gqlgen.yml), so the
// GraphQL layer hands them over as decoded and the CLI builds them the same way.
// graphql.Omittable is gqlgen's "not given" versus "given as null": an update clears a field
// only when null is given.

import "github.com/wvsoft/privacy/internal/wvsoft"

// A new API key with its secret.
type CreateAPIKeyPayload struct {
	// The key.
	APIKey *wvsoft.APIKey `json:"apiKey,omitempty"`
	// The secret to send as `Authorization: Bearer <secret>`. Shown only here, once.
	Secret *string `json:"secret,omitempty"`
}

// The answer to submitInquiry. It says nothing about other inquiries.
type InquiryReceipt struct {
	// Whether the question was stored.
	Received bool `json:"received"`
	// What happens next.
	Message string `json:"message"`
}
