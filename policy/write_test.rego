# Tests of writing fields through mutation inputs: purposes bound staff's writes as they bound
# their reads.
package wvsoft.write_test

import data.wvsoft.authz
import rego.v1

t1 := "0190a000-0000-7000-8000-000000000001"

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

write(subject, type, field, grants) := d if {
	m := meta[type][field]
	d := authz.decision with input as {
		"subject": subject, "action": "write",
		"resource": {"type": type, "field": field, "category": m[0], "purposes": m[1]},
		"context": {"time_ns": time.parse_rfc3339_ns(now), "grants": grants},
	}
}

test_billing_writes_billing_fields_only if {
	write(staff("BILLING"), "Customer", "iban", []).effect == "allow"
	write(staff("BILLING"), "ContactPerson", "phone", []).effect == "deny"
}

test_support_cannot_overwrite_billing_data if {
	write(staff("SUPPORT"), "Customer", "iban", []).effect == "deny"
	write(staff("SUPPORT"), "Customer", "phone", []).effect == "allow"
	write(staff("SUPPORT"), "ContactPerson", "phone", []).effect == "allow"
}

test_customer_users_write_their_data_space if {
	write(member, "Person", "bsn", []).effect == "allow"
	write(member, "Customer", "iban", []).effect == "deny" # customer users do not write the register
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
	write(staff("DIRECTOR"), "Person", "name", [write_grant]).effect == "allow"
	write(staff("DIRECTOR"), "Person", "bsn", [write_grant]).effect == "deny"
	write(staff("DIRECTOR"), "Person", "bsn", [object.union(write_grant, {"special": true})]).effect == "allow"
}

test_accountant_writes_nothing if {
	write(staff("ACCOUNTANT"), "Customer", "phone", []).effect == "deny"
}

test_director_special_write_needs_every_writing_grant if {
	special_x := {"id": "g1", "tenant_id": t1, "types": ["Person"], "special": true, "write": true, "expires_at": "2026-06-01T20:00:00Z"}
	plain_y := {"id": "g2", "tenant_id": "0190a000-0000-7000-8000-000000000002", "types": ["Person"], "special": false, "write": true, "expires_at": "2026-06-01T20:00:00Z"}
	write(staff("DIRECTOR"), "Person", "bsn", [special_x]).effect == "allow"
	write(staff("DIRECTOR"), "Person", "bsn", [special_x, plain_y]).effect == "deny"
	write(staff("DIRECTOR"), "Person", "name", [special_x, plain_y]).effect == "allow"
}

test_grants_never_write_users_or_keys if {
	g := {"id": "g1", "tenant_id": t1, "types": ["Person", "User", "ApiKey"], "special": true, "write": true, "expires_at": "2026-06-01T20:00:00Z"}
	every type in ["User", "ApiKey"] {
		r := authz.rows with input as {
			"subject": staff("DIRECTOR"), "action": "write", "resource": {"type": type},
			"context": {"time_ns": time.parse_rfc3339_ns(now), "grants": [g]},
		}
		r == {"tenants": []}
	}
}
