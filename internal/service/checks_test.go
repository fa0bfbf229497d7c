package service

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every kind of @check that schema.graphql declares (enum ValueCheck) has its check in checkOf:
// a kind added to the schema without one would refuse every value as "cannot be checked".
// PAST_DATE is the check of a date (inputs.date), which the generated code calls instead.
func TestEveryValueCheckHasACheck(t *testing.T) {
	src, err := os.ReadFile("../../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?s)\nenum ValueCheck \{(.*?)\n\}`).FindSubmatch(src)
	if body == nil {
		t.Fatal("schema.graphql has no enum ValueCheck")
	}
	kinds := regexp.MustCompile(`(?m)^\s+([A-Z_]+)\s*$`).FindAllStringSubmatch(string(body[1]), -1)
	if len(kinds) < 5 {
		t.Fatalf("only %d kinds found", len(kinds))
	}
	for _, k := range kinds {
		kind := k[1]
		if kind == "PAST_DATE" {
			continue
		}
		if _, err := checkOf(kind, 10)(strings.Repeat("x", 3)); errors.Is(err, errUnknownCheck) {
			t.Errorf("ValueCheck %s has no check in checkOf", kind)
		}
	}
	if _, err := checkOf("NO_SUCH_KIND", 10)("x"); !errors.Is(err, errUnknownCheck) {
		t.Errorf("an unknown kind is checked: %v", err)
	}
}
