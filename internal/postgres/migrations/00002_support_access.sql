-- +goose Up
-- Support access in the style of a customer lockbox (P9): the director asks, the customer's admin
-- decides, the grant is scoped and time-limited, and every step and every access under it lands
-- in an append-only, hash-chained log that the customer reads.

CREATE TABLE access_grants (
  tenant_id          uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  id                 uuid NOT NULL,
  requested_by       uuid NOT NULL REFERENCES staff_members (id),
  reason             text NOT NULL,
  scope_types        text[] NOT NULL,
  scope_special      boolean NOT NULL DEFAULT false,
  scope_write        boolean NOT NULL DEFAULT false,
  duration_seconds   integer NOT NULL CHECK (duration_seconds > 0),
  status             text NOT NULL DEFAULT 'PENDING'
                     CHECK (status IN ('PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'REVOKED')),
  requested_at       timestamptz NOT NULL,
  answer_by          timestamptz NOT NULL,
  decided_at         timestamptz,
  decided_by         uuid,
  starts_at          timestamptz,
  expires_at         timestamptz,
  revoked_at         timestamptz,
  revoked_by         uuid,
  PRIMARY KEY (tenant_id, id),
  CHECK (scope_types <@ ARRAY['Person', 'User', 'ApiKey']::text[] AND cardinality(scope_types) > 0)
);
-- The director's active grants are read on every request he makes.
CREATE INDEX access_grants_active ON access_grants (requested_by, expires_at) WHERE status = 'APPROVED';

-- One row per event; hash = sha256(prev_hash || canonical entry). Never updated, never deleted.
CREATE TABLE access_log (
  tenant_id  uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  seq        bigint NOT NULL,
  id         uuid NOT NULL,
  at         timestamptz NOT NULL,
  event      text NOT NULL CHECK (event IN ('REQUESTED', 'APPROVED', 'DENIED', 'EXPIRED', 'REVOKED', 'ACCESS')),
  actor_kind text NOT NULL,
  actor_id   uuid,
  grant_id   uuid,
  detail     jsonb NOT NULL DEFAULT '{}',
  prev_hash  bytea NOT NULL,
  hash       bytea NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX access_log_grant ON access_log (tenant_id, grant_id, seq);
CREATE INDEX access_log_at ON access_log (tenant_id, at);

-- +goose StatementBegin
CREATE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the access log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION access_log_is_append_only();

ALTER TABLE access_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_grants FORCE ROW LEVEL SECURITY;
-- The director files requests for any customer and reads his own across customers; a customer
-- sees its own.
CREATE POLICY tenant_or_register ON access_grants
  USING (tenant_id = ANY (app_tenants()) OR app_all_tenants())
  WITH CHECK (tenant_id = ANY (app_tenants()) OR app_all_tenants());

ALTER TABLE access_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_log FORCE ROW LEVEL SECURITY;
-- Only the customer's own: the register flag of staff never opens it.
CREATE POLICY tenant ON access_log
  USING (tenant_id = ANY (app_tenants())) WITH CHECK (tenant_id = ANY (app_tenants()));

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['access_grants', 'access_log'] LOOP
    EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
  END LOOP;
END
$$;
-- +goose StatementEnd

-- Authentication reads the director's active grants before any tenant is known.
CREATE FUNCTION auth_active_grants(p_staff uuid, p_now timestamptz)
  RETURNS TABLE (id uuid, tenant_id uuid, scope_types text[], scope_special boolean,
                 scope_write boolean, expires_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT g.id, g.tenant_id, g.scope_types, g.scope_special, g.scope_write, g.expires_at
      FROM access_grants g
     WHERE g.requested_by = p_staff AND g.status = 'APPROVED'
       AND g.starts_at <= p_now AND g.expires_at > p_now
  $$;
REVOKE ALL ON FUNCTION auth_active_grants(uuid, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_active_grants(uuid, timestamptz) TO wvsoft_app;

GRANT SELECT, INSERT, UPDATE ON access_grants TO wvsoft_app;
GRANT SELECT, INSERT ON access_log TO wvsoft_app;

-- +goose Down
DROP FUNCTION auth_active_grants(uuid, timestamptz);
DROP TABLE access_log;
DROP FUNCTION access_log_is_append_only();
DROP TABLE access_grants;
