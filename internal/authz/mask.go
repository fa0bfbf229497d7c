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

// applyMask masks a string field's value; any other kind of value cannot be masked.
func applyMask(kind string, v any) (any, bool) {
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
// NL91ABNA0417164300 becomes "NL** **** **** **43 00".
func maskIBAN(iban string) string {
	compact := strings.ReplaceAll(iban, " ", "")
	if len(compact) < 6 {
		return "****"
	}
	b := []byte(compact)
	for i := 2; i < len(b)-4; i++ {
		b[i] = '*'
	}
	var out strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out.WriteByte(' ')
		}
		out.WriteByte(c)
	}
	return out.String()
}
