package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/validate"
)

// seedNamespace makes the demo data's ids deterministic, so that seeding twice changes nothing.
var seedNamespace = uuid.MustParse("6f1c1d8e-4b8a-4c55-9d1e-7a2f0c9b5e10")

// DemoCustomers are the slugs of the demo customers.
var DemoCustomers = []string{"bakkerij-de-vries", "jansen-installatie"}

// DemoStaff are the e-mail addresses and roles of the demo staff.
var DemoStaff = [][2]string{
	{"director@wvsoft.example", "DIRECTOR"},
	{"support@wvsoft.example", "SUPPORT"},
	{"billing@wvsoft.example", "BILLING"},
	{"accountant@wvsoft.example", "ACCOUNTANT"},
}

// DemoLogins are the demo data's login addresses and roles: each demo customer's admin and
// member, then the staff. `make run` prints a token for each; the development playground
// offers them (GET /playground/identities.json).
func DemoLogins() [][2]string {
	var out [][2]string
	for _, slug := range DemoCustomers {
		out = append(out, [2]string{"admin@" + slug + ".example", "ADMIN"}, [2]string{"member@" + slug + ".example", "MEMBER"})
	}
	return append(out, DemoStaff...)
}

// DemoPersonsPerCustomer is the size of each demo data space.
const DemoPersonsPerCustomer = 200

// SeedID returns the deterministic id of a demo object.
func SeedID(parts ...string) uuid.UUID {
	name := ""
	for _, p := range parts {
		name += "/" + p
	}
	return uuid.NewSHA1(seedNamespace, []byte(name))
}

// Seed writes the demo data as the owner of the database at ownerURL, with BSNs and medical
// notes encrypted under keys. It is idempotent: what exists already is left as it is.
func Seed(ctx context.Context, ownerURL string, now time.Time, keys *Keyring) error {
	return asOwner(ctx, ownerURL, func(tx *sql.Tx) error {

		companies := []struct{ name, street, postcode, city, kvk string }{
			{"Bakkerij De Vries B.V.", "Dorpsstraat 12", "3511 AB", "Utrecht", "30123456"},
			{"Jansen Installatietechniek", "Industrieweg 4", "7411 KL", "Deventer", "08765432"},
		}
		for i, slug := range DemoCustomers {
			c := companies[i]
			tenant := SeedID("customer", slug)
			rng := rand.New(rand.NewPCG(uint64(i+1), 2018))
			if _, err := tx.ExecContext(ctx, `INSERT INTO customers (tenant_id, slug, name, email, phone, street, postal_code,
			city, kvk_number, iban, relationship_start) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
			ON CONFLICT (tenant_id) DO NOTHING`,
				tenant, slug, c.name, "info@"+slug+".example", fakePhone(rng), c.street, c.postcode, c.city, c.kvk,
				fakeIBAN(rng), now.AddDate(-3, 0, 0).Format("2006-01-02")); err != nil {
				return fmt.Errorf("seed customer: %w", err)
			}
			for _, role := range []string{"admin", "member"} {
				email := role + "@" + slug + ".example"
				if _, err := tx.ExecContext(ctx, `INSERT INTO users (tenant_id, id, email, name, role)
				VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`,
					tenant, SeedID("user", email), email, fakeName(rng), map[string]string{"admin": "ADMIN", "member": "MEMBER"}[role]); err != nil {
					return fmt.Errorf("seed user: %w", err)
				}
			}
			contacts := []struct{ salutation, role string }{{"DHR", "OWNER"}, {"MW", "DIRECTOR"}, {"MW", "CONTACT"}}
			for j, cp := range contacts {
				name := fakeName(rng)
				if _, err := tx.ExecContext(ctx, `INSERT INTO contact_persons (tenant_id, id, salutation, name, role, email, phone)
				VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING`,
					tenant, SeedID("contact", slug, fmt.Sprint(j)), cp.salutation, name, cp.role,
					fmt.Sprintf("contact%d@%s.example", j+1, slug), fakePhone(rng)); err != nil {
					return fmt.Errorf("seed contact person: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO consent_events (tenant_id, id, event, basis, evidence, at, actor_kind)
			VALUES ($1, $2, 'GIVEN', 'LICENCE_AGREEMENT', $3, $4, 'SYSTEM') ON CONFLICT DO NOTHING`,
				tenant, SeedID("consent", slug), "licentieovereenkomst "+slug, now.AddDate(-3, 0, 0)); err != nil {
				return fmt.Errorf("seed consent: %w", err)
			}
			var have int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM persons WHERE tenant_id = $1`, tenant).Scan(&have); err != nil {
				return err
			}
			if have == 0 {
				if err := copyPersons(ctx, tx, keys, tenant, DemoPersonsPerCustomer, rng, now); err != nil {
					return fmt.Errorf("seed persons: %w", err)
				}
			}
		}
		for _, s := range DemoStaff {
			if _, err := tx.ExecContext(ctx, `INSERT INTO staff_members (id, email, name, role, declaration_signed_at,
			declaration_expires_at) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING`,
				SeedID("staff", s[0]), s[0], "WvSoft "+s[1], s[1], now.AddDate(0, -1, 0), now.AddDate(1, 0, 0)); err != nil {
				return fmt.Errorf("seed staff: %w", err)
			}
		}
		for _, p := range [][3]string{
			{"Worldstream", "HOSTING_PROVIDER", "Worldstream privacy statement (AVG)"},
			{"Website host", "WEBSITE_HOST", "verwerkersovereenkomst website"},
		} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO processors (id, name, role, declaration_reference, declaration_date, created_at)
			VALUES ($1,$2,$3,$4,'2018-05-25',$5) ON CONFLICT DO NOTHING`, SeedID("processor", p[0]), p[0], p[1], p[2], now); err != nil {
				return fmt.Errorf("seed processors: %w", err)
			}
		}
		return nil
	})
}

// SeedPersons adds n generated persons to a customer's data space, for benchmarks and tests
// that need a large one. The generator is seeded with seed, so runs are repeatable.
func SeedPersons(ctx context.Context, ownerURL string, tenant uuid.UUID, n int, seed uint64, now time.Time, keys *Keyring) error {
	return asOwner(ctx, ownerURL, func(tx *sql.Tx) error {
		if err := copyPersons(ctx, tx, keys, tenant, n, rand.New(rand.NewPCG(seed, 2018)), now); err != nil {
			return err
		}
		return nil
	})
}

// SeedCustomers adds n generated customers with three contact persons each, for benchmarks of
// the register. Their slugs are generated-customer-NNN; seeding twice adds nothing.
func SeedCustomers(ctx context.Context, ownerURL string, n int, now time.Time) error {
	return asOwner(ctx, ownerURL, func(tx *sql.Tx) error {
		rng := rand.New(rand.NewPCG(uint64(n), 2018))
		for i := 0; i < n; i++ {
			slug := fmt.Sprintf("generated-customer-%03d", i)
			tenant := SeedID("customer", slug)
			if _, err := tx.ExecContext(ctx, `INSERT INTO customers (tenant_id, slug, name, email, phone, kvk_number, iban,
			relationship_start) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING`,
				tenant, slug, fmt.Sprintf("Klant %03d B.V.", i), "info@"+slug+".example", fakePhone(rng),
				fmt.Sprintf("%08d", rng.IntN(1e8)), fakeIBAN(rng), now.AddDate(-1, 0, 0).Format("2006-01-02")); err != nil {
				return err
			}
			for j, salutation := range []string{"DHR", "MW", "MW"} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO contact_persons (tenant_id, id, salutation, name, role, email, phone)
				VALUES ($1,$2,$3,$4,'CONTACT',$5,$6) ON CONFLICT DO NOTHING`, tenant, SeedID("contact", slug, fmt.Sprint(j)),
					salutation, fakeName(rng), fmt.Sprintf("contact%d@%s.example", j+1, slug), fakePhone(rng)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// asOwner runs fn in one transaction on the database at ownerURL, as its owner: the seed and
// bulk loads write below row-level security. The lookup tables are filled before it commits.
func asOwner(ctx context.Context, ownerURL string, fn func(tx *sql.Tx) error) error {
	db, err := sql.Open("postgres", ownerURL)
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	// What the owner wrote directly reaches the lookup tables (migration 00009) in the same
	// transaction, as the server's own writes do.
	if _, err := tx.ExecContext(ctx, `SELECT wvsoft_fill_lookups()`); err != nil {
		return err
	}
	return tx.Commit()
}

// Analyze refreshes the planner's statistics after a bulk load and settles the loaded rows (for
// benchmarks: the data is as a long-running database would have it).
func Analyze(ctx context.Context, ownerURL string) error {
	db, err := sql.Open("postgres", ownerURL)
	if err != nil {
		return err
	}
	defer db.Close()
	// VACUUM sets the visibility map and hint bits of the rows just loaded, and CHECKPOINT
	// writes them out, so that no benchmark that follows pays for that work (the first one did:
	// its "off" mode ran 40% slower than the same query a minute later).
	for _, q := range []string{`VACUUM (ANALYZE)`, `CHECKPOINT`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// copyPersons streams n plausible Dutch persons into the data space with COPY, encrypting what
// the store keeps encrypted.
func copyPersons(ctx context.Context, tx *sql.Tx, keys *Keyring, tenant uuid.UUID, n int, rng *rand.Rand, now time.Time) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("persons", "tenant_id", "id", "name", "street", "postal_code",
		"city", "email", "phone", "birth_date", "iban", "bsn", "marital_status", "household", "medical_notes"))
	if err != nil {
		return err
	}
	statuses := []string{"UNMARRIED", "MARRIED", "REGISTERED_PARTNERSHIP", "DIVORCED", "WIDOWED"}
	households := []string{"alleenstaand", "samenwonend, twee kinderen", "gehuwd, geen kinderen", "eenoudergezin, één kind", "inwonend bij ouders"}
	notes := []string{"", "", "allergie voor noten", "diabetes type 2", "rugklachten, aangepaste werkplek", ""}
	for i := 0; i < n; i++ {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		city := cities[rng.IntN(len(cities))]
		var medical any
		if note := notes[rng.IntN(len(notes))]; note != "" {
			medical = note
		}
		birth := now.AddDate(-18-rng.IntN(60), -rng.IntN(12), -rng.IntN(28)).Format("2006-01-02")
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		// In the order of the columns, so that the generator gives the same persons as before
		// the BSN and notes were encrypted.
		street := fmt.Sprintf("%s %d", streets[rng.IntN(len(streets))], 1+rng.IntN(200))
		postcode := fmt.Sprintf("%d %c%c", city.postcode+rng.IntN(90), 'A'+rng.IntN(26), 'A'+rng.IntN(26))
		phone, iban, bsn := fakePhone(rng), fakeIBAN(rng), fakeBSN(rng)
		status, household := statuses[rng.IntN(len(statuses))], households[rng.IntN(len(households))]
		sealedBSN, err := keys.seal(colBSN, id, bsn)
		if err != nil {
			return err
		}
		if note, ok := medical.(string); ok {
			if medical, err = keys.seal(colMedicalNotes, id, note); err != nil {
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx, tenant, id, first+" "+last, street, postcode, city.name,
			fmt.Sprintf("%s.%s%d@example.nl", lower(first), lower(last), i), phone, birth,
			iban, sealedBSN, status, household, medical); err != nil {
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return err
	}
	return stmt.Close()
}

// fakeIBAN makes a valid Dutch IBAN at a bank code that no bank has.
func fakeIBAN(rng *rand.Rand) string {
	bban := fmt.Sprintf("WVSO%010d", rng.Int64N(1e10))
	return "NL" + validate.IBANCheckDigits("NL", bban) + bban
}

// fakeBSN makes a 9-digit number that passes the elfproef, in the range starting with 9, which
// is not issued to persons.
func fakeBSN(rng *rand.Rand) string {
	for {
		s := fmt.Sprintf("9%07d", rng.IntN(1e7))
		sum := 0
		for i := 0; i < 8; i++ {
			sum += (9 - i) * int(s[i]-'0')
		}
		if d := sum % 11; d < 10 {
			return s + string(rune('0'+d))
		}
	}
}

func fakePhone(rng *rand.Rand) string {
	return fmt.Sprintf("06-%08d", rng.IntN(1e8))
}

func fakeName(rng *rand.Rand) string {
	return firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))]
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 32
		case c == ' ':
			b[i] = '.'
		}
	}
	return string(b)
}

var firstNames = []string{"Jan", "Pieter", "Kees", "Henk", "Sanne", "Femke", "Lotte", "Daan", "Sem", "Emma",
	"Julia", "Anouk", "Bram", "Thijs", "Noor", "Eva", "Ruben", "Lars", "Mila", "Sophie", "Fatima", "Mohammed", "Yara", "Tim"}

var lastNames = []string{"de Vries", "Jansen", "de Jong", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
	"de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Kaya", "El Amrani"}

var streets = []string{"Kerkstraat", "Dorpsstraat", "Schoolstraat", "Molenweg", "Stationsweg", "Julianastraat",
	"Beatrixlaan", "Nieuwstraat", "Marktplein", "Wilhelminastraat", "Eikenlaan", "Parallelweg"}

var cities = []struct {
	name     string
	postcode int
}{{"Amsterdam", 1011}, {"Utrecht", 3511}, {"Rotterdam", 3011}, {"Deventer", 7411}, {"Groningen", 9711},
	{"Eindhoven", 5611}, {"Zwolle", 8011}, {"Haarlem", 2011}, {"Leiden", 2311}, {"Apeldoorn", 7311}}
