# Tests of authz.rego, one rule per case. The server runs them before it accepts a policy
# (internal/authz), so a change that breaks one of them never serves.
#
# The inputs are built the way internal/authz builds them (Input.value): the subject, the
# action, the resource with the category and purposes of its field's @personal directive
# (the table `personal`, generated from schema.graphql) and the object's tenant.
package wvsoft.authz_test

import data.wvsoft.authz
import data.wvsoft.declarations
import rego.v1

# --- Fixtures ---------------------------------------------------------------------------------

t1 := "0190a000-0000-7000-8000-000000000001"

t2 := "0190a000-0000-7000-8000-000000000002"

now := "2026-06-01T12:00:00Z"

now_ns := time.parse_rfc3339_ns(now)

# From schema.graphql (policy/declarations_test.rego, generated).
personal := declarations.personal

# From schema.graphql (policy/declarations_test.rego, generated).
fields := declarations.fields

# --- Subjects -----------------------------------------------------------------------------------

# A customer user of t1. Users have both scopes set (internal/postgres, auth_subject_by_email).
user(role) := {
	"kind": "USER", "id": "0190a000-0000-7000-8000-0000000000a1", "role": role,
	"tenant_id": t1, "can_write": true, "special_categories": true,
}

admin := user("ADMIN")

member := user("MEMBER")

# An API key of t1; its role follows can_write, as auth_subject_by_api_key sets it.
key(can_write, special) := {
	"kind": "API_KEY", "id": "0190a000-0000-7000-8000-0000000000b1", "role": key_role(can_write),
	"tenant_id": t1, "can_write": can_write, "special_categories": special,
}

key_role(true) := "INTEGRATOR_WRITE"

key_role(false) := "INTEGRATOR_READ"

read_key := key(false, false)

special_key := key(false, true)

write_key := key(true, false)

# A WvSoft staff member whose confidentiality declaration lapses at expires (RFC 3339).
staff_until(role, expires) := {
	"kind": "STAFF", "id": "0190a000-0000-7000-8000-0000000000c1", "role": role,
	"can_write": false, "special_categories": false, "declaration_expires_at": expires,
}

# A staff member with a current declaration, and one without any.
staff(role) := staff_until(role, "2026-12-31T00:00:00Z")

undeclared(role) := object.remove(staff(role), ["declaration_expires_at"])

director := staff("DIRECTOR")

support := staff("SUPPORT")

billing := staff("BILLING")

accountant := staff("ACCOUNTANT")

# --- Inputs and the two queries -----------------------------------------------------------------

resource(type, field) := object.union({"type": type, "field": field}, personal[type][field]) if personal[type][field]

else := {"type": type, "field": field}

# A field of an object of tenant (use "" for root and structural types, which carry none).
field_input(subject, type, field, tenant) := {
	"subject": subject, "action": "read",
	"resource": with_tenant(resource(type, field), tenant),
	"context": {"time_ns": now_ns},
}

with_tenant(res, "") := res

with_tenant(res, tenant) := object.union(res, {"tenant_id": tenant}) if tenant != ""

decide(subject, type, field, tenant) := d if {
	d := authz.decision with input as field_input(subject, type, field, tenant)
}

# A mutation field: type Mutation, no tenant, asked like every other field.
mutate(subject, mutation) := decide(subject, "Mutation", mutation, "")

rows(subject, type, action) := r if {
	r := authz.rows with input as {
		"subject": subject, "action": action, "resource": {"type": type},
		"context": {"time_ns": now_ns},
	}
}

# An allow that rests on no grant, with the rule that made it.
allowed(d) if {
	d.effect == "allow"
	is_string(d.rule)
	object.keys(d) == {"effect", "rule"}
}

denied(d) if {
	d.effect == "deny"
	is_string(d.reason)
	is_string(d.rule)
	object.keys(d) == {"effect", "reason", "rule"}
}

masked_iban(d) if {
	d.effect == "mask"
	d.mask == "iban"
}

own := {"tenants": [t1], "rule": "reach.own"}

none := {"tenants": [], "rule": "reach.none"}

everyone := {"all": true, "rule": "reach.staff"}

# Whether the rows the SQL fetches for subject include tenant's rows of type.
fetched(subject, type, _) if rows(subject, type, "read").all

fetched(subject, type, tenant) if tenant in rows(subject, type, "read").tenants

# --- Customer users -----------------------------------------------------------------------------

test_member_reads_own_person_bsn if allowed(decide(member, "Person", "bsn", t1))

test_member_reads_every_own_person_field if {
	every f in fields.Person {
		allowed(decide(member, "Person", f, t1))
	}
}

test_member_denied_other_tenant_person if {
	every f in fields.Person {
		denied(decide(member, "Person", f, t2))
	}
}

test_member_reads_own_customer_and_contact_persons if {
	every f in fields.ContactPerson {
		allowed(decide(member, "ContactPerson", f, t1))
	}
	every f in {x | some x in fields.Customer} - admin_only_customer_fields {
		allowed(decide(member, "Customer", f, t1))
	}
	every f in admin_only_customer_fields {
		denied(decide(member, "Customer", f, t1))
	}
}

# The customer's fields that only its admin reads: its keys, support access and access log,
# breaches, consent and data-subject requests.
admin_only_customer_fields := {
	"apiKeys", "supportAccessGrants", "accessLog", "accessLogVerification", "accessLogCheckpoint",
	"accessLogSignedFrom", "accessLogInclusionProof", "accessLogConsistencyProof", "accessLogSummary",
	"breaches", "consent", "dataSubjectRequests",
}

test_member_denied_other_tenant_customer if {
	every f in fields.Customer {
		denied(decide(member, "Customer", f, t2))
	}
}

test_member_reads_own_users if {
	every f in fields.User {
		allowed(decide(member, "User", f, t1))
	}
}

test_member_denied_api_keys if {
	every f in fields.ApiKey {
		denied(decide(member, "ApiKey", f, t1))
	}
	denied(decide(member, "Customer", "apiKeys", t1))
}

test_admin_reads_api_keys if {
	every f in fields.ApiKey {
		allowed(decide(admin, "ApiKey", f, t1))
	}
	allowed(decide(admin, "Customer", "apiKeys", t1))
}

test_admin_denied_other_tenant_api_keys if {
	every f in fields.ApiKey {
		denied(decide(admin, "ApiKey", f, t2))
	}
}

test_member_reads_structural_types if {
	allowed(decide(member, "Query", "me", ""))
	allowed(decide(member, "Query", "persons", ""))
	allowed(decide(member, "Viewer", "email", ""))
	allowed(decide(member, "PageInfo", "hasNextPage", ""))
	allowed(decide(member, "PersonConnection", "edges", ""))
	allowed(decide(member, "CustomerEdge", "node", ""))
}

# --- Links: fields that lead to objects of another type -------------------------------------------

test_member_follows_own_customer_persons if {
	allowed(decide(member, "Customer", "persons", t1))
	allowed(decide(member, "Customer", "users", t1))
	allowed(decide(member, "Person", "customer", t1))
}

test_support_denied_customer_persons if {
	denied(decide(support, "Customer", "persons", t1))
	denied(decide(support, "Customer", "users", t1))
	denied(decide(support, "Customer", "apiKeys", t1))
	allowed(decide(support, "Customer", "contactPersons", t1))
	allowed(decide(support, "ContactPerson", "customer", t2))
}

test_key_follows_persons_not_users_or_contact_persons if {
	allowed(decide(read_key, "Customer", "persons", t1))
	denied(decide(read_key, "Customer", "users", t1))
	denied(decide(read_key, "Customer", "contactPersons", t1))
	denied(decide(read_key, "Customer", "apiKeys", t1))
}

# --- WvSoft staff: the customer register, by purpose ----------------------------------------------

test_support_reads_customer_phone if {
	allowed(decide(support, "Customer", "phone", t1))
	allowed(decide(support, "Customer", "phone", t2))
}

test_support_reads_support_fields_of_customer if {
	every f in ["id", "slug", "name", "email", "phone", "relationshipStart", "relationshipEnd"] {
		allowed(decide(support, "Customer", f, t2))
	}
}

test_support_reads_contact_person_phone if allowed(decide(support, "ContactPerson", "phone", t2))

test_support_sees_customer_iban_masked if masked_iban(decide(support, "Customer", "iban", t1))

test_support_denied_billing_only_fields if {
	every f in ["street", "postalCode", "city", "kvkNumber"] {
		denied(decide(support, "Customer", f, t1))
	}
}

test_billing_reads_customer_iban if allowed(decide(billing, "Customer", "iban", t1))

test_billing_reads_customer_address_and_kvk if {
	every f in ["name", "street", "postalCode", "city", "kvkNumber"] {
		allowed(decide(billing, "Customer", f, t2))
	}
}

# Contact persons' phone and e-mail are support-only data (they go with the grace period).
test_billing_denied_contact_phone_and_email if {
	denied(decide(billing, "ContactPerson", "phone", t1))
	denied(decide(billing, "ContactPerson", "email", t1))
	allowed(decide(billing, "ContactPerson", "name", t1))
}

test_support_denied_person_fields if {
	every tenant in [t1, t2] {
		every f in fields.Person {
			denied(decide(support, "Person", f, tenant))
		}
	}
}

test_support_denied_users_and_api_keys if {
	every f in fields.User {
		denied(decide(support, "User", f, t1))
	}
	every f in fields.ApiKey {
		denied(decide(support, "ApiKey", f, t1))
	}
}

test_director_reads_customer_register if {
	allowed(decide(director, "Customer", "iban", t1))
	allowed(decide(director, "Customer", "street", t1))
	allowed(decide(director, "ContactPerson", "phone", t1))
}

test_director_denied_data_space_without_grant if {
	every type in ["Person", "User", "ApiKey"] {
		every f in fields[type] {
			denied(decide(director, type, f, t1))
		}
	}
	denied(decide(director, "Customer", "persons", t1))
}

test_staff_reads_own_viewer if {
	allowed(decide(support, "Query", "me", ""))
	allowed(decide(support, "Viewer", "name", ""))
	allowed(decide(support, "Query", "customers", ""))
}

# --- P10 and P11: declarations and the accountant -----------------------------------------------

test_accountant_denied_everything if {
	every f in ["me", "customers", "persons", "node", "nodes"] {
		denied(decide(accountant, "Query", f, ""))
	}
	every tf in [["Viewer", "kind"], ["Viewer", "email"], ["PageInfo", "hasNextPage"], ["CustomerConnection", "edges"], ["PersonEdge", "node"]] {
		denied(decide(accountant, tf[0], tf[1], ""))
	}
	every type in ["Customer", "ContactPerson", "User", "ApiKey", "Person"] {
		every f in fields[type] {
			denied(decide(accountant, type, f, t1))
		}
	}
}

test_staff_without_declaration_denied if {
	denied(decide(undeclared("SUPPORT"), "Query", "me", ""))
	denied(decide(undeclared("SUPPORT"), "Customer", "phone", t1))
	denied(decide(undeclared("BILLING"), "Customer", "iban", t1))
	denied(decide(undeclared("DIRECTOR"), "Customer", "id", t1))

	# a declaration date that does not parse is no declaration
	denied(decide(staff_until("SUPPORT", "next year"), "Customer", "phone", t1))
}

test_staff_expired_declaration_denied if {
	lapsed := staff_until("SUPPORT", "2026-06-01T11:00:00Z")
	denied(decide(lapsed, "Query", "me", ""))
	denied(decide(lapsed, "Customer", "phone", t1))
}

test_staff_declaration_lapsing_now_denied if {
	denied(decide(staff_until("SUPPORT", now), "Customer", "phone", t1))
	allowed(decide(staff_until("SUPPORT", "2026-06-01T12:00:00.000000001Z"), "Customer", "phone", t1))
}

# --- Integrator keys ------------------------------------------------------------------------------

test_read_key_denied_bsn_without_special_scope if {
	denied(decide(read_key, "Person", "bsn", t1))
	denied(decide(read_key, "Person", "medicalNotes", t1))
	denied(decide(write_key, "Person", "bsn", t1))
}

test_special_key_reads_bsn if {
	allowed(decide(special_key, "Person", "bsn", t1))
	allowed(decide(special_key, "Person", "medicalNotes", t1))
}

test_read_key_reads_ordinary_person_fields if {
	every f in ["id", "name", "email", "birthDate", "maritalStatus", "household", "createdAt"] {
		allowed(decide(read_key, "Person", f, t1))
	}
}

test_read_key_sees_person_iban_masked if {
	masked_iban(decide(read_key, "Person", "iban", t1))
	masked_iban(decide(special_key, "Person", "iban", t1))
}

test_write_key_reads_person_iban if allowed(decide(write_key, "Person", "iban", t1))

test_key_denied_other_tenant if {
	every f in fields.Person {
		denied(decide(special_key, "Person", f, t2))
	}
	denied(decide(read_key, "Customer", "name", t2))
}

test_key_denied_users_contact_persons_and_keys if {
	every type in ["User", "ContactPerson", "ApiKey"] {
		every f in fields[type] {
			denied(decide(write_key, type, f, t1))
		}
	}
}

# --- Mutations: allowed when the subject reaches the written type for writing -------------------

test_member_may_create_person if {
	every m in ["createPerson", "updatePerson", "deletePerson"] {
		allowed(mutate(member, m))
	}
}

test_member_may_not_create_user if {
	every m in ["createUser", "updateUser", "deleteUser", "createApiKey", "revokeApiKey", "createContactPerson"] {
		denied(mutate(member, m))
	}
}

test_admin_may_create_api_key if {
	every m in ["createApiKey", "revokeApiKey", "createUser", "deleteUser", "createContactPerson", "createPerson"] {
		allowed(mutate(admin, m))
	}
}

test_customer_users_may_not_write_customer_register if {
	every s in [admin, member] {
		denied(mutate(s, "createCustomer"))
		denied(mutate(s, "updateCustomer"))
	}
}

test_read_key_may_not_create_person if {
	every m in ["createPerson", "updatePerson", "deletePerson"] {
		denied(mutate(read_key, m))
	}
}

test_write_key_may_create_person if {
	allowed(mutate(write_key, "createPerson"))
	allowed(mutate(write_key, "deletePerson"))
	denied(mutate(write_key, "createUser"))
	denied(mutate(write_key, "createApiKey"))
	denied(mutate(write_key, "updateCustomer"))
}

test_support_may_create_customer if {
	allowed(mutate(support, "createCustomer"))
	allowed(mutate(support, "createContactPerson"))
}

test_support_may_not_write_data_space if {
	every m in ["createPerson", "createUser", "createApiKey"] {
		denied(mutate(support, m))
	}
}

test_accountant_may_not_create_customer if {
	denied(mutate(accountant, "createCustomer"))
	denied(mutate(undeclared("SUPPORT"), "createCustomer"))
}

test_unknown_mutation_denied if {
	denied(mutate(admin, "dropDatabase"))
	denied(mutate(support, "dropDatabase"))
}

# --- rows: the tenants whose rows the SQL and row-level security let through ---------------------

test_rows_member_own_tenant_person if {
	rows(member, "Person", "read") == own
	rows(member, "Person", "write") == own
}

test_rows_member_reads_but_does_not_write_users if {
	rows(member, "User", "read") == own
	rows(member, "User", "write") == none
	rows(member, "ApiKey", "read") == none
}

test_rows_admin_api_keys_own_tenant if {
	rows(admin, "ApiKey", "read") == own
	rows(admin, "ApiKey", "write") == own
}

test_rows_customer_users_never_all if {
	rows(admin, "Customer", "read") == own
	rows(admin, "Customer", "write") == none
}

test_rows_support_all_for_register if {
	rows(support, "Customer", "read") == everyone
	rows(support, "ContactPerson", "read") == everyone
	rows(billing, "Customer", "read") == everyone
}

test_rows_support_no_tenants_for_data_space if {
	every type in ["Person", "User", "ApiKey"] {
		rows(support, type, "read") == none
		rows(support, type, "write") == none
	}
}

test_rows_director_no_person_rows if {
	rows(director, "Person", "read") == none
	rows(director, "Person", "write") == none
}

test_rows_key_customer_and_person_own_not_user if {
	rows(read_key, "Customer", "read") == own
	rows(read_key, "Person", "read") == own
	rows(read_key, "User", "read") == none
	rows(read_key, "ContactPerson", "read") == none
	rows(read_key, "ApiKey", "read") == none
}

test_rows_only_write_key_writes_persons if {
	rows(read_key, "Person", "write") == none
	rows(special_key, "Person", "write") == none
	rows(write_key, "Person", "write") == own
	rows(write_key, "Customer", "write") == none
}

test_rows_inactive_subjects_reach_nothing if {
	every s in [accountant, undeclared("SUPPORT"), staff_until("BILLING", "2026-01-01T00:00:00Z")] {
		every type in ["Customer", "ContactPerson", "Person"] {
			rows(s, type, "read") == none
		}
	}
}

# The SQL filter and the field decisions derive from the same rule: an object's id is allowed
# exactly when the rows the SQL fetches include the object's tenant.
test_rows_agree_with_id_decision if {
	subjects := [admin, member, read_key, special_key, write_key, director, support, billing, accountant, undeclared("SUPPORT")]
	types := ["Customer", "ContactPerson", "User", "ApiKey", "Person"]
	outcomes := {[i, type, tenant, seen] |
		some i, s in subjects
		some type in types
		some tenant in [t1, t2]
		seen := fetched_bool(s, type, tenant)
		seen == allowed_bool(decide(s, type, "id", tenant))
	}
	count(outcomes) == (count(subjects) * count(types)) * 2
	{o[3] | some o in outcomes} == {true, false}
}

fetched_bool(s, type, tenant) if fetched(s, type, tenant)

else := false

allowed_bool(d) if allowed(d)

else := false

# --- Default deny -------------------------------------------------------------------------------

test_unknown_role_denied if {
	every s in [user("OWNER"), user("ACCOUNTANT"), user("SUPPORT"), staff("ADMIN"), staff("ROOT")] {
		denied(decide(s, "Query", "me", ""))
		denied(decide(s, "Customer", "id", t1))
		rows(s, "Customer", "read") == none
	}
}

test_unknown_kind_denied if {
	s := object.union(member, {"kind": "SERVICE"})
	denied(decide(s, "Query", "me", ""))
	denied(decide(s, "Person", "name", t1))
	rows(s, "Person", "read") == none
}

test_unknown_type_denied if {
	denied(decide(admin, "Invoice", "amount", t1))
	denied(decide(admin, "Invoice", "id", ""))
	denied(decide(support, "Invoice", "id", t1))
	rows(admin, "Invoice", "read") == none
	rows(support, "Invoice", "read") == none
}

test_missing_subject_denied if {
	base := {"action": "read", "resource": {"type": "Query", "field": "me"}, "context": {"time_ns": now_ns}}
	denied(authz.decision) with input as base
	denied(authz.decision) with input as object.union(base, {"resource": {"type": "Person", "field": "id", "tenant_id": t1}})
	authz.rows == none with input as {"action": "read", "resource": {"type": "Person"}}
}

test_object_without_tenant_denied if {
	denied(decide(member, "Person", "name", ""))
	denied(decide(member, "Customer", "id", ""))
}

test_key_with_unknown_role_denied if {
	rogue := object.union(read_key, {"role": "ACCOUNTANT"})
	not allowed(decide(rogue, "Person", "name", t1))
	rows(rogue, "Person", "read") == none
}

test_staff_write_register_by_purpose if {
	rows(billing, "Customer", "write") == everyone
	rows(billing, "ContactPerson", "write") == none
	rows(support, "ContactPerson", "write") == everyone
	rows(director, "ContactPerson", "write") == everyone
	not allowed(mutate(billing, "createContactPerson"))
	allowed(mutate(billing, "updateCustomer"))
}

# --- Rules of the one decision chain ------------------------------------------------------------

test_unknown_action_denies_by_default if {
	d := authz.decision with input as object.union(field_input(member, "Person", "name", t1), {"action": "delete"})
	d.rule == "default.deny"
}

test_whole_registers_need_reach_over_every_tenant if {
	every field in ["breaches", "inquiries", "outbox", "purgeRuns", "recordsOfProcessing", "staffMembers"] {
		decide(admin, "Query", field, "").rule == "query.outside"
	}
	decide(support, "Query", "breaches", "").rule == "query.visible"
	decide(support, "Query", "outbox", "").effect == "allow"
	decide(director, "Query", "purgeRuns", "").effect == "allow"
	decide(support, "Query", "purgeRuns", "").effect == "deny"
}

test_mutations_name_their_rule if {
	mutate(member, "createPerson").rule == "mutation.reach_tenants"
	mutate(member, "createCustomer").rule == "mutation.outside"
	mutate(support, "runPurge").rule == "mutation.whole_register"
	mutate(director, "runPurge").rule == "mutation.reach_all"
}

# Subscriptions: a customer's admin follows its support-access grants and breach
# notifications, the director his grants; a subject that reaches none of a subscription's records
# cannot subscribe, and staff without a current declaration nothing at all.
test_subscriptions_need_reach_over_their_type if {
	decide(admin, "Subscription", "supportAccessGrants", "").rule == "subscription.reach_tenants"
	decide(admin, "Subscription", "breachNotifications", "").rule == "subscription.reach_tenants"
	decide(director, "Subscription", "supportAccessGrants", "").rule == "subscription.reach_all"
	decide(support, "Subscription", "breachNotifications", "").effect == "allow"
	decide(member, "Subscription", "supportAccessGrants", "").rule == "subscription.outside"
	decide(read_key, "Subscription", "breachNotifications", "").rule == "subscription.outside"
	decide(support, "Subscription", "supportAccessGrants", "").rule == "subscription.outside"
	decide(staff_until("DIRECTOR", "2026-05-01T00:00:00Z"), "Subscription", "supportAccessGrants", "").rule == "subject.inactive"
}
