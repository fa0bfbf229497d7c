-- +goose Up
-- The foundation: the customer register (P1), users, staff, API keys and the customers' data
-- spaces. Every tenant-owned table leads its primary key with tenant_id and carries it in its
-- foreign keys, so that the schema can be distributed by tenant (Citus) without redesign.

-- +goose StatementBegin
DO $$
BEGIN
  -- The role the server connects as: neither superuser nor owner of any table, so that
  -- row-level security applies to every query it makes.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wvsoft_app') THEN
    CREATE ROLE wvsoft_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;
-- +goose StatementEnd

-- The tenants whose rows the current transaction may touch, set by the server with
-- set_config('app.tenants', '{...}', true). Unset means none.
CREATE FUNCTION app_tenants() RETURNS uuid[]
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(nullif(current_setting('app.tenants', true), ''), '{}')::uuid[] $$;

-- Whether the current transaction reads the customer register across tenants (WvSoft staff,
-- by purpose). It never opens a data space.
CREATE FUNCTION app_all_tenants() RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(current_setting('app.all_tenants', true), '') = 'on' $$;

CREATE TABLE customers (
  tenant_id          uuid PRIMARY KEY,
  slug               text NOT NULL UNIQUE,
  name               text,
  email              text,
  phone              text,
  street             text,
  postal_code        text,
  city               text,
  kvk_number         text,
  iban               text,
  relationship_start date,
  relationship_end   date,
  created_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (relationship_end IS NULL OR relationship_start IS NULL OR relationship_end >= relationship_start)
);

CREATE TABLE contact_persons (
  tenant_id  uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  id         uuid NOT NULL,
  salutation text CHECK (salutation IN ('DHR', 'MW')),
  name       text,
  role       text NOT NULL CHECK (role IN ('OWNER', 'DIRECTOR', 'CONTACT')),
  email      text,
  phone      text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE users (
  tenant_id  uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  id         uuid NOT NULL,
  email      text NOT NULL,
  name       text,
  role       text NOT NULL CHECK (role IN ('ADMIN', 'MEMBER')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- A login name is unique over all customers; authentication looks it up before a tenant is known.
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- WvSoft's own staff. Not tenant-owned.
CREATE TABLE staff_members (
  id                     uuid PRIMARY KEY,
  email                  text NOT NULL,
  name                   text,
  role                   text NOT NULL CHECK (role IN ('DIRECTOR', 'SUPPORT', 'BILLING', 'ACCOUNTANT')),
  declaration_signed_at  timestamptz,
  declaration_expires_at timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_members_email ON staff_members (lower(email));

CREATE TABLE api_keys (
  tenant_id          uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  id                 uuid NOT NULL,
  name               text NOT NULL,
  prefix             text NOT NULL,
  secret_hash        bytea NOT NULL,
  can_write          boolean NOT NULL DEFAULT false,
  special_categories boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL DEFAULT now(),
  revoked_at         timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_secret_hash ON api_keys (secret_hash);

CREATE TABLE persons (
  tenant_id      uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  id             uuid NOT NULL,
  name           text,
  street         text,
  postal_code    text,
  city           text,
  email          text,
  phone          text,
  birth_date     date,
  iban           text,
  bsn            text,
  marital_status text CHECK (marital_status IN ('UNMARRIED', 'MARRIED', 'REGISTERED_PARTNERSHIP', 'DIVORCED', 'WIDOWED')),
  household      text,
  medical_notes  text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

-- Row-level security: the second wall behind the policy. FORCE makes it apply to the owner too.
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_or_register ON customers
  USING (tenant_id = ANY (app_tenants()) OR app_all_tenants())
  WITH CHECK (tenant_id = ANY (app_tenants()) OR app_all_tenants());

ALTER TABLE contact_persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_persons FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_or_register ON contact_persons
  USING (tenant_id = ANY (app_tenants()) OR app_all_tenants())
  WITH CHECK (tenant_id = ANY (app_tenants()) OR app_all_tenants());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON users
  USING (tenant_id = ANY (app_tenants())) WITH CHECK (tenant_id = ANY (app_tenants()));

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON api_keys
  USING (tenant_id = ANY (app_tenants())) WITH CHECK (tenant_id = ANY (app_tenants()));

ALTER TABLE persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE persons FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON persons
  USING (tenant_id = ANY (app_tenants())) WITH CHECK (tenant_id = ANY (app_tenants()));

-- The owner (the role that runs migrations and the seed) reads and writes every row; the
-- server's role never is the owner.
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['customers', 'contact_persons', 'users', 'api_keys', 'persons'] LOOP
    EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
  END LOOP;
END
$$;
-- +goose StatementEnd

-- Authentication runs before a tenant is known: these functions, owned by the owner, find the
-- subject behind an e-mail address or an API key hash and nothing else.
CREATE FUNCTION auth_subject_by_email(p_email text)
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

REVOKE ALL ON FUNCTION auth_subject_by_email(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth_subject_by_api_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_subject_by_email(text), auth_subject_by_api_key(bytea) TO wvsoft_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, contact_persons, users, api_keys, persons TO wvsoft_app;
GRANT SELECT ON staff_members TO wvsoft_app;

-- +goose Down
DROP FUNCTION auth_subject_by_api_key(bytea);
DROP FUNCTION auth_subject_by_email(text);
DROP TABLE persons, api_keys, staff_members, users, contact_persons, customers;
DROP FUNCTION app_all_tenants();
DROP FUNCTION app_tenants();
