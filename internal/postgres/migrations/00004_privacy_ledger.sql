-- +goose Up
-- The privacy ledger: consent and its withdrawal (P6), data-subject requests and the history of
-- changes (P7), retention and purge (P2), the staff register's declarations (P10) and the
-- processor register (P11).

-- Consent is an append-only history per customer; the latest event is the state.
CREATE TABLE consent_events (
  tenant_id  uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  id         uuid NOT NULL,
  event      text NOT NULL CHECK (event IN ('GIVEN', 'WITHDRAWN')),
  basis      text NOT NULL CHECK (basis IN ('LICENCE_AGREEMENT', 'VERBAL', 'EMAIL')),
  evidence   text,
  at         timestamptz NOT NULL,
  actor_kind text NOT NULL,
  actor_id   uuid,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX consent_events_latest ON consent_events (tenant_id, at DESC);

CREATE TABLE data_subject_requests (
  tenant_id    uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  id           uuid NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('ACCESS', 'RECTIFICATION', 'ERASURE')),
  subject_type text NOT NULL CHECK (subject_type IN ('Person', 'ContactPerson')),
  subject_id   uuid NOT NULL,
  received_at  timestamptz NOT NULL,
  deadline     timestamptz NOT NULL,
  status       text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'DONE')),
  completed_at timestamptz,
  outcome      jsonb NOT NULL DEFAULT '[]',
  handled_by   uuid,
  PRIMARY KEY (tenant_id, id)
);

-- What changed, when and by whom; never the values.
CREATE TABLE change_history (
  tenant_id   uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  id          uuid NOT NULL,
  object_type text NOT NULL,
  object_id   uuid NOT NULL,
  fields      text[] NOT NULL,
  at          timestamptz NOT NULL,
  actor_kind  text NOT NULL,
  actor_id    uuid,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX change_history_object ON change_history (tenant_id, object_id, at);

-- A contact person whose erasure was asked while billing data is under the fiscal hold: what
-- remains is restricted (used for billing only) until hold_until, then purged.
ALTER TABLE contact_persons ADD COLUMN restricted_at timestamptz, ADD COLUMN hold_until date;

CREATE TABLE purge_runs (
  id      uuid PRIMARY KEY,
  at      timestamptz NOT NULL,
  dry_run boolean NOT NULL,
  counts  jsonb NOT NULL
);

CREATE TABLE processors (
  id                    uuid PRIMARY KEY,
  name                  text NOT NULL,
  role                  text NOT NULL CHECK (role IN ('HOSTING_PROVIDER', 'WEBSITE_HOST')),
  declaration_reference text NOT NULL,
  declaration_date      date NOT NULL,
  created_at            timestamptz NOT NULL
);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['consent_events', 'data_subject_requests', 'change_history'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_or_register ON %I USING (tenant_id = ANY (app_tenants()) OR app_all_tenants()) WITH CHECK (tenant_id = ANY (app_tenants()) OR app_all_tenants())', t);
    EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['purge_runs', 'processors'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY staff ON %I USING (app_all_tenants()) WITH CHECK (app_all_tenants())', t);
    EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
  END LOOP;
END
$$;
-- +goose StatementEnd

-- Staff are told, with their identity, which customers withdrew consent (P6): it restricts
-- what they may do with those customers' data from the next request on.
CREATE FUNCTION auth_withdrawn_consents()
  RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT tenant_id FROM (
      SELECT DISTINCT ON (tenant_id) tenant_id, event FROM consent_events ORDER BY tenant_id, at DESC
    ) latest WHERE event = 'WITHDRAWN'
  $$;
REVOKE ALL ON FUNCTION auth_withdrawn_consents() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_withdrawn_consents() TO wvsoft_app;

-- Staff read and maintain the staff register's declarations (P10).
GRANT UPDATE (declaration_signed_at, declaration_expires_at), INSERT ON staff_members TO wvsoft_app;
ALTER TABLE staff_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_members FORCE ROW LEVEL SECURITY;
CREATE POLICY staff ON staff_members USING (app_all_tenants()) WITH CHECK (app_all_tenants());
-- +goose StatementBegin
DO $$ BEGIN
  EXECUTE format('CREATE POLICY owner_all ON staff_members TO %I USING (true) WITH CHECK (true)', current_user);
END $$;
-- +goose StatementEnd

GRANT SELECT, INSERT ON consent_events, change_history, purge_runs TO wvsoft_app;
-- The purge deletes delivered mail.
GRANT DELETE ON outbox TO wvsoft_app;
GRANT SELECT, INSERT, UPDATE ON data_subject_requests, processors TO wvsoft_app;

-- +goose Down
DROP FUNCTION auth_withdrawn_consents();
DROP POLICY owner_all ON staff_members;
DROP POLICY staff ON staff_members;
ALTER TABLE staff_members DISABLE ROW LEVEL SECURITY;
DROP TABLE processors, purge_runs, change_history, data_subject_requests, consent_events;
ALTER TABLE contact_persons DROP COLUMN restricted_at, DROP COLUMN hold_until;
