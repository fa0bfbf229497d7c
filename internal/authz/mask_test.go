package authz

import "testing"

func TestMaskIBAN(t *testing.T) {
	for in, want := range map[string]string{
		"NL91ABNA0417164300":       "NL** **** **** **43 00",
		"NL91 ABNA 0417 1643 00":   "NL** **** **** **43 00",
		"DE89370400440532013000":   "DE** **** **** **** **30 00",
		"NL91A4300":                "NL** *430 0",
		" N L 9 1 A B N A 4 3 0 0": "NL** **** 4300",
		"NL9100":                   "NL91 00",
		"NL910":                    "****",
		"":                         "****",
		"      ":                   "****",
	} {
		if got := maskIBAN(in); got != want {
			t.Errorf("maskIBAN(%q) = %q, want %q", in, got, want)
		}
	}
}
