package wvsoft

import (
	"strconv"
	"time"
	// The documents and mail speak Dutch time (Europe/Amsterdam) also where the system has no
	// time zone database (a minimal container).
	_ "time/tzdata"
)

// The declarations behind the article 15 export and the article 30 records: legal
// bases, sources, recipients and retention per field, in words a person can read (Dutch).

// Controller is WvSoft as controller (article 30(1)(a)).
const (
	ControllerName    = "WvSoft"
	ControllerContact = "WvSoft, privacy@wvsoft.nl; verzoeken over uw gegevens: privacy@wvsoft.nl"
	// SecurityMeasures is the general description of article 30(1)(g) (article 32).
	SecurityMeasures = "Opslag op de eigen server van WvSoft; per klant een eigen, gescheiden gegevensomgeving " +
		"(gescheiden door beleidsregels én door row-level security in de database); BSN en medische gegevens versleuteld " +
		"(AES-256-GCM); toegang alleen per doel en rol, medewerkers met een geheimhoudingsverklaring; toegang van de directeur " +
		"tot een klantomgeving alleen met toestemming van die klant, gelogd in een ondertekend, controleerbaar toegangslogboek; " +
		"versleutelde verbindingen (TLS)."
	// Transfers is article 30(1)(e): WvSoft transfers nothing outside the EEA.
	Transfers = "Geen: gegevens worden niet doorgegeven aan landen buiten de EER of aan internationale organisaties."
)

// Purposes (Dutch labels).
func PurposeLabel(p string) string {
	switch p {
	case "SUPPORT":
		return "ondersteuning (support)"
	case "BILLING":
		return "facturering en administratie"
	case "SERVICE":
		return "de dienst: gehoste software waarin de klant zijn eigen gegevens bijhoudt"
	}
	return p
}

// LegalBasis is the legal basis of processing for a purpose (article 6(1)).
func LegalBasis(p string) string {
	switch p {
	case "SUPPORT":
		return "uitvoering van de overeenkomst met de klant (art. 6 lid 1 onder b AVG)"
	case "BILLING":
		return "uitvoering van de overeenkomst en de wettelijke (fiscale) bewaarplicht (art. 6 lid 1 onder b en c AVG)"
	case "SERVICE":
		return "in opdracht van de klant, die verwerkingsverantwoordelijke is; WvSoft is verwerker (art. 28 AVG)"
	}
	return "onbekend"
}

// CategoryLabel is the Dutch name of a data category.
func CategoryLabel(c string) string {
	switch c {
	case "IDENTITY":
		return "identiteit"
	case "CONTACT":
		return "contactgegevens"
	case "FINANCIAL":
		return "financiële gegevens"
	case "NATIONAL_ID":
		return "burgerservicenummer (bijzonder)"
	case "FAMILY":
		return "gezinssituatie"
	case "HEALTH":
		return "gezondheid (bijzonder)"
	}
	return c
}

// DataSubjects names the categories of data subjects of a purpose (article 30(1)(c)).
func DataSubjects(p string) []string {
	switch p {
	case "SUPPORT":
		return []string{"contactpersonen van klanten (eigenaren, directeuren, contactpersonen)", "bezoekers van de website die een vraag stellen"}
	case "BILLING":
		return []string{"klanten (eenmanszaken en hun eigenaren)", "contactpersonen van klanten"}
	case "SERVICE":
		return []string{"personen die een klant in zijn eigen omgeving bijhoudt (zijn cliënten of medewerkers)", "gebruikers van de klant"}
	}
	return nil
}

// StaffRecipients names who at WvSoft receives data of a purpose (article 30(1)(d)).
func StaffRecipients(p string) []string {
	switch p {
	case "SUPPORT":
		return []string{"WvSoft-medewerkers support", "de directeur van WvSoft"}
	case "BILLING":
		return []string{"WvSoft-medewerkers facturering", "de directeur van WvSoft"}
	case "SERVICE":
		return []string{"de gebruikers van de klant zelf", "de directeur van WvSoft, alleen met tijdelijke toestemming van de klant"}
	}
	return nil
}

// ProcessorServes lists the purposes a processor of a role serves: the hosting provider holds
// everything, the website host only the website's inquiries (support).
func ProcessorServes(role string) []string {
	switch role {
	case "HOSTING_PROVIDER":
		return []string{"SUPPORT", "BILLING", "SERVICE"}
	case "WEBSITE_HOST":
		return []string{"SUPPORT"}
	}
	return nil
}

// ProcessorHolds reports whether a processor of a role holds records of a type: the hosting
// provider every record on WvSoft's server, the website host only the website's inquiries.
func ProcessorHolds(role, typ string) bool {
	switch role {
	case "HOSTING_PROVIDER":
		return true
	case "WEBSITE_HOST":
		return typ == KindInquiry
	}
	return false
}

// ProcessorRoleLabel is the Dutch name of a processor's role.
func ProcessorRoleLabel(role string) string {
	switch role {
	case "HOSTING_PROVIDER":
		return "hostingprovider van de server"
	case "WEBSITE_HOST":
		return "host van de website"
	}
	return role
}

// FieldRetention names the retention rule (RetentionRules) that governs a field of the register
// or a data space.
func FieldRetention(typ, field string) string {
	switch typ {
	case KindContactPerson:
		if field == "email" || field == "phone" {
			return "support-data"
		}
		return "billing-data"
	case KindCustomer:
		return "billing-data"
	case KindPerson, KindUser:
		return "data-space"
	}
	return ""
}

// DataSource says where the data of a type came from (article 15(1)(g)).
func DataSource(typ, customer string) string {
	switch typ {
	case KindContactPerson:
		return "opgegeven door de klant " + customer + " bij het aangaan of bijwerken van de klantrelatie"
	case KindCustomer:
		return "opgegeven door de klant zelf"
	case KindPerson:
		return "ingevoerd door " + customer + " in zijn eigen omgeving bij WvSoft"
	}
	return "onbekend"
}

// Duration says a duration in days or whole years, in Dutch: "30 dagen", "7 jaar"; never
// "720h0m0s". (Periods in months, such as the fiscal years, are said by the rules themselves.)
func Duration(d time.Duration) string {
	days := int((d + 12*time.Hour) / (24 * time.Hour))
	switch {
	case days == 1:
		return "1 dag"
	case days%365 == 0 && days > 0:
		return strconv.Itoa(days/365) + " jaar"
	}
	return strconv.Itoa(days) + " dagen"
}

// DurationEN is Duration in English.
func DurationEN(d time.Duration) string {
	days := int((d + 12*time.Hour) / (24 * time.Hour))
	switch {
	case days == 1:
		return "1 day"
	case days%365 == 0 && days > 0:
		return strconv.Itoa(days/365) + " years"
	}
	return strconv.Itoa(days) + " days"
}

// FieldDeclaration is what schema.graphql declares of one field: its personal data (@personal:
// category, purposes and Dutch label; @derived), its column when its type is a @table, and the
// check of a value written to it (@check). The schema is the one place they are declared;
// Declarations (generated by make generate) is their Go table, which every reader uses.
type FieldDeclaration struct {
	Type     string
	Field    string
	Category string
	Purposes []string
	// Label is the field's name in Dutch, as the person it is about says it.
	Label string
	// Derived: the field shows another field's value (@derived); the records list that field.
	Derived bool
	// Column is the field's column in its type's table; "" when it is not one.
	Column string
	// Check is the kind of check of a written value (ValueCheck in the schema), Max its length.
	Check string
	Max   int
	// Updatable: the type's Update input writes the field (a change may name it).
	Updatable bool
}

// Personal says whether the field holds personal data (a category).
func (f FieldDeclaration) Personal() bool { return f.Category != "" }

// SubjectRecord is a data subject's record as the caller may read it: every @personal field of
// its type, read with the caller's rights, and which fields were withheld.
type SubjectRecord struct {
	Type     string
	GlobalID string
	// Name, Customer and Role, as far as the caller may read them ("" otherwise).
	Name     string
	Customer string
	Role     string
	Fields   []SubjectField
	// Withheld are the paths of the fields the caller may not read, sorted.
	Withheld []string
}

// SubjectField is one field of a SubjectRecord with its value (nil when not filled in or withheld).
type SubjectField struct {
	FieldDeclaration
	Value any
}

// ProcessingRecords are the records of processing activities (article 30).
type ProcessingRecords struct {
	Controller        string                `json:"controller"`
	ControllerContact string                `json:"controller_contact"`
	SecurityMeasures  string                `json:"security_measures"`
	Transfers         string                `json:"transfers"`
	Activities        []*ProcessingActivity `json:"activities"`
	// JSON and HTML are the same records for filing and for print.
	JSON string `json:"-"`
	HTML string `json:"-"`
}

// ProcessingActivity is one activity of the records: one purpose.
type ProcessingActivity struct {
	Purpose      string   `json:"purpose"`
	Description  string   `json:"description"`
	LegalBasis   string   `json:"legalBasis"`
	DataSubjects []string `json:"dataSubjects"`
	Recipients   []string `json:"recipients"`
	Categories   []string `json:"categories"`
	Fields       []string `json:"fields"`
	Retention    []string `json:"retention"`
	Processors   []string `json:"processors"`
}
