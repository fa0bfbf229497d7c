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

# The grants that open a type of a customer for an action: any grant for reading, a writing grant
# (for persons only, see granted_tenants) for writing.
grants_for(type, tenant, "read") := {g |
	some g in active_grants
	g.tenant_id == tenant
	type in g.types
}

grants_for("Person", tenant, "write") := {g |
	some g in active_grants
	g.tenant_id == tenant
	"Person" in g.types
	g.write
}

# The grant an access rests on, when one does; the lowest id when several do. The access log
# records it, for reads and writes alike.
grant_for(type, tenant, action) := min({g.id | some g in grants_for(type, tenant, action)})

grant_special(type, tenant, action) if {
	some g in grants_for(type, tenant, action)
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

# Whose data the requests and history that staff see are about (resource.record.data_of): the
# customer register's, never a data space's or a customer's accounts. reach gives it to the
# server as the row condition `data_of`, which it puts into the SQL; the record's own decision
# below (staff.ledger_outside_register) says the same of a record that got through anyway.
staff_ledger_data_of := ["CUSTOMER"]

director_ledger := {"StaffMember", "PurgeRun"}

staff_types("read") := register_types | ledger_read if input.subject.role == "BILLING"

staff_types("read") := (register_types | support_work) | (ledger_read | support_ledger) if input.subject.role == "SUPPORT"

staff_types("write") := {"Customer"} if input.subject.role == "BILLING"

# Staff file and execute requests about contact persons (ContactPersonRequest executes,
# ContactPersonRequestFiling files); a customer's admin only files them.
ledger_writes := {"Consent", "DataSubjectRequest", "ContactPersonRequest", "ContactPersonRequestFiling"}

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

# Admins read the processor register's rows, so that the article 15 export of a person of their
# data space names its recipients. The register's fields stay WvSoft's: an admin has
# no Query.processors (query.outside) and no field of a Processor (reach.outside, no tenant).
own_readable contains "Processor" if {
	customer_user
	input.subject.role == "ADMIN"
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
		"Consent", "DataSubjectRequest", "PersonRequest", "ContactPersonRequestFiling",
	}
}

own_writable contains "Person" if {
	api_key
	input.subject.can_write
}

own_types("read") := own_readable

own_types("write") := own_writable

# reach(type, action) is {"all": true} or {"tenants": [...]}, with the id of the branch that gave
# it ("rule"), which the decision log records. Nobody at WvSoft reaches a data
# space (Person, User, ApiKey) but the director, and only through a customer's grant (P9).
reach(type, action) := {"all": true, "data_of": staff_ledger_data_of, "rule": "reach.staff_register_only"} if {
	declared_staff
	type in staff_types(action)
	type in support_ledger
} else := {"all": true, "rule": "reach.staff"} if {
	declared_staff
	type in staff_types(action)
} else := {"tenants": [input.subject.tenant_id], "rule": "reach.own"} if {
	type in own_types(action)
} else := {"tenants": sort(granted), "rule": "reach.grant"} if {
	granted := granted_tenants(type, action)
	count(granted) > 0
} else := {"tenants": [], "rule": "reach.none"}

rows := refusal if {
	input.resource.type in object.keys(refusals)
	r := reach(input.resource.type, input.action)
	not r.all
	count(r.tenants) == 0
	refusal := {"tenants": [], "rule": "reach.refused", "refusal": refusals[input.resource.type]}
} else := reach(input.resource.type, input.action)

# Types whose rows a subject that reaches none is told why, instead of finding nothing: the
# server answers FORBIDDEN with this text.
refusals := {
	"PersonRequest": "requests about a person of a data space are handled by the customer's admin",
	"ContactPersonRequest": "requests about a contact person are handled by WvSoft staff",
	"ContactPersonRequestFiling": "requests about a contact person are filed by the customer's admin or WvSoft staff",
}

# within_reach(type, action): the object of the input (its tenant) is within the subject's reach.
within_reach(type, action) if reach(type, action).all

within_reach(type, action) if input.resource.tenant_id in reach(type, action).tenants

visible(type) if within_reach(type, "read")

# --- Which fields: decision --------------------------------------------------------------------

# Every decision names the rule that made it (`rule`, a stable id listed in README.md), so that
# the decision log and the authoring tools can say which branch decided a field.
allow(rule) := {"effect": "allow", "rule": rule}

deny(rule, reason) := {"effect": "deny", "rule": rule, "reason": reason}

mask(rule, kind, reason) := {"effect": "mask", "mask": kind, "rule": rule, "reason": reason}

# Types that only carry other objects or paging; what they carry is decided on its own.
structural_types := {
	"Query", "Viewer", "PageInfo", "CustomerConnection", "CustomerEdge", "PersonConnection", "PersonEdge",
	"ContactPersonConnection", "ContactPersonEdge",
	"CreateApiKeyPayload", "AccessScope", "AccessLogConnection", "AccessLogEdge", "AccessLogVerification",
	"InquiryReceipt", "RetentionRule", "FieldOutcome", "DataExport",
	"AccessLogCheckpoint", "AccessLogInclusionProof", "AccessLogConsistencyProof", "AccessGrantSummary",
}

# Fields of one type that lead to objects of another type: visible when those are.
links := {
	"Customer": {
		"contactPersons": "ContactPerson", "users": "User", "apiKeys": "ApiKey", "persons": "Person",
		"supportAccessGrants": "SupportAccessGrant", "accessLog": "AccessLogEntry", "accessLogVerification": "AccessLogEntry",
		"accessLogCheckpoint": "AccessLogEntry", "accessLogSignedFrom": "AccessLogEntry", "accessLogInclusionProof": "AccessLogEntry",
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
	# WvSoft's own registers belong to no customer: listing one whole needs reach over every
	# tenant (the query has no tenant), so a customer's subject is refused rather than shown a
	# part of it.
	"Query": {
		"breaches": "Breach", "breachesNotFullyInformed": "BreachNotification", "inquiries": "Inquiry",
		"inquiryCounts": "InquiryCount", "supportNotices": "SupportNotice", "staffMembers": "StaffMember",
		"processors": "Processor", "purgeRuns": "PurgeRun", "outbox": "OutboxMessage",
		"recordsOfProcessing": "ProcessingRecords",
	},
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

# Each subscription delivers records of one type as they change. Its root field is decided when
# it starts and again at every event (the credentials checked again first); what each event
# delivers is then read within the subscriber's rows and decided field by field.
subscription_types := {"supportAccessGrants": "SupportAccessGrant", "breachNotifications": "BreachNotification"}

# Mutations that act on every customer at once: only a subject that reaches all tenants runs them.
whole_register_mutations := {"runPurge"}

special_categories := {"NATIONAL_ID", "HEALTH"}

# The purpose that holds a restricted record (AVG art. 18): an erased contact person of a former
# customer is kept for the fiscal obligation only. The erasure outcome says so to the data
# subject; this rule keeps that promise.
restricted_purpose := "BILLING"

# The roles that keep using a customer's billing data once it withdrew consent (P6: the fiscal
# obligation), for reading and writing.
withdrawn_consent_roles := {"BILLING", "DIRECTOR"}

default decision := {"effect": "deny", "rule": "default.deny", "reason": "no rule allows it"}

# Reading a field and writing it go through one chain of rules: writing is reading's rules for
# the same field, plus what writing adds (reach for writing, no masks). A purpose changed for a
# role changes both.
decision := field_decision if input.action in {"read", "write"}

reading if input.action == "read"

writing if input.action == "write"

field_decision := allow("anonymous.inquiry") if {
	anonymous
	reading
	input.resource.field in anonymous_fields[input.resource.type]
} else := deny("subject.inactive", "no current access: unknown role, accountant, or no current confidentiality declaration") if {
	not active
} else := deny("record.own_declaration", "nobody records their own confidentiality declaration; another staff member records it") if {
	# P10: a declaration is made to someone else, who records it; nobody vouches for himself.
	writing
	input.resource.type == "StaffMember"
	input.resource.record.is_subject
} else := d if {
	reading
	input.resource.type == "Mutation"
	d := mutation_decision
} else := d if {
	reading
	input.resource.type == "Subscription"
	d := subscription_decision
} else := d if {
	reading
	target := links.Query[input.resource.field]
	input.resource.type == "Query"
	d := query_decision(target)
} else := d if {
	# A count reads whether rows exist: it is decided on the counted type, not as paging.
	reading
	target := counted_types[input.resource.type]
	input.resource.field == "totalCount"
	d := count_decision(target)
} else := allow("structural") if {
	reading
	input.resource.type in structural_types
} else := deny("reach.outside", "the object is outside the subject's reach") if {
	not within_reach(input.resource.type, input.action)
} else := d if {
	reading
	target := links[input.resource.type][input.resource.field]
	d := link_decision(target)
} else := deny("record.restricted_write", "restricted processing: the record is kept as it is until its hold ends; nobody changes or deletes it") if {
	# Before the grant and before fields without a category: a restricted record is kept for
	# the purpose that holds it, unchanged, and deleting it (a write decided on its id) would
	# break the erasure outcome's "kept until".
	writing
	input.resource.record.restricted
} else := d if {
	# Under a grant every field carries the grant, so that the access log records it.
	grant := grant_for(input.resource.type, input.resource.tenant_id, input.action)
	d := grant_decision(grant)
} else := deny("staff.consent_withdrawn_write", "the customer withdrew consent: only billing staff change its records") if {
	# Before fields without a category: deleting a record, or changing its role, is writing it.
	writing
	declared_staff
	input.resource.record.consent_withdrawn
	not input.subject.role in withdrawn_consent_roles
} else := deny("staff.ledger_outside_register", "WvSoft staff see requests and history about the customer register only") if {
	declared_staff
	input.resource.type in support_ledger
	not input.resource.record.data_of in staff_ledger_data_of
} else := allow("field.not_personal") if {
	not input.resource.category
} else := deny("record.restricted", "restricted processing: the record is kept only for the purpose that holds it") if {
	input.resource.record.restricted
	not serves_restricted_purpose
} else := allow("customer.own_data") if {
	customer_user
} else := d if {
	api_key
	d := api_key_decision
} else := d if {
	declared_staff
	d := staff_decision
}

serves_restricted_purpose if {
	declared_staff
	restricted_purpose in staff_purposes[input.subject.role]
	restricted_purpose in input.resource.purposes
}

# Under a grant: special categories only when the grant names them.
grant_decision(grant) := deny("grant.special_category", "special category outside the grant's scope") if {
	input.resource.category in special_categories
	not grant_special(input.resource.type, input.resource.tenant_id, input.action)
} else := {"effect": "allow", "rule": "grant.scope", "grant": grant}

mutation_decision := deny("mutation.whole_register", "only a subject that reaches every customer runs this") if {
	input.resource.field in whole_register_mutations
	not reach(mutation_types[input.resource.field], "write").all
} else := allow("mutation.reach_all") if {
	r := reach(mutation_types[input.resource.field], "write")
	r.all
} else := allow("mutation.reach_tenants") if {
	r := reach(mutation_types[input.resource.field], "write")
	count(r.tenants) > 0
} else := deny("mutation.outside", "the subject may not write this type")

# A subscription is for subjects that reach records of its type in some customer, or in all.
subscription_decision := allow("subscription.reach_all") if {
	reach(subscription_types[input.resource.field], "read").all
} else := allow("subscription.reach_tenants") if {
	count(reach(subscription_types[input.resource.field], "read").tenants) > 0
} else := deny("subscription.outside", "the subject reaches no records this subscription delivers")

# Connections whose totalCount counts rows of a type: the count is the number of rows the
# subject can page through (the server counts within the same row filter and row-level
# security, with the list's own conditions, which are decided as reads of their fields).
counted_types := {"PersonConnection": "Person", "CustomerConnection": "Customer", "ContactPersonConnection": "ContactPerson"}

# Counting reads the existence of every row counted. A connection of one data space
# (PersonConnection) carries its tenant: the count is allowed where the subject reaches that
# tenant's rows, under a grant with the grant (the access log records the count); a connection
# across tenants (CustomerConnection, ContactPersonConnection) carries none, and is allowed where the subject reaches rows
# of the type at all, since it counts only those.
count_decision(target) := deny("count.outside", "counting reads the existence of rows outside the subject's reach") if {
	not counts_within_reach(target)
} else := {"effect": "allow", "rule": "count.grant", "grant": grant} if {
	grant := grant_for(target, input.resource.tenant_id, "read")
} else := allow("count.visible")

counts_within_reach(target) if {
	input.resource.tenant_id
	within_reach(target, "read")
}

counts_within_reach(target) if {
	not input.resource.tenant_id
	r := reach(target, "read")
	r.all
}

counts_within_reach(target) if {
	not input.resource.tenant_id
	count(reach(target, "read").tenants) > 0
}

# A link from the root (Query) has no tenant: it needs reach over every tenant. The same test for
# an object's link field has ids of its own, so that a decision names which branch made it.
query_decision(target) := allow("query.visible") if visible(target)

else := deny("query.outside", "the listed objects are outside the subject's reach")

link_decision(target) := allow("link.visible") if visible(target)

else := deny("link.outside", "the linked objects are outside the subject's reach")

# Integrator keys read special categories only when the customer allowed it on the key, and a
# read-only key sees the bank accounts of data-space persons masked (data minimisation for
# reporting keys; the customer's own register entry is not masked).
api_key_decision := deny("key.special_category", "special category: the key is not allowed special categories") if {
	input.resource.category in special_categories
	not input.subject.special_categories
} else := mask("key.read_only_iban", "iban", "read-only keys see bank accounts masked") if {
	reading
	input.resource.category == "FINANCIAL"
	input.resource.type == "Person"
	not input.subject.can_write
} else := allow("key.scope")

# Staff use the register by purpose, for reading and writing alike. Support sees the customer's
# bank account masked, enough to check it with a caller on the phone (a mask is for reading; it
# writes nothing). Once a customer withdrew consent (P6), staff keep only what the law requires
# of its data: billing, for the fiscal period; nothing for support.
staff_decision := deny("staff.consent_withdrawn", "the customer withdrew consent: only billing data, for the fiscal obligation") if {
	input.resource.record.consent_withdrawn
	not "BILLING" in input.resource.purposes
} else := allow("staff.consent_withdrawn_billing") if {
	input.resource.record.consent_withdrawn
	input.subject.role in withdrawn_consent_roles
} else := deny("staff.consent_withdrawn_billing_only", "the customer withdrew consent: only billing staff use its billing data") if {
	input.resource.record.consent_withdrawn
} else := allow("staff.purpose") if {
	some purpose in staff_purposes[input.subject.role]
	purpose in input.resource.purposes
} else := mask("staff.support_iban", "iban", "support checks bank accounts, masked") if {
	reading
	input.subject.role == "SUPPORT"
	input.resource.type == "Customer"
	input.resource.field == "iban"
} else := deny("staff.no_purpose", "the field serves no purpose of the subject's role")
