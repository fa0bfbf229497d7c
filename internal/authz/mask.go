package authz

import "strings"

// masker returns the masking a policy names. A mask the server does not know denies.
func masker(kind string) (func(string) string, bool) {
	switch kind {
	case "iban":
		return maskIBAN, true
	case "redact":
		return func(string) string { return "****" }, true
	}
	return nil, false
}

// ApplyMask masks a string field's value; any other kind of value cannot be masked.
func ApplyMask(kind string, v any) (any, bool) {
	m, ok := masker(kind)
	if !ok {
		return nil, false
	}
	switch s := v.(type) {
	case *string:
		if s == nil {
			return s, true
		}
		out := m(*s)
		return &out, true
	case string:
		return m(s), true
	}
	return nil, false
}

// maskIBAN keeps the country code and the last four characters, in groups of four:
// NL91ABNA0417164300 becomes "NL** **** **** **43 00". It makes one string: a page of 1,000
// persons masks 1,000 IBANs.
func maskIBAN(iban string) string {
	n := len(iban) - strings.Count(iban, " ")
	if n < 6 {
		return "****"
	}
	out := make([]byte, 0, n+n/4)
	i := 0 // position in the IBAN without its spaces
	for k := 0; k < len(iban); k++ {
		c := iban[k]
		if c == ' ' {
			continue
		}
		if i > 0 && i%4 == 0 {
			out = append(out, ' ')
		}
		if i >= 2 && i < n-4 {
			c = '*'
		}
		out = append(out, c)
		i++
	}
	return string(out)
}
