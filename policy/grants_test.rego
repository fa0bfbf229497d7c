# Tests of support access under a customer's grant (P9): the director reaches what an active
# grant names, for that customer only, and nothing once it is gone. Pending, denied and revoked
# requests never reach the policy: the server sends only grants in force, so they are the
# "no grant" case.
package wvsoft.grants_test

import data.wvsoft.authz
import data.wvsoft.declarations
import rego.v1

t1 := "0190a000-0000-7000-8000-000000000001"

t2 := "0190a000-0000-7000-8000-000000000002"

now := "2026-06-01T12:00:00Z"

director := {
	"kind": "STAFF", "id": "0190a000-0000-7000-8000-0000000000d1", "role": "DIRECTOR",
	"can_write": false, "special_categories": false, "declaration_expires_at": "2026-12-31T00:00:00Z",
}

grant(id, tenant, types, special, write, expires) := {
	"id": id, "tenant_id": tenant, "types": types, "special": special, "write": write, "expires_at": expires,
}

persons_t1 := grant("g1", t1, ["Person"], false, false, "2026-06-01T20:00:00Z")

persons_special_t1 := grant("g2", t1, ["Person"], true, true, "2026-06-01T20:00:00Z")

expired_t1 := grant("g3", t1, ["Person"], true, false, "2026-06-01T11:59:59Z")

# From schema.graphql (policy/declarations_test.rego, generated).
personal := declarations.personal

resource(type, field, tenant) := object.union({"type": type, "field": field, "tenant_id": tenant}, object.get(personal, [type, field], {}))

decide(subject, grants, type, field, tenant) := d if {
	d := authz.decision with input as {
		"subject": subject, "action": "read", "resource": resource(type, field, tenant),
		"context": {"time_ns": time.parse_rfc3339_ns(now), "grants": grants},
	}
}

rows(subject, grants, type, action) := r if {
	r := authz.rows with input as {
		"subject": subject, "action": action, "resource": {"type": type},
		"context": {"time_ns": time.parse_rfc3339_ns(now), "grants": grants},
	}
}

mutate(subject, grants, mutation) := decide(subject, grants, "Mutation", mutation, "")

test_no_grant_no_data_space if {
	without_rule(rows(director, [], "Person", "read")) == {"tenants": []}
	decide(director, [], "Person", "name", t1).effect == "deny"
	decide(director, [], "Customer", "persons", t1).effect == "deny"
}

test_active_grant_in_scope if {
	without_rule(rows(director, [persons_t1], "Person", "read")) == {"tenants": [t1]}
	rows(director, [persons_t1], "Person", "read").rule == "reach.grant"
	decide(director, [persons_t1], "Person", "name", t1) == {"effect": "allow", "rule": "grant.scope", "grant": "g1"}
	decide(director, [persons_t1], "Person", "id", t1) == {"effect": "allow", "rule": "grant.scope", "grant": "g1"}
	decide(director, [persons_t1], "Customer", "persons", t1).effect == "allow"
}

test_active_grant_out_of_scope_type if {
	without_rule(rows(director, [persons_t1], "User", "read")) == {"tenants": []}
	decide(director, [persons_t1], "User", "email", t1).effect == "deny"
	decide(director, [persons_t1], "Customer", "users", t1).effect == "deny"
}

test_special_category_outside_scope if {
	decide(director, [persons_t1], "Person", "bsn", t1).effect == "deny"
	decide(director, [persons_t1], "Person", "medicalNotes", t1).effect == "deny"
	decide(director, [persons_t1], "Person", "iban", t1).effect == "allow"
}

test_special_category_in_scope if {
	decide(director, [persons_special_t1], "Person", "bsn", t1) == {"effect": "allow", "rule": "grant.scope", "grant": "g2"}
}

test_read_grant_does_not_write if {
	without_rule(rows(director, [persons_t1], "Person", "write")) == {"tenants": []}
	mutate(director, [persons_t1], "createPerson").effect == "deny"
	without_rule(rows(director, [persons_special_t1], "Person", "write")) == {"tenants": [t1]}
	mutate(director, [persons_special_t1], "updatePerson").effect == "allow"
}

test_expired_grant_denied if {
	without_rule(rows(director, [expired_t1], "Person", "read")) == {"tenants": []}
	decide(director, [expired_t1], "Person", "name", t1).effect == "deny"
}

test_other_customers_grant_opens_nothing_here if {
	decide(director, [persons_t1], "Person", "name", t2).effect == "deny"
	decide(director, [persons_t1], "Customer", "persons", t2).effect == "deny"
}

test_grants_only_for_the_director if {
	every role in ["SUPPORT", "BILLING", "ACCOUNTANT"] {
		staff := object.union(director, {"role": role})
		without_rule(rows(staff, [persons_special_t1], "Person", "read")) == {"tenants": []}
		decide(staff, [persons_special_t1], "Person", "name", t1).effect == "deny"
	}
}

test_director_without_declaration_gets_nothing_under_grant if {
	lapsed := object.union(director, {"declaration_expires_at": "2026-01-01T00:00:00Z"})
	without_rule(rows(lapsed, [persons_special_t1], "Person", "read")) == {"tenants": []}
	decide(lapsed, [persons_special_t1], "Person", "name", t1).effect == "deny"
}

test_only_the_customers_admin_decides if {
	mutate(director, [persons_t1], "approveSupportAccess").effect == "deny"
	mutate(director, [persons_t1], "revokeSupportAccess").effect == "deny"
	mutate(director, [], "requestSupportAccess").effect == "allow"
	admin := {"kind": "USER", "id": "a", "role": "ADMIN", "tenant_id": t1, "can_write": true, "special_categories": true}
	mutate(admin, [], "approveSupportAccess").effect == "allow"
	mutate(admin, [], "requestSupportAccess").effect == "deny"
	member := object.union(admin, {"role": "MEMBER"})
	mutate(member, [], "approveSupportAccess").effect == "deny"
	decide(member, [], "Customer", "accessLog", t1).effect == "deny"
	decide(admin, [], "Customer", "accessLog", t1).effect == "allow"
}

# Every field of the support-access types: the customer's admin reads them for its own
# customer, a member none, another customer's admin none.
access_fields := {type: declarations.fields[type] | some type in ["SupportAccessGrant", "AccessLogEntry"]}

test_admin_reads_every_support_access_field if {
	admin := {"kind": "USER", "id": "a", "role": "ADMIN", "tenant_id": t1, "can_write": true, "special_categories": true}
	every type, fields in access_fields {
		every field in fields {
			decide(admin, [], type, field, t1).effect == "allow"
			decide(object.union(admin, {"role": "MEMBER"}), [], type, field, t1).effect == "deny"
			decide(admin, [], type, field, t2).effect == "deny"
		}
	}
}

test_director_reads_his_requests if {
	every field in access_fields.SupportAccessGrant {
		decide(director, [], "SupportAccessGrant", field, t2).effect == "allow"
	}
	decide(director, [], "AccessLogEntry", "records", t1).effect == "deny"
}

test_customer_links_to_support_access_for_admins_only if {
	admin := {"kind": "USER", "id": "a", "role": "ADMIN", "tenant_id": t1, "can_write": true, "special_categories": true}
	every field in ["supportAccessGrants", "accessLog", "accessLogVerification"] {
		decide(admin, [], "Customer", field, t1).effect == "allow"
		decide(object.union(admin, {"role": "MEMBER"}), [], "Customer", field, t1).effect == "deny"
	}

	# The director sees the requests he filed, not the customer's log.
	decide(director, [persons_special_t1], "Customer", "supportAccessGrants", t1).effect == "allow"
	decide(director, [persons_special_t1], "Customer", "accessLog", t1).effect == "deny"
	decide(director, [persons_special_t1], "Customer", "accessLogVerification", t1).effect == "deny"
}

# A rows answer without the id of the branch that gave it (test_rows_name_their_rule checks those).
without_rule(r) := object.remove(r, ["rule"])
