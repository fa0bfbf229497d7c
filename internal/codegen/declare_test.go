package main

import (
	"os"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// schemaWith is the repository's schema.graphql with edits applied (old → new, each once).
func schemaWith(t *testing.T, edits ...string) string {
	t.Helper()
	src, err := os.ReadFile("../../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for i := 0; i+1 < len(edits); i += 2 {
		if strings.Count(s, edits[i]) < 1 {
			t.Fatalf("schema.graphql has no %q", edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	return s
}

func loadSchema(src string) (*ast.Schema, error) {
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: src})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// The walk-through of adding a personal field to Person: the schema is the one hand edit
// besides the migration, a check of a new kind and a test. Every consumer of the declaration
// follows: the record and its columns, what a create records, the inputs and their checks, the
// Go table of declarations (the documents' label, the policy's category and purposes, the
// store's writable columns), the policy tests' copy of the schema and the policy README.
func TestANewFieldFollowsFromItsDeclaration(t *testing.T) {
	const field = `  "Nationality, as the person gave it."
  nationality: String @personal(category: IDENTITY, purposes: [SERVICE], label: "Nationaliteit") @check(kind: LINE, max: 100)
`
	src := schemaWith(t,
		"  \"When the person was registered.\"\n  createdAt: Time\n", field+"  \"When the person was registered.\"\n  createdAt: Time\n",
		"input CreatePersonInput {\n", "input CreatePersonInput {\n  \"Nationality.\"\n  nationality: String\n",
		"input UpdatePersonInput {\n", "input UpdatePersonInput {\n  \"Nationality.\"\n  nationality: String\n",
	)
	schema, err := loadSchema(src)
	if err != nil {
		t.Fatal(err)
	}
	d, err := readDeclarations(schema)
	if err != nil {
		t.Fatal(err)
	}
	wv, err := d.wvsoftSource()
	if err != nil {
		t.Fatal(err)
	}
	in, err := d.inputsSource()
	if err != nil {
		t.Fatal(err)
	}
	rego, err := d.regoFixture()
	if err != nil {
		t.Fatal(err)
	}
	scan, err := d.scanSource()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../policy/README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := d.withCategoryTables(readme)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ where, src, want string }{
		{"the record", string(wv), "Nationality *string `db:\"nationality\"`"},
		{"the column list", string(wv), "household, medical_notes, nationality, created_at"},
		{"what a create records", string(wv), "if r.Nationality != nil {\n\t\tout = append(out, \"nationality\")"},
		{"the Go table", string(wv), `FieldDeclaration{Type: "Person", Field: "nationality", Column: "nationality", Category: "IDENTITY", Purposes: []string{"SERVICE"}, Label: "Nationaliteit", Check: "LINE", Max: 100, Updatable: true}`},
		{"the create input", string(in), "Nationality graphql.Omittable[*string] `json:\"nationality,omitempty\"`"},
		{"the create check", string(in), `r.Nationality = in.optional("input.nationality", input.Nationality, checkOf("LINE", 100), false)`},
		{"the update check", string(in), `in.optional("input.nationality", input.Nationality, checkOf("LINE", 100), false)`},
		{"the store's scanner", string(scan), "s.text[11] = optionalText{dst: &row.record.Nationality, slot: &row.text[11]}"},
		{"the policy tests' copy", string(rego), `"nationality": {"category": "IDENTITY", "purposes": ["SERVICE"]}`},
		{"the policy README", string(doc), "`Person.name`, `Person.nationality`"},
	} {
		if !strings.Contains(c.src, c.want) {
			t.Errorf("%s does not follow: no %q", c.where, c.want)
		}
	}
}

// A declaration that the consumers cannot follow fails generation, naming the field, rather
// than leaving a consumer behind.
func TestADeclarationThatCannotBeFollowedFailsLoudly(t *testing.T) {
	for _, c := range []struct {
		name  string
		edits []string
		want  string
	}{
		{"a checked field that no input writes",
			[]string{"  \"When the person was registered.\"\n", "  \"Nationality.\"\n  nationality: String @check(kind: LINE, max: 100)\n  \"When the person was registered.\"\n"},
			"Person.nationality declares @check, but neither CreatePersonInput nor UpdatePersonInput has the field"},
		{"an input field without a check",
			[]string{"  \"When the person was registered.\"\n", "  \"Nationality.\"\n  nationality: String\n  \"When the person was registered.\"\n",
				"input UpdatePersonInput {\n", "input UpdatePersonInput {\n  \"Nationality.\"\n  nationality: String\n"},
			"Person.nationality is written by UpdatePersonInput but declares no @check"},
		{"a length check without its length",
			[]string{"@check(kind: LINE, max: 100)", "@check(kind: LINE)"},
			"Person.city: @check(kind: LINE) takes max only for LINE and TEXT, and there needs it"},
		{"a column of a scalar the record cannot hold",
			[]string{"  \"When the person was registered.\"\n", "  \"A photo.\"\n  photo: Blob\n  \"When the person was registered.\"\n",
				"\"The AVG data categories.", "\"Bytes.\"\nscalar Blob\n\n\"The AVG data categories."},
			"Person.photo: Blob is not a scalar or enum this generator maps (mark it @computed if it is not a column)"},
		{"an input that differs from its field",
			[]string{"input UpdatePersonInput {\n  \"The person's id.\"\n  id: ID!\n  \"Full name.\"\n  name: String\n", "input UpdatePersonInput {\n  \"The person's id.\"\n  id: ID!\n  \"Full name.\"\n  name: Int\n"},
			"Person.name: the type of UpdatePersonInput.name differs from the field's"},
	} {
		t.Run(c.name, func(t *testing.T) {
			schema, err := loadSchema(schemaWith(t, c.edits...))
			if err != nil {
				t.Fatal(err)
			}
			_, err = readDeclarations(schema)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	t.Run("a personal field without its label", func(t *testing.T) {
		_, err := loadSchema(schemaWith(t, `purposes: [SERVICE], label: "Postcode")`, `purposes: [SERVICE])`))
		if err == nil || !strings.Contains(err.Error(), "Argument label for directive personal cannot be null") {
			t.Fatalf("error %v", err)
		}
	})
}

// The generated files are what the schema declares now (make check-generated checks all of
// them; this names the declaration file on its own).
func TestDeclarationsAreGenerated(t *testing.T) {
	src, err := os.ReadFile("../../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := loadSchema(string(src))
	if err != nil {
		t.Fatal(err)
	}
	d, err := readDeclarations(schema)
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.wvsoftSource()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../" + declarationsFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from what schema.graphql declares: run make generate", declarationsFile)
	}
}
