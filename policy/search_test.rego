# Tests of counts (totalCount) and the reads that filters and orders are.
#
# A filter or an order on a field is decided as a read of that field (internal/authz/search.go
# asks field_decision with action "read" for every record class the list can return), so the
# tests below are field decisions: they pin the answers that make a filter allowed or refused.
package wvsoft.search_test

import data.wvsoft.authz
import rego.v1

t1 := "0190a000-0000-7000-8000-000000000001"

t2 := "0190a000-0000-7000-8000-000000000002"

now_ns := time.parse_rfc3339_ns("2026-06-01T12:00:00Z")

member := {
	"kind": "USER", "id": "0190a000-0000-7000-8000-0000000000a1", "role": "MEMBER",
	"tenant_id": t1, "can_write": true, "special_categories": true,
}

read_key := {
	"kind": "API_KEY", "id": "0190a000-0000-7000-8000-0000000000b1", "role": "INTEGRATOR_READ",
	"tenant_id": t1, "can_write": false, "special_categories": false,
}

staff(role) := {
	"kind": "STAFF", "id": "0190a000-0000-7000-8000-0000000000c1", "role": role,
	"can_write": false, "special_categories": false, "declaration_expires_at": "2026-12-31T00:00:00Z",
}

grant := {
	"id": "g1", "tenant_id": t1, "types": ["Person"], "special": false, "write": false,
	"expires_at": "2026-06-01T20:00:00Z",
}

# A field of tenant ("" for none) in a record state, with the field's @personal data.
decide(subject, grants, type, field, tenant, record, personal) := d if {
	d := authz.decision with input as {
		"subject": subject, "action": "read",
		"resource": object.union(object.union({"type": type, "field": field, "record": record}, personal), tenant_of(tenant)),
		"context": {"time_ns": now_ns, "grants": grants},
	}
}

tenant_of("") := {}

tenant_of(t) := {"tenant_id": t} if t != ""

counted(subject, grants, type, tenant) := decide(subject, grants, type, "totalCount", tenant, {}, {})

# --- totalCount -------------------------------------------------------------------------------

test_count_of_own_data_space if {
	counted(member, [], "PersonConnection", t1) == {"effect": "allow", "rule": "count.visible"}
	counted(read_key, [], "PersonConnection", t1) == {"effect": "allow", "rule": "count.visible"}
}

test_count_of_another_data_space_refused if {
	d := counted(member, [], "PersonConnection", t2)
	d.effect == "deny"
	d.rule == "count.outside"
}

test_count_of_a_data_space_staff_do_not_reach if {
	counted(staff("SUPPORT"), [], "PersonConnection", t1).rule == "count.outside"
	counted(staff("DIRECTOR"), [], "PersonConnection", t1).rule == "count.outside"
}

test_count_under_a_grant_carries_the_grant if {
	counted(staff("DIRECTOR"), [grant], "PersonConnection", t1) == {"effect": "allow", "rule": "count.grant", "grant": "g1"}
	counted(staff("DIRECTOR"), [grant], "PersonConnection", t2).rule == "count.outside"
}

test_count_of_the_register if {
	counted(staff("SUPPORT"), [], "CustomerConnection", "") == {"effect": "allow", "rule": "count.visible"}
	counted(member, [], "CustomerConnection", "") == {"effect": "allow", "rule": "count.visible"}
}

test_count_of_contact_persons_across_the_register if {
	counted(staff("SUPPORT"), [], "ContactPersonConnection", "") == {"effect": "allow", "rule": "count.visible"}
	counted(staff("BILLING"), [], "ContactPersonConnection", "") == {"effect": "allow", "rule": "count.visible"}
	counted(member, [], "ContactPersonConnection", "") == {"effect": "allow", "rule": "count.visible"}
	counted(staff("ACCOUNTANT"), [], "ContactPersonConnection", "").rule == "subject.inactive"
}

test_count_refused_to_who_reaches_nothing if {
	counted(staff("ACCOUNTANT"), [], "CustomerConnection", "").rule == "subject.inactive"
	counted(object.union(staff("DIRECTOR"), {"role": "NOBODY"}), [], "CustomerConnection", "").effect == "deny"
}

test_count_refused_without_reach_across_tenants if {
	# Support reaches no data space at all: a count of persons without a tenant counts nothing
	# it may see. No connection asks so today (PersonConnection carries its tenant); the rule
	# stands for the next one that does.
	not authz.counts_within_reach("Person") with input as {
		"subject": staff("SUPPORT"), "action": "read", "resource": {"type": "PersonConnection", "field": "totalCount"},
		"context": {"time_ns": now_ns, "grants": []},
	}
	authz.counts_within_reach("Person") with input as {
		"subject": member, "action": "read", "resource": {"type": "PersonConnection", "field": "totalCount"},
		"context": {"time_ns": now_ns, "grants": []},
	}
}

test_other_connection_fields_stay_structural if {
	decide(member, [], "PersonConnection", "edges", t1, {}, {}) == {"effect": "allow", "rule": "structural"}
	decide(member, [], "CustomerConnection", "pageInfo", "", {}, {}) == {"effect": "allow", "rule": "structural"}
	decide(member, [], "ContactPersonConnection", "edges", "", {}, {}) == {"effect": "allow", "rule": "structural"}
	decide(member, [], "ContactPersonEdge", "node", "", {}, {}) == {"effect": "allow", "rule": "structural"}
}

# --- Filters and orders are reads ---------------------------------------------------------------

person_name := {"category": "IDENTITY", "purposes": ["SERVICE"]}

person_bsn := {"category": "NATIONAL_ID", "purposes": ["SERVICE"]}

person_iban := {"category": "FINANCIAL", "purposes": ["SERVICE"]}

customer_name := {"category": "IDENTITY", "purposes": ["SUPPORT", "BILLING"]}

customer_city := {"category": "CONTACT", "purposes": ["BILLING"]}

data_space := {"data_of": "DATA_SPACE"}

register(withdrawn) := {"data_of": "CUSTOMER", "relationship": "CURRENT", "consent_withdrawn": withdrawn}

# A read-only key filters persons by name, never by BSN (special category) or IBAN (masked).
test_read_key_filters_by_name_not_bsn_or_iban if {
	decide(read_key, [], "Person", "name", t1, data_space, person_name).effect == "allow"
	decide(read_key, [], "Person", "bsn", t1, data_space, person_bsn).rule == "key.special_category"
	decide(read_key, [], "Person", "iban", t1, data_space, person_iban).effect == "mask"
}

# Support searches customers by name while every customer consents; a customer that withdrew
# consent makes the name unreadable to support, so a search across the register is refused.
test_support_customer_name_by_consent if {
	decide(staff("SUPPORT"), [], "Customer", "name", "", register(false), customer_name).rule == "staff.purpose"
	decide(staff("SUPPORT"), [], "Customer", "name", "", register(true), customer_name).rule == "staff.consent_withdrawn_billing_only"
	decide(staff("BILLING"), [], "Customer", "name", "", register(true), customer_name).rule == "staff.consent_withdrawn_billing"
}

# Support does not read (so does not filter on) a customer's city: billing data.
test_support_customer_city_refused if {
	decide(staff("SUPPORT"), [], "Customer", "city", "", register(false), customer_city).rule == "staff.no_purpose"
	decide(staff("BILLING"), [], "Customer", "city", "", register(false), customer_city).rule == "staff.purpose"
}

# The director filters a data space only under a grant, and the read carries it.
test_director_filters_under_grant if {
	decide(staff("DIRECTOR"), [grant], "Person", "name", t1, data_space, person_name) == {"effect": "allow", "rule": "grant.scope", "grant": "g1"}
	decide(staff("DIRECTOR"), [], "Person", "name", t1, data_space, person_name).rule == "reach.outside"
}
