-- +goose Up
-- Search and order in the data space and the customer register.
--
-- A search is insensitive to case and accents: "jose" finds "José", "MULLER" finds "Müller".
-- Both sides are folded by one function, wvsoft_fold (lower case, accents off with the unaccent
-- dictionary): the stored value once, when it is written, into a generated key column; the text
-- searched for in the query (internal/postgres/search.go). A postal code also loses its spaces,
-- so "1234ab" finds "1234 AB".
--
-- Why generated columns and not expression indexes: unaccent is STABLE (its dictionary is a
-- file), so a wrapper that declares it IMMUTABLE is not inlined, and an expression index would
-- call the wrapper again for every row it checks or sorts (several microseconds each). A stored
-- key costs that once per write. It can never go stale against its source: an update, an
-- erasure (the name set to null) or the purge recompute or remove it with the row, so it holds
-- no personal data that its row does not. A key is never null (a null value folds to ''), so
-- keyset paging compares (key, id) rows without a case for nulls; rows without a value come first.
-- Keys are COLLATE "C": byte order, the same on every server whatever its default collation, and
-- the order in which a btree answers LIKE 'prefix%' as a range.
--
-- The one caveat of the IMMUTABLE declaration: when the unaccent rules file of the server
-- changes, existing keys keep the old folding until their row is written (UPDATE t SET name = name).
--
-- Indexes lead with tenant_id (Citus: they are per shard; a data space is one tenant):
--   btree (tenant_id, key, id) per text field: startsWith as a range, order by the field, and
--     the keyset after a cursor, in one index scan;
--   btree (tenant_id, birth date, id): ranges of birth dates and order by birth date.
-- The store writes startsWith as a range (key >= text AND key < text || U+10FFFF), not as LIKE:
-- under row-level security PostgreSQL uses only leakproof operators as index conditions (the
-- others run after the policy's filter), and the text comparisons are leakproof, LIKE is not.
-- For the same reason no index serves contains: LIKE '%text%' on a trigram index (pg_trgm) and
-- array containment are not leakproof, and marking an operator LEAKPROOF takes a superuser. A
-- contains search reads the data space in the list's order until its page is full: quick for
-- common text, a scan of the data space for rare text (README, API).
-- The customer register (hundreds of rows, ordered across tenants by staff) and contact persons
-- (a handful per customer) are small: their keys need no index.
--
-- unaccent is a trusted extension (PostgreSQL 13+): a database owner without superuser may
-- create it. On Citus, CREATE EXTENSION and CREATE FUNCTION propagate to the workers (Citus 11+)
-- and the generated columns and indexes to the shards; run this migration before or after
-- wvsoft_distribute() (migration 00010) alike.
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;

-- The dictionary is named, and the function fully qualified, so that no search_path changes
-- what it does.
-- +goose StatementBegin
CREATE FUNCTION wvsoft_fold(text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION wvsoft_fold(text) TO wvsoft_app;

ALTER TABLE persons
  ADD COLUMN name_key text COLLATE "C" NOT NULL GENERATED ALWAYS AS (coalesce(wvsoft_fold(name), '')) STORED,
  ADD COLUMN city_key text COLLATE "C" NOT NULL GENERATED ALWAYS AS (coalesce(wvsoft_fold(city), '')) STORED,
  ADD COLUMN postal_code_key text COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (coalesce(wvsoft_fold(replace(postal_code, ' ', '')), '')) STORED;

ALTER TABLE customers
  ADD COLUMN name_key text COLLATE "C" NOT NULL GENERATED ALWAYS AS (coalesce(wvsoft_fold(name), '')) STORED,
  ADD COLUMN city_key text COLLATE "C" NOT NULL GENERATED ALWAYS AS (coalesce(wvsoft_fold(city), '')) STORED,
  ADD COLUMN postal_code_key text COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (coalesce(wvsoft_fold(replace(postal_code, ' ', '')), '')) STORED;

ALTER TABLE contact_persons
  ADD COLUMN name_key text COLLATE "C" NOT NULL GENERATED ALWAYS AS (coalesce(wvsoft_fold(name), '')) STORED;

CREATE INDEX persons_name_key ON persons (tenant_id, name_key, id);
CREATE INDEX persons_city_key ON persons (tenant_id, city_key, id);
CREATE INDEX persons_postal_code_key ON persons (tenant_id, postal_code_key, id);
CREATE INDEX persons_birth_date ON persons (tenant_id, (coalesce(birth_date, '-infinity'::date)), id);

-- +goose Down
DROP INDEX persons_birth_date, persons_postal_code_key, persons_city_key, persons_name_key;
ALTER TABLE contact_persons DROP COLUMN name_key;
ALTER TABLE customers DROP COLUMN name_key, DROP COLUMN city_key, DROP COLUMN postal_code_key;
ALTER TABLE persons DROP COLUMN name_key, DROP COLUMN city_key, DROP COLUMN postal_code_key;
DROP FUNCTION wvsoft_fold(text);
