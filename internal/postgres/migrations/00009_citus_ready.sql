-- +goose Up
-- A schema and queries that Citus accepts when the tables are distributed by
-- tenant_id, with identical behaviour on plain PostgreSQL.
--
-- A "tenant table" has a NOT NULL tenant_id column; Citus distributes it by tenant_id, colocated
-- with customers. Every other table is a reference table (one copy on every node). A unique
-- index on a tenant table is only enforceable when it includes tenant_id, so the three global
-- ones go, and lookup tables keyed by the looked-up value take their place. The lookup tables
-- are reference tables (no tenant_id column: their "tenant" column is a value, not a key), so
-- the look-ups behind every request read one node and then one shard, never all shards.
--
-- The lookup rows are written by the server in the same transaction as the rows they point to.
-- The authentication functions read a lookup row and then check the row it points to on its one
-- shard: a stale lookup row (its target gone) signs nobody in, a missing one fails closed.

-- The slug of a customer, unique over all customers (was customers.slug UNIQUE).
CREATE TABLE customer_slugs (
  slug   text PRIMARY KEY,
  tenant uuid NOT NULL UNIQUE
);

-- The logins: which users have an address (lower case), oldest first. Unique per customer, as
-- users_tenant_email is (migration 00007).
CREATE TABLE login_index (
  email      text NOT NULL CHECK (email = lower(email)),
  tenant     uuid NOT NULL,
  user_id    uuid NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (email, tenant),
  UNIQUE (tenant, user_id)
);

-- API key hashes, unique over all customers (was api_keys_secret_hash).
CREATE TABLE api_key_hashes (
  secret_hash bytea PRIMARY KEY,
  tenant      uuid NOT NULL,
  key_id      uuid NOT NULL,
  UNIQUE (tenant, key_id)
);

-- Each customer's latest consent event (P6): the state staff are told on every request.
CREATE TABLE consent_state (
  tenant uuid PRIMARY KEY,
  event  text NOT NULL CHECK (event IN ('GIVEN', 'WITHDRAWN')),
  at     timestamptz NOT NULL
);

-- The director's approved grants by staff member: where to look, on which shard. The grant row
-- itself (status, window, scope) decides; a revoked or expired grant's index row says nothing.
CREATE TABLE grant_index (
  grant_id   uuid PRIMARY KEY,
  tenant     uuid NOT NULL,
  staff_id   uuid NOT NULL REFERENCES staff_members (id),
  expires_at timestamptz NOT NULL
);
CREATE INDEX grant_index_staff ON grant_index (staff_id, expires_at);

-- Fill them from what exists; idempotent, so the seed (which writes as the owner) calls it too.
-- +goose StatementBegin
CREATE FUNCTION wvsoft_fill_lookups() RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  INSERT INTO customer_slugs (slug, tenant) SELECT c.slug, c.tenant_id FROM customers c ON CONFLICT DO NOTHING;
  INSERT INTO login_index (email, tenant, user_id, created_at)
    SELECT lower(u.email), u.tenant_id, u.id, u.created_at FROM users u ON CONFLICT DO NOTHING;
  INSERT INTO api_key_hashes (secret_hash, tenant, key_id)
    SELECT k.secret_hash, k.tenant_id, k.id FROM api_keys k ON CONFLICT DO NOTHING;
  INSERT INTO consent_state AS s (tenant, event, at)
    SELECT DISTINCT ON (e.tenant_id) e.tenant_id, e.event, e.at FROM consent_events e ORDER BY e.tenant_id, e.at DESC, e.id DESC
    ON CONFLICT (tenant) DO UPDATE SET event = excluded.event, at = excluded.at WHERE excluded.at > s.at;
  INSERT INTO grant_index (grant_id, tenant, staff_id, expires_at)
    SELECT g.id, g.tenant_id, g.requested_by, g.expires_at FROM access_grants g
     WHERE g.status = 'APPROVED' AND g.expires_at IS NOT NULL ON CONFLICT DO NOTHING;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION wvsoft_fill_lookups() FROM PUBLIC;
SELECT wvsoft_fill_lookups();

-- The global unique indexes go; nothing reads by them any more.
ALTER TABLE customers DROP CONSTRAINT customers_slug_key;
DROP INDEX api_keys_secret_hash;
DROP INDEX users_email;

-- Row-level security as on the tables they index: a transaction writes and reads only the rows
-- of its own tenants (the register flag of staff for the customer register, consent and grants).
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['customer_slugs', 'consent_state', 'grant_index'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_or_register ON %I USING (tenant = ANY (app_tenants()) OR app_all_tenants()) WITH CHECK (tenant = ANY (app_tenants()) OR app_all_tenants())', t);
    EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['login_index', 'api_key_hashes'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant ON %I USING (tenant = ANY (app_tenants())) WITH CHECK (tenant = ANY (app_tenants()))', t);
    EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
  END LOOP;
END
$$;
-- +goose StatementEnd
GRANT SELECT, INSERT ON customer_slugs TO wvsoft_app;
GRANT SELECT, INSERT, DELETE ON login_index, api_key_hashes, grant_index TO wvsoft_app;
GRANT SELECT, INSERT, UPDATE ON consent_state TO wvsoft_app;

-- The outbox is WvSoft's own table (inquiry answers have no customer): a reference table on
-- Citus, and a reference table cannot point at a distributed one. Its tenant_id is a value.
ALTER TABLE outbox DROP CONSTRAINT outbox_tenant_id_fkey;

-- The functions that read tables are PL/pgSQL: Citus plans their statements one by one (an
-- SQL-language function with parameters over a distributed table it cannot plan). Each look-up
-- reads a reference table, then the one shard of the row it found.

-- Sign-in by address: a staff member first, then the oldest user (migration 00007).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth_subject_by_email(p_email text)
  RETURNS TABLE (kind text, id uuid, tenant_id uuid, role text, email text, name text,
                 can_write boolean, special_categories boolean, declaration_expires_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
#variable_conflict use_column
DECLARE
  c record;
BEGIN
  RETURN QUERY SELECT 'STAFF'::text, s.id, NULL::uuid, s.role, s.email, s.name, false, false, s.declaration_expires_at
    FROM staff_members s WHERE lower(s.email) = lower(p_email) ORDER BY s.created_at, s.id LIMIT 1;
  IF FOUND THEN
    RETURN;
  END IF;
  FOR c IN SELECT l.tenant, l.user_id FROM login_index l WHERE l.email = lower(p_email) ORDER BY l.created_at, l.user_id LOOP
    RETURN QUERY SELECT 'USER'::text, u.id, u.tenant_id, u.role, u.email, u.name, true, true, NULL::timestamptz
      FROM users u WHERE u.tenant_id = c.tenant AND u.id = c.user_id AND lower(u.email) = lower(p_email);
    IF FOUND THEN
      RETURN;
    END IF;
  END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth_user_by_email_in(p_email text, p_customer text)
  RETURNS TABLE (kind text, id uuid, tenant_id uuid, role text, email text, name text,
                 can_write boolean, special_categories boolean, declaration_expires_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
#variable_conflict use_column
DECLARE
  v_tenant uuid;
  v_user   uuid;
BEGIN
  SELECT cs.tenant INTO v_tenant FROM customer_slugs cs WHERE cs.slug = p_customer;
  IF v_tenant IS NULL THEN
    RETURN;
  END IF;
  SELECT l.user_id INTO v_user FROM login_index l WHERE l.email = lower(p_email) AND l.tenant = v_tenant;
  IF v_user IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY SELECT 'USER'::text, u.id, u.tenant_id, u.role, u.email, u.name, true, true, NULL::timestamptz
    FROM users u WHERE u.tenant_id = v_tenant AND u.id = v_user AND lower(u.email) = lower(p_email);
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth_subject_by_api_key(p_hash bytea)
  RETURNS TABLE (kind text, id uuid, tenant_id uuid, role text, email text, name text,
                 can_write boolean, special_categories boolean, declaration_expires_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
#variable_conflict use_column
DECLARE
  v_tenant uuid;
  v_key    uuid;
BEGIN
  SELECT h.tenant, h.key_id INTO v_tenant, v_key FROM api_key_hashes h WHERE h.secret_hash = p_hash;
  IF v_tenant IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY SELECT 'API_KEY'::text, k.id, k.tenant_id,
         CASE WHEN k.can_write THEN 'INTEGRATOR_WRITE' ELSE 'INTEGRATOR_READ' END,
         NULL::text, k.name, k.can_write, k.special_categories, NULL::timestamptz
    FROM api_keys k WHERE k.tenant_id = v_tenant AND k.id = v_key AND k.secret_hash = p_hash AND k.revoked_at IS NULL;
END
$$;
-- +goose StatementEnd

-- The director's grants in force: the index names them, each grant's own row (one shard) decides.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth_active_grants(p_staff uuid, p_now timestamptz)
  RETURNS TABLE (id uuid, tenant_id uuid, scope_types text[], scope_special boolean,
                 scope_write boolean, expires_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
#variable_conflict use_column
DECLARE
  c record;
BEGIN
  FOR c IN SELECT gi.tenant, gi.grant_id FROM grant_index gi
            WHERE gi.staff_id = p_staff AND gi.expires_at > p_now ORDER BY gi.tenant, gi.grant_id LOOP
    RETURN QUERY SELECT g.id, g.tenant_id, g.scope_types, g.scope_special, g.scope_write, g.expires_at
      FROM access_grants g
     WHERE g.tenant_id = c.tenant AND g.id = c.grant_id AND g.requested_by = p_staff AND g.status = 'APPROVED'
       AND g.starts_at <= p_now AND g.expires_at > p_now;
  END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth_withdrawn_consents()
  RETURNS SETOF uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  RETURN QUERY SELECT s.tenant FROM consent_state s WHERE s.event = 'WITHDRAWN' ORDER BY s.tenant;
END
$$;
-- +goose StatementEnd

-- A customer's breaches: its own breach_customers rows (one shard per customer), then the
-- register (a reference table).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION customer_breaches(p_tenants uuid[])
  RETURNS SETOF breaches
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_tenant uuid;
  v_ids    uuid[] := '{}';
BEGIN
  FOREACH v_tenant IN ARRAY coalesce(p_tenants, '{}') LOOP
    v_ids := v_ids || ARRAY(SELECT bc.breach_id FROM breach_customers bc WHERE bc.tenant_id = v_tenant);
  END LOOP;
  RETURN QUERY SELECT b.* FROM breaches b WHERE b.id = ANY (v_ids);
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION submit_inquiry(p_id uuid, p_name text, p_email text, p_question text, p_at timestamptz)
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  INSERT INTO inquiries (id, name, email, question, received_at) VALUES (p_id, p_name, p_email, p_question, p_at);
  INSERT INTO inquiry_counts AS c (day, received) VALUES (p_at::date, 1)
    ON CONFLICT (day) DO UPDATE SET received = c.received + 1;
END
$$;
-- +goose StatementEnd

-- The rate limit's clean-up picks the rows it deletes in a materialized CTE, as the outbox claim
-- does: on Citus, rate_limits is a reference table whose every copy runs the DELETE, and rows
-- chosen with SKIP LOCKED inside the DELETE could differ from copy to copy; chosen once, before,
-- they are the same everywhere. Otherwise as in migration 00007.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_limit_take(p_key bytea, p_burst integer, p_interval interval, p_now timestamptz)
  RETURNS double precision
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
DECLARE
  v_tat timestamptz;
BEGIN
  IF p_burst < 1 OR p_interval <= interval '0' THEN
    RAISE EXCEPTION 'rate_limit_take: burst and interval must be positive' USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO rate_limits AS r (key, tat) VALUES (p_key, p_now + p_interval)
    ON CONFLICT (key) DO UPDATE SET tat = greatest(r.tat, p_now) + p_interval
    WHERE greatest(r.tat, p_now) + p_interval - p_interval * p_burst <= p_now
    RETURNING tat INTO v_tat;
  IF v_tat IS NULL THEN
    SELECT tat INTO v_tat FROM rate_limits WHERE key = p_key;
    RETURN greatest(extract(epoch FROM v_tat + p_interval - p_interval * p_burst - p_now), 0.001);
  END IF;
  WITH gone AS MATERIALIZED (SELECT key FROM rate_limits WHERE tat < p_now FOR UPDATE SKIP LOCKED)
  DELETE FROM rate_limits WHERE key IN (SELECT key FROM gone);
  RETURN 0;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION wvsoft_fill_lookups();
ALTER TABLE outbox ADD CONSTRAINT outbox_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES customers (tenant_id) ON DELETE SET NULL;
CREATE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX api_keys_secret_hash ON api_keys (secret_hash);
ALTER TABLE customers ADD CONSTRAINT customers_slug_key UNIQUE (slug);
-- The functions as migrations 00001 to 00007 left them (a function cannot change its language
-- in place when its body would not compile, so each is dropped and created).
DROP FUNCTION auth_subject_by_email(text);
CREATE FUNCTION auth_subject_by_email(p_email text)
  RETURNS TABLE (kind text, id uuid, tenant_id uuid, role text, email text, name text,
                 can_write boolean, special_categories boolean, declaration_expires_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT kind, id, tenant_id, role, email, name, can_write, special_categories, declaration_expires_at FROM (
      SELECT 'USER' AS kind, u.id, u.tenant_id, u.role, u.email, u.name, true AS can_write, true AS special_categories,
             NULL::timestamptz AS declaration_expires_at, 1 AS rank, u.created_at
        FROM users u WHERE lower(u.email) = lower(p_email)
      UNION ALL
      SELECT 'STAFF', s.id, NULL, s.role, s.email, s.name, false, false, s.declaration_expires_at, 0, s.created_at
        FROM staff_members s WHERE lower(s.email) = lower(p_email)
    ) candidates
    ORDER BY rank, created_at, id
    LIMIT 1
  $$;
DROP FUNCTION auth_user_by_email_in(text, text);
CREATE FUNCTION auth_user_by_email_in(p_email text, p_customer text)
  RETURNS TABLE (kind text, id uuid, tenant_id uuid, role text, email text, name text,
                 can_write boolean, special_categories boolean, declaration_expires_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT 'USER', u.id, u.tenant_id, u.role, u.email, u.name, true, true, NULL::timestamptz
      FROM users u JOIN customers c ON c.tenant_id = u.tenant_id
     WHERE lower(u.email) = lower(p_email) AND c.slug = p_customer
  $$;
DROP FUNCTION auth_subject_by_api_key(bytea);
CREATE FUNCTION auth_subject_by_api_key(p_hash bytea)
  RETURNS TABLE (kind text, id uuid, tenant_id uuid, role text, email text, name text,
                 can_write boolean, special_categories boolean, declaration_expires_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT 'API_KEY', k.id, k.tenant_id,
           CASE WHEN k.can_write THEN 'INTEGRATOR_WRITE' ELSE 'INTEGRATOR_READ' END,
           NULL::text, k.name, k.can_write, k.special_categories, NULL::timestamptz
      FROM api_keys k WHERE k.secret_hash = p_hash AND k.revoked_at IS NULL
  $$;
DROP FUNCTION auth_active_grants(uuid, timestamptz);
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
DROP FUNCTION auth_withdrawn_consents();
CREATE FUNCTION auth_withdrawn_consents()
  RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT tenant_id FROM (
      SELECT DISTINCT ON (tenant_id) tenant_id, event FROM consent_events ORDER BY tenant_id, at DESC
    ) latest WHERE event = 'WITHDRAWN'
  $$;
DROP FUNCTION customer_breaches(uuid[]);
CREATE FUNCTION customer_breaches(p_tenants uuid[])
  RETURNS SETOF breaches
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT b.* FROM breaches b
     WHERE EXISTS (SELECT 1 FROM breach_customers bc WHERE bc.breach_id = b.id AND bc.tenant_id = ANY (p_tenants))
  $$;
DROP FUNCTION submit_inquiry(uuid, text, text, text, timestamptz);
-- +goose StatementBegin
CREATE FUNCTION submit_inquiry(p_id uuid, p_name text, p_email text, p_question text, p_at timestamptz)
  RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    INSERT INTO inquiries (id, name, email, question, received_at) VALUES (p_id, p_name, p_email, p_question, p_at);
    INSERT INTO inquiry_counts (day, received) VALUES (p_at::date, 1)
      ON CONFLICT (day) DO UPDATE SET received = inquiry_counts.received + 1;
  $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION auth_subject_by_email(text), auth_user_by_email_in(text, text), auth_subject_by_api_key(bytea),
  auth_active_grants(uuid, timestamptz), auth_withdrawn_consents(), customer_breaches(uuid[]),
  submit_inquiry(uuid, text, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_subject_by_email(text), auth_user_by_email_in(text, text), auth_subject_by_api_key(bytea),
  auth_active_grants(uuid, timestamptz), auth_withdrawn_consents(), customer_breaches(uuid[]),
  submit_inquiry(uuid, text, text, text, timestamptz) TO wvsoft_app;
DROP TABLE grant_index, consent_state, api_key_hashes, login_index, customer_slugs;
