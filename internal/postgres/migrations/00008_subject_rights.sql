-- +goose Up
-- Data-subject rights complete.

-- A retention rule for every table that holds personal data or evidence: the purge removes a
-- former customer's consent history, change history, breach notifications (with their calls)
-- and data-subject requests once its fiscal hold ends, and completed requests after five years.
GRANT DELETE ON consent_events, change_history, data_subject_requests, breach_customers, breach_calls TO wvsoft_app;

-- The article 15 export of a person of a data space names the processors among its recipients:
-- a customer's admin reads the processor register's rows (the policy decides who; rows are
-- not tenant-owned, so any request with a tenant may read them).
CREATE POLICY customers_read ON processors FOR SELECT USING (cardinality(app_tenants()) > 0);

-- The access log, its tree and checkpoints, and the support-access grants are evidence too:
-- they go with the customer's other evidence once its fiscal hold has ended. The log stays
-- append-only for the application: only the owner deletes (the owner could always switch the
-- triggers off), and only through purge_access_logs, which the purge calls. A real run decides
-- by the database's own date, never later than the date it is given, so an application that
-- asks with a date in the future removes nothing early; a dry run only counts, at the date given.
-- +goose StatementBegin
DO $$ BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $b$
    BEGIN
      IF TG_OP = 'DELETE' AND current_user = %L AND current_setting('app.retention_purge', true) = 'on' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'the access log is append-only' USING ERRCODE = 'insufficient_privilege';
    END
    $b$;
  $f$, current_user);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION purge_access_logs(p_at date, p_fiscal_years int, p_dry boolean, OUT entries bigint, OUT grants bigint)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_at date := CASE WHEN p_dry THEN p_at ELSE least(p_at, current_date) END;
  v_tenants uuid[];
BEGIN
  SELECT coalesce(array_agg(tenant_id), '{}') INTO v_tenants FROM customers
    WHERE relationship_end IS NOT NULL
    AND make_date(extract(year FROM relationship_end)::int + greatest(p_fiscal_years, 7), 12, 31) < v_at;
  IF p_dry THEN
    SELECT count(*) INTO entries FROM access_log WHERE tenant_id = ANY (v_tenants);
    SELECT count(*) INTO grants FROM access_grants WHERE tenant_id = ANY (v_tenants);
    RETURN;
  END IF;
  PERFORM set_config('app.retention_purge', 'on', true);
  DELETE FROM access_log_checkpoints WHERE tenant_id = ANY (v_tenants);
  DELETE FROM access_log_tree WHERE tenant_id = ANY (v_tenants);
  DELETE FROM access_log_adopted WHERE tenant_id = ANY (v_tenants);
  DELETE FROM access_log WHERE tenant_id = ANY (v_tenants);
  GET DIAGNOSTICS entries = ROW_COUNT;
  DELETE FROM access_grants WHERE tenant_id = ANY (v_tenants);
  GET DIAGNOSTICS grants = ROW_COUNT;
  PERFORM set_config('app.retention_purge', 'off', true);
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION purge_access_logs(date, int, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_access_logs(date, int, boolean) TO wvsoft_app;

-- +goose Down
DROP FUNCTION purge_access_logs(date, int, boolean);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the access log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
DROP POLICY customers_read ON processors;
REVOKE DELETE ON consent_events, change_history, data_subject_requests, breach_customers, breach_calls FROM wvsoft_app;
