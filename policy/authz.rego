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
staff_types("read") := register_types

staff_types("write") := {"Customer"} if input.subject.role == "BILLING"

staff_types("write") := register_types if input.subject.role in {"DIRECTOR", "SUPPORT"}

# Types a customer subject reads in its own tenant.
own_readable contains t if {
	customer_user
	some t in {"Customer", "ContactPerson", "User", "Person"}
}

own_readable contains "ApiKey" if {
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
	some t in {"User", "ApiKey", "ContactPerson"}
}

own_writable contains "Person" if {
	api_key
	input.subject.can_write
}

own_types("read") := own_readable

own_types("write") := own_writable

# reach(type, action) is {"all": true} or {"tenants": [...]}. Nobody at WvSoft reaches a data
# space (Person, User, ApiKey) here: only a customer's grant will open one (P9).
reach(type, action) := {"all": true} if {
	declared_staff
	type in staff_types(action)
} else := {"tenants": [input.subject.tenant_id]} if {
	type in own_types(action)
} else := {"tenants": []}

rows := reach(input.resource.type, input.action)

visible(type) if reach(type, "read").all

visible(type) if input.resource.tenant_id in reach(type, "read").tenants

# --- Which fields: decision --------------------------------------------------------------------

allow := {"effect": "allow"}

deny(reason) := {"effect": "deny", "reason": reason}

mask(kind, reason) := {"effect": "mask", "mask": kind, "reason": reason}

# Types that only carry other objects or paging; what they carry is decided on its own.
structural_types := {"Query", "Viewer", "PageInfo", "CustomerConnection", "CustomerEdge", "PersonConnection", "PersonEdge", "CreateApiKeyPayload"}

# Fields of one type that lead to objects of another type: visible when those are.
links := {
	"Customer": {"contactPersons": "ContactPerson", "users": "User", "apiKeys": "ApiKey", "persons": "Person"},
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
}

special_categories := {"NATIONAL_ID", "HEALTH"}

default decision := {"effect": "deny", "reason": "no rule allows it"}

decision := deny("no current access: unknown role, accountant, or no current confidentiality declaration") if {
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
# check it with a caller on the phone.
staff_decision := allow if {
	some purpose in staff_purposes[input.subject.role]
	purpose in input.resource.purposes
} else := mask("iban", "support checks bank accounts, masked") if {
	input.subject.role == "SUPPORT"
	input.resource.type == "Customer"
	input.resource.field == "iban"
} else := deny("the field serves no purpose of the subject's role")
