-- +goose Up
-- Consent events, the change history, data-subject requests and breach notifications (with their
-- calls) are evidence: that consent was given or withdrawn, who changed what, that a request was
-- answered, that a customer was informed. The application may not delete them; they go only
-- through purge_evidence, which applies the retention schedule itself, as purge_access_logs does
-- for the access log. A real run decides by the database's own date, never later than the date it
-- is given, so an application that asks with a date in the future removes nothing early; a dry
-- run (which the caller rolls back) uses the date given.
-- On Citus the REVOKE reaches every shard; sequentially, so that the function may follow in the
-- same transaction (a placeholder setting on plain PostgreSQL).
SET LOCAL citus.multi_shard_modify_mode = 'sequential';
REVOKE DELETE ON consent_events, change_history, data_subject_requests, breach_customers, breach_calls FROM wvsoft_app;

-- +goose StatementBegin
CREATE FUNCTION purge_evidence(p_at timestamptz, p_fiscal_years int, p_request_years int, p_dry boolean)
  RETURNS TABLE (rule text, removed bigint)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_at timestamptz := CASE WHEN p_dry THEN p_at ELSE least(p_at, now()) END;
  v_tenants uuid[];
  v_n bigint;
BEGIN
  -- The fiscal hold is at least seven years (P2), whatever the caller asks.
  SELECT coalesce(array_agg(tenant_id), '{}') INTO v_tenants FROM customers
    WHERE relationship_end IS NOT NULL
    AND make_date(extract(year FROM relationship_end)::int + greatest(p_fiscal_years, 7), 12, 31) < v_at::date;
  DELETE FROM consent_events WHERE tenant_id = ANY (v_tenants);
  GET DIAGNOSTICS v_n = ROW_COUNT;
  rule := 'evidence.consent-events'; removed := v_n; RETURN NEXT;
  DELETE FROM change_history WHERE tenant_id = ANY (v_tenants);
  GET DIAGNOSTICS v_n = ROW_COUNT;
  rule := 'evidence.change-history'; removed := v_n; RETURN NEXT;
  DELETE FROM data_subject_requests WHERE tenant_id = ANY (v_tenants);
  GET DIAGNOSTICS v_n = ROW_COUNT;
  rule := 'evidence.data-subject-requests'; removed := v_n; RETURN NEXT;
  DELETE FROM breach_calls WHERE tenant_id = ANY (v_tenants);
  DELETE FROM breach_customers WHERE tenant_id = ANY (v_tenants);
  GET DIAGNOSTICS v_n = ROW_COUNT;
  rule := 'evidence.breach-notifications'; removed := v_n; RETURN NEXT;
  -- A completed request's record is kept as evidence that it was answered, at least five years.
  DELETE FROM data_subject_requests WHERE status = 'DONE'
    AND completed_at < v_at - make_interval(years => greatest(p_request_years, 5));
  GET DIAGNOSTICS v_n = ROW_COUNT;
  rule := 'request-records'; removed := v_n; RETURN NEXT;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION purge_evidence(timestamptz, int, int, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_evidence(timestamptz, int, int, boolean) TO wvsoft_app;

-- +goose Down
DROP FUNCTION purge_evidence(timestamptz, int, int, boolean);
GRANT DELETE ON consent_events, change_history, data_subject_requests, breach_customers, breach_calls TO wvsoft_app;
