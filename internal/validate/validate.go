// Package validate checks input values of the Dutch kinds this backend keeps: IBAN, KvK number,
// BSN, postal code, phone number and e-mail address. Each function returns the value in its
// canonical form, or an error message that is safe to show.
package validate

import (
	"errors"
	"math/big"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	errIBAN     = errors.New("not a valid IBAN (country code, check digits and account number; the checksum must match)")
	errKvK      = errors.New("not a valid KvK number (8 digits)")
	errBSN      = errors.New("not a valid BSN (9 digits that pass the elfproef)")
	errEmail    = errors.New("not a valid e-mail address")
	errPhone    = errors.New("not a valid phone number (digits, spaces, dashes, an optional leading +; 10 to 15 digits)")
	errPostcode = errors.New("not a valid Dutch postal code (such as 1234 AB)")
	errSlug     = errors.New("must be 3 to 63 lower-case letters, digits or dashes, starting with a letter")
)

// IBAN normalises an IBAN (upper case, no spaces) and checks its ISO 13616 checksum.
func IBAN(s string) (string, error) {
	iban := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(iban) < 15 || len(iban) > 34 {
		return "", errIBAN
	}
	for i, r := range iban {
		isLetter := r >= 'A' && r <= 'Z'
		isDigit := r >= '0' && r <= '9'
		if (i < 2 && !isLetter) || (i >= 2 && i < 4 && !isDigit) || (!isLetter && !isDigit) {
			return "", errIBAN
		}
	}
	if iban[:2] == "NL" && (len(iban) != 18 || !isDigits(iban[8:])) {
		return "", errIBAN
	}
	if ibanMod97(iban) != 1 {
		return "", errIBAN
	}
	return iban, nil
}

// IBANCheckDigits returns the two check digits that make country+"00"+bban a valid IBAN;
// the demo data uses it to make IBANs that are valid but not real.
func IBANCheckDigits(country, bban string) string {
	d := 98 - ibanMod97(country+"00"+bban)
	return string([]byte{byte('0' + d/10), byte('0' + d%10)})
}

func ibanMod97(iban string) int {
	rearranged := iban[4:] + iban[:4]
	var digits strings.Builder
	for _, r := range rearranged {
		if r >= 'A' && r <= 'Z' {
			digits.WriteString(big.NewInt(int64(r - 'A' + 10)).String())
		} else {
			digits.WriteRune(r)
		}
	}
	mod := 0
	for _, r := range digits.String() {
		mod = (mod*10 + int(r-'0')) % 97
	}
	return mod
}

// KvK checks a Chamber of Commerce number: exactly 8 digits.
func KvK(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) != 8 || !isDigits(s) {
		return "", errKvK
	}
	return s, nil
}

// BSN checks a citizen service number with the elfproef: 9 digits d1..d9 with
// 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11 and not all zero.
func BSN(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) == 8 && isDigits(s) {
		s = "0" + s // an 8-digit BSN is written without its leading zero
	}
	if len(s) != 9 || !isDigits(s) || s == "000000000" {
		return "", errBSN
	}
	if BSNSum(s)%11 != 0 {
		return "", errBSN
	}
	return s, nil
}

// BSNSum is the weighted elfproef sum of a 9-digit string.
func BSNSum(s string) int {
	sum := 0
	for i := 0; i < 8; i++ {
		sum += (9 - i) * int(s[i]-'0')
	}
	return sum - int(s[8]-'0')
}

// Email checks a bare e-mail address (no display name) and lower-cases its domain.
func Email(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 254 {
		return "", errEmail
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", errEmail
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", errEmail
	}
	return local + "@" + strings.ToLower(domain), nil
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ()-]*[0-9]$`)

// Phone checks a phone number: digits with optional spaces, dashes and parentheses, an optional
// leading +, and 10 to 15 digits in all.
func Phone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 32 || !phonePattern.MatchString(s) {
		return "", errPhone
	}
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	if n < 10 || n > 15 {
		return "", errPhone
	}
	return s, nil
}

var postcodePattern = regexp.MustCompile(`^[1-9][0-9]{3} ?[A-Z]{2}$`)

// PostalCode checks a Dutch postal code and writes it as "1234 AB".
func PostalCode(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if !postcodePattern.MatchString(s) {
		return "", errPostcode
	}
	return s[:4] + " " + strings.TrimSpace(s[4:]), nil
}

var slugPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{2,62}$`)

// Slug checks a customer's short name.
func Slug(s string) (string, error) {
	if !slugPattern.MatchString(s) {
		return "", errSlug
	}
	return s, nil
}

// Text trims s and checks that it has between min and max characters and no control characters
// other than newlines and tabs.
func Text(s string, min, max int) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) {
		return "", errors.New("is not valid UTF-8")
	}
	if n < min {
		if min == 1 {
			return "", errors.New("must not be empty")
		}
		return "", errors.New("is too short")
	}
	if n > max {
		return "", errors.New("is too long (at most " + itoa(max) + " characters)")
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return "", errors.New("contains control characters")
		}
	}
	return s, nil
}

// Line checks text of one line, such as a name or a street, of min to max characters: Text
// without line breaks or tabs, so that it cannot start a new line in a document, a mail or a log.
func Line(s string, min, max int) (string, error) {
	s, err := Text(s, min, max)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "\n\t\u2028\u2029\u0085") {
		return "", errors.New("must be one line (no line breaks or tabs)")
	}
	return s, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }
