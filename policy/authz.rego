# The authorization policy of the WvSoft privacy backend. Two entry points, both asked by
# internal/authz and documented in README.md beside this file:
#
#   data.wvsoft.authz.decision  one field of one object: {"effect": "allow" | "deny" | "mask", ...}
#   data.wvsoft.authz.rows      which tenants' rows of a type a subject reaches, for the SQL filter
#
# Deny is the default: a field that no rule below allows is denied, and so is every field when
# evaluation fails. Both entry points derive from the same rule, reach/2, so that the rows the
# SQL fetches and the fields the policy shows cannot disagree.
package wvsoft.authz

import rego.v1

# --- Who is asking -------------------------------------------------------------------------

customer_user if {
	input.subject.kind == "USER"
	input.subject.role in {"ADMIN", "MEMBER"}
}

api_key if {
	input.subject.kind == "API_KEY"
	input.subject.role in {"INTEGRATOR_READ", "INTEGRATOR_WRITE"}
}

# WvSoft staff work only with a current confidentiality declaration (P10); the accountant has no
# access at all (P11).
declared_staff if {
	input.subject.kind == "STAFF"
	input.subject.role in {"DIRECTOR", "SUPPORT", "BILLING"}
	time.parse_rfc3339_ns(input.subject.declaration_expires_at) > input.context.time_ns
}

active if customer_user

active if api_key

active if declared_staff

# A website visitor without an account (P5): it may submit an inquiry and read the receipt.
anonymous if {
	input.subject.kind == "ANONYMOUS"
	input.subject.role == "VISITOR"
}

anonymous_fields := {
	"Mutation": {"submitInquiry"},
	"InquiryReceipt": {"received", "message"},
}

director if {
	declared_staff
	input.subject.role == "DIRECTOR"
}

# The director's grants in force (P9). The server sends only these; the time check is a second
# line. A grant opens data-space types of one customer, for reading or also writing, with or
# without special categories.
active_grants contains g if {
	director
	some g in input.context.grants
	time.parse_rfc3339_ns(g.expires_at) > input.context.time_ns
}

granted_tenants(type, "read") := {g.tenant_id |
	some g in active_grants
	type in g.types
}

# A grant writes persons only: users and API keys stay the customer's own, so that the
# director can never lock the customer's admins out of revoking his grant.
granted_tenants("Person", "write") := {g.tenant_id |
	some g in active_grants
	"Person" in g.types
	g.write
}

granted_tenants(type, "write") := set() if type != "Person"

# The grant that opens a type of a customer, when one does; the lowest id when several do.
grant_for(type, tenant) := min({g.id |
	some g in active_grants
	g.tenant_id == tenant
	type in g.types
})

grant_special(type, tenant) if {
	some g in active_grants
	g.tenant_id == tenant
	type in g.types
	g.special
}

# The purposes each staff role serves (P1): support reads for support, billing for billing.
staff_purposes := {
	"DIRECTOR": {"SUPPORT", "BILLING"},
	"SUPPORT": {"SUPPORT"},
	"BILLING": {"BILLING"},
}

# --- Which rows: reach(type, action) ---------------------------------------------------------

# The customer register (P1) that WvSoft staff keep across customers, by purpose.
register_types := {"Customer", "ContactPerson"}

# Staff read the whole register; they write only the part their purpose keeps: billing keeps the
# customer's billing data, support and the director keep contact persons too.
# The breach register, website inquiries, support notices and the outbox are support's work
# (P4, P5, P8); the director shares it.
support_work := {"Breach", "BreachNotification", "BreachCall", "Inquiry", "InquiryCount", "SupportNotice", "OutboxMessage"}

support_writes := {"Breach", "BreachCall", "Inquiry", "SupportNotice"}

# The privacy ledger: consent, the processor register and the article 30 records for all staff;
# data-subject requests about contact persons and the history of register objects for support;
# the staff register and the purge for the director.
ledger_read := {"Consent", "ConsentEvent", "Processor", "ProcessingRecords", "ProcessingActivity"}

support_ledger := {"DataSubjectRequest", "HistoryEntry"}

director_ledger := {"StaffMember", "PurgeRun"}

staff_types("read") := register_types | ledger_read if input.subject.role == "BILLING"

staff_types("read") := (register_types | support_work) | (ledger_read | support_ledger) if input.subject.role == "SUPPORT"

staff_types("write") := {"Customer"} if input.subject.role == "BILLING"

ledger_writes := {"Consent", "DataSubjectRequest", "ContactPersonRequest"}

staff_types("write") := (register_types | support_writes) | ledger_writes if input.subject.role == "SUPPORT"

# The director also files support-access requests, for any customer, and reads them.
staff_types("write") := ((register_types | support_writes) | ledger_writes) | ({"SupportAccessRequest", "Processor"} | director_ledger) if input.subject.role == "DIRECTOR"

staff_types("read") := ((register_types | support_work) | (ledger_read | support_ledger)) | ({"SupportAccessGrant"} | director_ledger) if input.subject.role == "DIRECTOR"

# Types a customer subject reads in its own tenant.
own_readable contains t if {
	customer_user
	some t in {"Customer", "ContactPerson", "User", "Person"}
}

# Admins also manage keys and support access, read the access log (P9) and see the breaches
# that concern their customer (P4).
own_readable contains t if {
	customer_user
	input.subject.role == "ADMIN"
	some t in {
		"ApiKey", "SupportAccessGrant", "AccessLogEntry", "BreachNotification", "Breach", "BreachCall",
		"Consent", "ConsentEvent", "DataSubjectRequest", "HistoryEntry",
	}
}

own_readable contains t if {
	api_key
	some t in {"Customer", "Person"}
}

# Types a customer subject writes in its own tenant.
own_writable contains "Person" if customer_user

own_writable contains t if {
	customer_user
	input.subject.role == "ADMIN"
	some t in {
		"User", "ApiKey", "ContactPerson", "SupportAccessGrant", "BreachNotification",
		"Consent", "DataSubjectRequest", "PersonRequest",
	}
}

own_writable contains "Person" if {
	api_key
	input.subject.can_write
}

own_types("read") := own_readable

own_types("write") := own_writable

# reach(type, action) is {"all": true} or {"tenants": [...]}. Nobody at WvSoft reaches a data
# space (Person, User, ApiKey) but the director, and only through a customer's grant (P9).
reach(type, action) := {"all": true} if {
	declared_staff
	type in staff_types(action)
} else := {"tenants": [input.subject.tenant_id]} if {
	type in own_types(action)
} else := {"tenants": sort(granted)} if {
	granted := granted_tenants(type, action)
	count(granted) > 0
} else := {"tenants": []}

rows := reach(input.resource.type, input.action)

visible(type) if reach(type, "read").all

visible(type) if input.resource.tenant_id in reach(type, "read").tenants

# --- Which fields: decision --------------------------------------------------------------------

allow := {"effect": "allow"}

deny(reason) := {"effect": "deny", "reason": reason}

mask(kind, reason) := {"effect": "mask", "mask": kind, "reason": reason}

# Types that only carry other objects or paging; what they carry is decided on its own.
structural_types := {
	"Query", "Viewer", "PageInfo", "CustomerConnection", "CustomerEdge", "PersonConnection", "PersonEdge",
	"CreateApiKeyPayload", "AccessScope", "AccessLogConnection", "AccessLogEdge", "AccessLogVerification",
	"InquiryReceipt", "RetentionRule", "FieldOutcome", "DataExport",
	"AccessLogCheckpoint", "AccessLogInclusionProof", "AccessLogConsistencyProof", "AccessGrantSummary",
}

# Fields of one type that lead to objects of another type: visible when those are.
links := {
	"Customer": {
		"contactPersons": "ContactPerson", "users": "User", "apiKeys": "ApiKey", "persons": "Person",
		"supportAccessGrants": "SupportAccessGrant", "accessLog": "AccessLogEntry", "accessLogVerification": "AccessLogEntry",
		"accessLogCheckpoint": "AccessLogEntry", "accessLogInclusionProof": "AccessLogEntry",
		"accessLogConsistencyProof": "AccessLogEntry", "accessLogSummary": "AccessLogEntry",
		"breaches": "BreachNotification", "consent": "Consent", "dataSubjectRequests": "DataSubjectRequest",
	},
	"Consent": {"history": "ConsentEvent"},
	"SupportAccessGrant": {"customer": "Customer"},
	"AccessLogEntry": {"grant": "SupportAccessGrant"},
	"Breach": {"customers": "BreachNotification"},
	"BreachNotification": {"breach": "Breach", "customer": "Customer", "calls": "BreachCall"},
	"ContactPerson": {"customer": "Customer"},
	"User": {"customer": "Customer"},
	"ApiKey": {"customer": "Customer"},
	"Person": {"customer": "Customer"},
}

# Each mutation writes one type; it is allowed when the subject reaches that type for writing.
mutation_types := {
	"createCustomer": "Customer", "updateCustomer": "Customer",
	"createContactPerson": "ContactPerson", "updateContactPerson": "ContactPerson", "deleteContactPerson": "ContactPerson",
	"createUser": "User", "updateUser": "User", "deleteUser": "User",
	"createApiKey": "ApiKey", "revokeApiKey": "ApiKey",
	"createPerson": "Person", "updatePerson": "Person", "deletePerson": "Person",
	"requestSupportAccess": "SupportAccessRequest",
	"approveSupportAccess": "SupportAccessGrant", "denySupportAccess": "SupportAccessGrant",
	"revokeSupportAccess": "SupportAccessGrant",
	"recordBreach": "Breach", "logBreachCall": "BreachCall", "reportBreachToAuthority": "BreachNotification",
	"answerInquiry": "Inquiry", "publishSupportNotice": "SupportNotice",
	"giveConsent": "Consent", "withdrawConsent": "Consent",
	"registerDataSubjectRequest": "DataSubjectRequest", "executeDataSubjectRequest": "DataSubjectRequest",
	"recordConfidentialityDeclaration": "StaffMember", "registerProcessor": "Processor", "runPurge": "PurgeRun",
}

special_categories := {"NATIONAL_ID", "HEALTH"}

default decision := {"effect": "deny", "reason": "no rule allows it"}

# Reading a field of an object, and writing a field through a mutation's input, are decided by
# different rules.
decision := read_decision if input.action == "read"

decision := write_decision if input.action == "write"

read_decision := allow if {
	anonymous
	input.resource.field in anonymous_fields[input.resource.type]
} else := deny("no current access: unknown role, accountant, or no current confidentiality declaration") if {
	not active
} else := d if {
	input.resource.type == "Mutation"
	d := mutation_decision
} else := allow if {
	input.resource.type in structural_types
} else := deny("the object is outside the subject's reach") if {
	not visible(input.resource.type)
} else := d if {
	target := links[input.resource.type][input.resource.field]
	d := link_decision(target)
} else := d if {
	# Under a grant every field carries the grant, so that the access log records it.
	grant := grant_for(input.resource.type, input.resource.tenant_id)
	d := grant_decision(grant)
} else := allow if {
	not input.resource.category
} else := d if {
	customer_user
	d := allow
} else := d if {
	api_key
	d := api_key_decision
} else := d if {
	declared_staff
	d := staff_decision
}

# Under a grant: special categories only when the grant names them.
grant_decision(grant) := deny("special category outside the grant's scope") if {
	input.resource.category in special_categories
	not grant_special(input.resource.type, input.resource.tenant_id)
} else := {"effect": "allow", "grant": grant}

# Writing one field (an input field of a mutation; the object's tenant is not known yet, the
# store's row filter holds the write to the subject's reach): staff write only the fields their
# purpose serves, keys special categories only with that scope, the director what a grant that
# allows writing opens.
write_decision := deny("no current access: unknown role, accountant, or no current confidentiality declaration") if {
	not active
} else := deny("the subject may not write this type") if {
	not writable(input.resource.type)
} else := allow if {
	not input.resource.category
} else := allow if {
	customer_user
} else := deny("special category: the key is not allowed special categories") if {
	api_key
	input.resource.category in special_categories
	not input.subject.special_categories
} else := allow if {
	api_key
} else := d if {
	director
	count(writing_grants(input.resource.type)) > 0
	input.resource.type == "Person"
	d := grant_write_decision
} else := allow if {
	declared_staff
	some purpose in staff_purposes[input.subject.role]
	purpose in input.resource.purposes
} else := deny("the field serves no purpose of the subject's role")

writable(type) if reach(type, "write").all

writable(type) if count(reach(type, "write").tenants) > 0

# The customer a write lands in is not known here (the row filter holds it to the writing
# grants' customers), so special categories are written only when every writing grant for the
# type allows them: one grant's scope never stretches to another customer.
writing_grants(type) := [g | some g in active_grants; g.write; type in g.types]

grant_write_decision := allow if {
	not input.resource.category in special_categories
} else := allow if {
	every g in writing_grants(input.resource.type) {
		g.special
	}
} else := deny("special category outside the scope of a writing grant")

mutation_decision := allow if {
	r := reach(mutation_types[input.resource.field], "write")
	r.all
} else := allow if {
	r := reach(mutation_types[input.resource.field], "write")
	count(r.tenants) > 0
} else := deny("the subject may not write this type")

link_decision(target) := allow if visible(target)

else := deny("the linked objects are outside the subject's reach")

# Integrator keys read special categories only when the customer allowed it on the key, and a
# read-only key sees the bank accounts of data-space persons masked (data minimisation for
# reporting keys; the customer's own register entry is not masked).
api_key_decision := deny("special category: the key is not allowed special categories") if {
	input.resource.category in special_categories
	not input.subject.special_categories
} else := mask("iban", "read-only keys see bank accounts masked") if {
	input.resource.category == "FINANCIAL"
	input.resource.type == "Person"
	not input.subject.can_write
} else := allow

# Staff read the register by purpose. Support sees the customer's bank account masked, enough to
# check it with a caller on the phone. Once a customer withdrew consent (P6), staff keep only
# what the law requires of its data: billing, for the fiscal period; nothing for support.
staff_decision := deny("the customer withdrew consent: only billing data, for the fiscal obligation") if {
	input.resource.consent_withdrawn
	not "BILLING" in input.resource.purposes
} else := allow if {
	input.resource.consent_withdrawn
	input.subject.role in {"BILLING", "DIRECTOR"}
} else := deny("the customer withdrew consent: only billing staff use its billing data") if {
	input.resource.consent_withdrawn
} else := allow if {
	some purpose in staff_purposes[input.subject.role]
	purpose in input.resource.purposes
} else := mask("iban", "support checks bank accounts, masked") if {
	input.subject.role == "SUPPORT"
	input.resource.type == "Customer"
	input.resource.field == "iban"
} else := deny("the field serves no purpose of the subject's role")
