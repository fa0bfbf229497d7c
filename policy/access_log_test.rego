# Tests of the verifiable access log: the checkpoint, the proofs and the per-grant
# summary are the customer's evidence, read by the customer's admins only; WvSoft's director,
# whose accesses they record, reads none of them, not even under a grant.
package wvsoft.access_log_test

import data.wvsoft.authz
import rego.v1

t1 := "0190a000-0000-7000-8000-000000000001"

t2 := "0190a000-0000-7000-8000-000000000002"

now := "2026-06-01T12:00:00Z"

admin := {"kind": "USER", "id": "a", "role": "ADMIN", "tenant_id": t1, "can_write": true, "special_categories": true}

director := {
	"kind": "STAFF", "id": "0190a000-0000-7000-8000-0000000000d1", "role": "DIRECTOR",
	"can_write": false, "special_categories": false, "declaration_expires_at": "2026-12-31T00:00:00Z",
}

grant_t1 := {"id": "g1", "tenant_id": t1, "types": ["Person", "User", "ApiKey"], "special": true, "write": true, "expires_at": "2026-06-01T20:00:00Z"}

decide(subject, grants, type, field, tenant) := d if {
	d := authz.decision with input as {
		"subject": subject, "action": "read", "resource": {"type": type, "field": field, "tenant_id": tenant},
		"context": {"time_ns": time.parse_rfc3339_ns(now), "grants": grants},
	}
}

evidence_fields := ["accessLogCheckpoint", "accessLogSignedFrom", "accessLogInclusionProof", "accessLogConsistencyProof", "accessLogSummary"]

test_admins_read_their_evidence if {
	every field in evidence_fields {
		decide(admin, [], "Customer", field, t1).effect == "allow"
		decide(admin, [], "Customer", field, t2).effect == "deny"
		decide(object.union(admin, {"role": "MEMBER"}), [], "Customer", field, t1).effect == "deny"
	}
}

test_nobody_at_wvsoft_reads_the_evidence if {
	every field in evidence_fields {
		decide(director, [grant_t1], "Customer", field, t1).effect == "deny"
		every role in ["SUPPORT", "BILLING", "ACCOUNTANT"] {
			decide(object.union(director, {"role": role}), [], "Customer", field, t1).effect == "deny"
		}
	}
}

test_integrator_keys_read_no_evidence if {
	key := {"kind": "API_KEY", "id": "k", "role": "INTEGRATOR_WRITE", "tenant_id": t1, "can_write": true, "special_categories": true}
	every field in evidence_fields {
		decide(key, [], "Customer", field, t1).effect == "deny"
	}
}

# The evidence's own types only carry what the Customer field above let through.
evidence_types := {
	"AccessLogCheckpoint": ["treeSize", "rootHash", "note", "signedAt"],
	"AccessLogInclusionProof": ["seq", "treeSize", "record", "leafHash", "hashes", "checkpoint"],
	"AccessLogConsistencyProof": ["from", "to", "hashes", "fromCheckpoint", "toCheckpoint"],
	"AccessGrantSummary": ["grant", "requests", "writes", "records", "fields", "firstAt", "lastAt"],
}

test_evidence_types_are_carriers if {
	every type, fields in evidence_types {
		every field in fields {
			decide(admin, [], type, field, "").effect == "allow"
		}
	}
}

# An entry's canonical record is read like the rest of the entry: the customer's admins only.
test_admins_read_the_records if {
	decide(admin, [], "AccessLogEntry", "record", t1).effect == "allow"
	decide(admin, [], "AccessLogEntry", "record", t2).effect == "deny"
	decide(object.union(admin, {"role": "MEMBER"}), [], "AccessLogEntry", "record", t1).effect == "deny"
	decide(director, [grant_t1], "AccessLogEntry", "record", t1).effect == "deny"
}
