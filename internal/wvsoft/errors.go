package wvsoft

import (
	"errors"
	"fmt"
)

// Error codes. They travel to clients as GraphQL extensions.code, so they are part of the API.
const (
	EINVALID         = "BAD_USER_INPUT"
	EUNAUTHENTICATED = "UNAUTHENTICATED"
	EFORBIDDEN       = "FORBIDDEN"
	ENOTFOUND        = "NOT_FOUND"
	ECONFLICT        = "CONFLICT"
	EUNAVAILABLE     = "UNAVAILABLE"
	ERATELIMITED     = "RATE_LIMITED"
	EINTERNAL        = "INTERNAL"
)

// Error is an error whose code and message are safe to show to a client. Every other error is
// internal: clients see only "internal error" and the log keeps the detail.
type Error struct {
	Code    string
	Message string
	// Field names the offending input field, as a GraphQL path below the arguments
	// ("input.iban"), when there is one.
	Field string
	// Extensions are further safe facts for the client, such as retryAfterSeconds of a
	// RATE_LIMITED refusal; they join the code in the GraphQL error's extensions. When they hold
	// "code" (equal to Code) they are complete and are shown as they are, shared read-only by
	// every response that shows this error: made once, never changed after.
	Extensions map[string]any
}

// Error is the code and message; gqlgen asks for it once per error it wraps, so it is plain
// concatenation.
func (e *Error) Error() string {
	if e.Field != "" {
		return e.Code + ": " + e.Message + " (" + e.Field + ")"
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a BAD_USER_INPUT error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf(format, args...), Field: field}
}

// OnField names field as the offending input of err when err is a refusal of the input that
// does not name one yet, such as the store's answer that a referenced customer does not exist:
// the store knows the reference, the caller knows which input field carried it.
func OnField(err error, field string) error {
	var e *Error
	if !errors.As(err, &e) || e.Field != "" || (e.Code != EINVALID && e.Code != ENOTFOUND) {
		return err
	}
	named := *e
	named.Field = field
	return &named
}

// NotFound is what a caller sees for an object that does not exist and for one it may not see:
// the two must be indistinguishable.
func NotFound(what string) *Error {
	return &Error{Code: ENOTFOUND, Message: what + " not found"}
}

// ErrorCode returns the code of err, or EINTERNAL when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
