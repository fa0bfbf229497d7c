# Tests of the privacy ledger: consent (P6), data-subject requests (P7), the staff register
# (P10), the processor register and article 30 records (P11), and the purge (P2).
package wvsoft.ledger_test

import data.wvsoft.authz
import data.wvsoft.declarations
import rego.v1

t1 := "0190a000-0000-7000-8000-000000000001"

t2 := "0190a000-0000-7000-8000-000000000002"

now_ns := time.parse_rfc3339_ns("2026-06-01T12:00:00Z")

admin := {"kind": "USER", "id": "a", "role": "ADMIN", "tenant_id": t1, "can_write": true, "special_categories": true}

member := object.union(admin, {"role": "MEMBER"})

staff(role) := {"kind": "STAFF", "id": "s", "role": role, "can_write": false, "special_categories": false, "declaration_expires_at": "2026-12-31T00:00:00Z"}

# From schema.graphql (policy/declarations_test.rego, generated).
personal := declarations.personal

decide(subject, type, field, tenant, withdrawn) := d if {
	res := object.union({"type": type, "field": field}, object.get(personal, [type, field], {}))
	extra := object.union(tenant_of(tenant), consent_of(subject, withdrawn))
	d := authz.decision with input as {
		"subject": subject, "action": "read", "resource": object.union(res, extra),
		"context": {"time_ns": now_ns},
	}
}

tenant_of("") := {}

tenant_of(t) := {"tenant_id": t} if t != ""

consent_of(subject, withdrawn) := {"record": {"consent_withdrawn": withdrawn}} if subject.kind == "STAFF"

consent_of(subject, _) := {} if subject.kind != "STAFF"

mutate(subject, m) := decide(subject, "Mutation", m, "", false)

rows(subject, type, action) := r if {
	r := authz.rows with input as {"subject": subject, "action": action, "resource": {"type": type}, "context": {"time_ns": now_ns}}
}

# From schema.graphql (policy/declarations_test.rego, generated).
fields := {type: declarations.fields[type] | some type in ["Consent", "ConsentEvent", "DataSubjectRequest", "HistoryEntry", "StaffMember", "Processor", "ProcessingRecords", "ProcessingActivity", "PurgeRun"]}

test_consent_withdrawn_restricts_support_not_billing if {
	decide(staff("SUPPORT"), "Customer", "phone", "", false).effect == "allow"
	decide(staff("SUPPORT"), "Customer", "phone", "", true).effect == "deny"
	decide(staff("SUPPORT"), "ContactPerson", "phone", "", true).effect == "deny"
	decide(staff("SUPPORT"), "Customer", "iban", "", true).effect == "deny"
	decide(staff("BILLING"), "Customer", "iban", "", true).effect == "allow"
	decide(staff("BILLING"), "Customer", "phone", "", true).effect == "allow"
	decide(staff("DIRECTOR"), "ContactPerson", "phone", "", true).effect == "deny"
}

test_admin_manages_consent_and_person_requests if {
	every type in ["Consent", "ConsentEvent", "DataSubjectRequest", "HistoryEntry"] {
		without_rule(rows(admin, type, "read")) == {"tenants": [t1]}
		every field in fields[type] {
			decide(admin, type, field, t1, false).effect == "allow"
			decide(admin, type, field, t2, false).effect == "deny"
		}
	}
	every field in ["consent", "dataSubjectRequests"] {
		decide(admin, "Customer", field, t1, false).effect == "allow"
		decide(member, "Customer", field, t1, false).effect == "deny"
	}
	decide(admin, "Consent", "history", t1, false).effect == "allow"
	without_rule(rows(admin, "PersonRequest", "write")) == {"tenants": [t1]}
	rows(admin, "ContactPersonRequest", "write").rule == "reach.refused"
	without_rule(rows(admin, "ContactPersonRequestFiling", "write")) == {"tenants": [t1]}
	rows(member, "ContactPersonRequestFiling", "write").rule == "reach.refused"
	every m in ["giveConsent", "withdrawConsent", "registerDataSubjectRequest", "executeDataSubjectRequest"] {
		mutate(admin, m).effect == "allow"
		mutate(member, m).effect == "deny"
	}
}

test_support_handles_contact_person_requests if {
	without_rule(rows(staff("SUPPORT"), "ContactPersonRequest", "write")) == {"all": true}
	without_rule(rows(staff("SUPPORT"), "ContactPersonRequestFiling", "write")) == {"all": true}
	rows(staff("SUPPORT"), "PersonRequest", "write").refusal == "requests about a person of a data space are handled by the customer's admin"
	mutate(staff("SUPPORT"), "withdrawConsent").effect == "allow"
	mutate(staff("BILLING"), "withdrawConsent").effect == "deny"
}

test_staff_register_and_purge_for_the_director if {
	every type in ["StaffMember", "PurgeRun"] {
		without_rule(rows(staff("DIRECTOR"), type, "read")) == {"all": true}
		every field in fields[type] {
			decide(staff("DIRECTOR"), type, field, "", false).effect == "allow"
			decide(staff("SUPPORT"), type, field, "", false).effect == "deny"
		}
	}
	mutate(staff("DIRECTOR"), "recordConfidentialityDeclaration").effect == "allow"
	mutate(staff("DIRECTOR"), "runPurge").effect == "allow"
	mutate(staff("SUPPORT"), "runPurge").effect == "deny"
	mutate(admin, "recordConfidentialityDeclaration").effect == "deny"
}

test_processors_and_records_for_all_staff if {
	every role in ["DIRECTOR", "SUPPORT", "BILLING"] {
		every type in ["Processor", "ProcessingRecords", "ProcessingActivity"] {
			every field in fields[type] {
				decide(staff(role), type, field, "", false).effect == "allow"
			}
		}
	}
	decide(staff("ACCOUNTANT"), "Processor", "name", "", false).effect == "deny"
	decide(admin, "ProcessingRecords", "json", "", false).effect == "deny"
	mutate(staff("DIRECTOR"), "registerProcessor").effect == "allow"
	mutate(staff("BILLING"), "registerProcessor").effect == "deny"
}

test_nobody_records_their_own_declaration if {
	own := {
		"subject": staff("DIRECTOR"), "action": "write",
		"resource": {"type": "StaffMember", "field": "declarationSignedAt", "record": {"is_subject": true}},
		"context": {"time_ns": now_ns},
	}
	d := authz.decision with input as own
	d.rule == "record.own_declaration"
	other := authz.decision with input as object.union(own, {"resource": {"type": "StaffMember", "field": "declarationSignedAt", "record": {"is_subject": false}}})
	other.effect == "allow"
}

# History names the actor: HistoryEntry.actor is derived from the actor's own name
# field, so it is decided as User.name (or StaffMember.name): a customer's admin reads the names
# of its own users; support, which reads no User field, does not.
test_history_actor_decided_as_its_source if {
	decide(admin, "User", "name", t1, false).effect == "allow"
	decide(staff("SUPPORT"), "User", "name", t1, false).effect == "deny"
	decide(admin, "StaffMember", "name", "", false).effect == "deny"
	decide(staff("DIRECTOR"), "StaffMember", "name", "", false).effect == "allow"
}

test_admin_reads_processor_rows_for_the_export if {
	without_rule(rows(admin, "Processor", "read")) == {"tenants": [t1]}
	without_rule(rows(member, "Processor", "read")) == {"tenants": []}
	decide(admin, "Processor", "name", "", false).effect == "deny"
	decide(admin, "Query", "processors", "", false).effect == "deny"
}

# Staff see requests and history about the customer register only: the rows come with the
# condition (data_of), which the server puts into the SQL, and a record about a data space or a
# customer's accounts that got through anyway is denied field by field.
test_staff_see_requests_and_history_of_the_register_only if {
	every type in ["DataSubjectRequest", "HistoryEntry"] {
		without_rule(rows(staff("SUPPORT"), type, "read")) == {"all": true, "data_of": ["CUSTOMER"]}
		without_rule(rows(staff("DIRECTOR"), type, "read")) == {"all": true, "data_of": ["CUSTOMER"]}
		without_rule(rows(admin, type, "read")) == {"tenants": [t1]} # a customer's admin: all of its own
		every field in ["at"] {
			about(staff("SUPPORT"), type, field, "CUSTOMER").effect == "allow"
			about(staff("SUPPORT"), type, field, "DATA_SPACE").rule == "staff.ledger_outside_register"
			about(staff("SUPPORT"), type, field, "ACCOUNT").rule == "staff.ledger_outside_register"
			about(admin, type, field, "DATA_SPACE").effect == "allow"
		}
	}
	without_rule(rows(staff("SUPPORT"), "Customer", "read")) == {"all": true} # the register itself has no such condition
}

# A read of field of a record of type about data of data_of, in tenant t1.
about(subject, type, field, data_of) := d if {
	d := authz.decision with input as {
		"subject": subject, "action": "read",
		"resource": {"type": type, "field": field, "tenant_id": t1, "record": {"data_of": data_of}},
		"context": {"time_ns": now_ns},
	}
}

# A rows answer without the id of the branch that gave it (test_rows_name_their_rule checks those).
without_rule(r) := object.remove(r, ["rule"])

# Every rows answer names the branch of reach that gave it, for the decision log.
test_rows_name_their_rule if {
	rows(staff("SUPPORT"), "DataSubjectRequest", "read").rule == "reach.staff_register_only"
	rows(staff("SUPPORT"), "Customer", "read").rule == "reach.staff"
	rows(admin, "Consent", "read").rule == "reach.own"
	rows(member, "Processor", "read").rule == "reach.none"
	rows(admin, "ContactPersonRequest", "write").rule == "reach.refused"
}
