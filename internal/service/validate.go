package service

import (
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/wvsoft/privacy/internal/validate"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// check validates and normalises one input value; its error message is shown to the client.
type check func(string) (string, error)

// text checks free text of 1 to max characters.
func text(max int) check { return func(s string) (string, error) { return validate.Text(s, 1, max) } }

// line checks one line of 1 to max characters: a name, a street, a title.
func line(max int) check { return func(s string) (string, error) { return validate.Line(s, 1, max) } }

// oneOf accepts values the schema already validated (enums).
func oneOf(s string) (string, error) { return s, nil }

// inputs validates the fields of one input object and collects the changes they make. The first
// invalid field is reported with its path ("input.iban").
type inputs struct {
	changes wvsoft.Changes
	err     error
	// given lists the input fields the client set, by their GraphQL names: what the policy
	// decides for writing (authz.Store).
	given []string
}

// note records that the client set the input field at path ("input.iban").
func (in *inputs) note(path string) {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	in.given = append(in.given, path)
}

func (in *inputs) fail(field string, err error) {
	if in.err == nil {
		in.err = wvsoft.Invalid(field, "%s %s", field, err.Error())
	}
}

// required validates a required string.
func (in *inputs) required(field, v string, c check) *string {
	in.note(field)
	s, err := c(v)
	if err != nil {
		in.fail(field, err)
		return nil
	}
	in.change(field, s)
	return &s
}

// change records that the input field at path ("input.postalCode") sets its object's field.
func (in *inputs) change(path string, v any) {
	in.changes = append(in.changes, wvsoft.Change{Field: path[strings.LastIndexByte(path, '.')+1:], Value: v})
}

// optional validates an optional string. Given as null, it clears the column, unless the column
// must have a value (mandatory).
func (in *inputs) optional(field string, o graphql.Omittable[*string], c check, mandatory bool) *string {
	v, given := o.ValueOK()
	if !given {
		return nil
	}
	if v == nil {
		in.note(field)
		if mandatory {
			in.fail(field, errCannotClear)
			return nil
		}
		in.change(field, nil)
		return nil
	}
	return in.required(field, *v, c)
}

// date validates an optional date; past requires it not to lie in the future.
func (in *inputs) date(field string, o graphql.Omittable[*time.Time], now time.Time, past bool) *time.Time {
	v, given := o.ValueOK()
	if !given {
		return nil
	}
	in.note(field)
	if v != nil && past && v.After(now) {
		in.fail(field, errFuture)
		return nil
	}
	if v != nil && v.Year() < 1900 {
		in.fail(field, errTooOld)
		return nil
	}
	var value any
	if v != nil {
		value = *v
	}
	in.change(field, value)
	return v
}

// flag reads an optional boolean with a default.
func flag(o graphql.Omittable[*bool], def bool) bool {
	if v, given := o.ValueOK(); given && v != nil {
		return *v
	}
	return def
}

type inputError string

func (e inputError) Error() string { return string(e) }

const (
	errCannotClear = inputError("cannot be cleared")
	errFuture      = inputError("must not lie in the future")
	errTooOld      = inputError("must not lie before 1900")
	errTooShort    = inputError("is too short")
	// errUnknownCheck: a @check kind without a case in checkOf, which a test rules out.
	errUnknownCheck = inputError("cannot be checked")
)

// checkOf is the check of a @check kind (ValueCheck in schema.graphql); max is its length for
// LINE and TEXT. The generated checks of the inputs call it; a kind without a case here is a
// programming error that TestEveryValueCheckHasACheck finds.
func checkOf(kind string, max int) check {
	switch kind {
	case "LINE":
		return line(max)
	case "TEXT":
		return text(max)
	case "EMAIL":
		return validate.Email
	case "PHONE":
		return validate.Phone
	case "POSTAL_CODE":
		return validate.PostalCode
	case "IBAN":
		return validate.IBAN
	case "BSN":
		return validate.BSN
	case "KVK":
		return validate.KvK
	case "ENUM":
		return oneOf
	}
	return func(string) (string, error) { return "", errUnknownCheck }
}
