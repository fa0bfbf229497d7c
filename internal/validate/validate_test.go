package validate

import "testing"

func TestValidators(t *testing.T) {
	cases := []struct {
		name  string
		check func(string) (string, error)
		in    string
		want  string // "" means the input must be rejected
	}{
		{"iban ok", IBAN, "NL91 ABNA 0417 1643 00", "NL91ABNA0417164300"},
		{"iban lower case", IBAN, "nl91abna0417164300", "NL91ABNA0417164300"},
		{"iban bad checksum", IBAN, "NL92ABNA0417164300", ""},
		{"iban too short", IBAN, "NL91ABNA", ""},
		{"iban symbols", IBAN, "NL91ABNA04171643!0", ""},
		{"iban german", IBAN, "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"},
		{"kvk ok", KvK, "12345678", "12345678"},
		{"kvk 7 digits", KvK, "1234567", ""},
		{"kvk letters", KvK, "1234567a", ""},
		{"bsn ok", BSN, "111222333", "111222333"},
		{"bsn 8 digits", BSN, "11222333", ""},
		{"bsn elfproef fails", BSN, "123456789", ""},
		{"bsn zeros", BSN, "000000000", ""},
		{"email ok", Email, "Jan@Example.NL", "Jan@example.nl"},
		{"email no domain dot", Email, "jan@example", ""},
		{"email display name", Email, "Jan <jan@example.nl>", ""},
		{"phone ok", Phone, "+31 20 123 4567", "+31 20 123 4567"},
		{"phone local", Phone, "020-1234567", "020-1234567"},
		{"phone short", Phone, "12345", ""},
		{"phone letters", Phone, "020-CALLME", ""},
		{"postcode ok", PostalCode, "1234ab", "1234 AB"},
		{"postcode leading zero", PostalCode, "0123 AB", ""},
		{"slug ok", Slug, "bakkerij-de-vries", "bakkerij-de-vries"},
		{"slug upper", Slug, "Bakkerij", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.check(c.in)
			if c.want == "" {
				if err == nil {
					t.Fatalf("accepted %q as %q", c.in, got)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestIBANCheckDigitsMakesValidIBAN(t *testing.T) {
	bban := "WVSO0123456789"
	iban := "NL" + IBANCheckDigits("NL", bban) + bban
	if _, err := IBAN(iban); err != nil {
		t.Fatalf("%s: %v", iban, err)
	}
}

func TestText(t *testing.T) {
	if _, err := Text("  ", 1, 10); err == nil {
		t.Fatal("empty accepted")
	}
	if _, err := Text("abcdefghijk", 1, 10); err == nil {
		t.Fatal("too long accepted")
	}
	if _, err := Text("a\x00b", 1, 10); err == nil {
		t.Fatal("control character accepted")
	}
	if got, err := Text(" Jan ", 1, 10); err != nil || got != "Jan" {
		t.Fatalf("got %q %v", got, err)
	}
}
