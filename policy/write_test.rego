# Tests of writing fields through mutation inputs. Writing goes through the same chain of rules as
# reading the field (authz.rego, field_decision): purposes, consent, restriction and grants bound
# staff's writes as they bound their reads, and writing adds reach for writing and no masks.
package wvsoft.write_test

import data.wvsoft.authz
import rego.v1

t1 := "0190a000-0000-7000-8000-000000000001"

t2 := "0190a000-0000-7000-8000-000000000002"

now := "2026-06-01T12:00:00Z"

staff(role) := {"kind": "STAFF", "id": "s", "role": role, "can_write": false, "special_categories": false, "declaration_expires_at": "2026-12-31T00:00:00Z"}

member := {"kind": "USER", "id": "m", "role": "MEMBER", "tenant_id": t1, "can_write": true, "special_categories": true}

key(write, special) := {"kind": "API_KEY", "id": "k", "role": role(write), "tenant_id": t1, "can_write": write, "special_categories": special}

role(true) := "INTEGRATOR_WRITE"

role(false) := "INTEGRATOR_READ"

meta := {
	"ContactPerson": {"phone": ["CONTACT", ["SUPPORT"]], "name": ["IDENTITY", ["SUPPORT", "BILLING"]]},
	"Customer": {"iban": ["FINANCIAL", ["BILLING"]], "phone": ["CONTACT", ["SUPPORT", "BILLING"]]},
	"Person": {"bsn": ["NATIONAL_ID", ["SERVICE"]], "name": ["IDENTITY", ["SERVICE"]]},
}

# The decision about one field of a record of tenant in the given record state, for action.
decide(action, subject, type, field, tenant, record, grants) := d if {
	m := meta[type][field]
	d := authz.decision with input as {
		"subject": subject, "action": action,
		"resource": {"type": type, "field": field, "category": m[0], "purposes": m[1], "tenant_id": tenant, "record": record},
		"context": {"time_ns": time.parse_rfc3339_ns(now), "grants": grants},
	}
}

write(subject, type, field, grants) := decide("write", subject, type, field, t1, {}, grants)

test_billing_writes_billing_fields_only if {
	write(staff("BILLING"), "Customer", "iban", []).effect == "allow"
	write(staff("BILLING"), "ContactPerson", "phone", []).effect == "deny"
}

test_support_cannot_overwrite_billing_data if {
	write(staff("SUPPORT"), "Customer", "iban", []).effect == "deny" # read masked, so never written
	write(staff("SUPPORT"), "Customer", "phone", []).effect == "allow"
	write(staff("SUPPORT"), "ContactPerson", "phone", []).effect == "allow"
}

test_customer_users_write_their_data_space if {
	write(member, "Person", "bsn", []).effect == "allow"
	write(member, "Customer", "iban", []).effect == "deny" # customer users do not write the register
	decide("write", member, "Person", "name", t2, {}, []).effect == "deny"
}

test_keys_write_with_scope if {
	write(key(true, false), "Person", "name", []).effect == "allow"
	write(key(true, false), "Person", "bsn", []).effect == "deny"
	write(key(true, true), "Person", "bsn", []).effect == "allow"
	write(key(false, true), "Person", "name", []).effect == "deny"
}

test_director_writes_under_a_writing_grant if {
	read_grant := {"id": "g1", "tenant_id": t1, "types": ["Person"], "special": false, "write": false, "expires_at": "2026-06-01T20:00:00Z"}
	write_grant := object.union(read_grant, {"id": "g2", "write": true})
	write(staff("DIRECTOR"), "Person", "name", [read_grant]).effect == "deny"
	write(staff("DIRECTOR"), "Person", "name", [write_grant]) == {"effect": "allow", "rule": "grant.scope", "grant": "g2"}
	write(staff("DIRECTOR"), "Person", "bsn", [write_grant]).rule == "grant.special_category"
	write(staff("DIRECTOR"), "Person", "bsn", [object.union(write_grant, {"special": true})]).effect == "allow"
}

test_accountant_writes_nothing if {
	write(staff("ACCOUNTANT"), "Customer", "phone", []).effect == "deny"
}

# The tenant of the written record is known: a grant's scope never stretches to another customer.
test_director_special_write_follows_the_records_grant if {
	special_x := {"id": "g1", "tenant_id": t1, "types": ["Person"], "special": true, "write": true, "expires_at": "2026-06-01T20:00:00Z"}
	plain_y := {"id": "g2", "tenant_id": t2, "types": ["Person"], "special": false, "write": true, "expires_at": "2026-06-01T20:00:00Z"}
	decide("write", staff("DIRECTOR"), "Person", "bsn", t1, {}, [special_x, plain_y]) == {"effect": "allow", "rule": "grant.scope", "grant": "g1"}
	decide("write", staff("DIRECTOR"), "Person", "bsn", t2, {}, [special_x, plain_y]).effect == "deny"
	decide("write", staff("DIRECTOR"), "Person", "name", t2, {}, [special_x, plain_y]).grant == "g2"
}

test_grants_never_write_users_or_keys if {
	g := {"id": "g1", "tenant_id": t1, "types": ["Person", "User", "ApiKey"], "special": true, "write": true, "expires_at": "2026-06-01T20:00:00Z"}
	every type in ["User", "ApiKey"] {
		r := authz.rows with input as {
			"subject": staff("DIRECTOR"), "action": "write", "resource": {"type": type},
			"context": {"time_ns": time.parse_rfc3339_ns(now), "grants": [g]},
		}
		r == {"tenants": [], "rule": "reach.none"}
	}
}

# One rule set: for every role and field here, writing is allowed only where reading is allowed
# unmasked, and consent withdrawal and restriction bind both alike.
test_writing_never_exceeds_reading if {
	every role in ["DIRECTOR", "SUPPORT", "BILLING", "ACCOUNTANT"] {
		every type in ["Customer", "ContactPerson"] {
			every field, _ in meta[type] {
				every record in [{}, {"consent_withdrawn": true}, {"restricted": true}] {
					some_write_implies_read(staff(role), type, field, record)
				}
			}
		}
	}
}

some_write_implies_read(subject, type, field, record) if {
	decide("write", subject, type, field, t1, record, []).effect == "deny"
}

some_write_implies_read(subject, type, field, record) if {
	decide("write", subject, type, field, t1, record, []).effect == "allow"
	decide("read", subject, type, field, t1, record, []).effect == "allow"
}

test_consent_withdrawal_restricts_staff_writes if {
	withdrawn := {"consent_withdrawn": true}
	decide("write", staff("SUPPORT"), "ContactPerson", "phone", t1, withdrawn, []).rule == "staff.consent_withdrawn_write"
	decide("write", staff("SUPPORT"), "ContactPerson", "name", t1, withdrawn, []).rule == "staff.consent_withdrawn_write"
	decide("read", staff("SUPPORT"), "ContactPerson", "phone", t1, withdrawn, []).rule == "staff.consent_withdrawn"
	decide("read", staff("SUPPORT"), "ContactPerson", "name", t1, withdrawn, []).rule == "staff.consent_withdrawn_billing_only"
	decide("write", staff("BILLING"), "Customer", "iban", t1, withdrawn, []).effect == "allow"
}

test_restricted_records_serve_billing_only if {
	restricted := {"restricted": true}
	decide("read", staff("BILLING"), "ContactPerson", "name", t1, restricted, []).effect == "allow"
	decide("write", staff("BILLING"), "ContactPerson", "name", t1, restricted, []).rule == "reach.outside" # billing writes customers only
	decide("read", staff("SUPPORT"), "ContactPerson", "name", t1, restricted, []).rule == "record.restricted"
	decide("read", staff("DIRECTOR"), "ContactPerson", "name", t1, restricted, []).effect == "allow"
	decide("read", staff("DIRECTOR"), "ContactPerson", "phone", t1, restricted, []).effect == "deny"
	decide("read", member, "ContactPerson", "name", t1, restricted, []).rule == "record.restricted"
}

# A restricted record is kept as it is until its hold ends: nobody writes any of its fields,
# not even one without a category, and so nobody deletes it (a delete is decided on the id).
test_restricted_records_are_written_by_nobody if {
	restricted := {"restricted": true}
	grant := {"id": "g1", "tenant_id": t1, "types": ["ContactPerson", "Person"], "special": true, "write": true, "expires_at": "2026-06-01T20:00:00Z"}

	# Those who write contact persons at all (support, the customer's admin, the director under
	# a writing grant); the others never reach them for writing.
	every subject in [staff("SUPPORT"), staff("DIRECTOR"), admin] {
		every field in ["id", "role", "name", "phone"] {
			decide_any("write", subject, "ContactPerson", field, restricted, [grant]).rule == "record.restricted_write"
			decide_any("write", subject, "ContactPerson", field, {}, [grant]).effect == "allow"
		}
	}
	every subject in [staff("BILLING"), member, key(true, true)] {
		decide_any("write", subject, "ContactPerson", "id", restricted, [grant]).rule == "reach.outside"
	}
}

admin := {"kind": "USER", "id": "a", "role": "ADMIN", "tenant_id": t1, "can_write": true, "special_categories": true}

# After a withdrawal staff outside billing change none of the customer's records: not a field
# without a category, and not the record as a whole (a delete); billing keeps writing.
test_consent_withdrawal_stops_staff_writes_of_every_field if {
	withdrawn := {"consent_withdrawn": true}
	every field in ["id", "role"] {
		decide_any("write", staff("SUPPORT"), "ContactPerson", field, withdrawn, []).rule == "staff.consent_withdrawn_write"
		decide_any("write", staff("SUPPORT"), "ContactPerson", field, {}, []).effect == "allow"
		decide_any("read", staff("SUPPORT"), "ContactPerson", field, withdrawn, []).effect == "allow" # ids and roles stay listed
	}
	decide_any("write", staff("BILLING"), "Customer", "id", withdrawn, []).effect == "allow"
	decide_any("write", member, "ContactPerson", "id", withdrawn, []).effect == "deny" # customer users do not write the register
}

# decide for any field, with or without a category (meta's, or none).
decide_any(action, subject, type, field, record, grants) := d if {
	m := object.get(meta, [type, field], [null, []])
	resource := object.union(
		{"type": type, "field": field, "purposes": m[1], "tenant_id": t1, "record": record},
		category_of(m[0]),
	)
	d := authz.decision with input as {
		"subject": subject, "action": action, "resource": resource,
		"context": {"time_ns": time.parse_rfc3339_ns(now), "grants": grants},
	}
}

category_of(null) := {}

category_of(c) := {"category": c} if c != null
