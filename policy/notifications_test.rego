# Tests of the breach register (P4), website inquiries (P5) and support notices (P8).
package wvsoft.notifications_test

import data.wvsoft.authz
import data.wvsoft.declarations
import rego.v1

t1 := "0190a000-0000-7000-8000-000000000001"

t2 := "0190a000-0000-7000-8000-000000000002"

now_ns := time.parse_rfc3339_ns("2026-06-01T12:00:00Z")

visitor := {"kind": "ANONYMOUS", "id": "00000000-0000-0000-0000-000000000000", "role": "VISITOR", "can_write": false, "special_categories": false}

admin := {"kind": "USER", "id": "a", "role": "ADMIN", "tenant_id": t1, "can_write": true, "special_categories": true}

member := object.union(admin, {"role": "MEMBER"})

staff(role) := {"kind": "STAFF", "id": "s", "role": role, "can_write": false, "special_categories": false, "declaration_expires_at": "2026-12-31T00:00:00Z"}

# From schema.graphql (policy/declarations_test.rego, generated).
personal := declarations.personal

decide(subject, type, field, tenant) := d if {
	res := object.union({"type": type, "field": field}, object.get(personal, [type, field], {}))
	d := authz.decision with input as {
		"subject": subject, "action": "read",
		"resource": object.union(res, tenant_of(tenant)),
		"context": {"time_ns": now_ns},
	}
}

tenant_of("") := {}

tenant_of(t) := {"tenant_id": t} if t != ""

rows(subject, type, action) := r if {
	r := authz.rows with input as {"subject": subject, "action": action, "resource": {"type": type}, "context": {"time_ns": now_ns}}
}

# From schema.graphql (policy/declarations_test.rego, generated).
fields := {type: declarations.fields[type] | some type in ["Breach", "BreachNotification", "BreachCall", "Inquiry", "InquiryCount", "SupportNotice", "OutboxMessage"]}

test_visitor_only_submits_inquiries if {
	decide(visitor, "Mutation", "submitInquiry", "").effect == "allow"
	decide(visitor, "InquiryReceipt", "received", "").effect == "allow"
	decide(visitor, "InquiryReceipt", "message", "").effect == "allow"
	every field in ["me", "customers", "persons", "inquiries", "breaches"] {
		decide(visitor, "Query", field, "").effect == "deny"
	}
	decide(visitor, "Mutation", "answerInquiry", "").effect == "deny"
	without_rule(rows(visitor, "Inquiry", "read")) == {"tenants": []}
}

test_support_and_director_do_support_work if {
	every role in ["SUPPORT", "DIRECTOR"] {
		every type, fs in fields {
			without_rule(rows(staff(role), type, "read")) == {"all": true}
			every field in fs {
				decide(staff(role), type, field, "").effect == "allow"
			}
		}
		every m in ["recordBreach", "logBreachCall", "answerInquiry", "publishSupportNotice"] {
			decide(staff(role), "Mutation", m, "").effect == "allow"
		}
		decide(staff(role), "Mutation", "reportBreachToAuthority", "").effect == "deny"
	}
}

test_billing_and_accountant_do_not if {
	every role in ["BILLING", "ACCOUNTANT"] {
		without_rule(rows(staff(role), "Inquiry", "read")) == {"tenants": []}
		decide(staff(role), "Inquiry", "email", "").effect == "deny"
		decide(staff(role), "Mutation", "recordBreach", "").effect == "deny"
		decide(staff(role), "OutboxMessage", "recipient", "").effect == "deny"
	}
}

test_admin_sees_own_breaches_and_reports if {
	without_rule(rows(admin, "BreachNotification", "read")) == {"tenants": [t1]}
	every field in fields.BreachNotification {
		decide(admin, "BreachNotification", field, t1).effect == "allow"
		decide(admin, "BreachNotification", field, t2).effect == "deny"
	}
	decide(admin, "Breach", "description", t1).effect == "allow"
	decide(admin, "BreachCall", "called", t1).effect == "allow"
	decide(admin, "Customer", "breaches", t1).effect == "allow"
	decide(admin, "Mutation", "reportBreachToAuthority", "").effect == "allow"
	decide(admin, "Mutation", "recordBreach", "").effect == "deny"
	without_rule(rows(admin, "Inquiry", "read")) == {"tenants": []}
}

test_member_sees_no_breaches if {
	decide(member, "Customer", "breaches", t1).effect == "deny"
	decide(member, "Mutation", "reportBreachToAuthority", "").effect == "deny"
}

# A rows answer without the id of the branch that gave it (test_rows_name_their_rule checks those).
without_rule(r) := object.remove(r, ["rule"])
