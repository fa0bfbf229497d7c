package validate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// validators are every check of this package by name, Text as clients meet it (1 to 200).
var validators = map[string]func(string) (string, error){
	"IBAN": IBAN, "KvK": KvK, "BSN": BSN, "Email": Email, "Phone": Phone, "PostalCode": PostalCode, "Slug": Slug,
	"Text": func(s string) (string, error) { return Text(s, 1, 200) },
}

// messages are all a client may read of a refusal: fixed texts, never the input.
var messages = map[string]bool{
	errIBAN.Error(): true, errKvK.Error(): true, errBSN.Error(): true, errEmail.Error(): true,
	errPhone.Error(): true, errPostcode.Error(): true, errSlug.Error(): true,
	"is not valid UTF-8": true, "must not be empty": true, "is too short": true,
	"is too long (at most 200 characters)": true, "contains control characters": true,
}

// The validators take any string from a client. They never panic; what they accept is valid
// UTF-8, within its length, and canonical (accepted again unchanged); what they refuse is
// refused with one of a few fixed messages.
func FuzzValidators(f *testing.F) {
	for _, seed := range []string{
		"NL91 ABNA 0417 1643 00", "nl91abna0417164300", "DE89 3704 0044 0532 0130 00", "NL00ABNA0123456789",
		"12345678", "111222333", "11222333", "000000000", "123456789",
		"Jan@Example.NL", "jan@example", "Jan <jan@example.nl>", "\"quoted local\"@example.nl", "jan@[127.0.0.1]",
		"+31 20 123 4567", "020-1234567", "(020) 123-4567", "1234ab", "0123 AB", "bakkerij-de-vries", "Bakkerij",
		" Jan ", "a\x00b", "\xff\xfe", "ǅ", strings.Repeat("9", 40), strings.Repeat("é", 201), "",
	} {
		for name := range validators {
			f.Add(name, seed)
		}
	}
	f.Fuzz(func(t *testing.T, name, in string) {
		check, ok := validators[name]
		if !ok {
			return
		}
		out, err := check(in)
		if err != nil {
			if out != "" {
				t.Fatalf("%s(%q) refused, yet returned %q", name, in, out)
			}
			if !messages[err.Error()] {
				t.Fatalf("%s(%q): the message %q is none of the fixed ones", name, in, err.Error())
			}
			return
		}
		if !utf8.ValidString(out) || out == "" {
			t.Fatalf("%s(%q) accepted as %q", name, in, out)
		}
		if name != "Text" && len(out) > 254 {
			t.Fatalf("%s(%q) accepted %d bytes", name, in, len(out))
		}
		again, err := check(out)
		if err != nil || again != out {
			t.Fatalf("%s(%q) = %q, which is not canonical: %q %v", name, in, out, again, err)
		}
	})
}
