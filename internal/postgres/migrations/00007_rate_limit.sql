-- +goose Up
-- Two changes in one migration: the inquiry rate
-- limit shared by every server, and logins unique per customer (createUser is no oracle).

-- Rate limits shared by every server (P5: the public inquiry mutation). One row per limited key
-- (a hash of the limit's name and the client address, never the address itself), holding the
-- generic cell rate algorithm's "theoretical arrival time": the moment the key's bucket is full
-- again. A row whose time has passed says nothing a missing row does not, so it is deleted.
CREATE TABLE rate_limits (
  key bytea PRIMARY KEY,
  tat timestamptz NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);
ALTER TABLE rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limits FORCE ROW LEVEL SECURITY;
-- +goose StatementBegin
DO $$
BEGIN
  EXECUTE format('CREATE POLICY owner_all ON rate_limits TO %I USING (true) WITH CHECK (true)', current_user);
END
$$;
-- +goose StatementEnd

-- rate_limit_take counts one event of p_key when the limit allows it (p_burst at once, then one
-- per p_interval) and returns 0; otherwise it counts nothing and returns the seconds until one
-- more is allowed. One statement decides, under the row's lock, so that servers taking events
-- of one key at once together allow exactly the limit.
-- +goose StatementBegin
CREATE FUNCTION rate_limit_take(p_key bytea, p_burst integer, p_interval interval, p_now timestamptz)
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
    -- Refused; the conflicting row is locked by this transaction, so its time is current.
    SELECT tat INTO v_tat FROM rate_limits WHERE key = p_key;
    RETURN greatest(extract(epoch FROM v_tat + p_interval - p_interval * p_burst - p_now), 0.001);
  END IF;
  -- Forget the keys whose buckets are full again. SKIP LOCKED: rows that other servers are
  -- taking from just now are theirs, and waiting for them could deadlock.
  DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits WHERE tat < p_now FOR UPDATE SKIP LOCKED);
  RETURN 0;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION rate_limit_take(bytea, integer, interval, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rate_limit_take(bytea, integer, interval, timestamptz) TO wvsoft_app;

-- Logins are unique per customer, not across customers and staff. A global index made
-- createUser answer CONFLICT for an address that is another customer's login or a staff
-- member's, which let any customer admin test which addresses exist anywhere. Now a customer's
-- admin learns only what the customer's own user list shows already.
DROP INDEX users_email;
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, lower(email));
CREATE INDEX users_email ON users (lower(email));

-- An address may now belong to several identities. Sign-in picks one, the same one every time,
-- and never one added later in place of one that already signs in: a staff member first, then
-- the oldest user. So an admin who adds another customer's login (or a staff member's) to his
-- own customer takes nobody's sign-in over; the added user is dormant until the older ones go.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth_subject_by_email(p_email text)
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
-- +goose StatementEnd

-- A person who is a user of several customers chooses one: a token naming the customer (by
-- slug) signs in as that customer's user with the address, and as nobody else. The choice only
-- selects among the identities the verified address has already; it grants nothing.
CREATE FUNCTION auth_user_by_email_in(p_email text, p_customer text)
  RETURNS TABLE (kind text, id uuid, tenant_id uuid, role text, email text, name text,
                 can_write boolean, special_categories boolean, declaration_expires_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT 'USER', u.id, u.tenant_id, u.role, u.email, u.name, true, true, NULL::timestamptz
      FROM users u JOIN customers c ON c.tenant_id = u.tenant_id
     WHERE lower(u.email) = lower(p_email) AND c.slug = p_customer
  $$;
REVOKE ALL ON FUNCTION auth_user_by_email_in(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_user_by_email_in(text, text) TO wvsoft_app;

-- +goose Down
DROP FUNCTION auth_user_by_email_in(text, text);
CREATE OR REPLACE FUNCTION auth_subject_by_email(p_email text)
  RETURNS TABLE (kind text, id uuid, tenant_id uuid, role text, email text, name text,
                 can_write boolean, special_categories boolean, declaration_expires_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT 'USER', u.id, u.tenant_id, u.role, u.email, u.name, true, true, NULL::timestamptz
      FROM users u WHERE lower(u.email) = lower(p_email)
    UNION ALL
    SELECT 'STAFF', s.id, NULL, s.role, s.email, s.name, false, false, s.declaration_expires_at
      FROM staff_members s WHERE lower(s.email) = lower(p_email)
  $$;
DROP INDEX users_email;
DROP INDEX users_tenant_email;
CREATE UNIQUE INDEX users_email ON users (lower(email));
DROP FUNCTION rate_limit_take(bytea, integer, interval, timestamptz);
DROP TABLE rate_limits;
