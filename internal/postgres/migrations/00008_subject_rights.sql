-- +goose Up
-- Issue 16: data-subject rights complete.

-- A retention rule for every table that holds personal data or evidence: the purge removes a
-- former customer's consent history, change history, breach notifications (with their calls)
-- and data-subject requests once its fiscal hold ends, and completed requests after five years.
GRANT DELETE ON consent_events, change_history, data_subject_requests, breach_customers, breach_calls TO wvsoft_app;

-- The article 15 export of a person of a data space names the processors among its recipients:
-- a customer's admin reads the processor register's rows (the policy decides who; rows are
-- not tenant-owned, so any request with a tenant may read them).
CREATE POLICY customers_read ON processors FOR SELECT USING (cardinality(app_tenants()) > 0);

-- +goose Down
DROP POLICY customers_read ON processors;
REVOKE DELETE ON consent_events, change_history, data_subject_requests, breach_customers, breach_calls FROM wvsoft_app;
