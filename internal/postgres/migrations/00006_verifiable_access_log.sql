-- +goose Up
-- The access log becomes verifiable: a Merkle tree per customer (RFC 6962, as Go's
-- golang.org/x/mod/sumdb/tlog hashes it) whose heads the server signs as checkpoints with a key
-- the database never sees. The hash chain goes: its hashes were unkeyed and public, so anyone who
-- could insert could also chain a fake entry.
--
-- One append path: access_log_append, a SECURITY DEFINER function that numbers the entry, writes
-- its canonical record and hashes it into the tree. The application role may no longer insert,
-- update or delete any row of the log, the tree or the checkpoints.

-- The canonical record of an entry: the exact bytes the leaf hash covers,
-- leaf = sha256(0x00 || record). It is PostgreSQL's text form of a jsonb object, kept as it was
-- written: a verifier hashes these bytes and reads the entry out of them, so it never has to
-- reproduce a JSON serialisation.
ALTER TABLE access_log ADD COLUMN record text;

-- The tree: level 0 holds the leaf hashes, level l+1 the hash of two complete neighbours of
-- level l (sha256(0x01 || left || right)). Node (l, i) covers leaves i*2^l .. (i+1)*2^l - 1.
-- These are tlog's "stored hashes"; tlog.StoredHashIndex(l, i) maps them to its numbering.
CREATE TABLE access_log_tree (
  tenant_id uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  level     integer NOT NULL CHECK (level >= 0),
  idx       bigint NOT NULL CHECK (idx >= 0),
  hash      bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (tenant_id, level, idx)
);

-- Signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note): one per transaction that
-- appends, so that an entry without a checkpoint of its own size was not appended by the server.
CREATE TABLE access_log_checkpoints (
  tenant_id uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  size      bigint NOT NULL CHECK (size > 0),
  root      bytea NOT NULL CHECK (length(root) = 32),
  note      text NOT NULL,
  made_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, size)
);

-- Logs written before checkpoints existed: their size at this migration. The server signs such a
-- log's first checkpoint without an earlier one to extend (trust on first use, README).
CREATE TABLE access_log_adopted (
  tenant_id uuid PRIMARY KEY REFERENCES customers (tenant_id) ON DELETE CASCADE,
  size      bigint NOT NULL
);

-- The canonical record. Times in UTC with microseconds, as PostgreSQL keeps them.
CREATE FUNCTION access_log_record(p_tenant uuid, p_seq bigint, p_id uuid, p_at timestamptz, p_event text,
                                  p_actor_kind text, p_actor_id uuid, p_grant_id uuid, p_detail jsonb)
  RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT jsonb_build_object('v', 1, 'tenant', p_tenant, 'seq', p_seq, 'id', p_id,
             'at', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             'event', p_event, 'actor_kind', p_actor_kind, 'actor_id', p_actor_id,
             'grant_id', p_grant_id, 'detail', coalesce(p_detail, '{}'::jsonb))::text
  $$;

-- Adds leaf number p_n (from 0) to a customer's tree and the complete subtrees it closes.
-- +goose StatementBegin
CREATE FUNCTION access_log_add_leaf(p_tenant uuid, p_n bigint, p_leaf bytea) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_level integer := 0;
  v_idx   bigint := p_n;
  v_hash  bytea := p_leaf;
  v_left  bytea;
BEGIN
  INSERT INTO access_log_tree (tenant_id, level, idx, hash) VALUES (p_tenant, 0, p_n, p_leaf);
  WHILE v_idx % 2 = 1 LOOP
    SELECT t.hash INTO STRICT v_left FROM access_log_tree t
     WHERE t.tenant_id = p_tenant AND t.level = v_level AND t.idx = v_idx - 1;
    v_hash := sha256('\x01'::bytea || v_left || v_hash);
    v_level := v_level + 1;
    v_idx := v_idx / 2;
    INSERT INTO access_log_tree (tenant_id, level, idx, hash) VALUES (p_tenant, v_level, v_idx, v_hash);
  END LOOP;
END
$$;
-- +goose StatementEnd

-- The root of the first p_size leaves: the complete subtrees of p_size's set bits, folded from
-- the smallest (rightmost) one: root = H(T_big || H(T_next || ... T_small)), as RFC 6962 defines.
-- +goose StatementBegin
CREATE FUNCTION access_log_root(p_tenant uuid, p_size bigint) RETURNS bytea
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_acc  bytea;
  v_node bytea;
  v_l    integer;
BEGIN
  IF p_size = 0 THEN
    RETURN sha256(''::bytea);
  END IF;
  FOR v_l IN 0..62 LOOP
    EXIT WHEN (p_size >> v_l) = 0;
    CONTINUE WHEN (p_size >> v_l) % 2 = 0;
    SELECT t.hash INTO STRICT v_node FROM access_log_tree t
     WHERE t.tenant_id = p_tenant AND t.level = v_l AND t.idx = (p_size >> v_l) - 1;
    v_acc := CASE WHEN v_acc IS NULL THEN v_node ELSE sha256('\x01'::bytea || v_node || v_acc) END;
  END LOOP;
  RETURN v_acc;
END
$$;
-- +goose StatementEnd

-- The existing entries, in order: their records and the tree over them.
-- +goose StatementBegin
DO $$
DECLARE
  e record;
  v_record text;
BEGIN
  -- The append-only trigger would refuse this one-time fill.
  ALTER TABLE access_log DISABLE TRIGGER access_log_append_only;
  FOR e IN SELECT * FROM access_log ORDER BY tenant_id, seq LOOP
    v_record := access_log_record(e.tenant_id, e.seq, e.id, e.at, e.event, e.actor_kind, e.actor_id, e.grant_id, e.detail);
    PERFORM access_log_add_leaf(e.tenant_id, e.seq - 1, sha256('\x00'::bytea || convert_to(v_record, 'UTF8')));
    UPDATE access_log SET record = v_record WHERE tenant_id = e.tenant_id AND seq = e.seq;
  END LOOP;
  ALTER TABLE access_log ENABLE TRIGGER access_log_append_only;
  INSERT INTO access_log_adopted (tenant_id, size) SELECT tenant_id, max(seq) FROM access_log GROUP BY tenant_id;
END
$$;
-- +goose StatementEnd

ALTER TABLE access_log ALTER COLUMN record SET NOT NULL;
ALTER TABLE access_log DROP COLUMN prev_hash, DROP COLUMN hash;

-- The one append path. It numbers the entry under a per-customer lock, writes its record and
-- the tree, and returns what the server needs to sign the new head without trusting the
-- database: the record (to check it says what was asked and to hash it itself), the complete
-- subtrees of the tree before it (the frontier: levels and hashes, smallest first) and the newest
-- checkpoint, whose signed root the frontier must fold to.
-- The caller must have the customer among its transaction's tenants, as row-level security
-- asked of a direct insert before.
-- +goose StatementBegin
CREATE FUNCTION access_log_append(p_tenant uuid, p_id uuid, p_at timestamptz, p_event text, p_actor_kind text,
                                  p_actor_id uuid, p_grant_id uuid, p_detail jsonb)
  RETURNS TABLE (entry_seq bigint, entry_record text, tree_root bytea, frontier_levels integer[],
                 frontier_hashes bytea[], last_note text, adopted_size bigint)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_seq    bigint;
  v_record text;
  v_prev   bigint;
  v_l      integer;
BEGIN
  IF p_tenant IS NULL OR NOT (p_tenant = ANY (app_tenants())) THEN
    RAISE EXCEPTION 'the transaction may not append to this customer''s access log' USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant::text, 7461003));
  SELECT coalesce(max(l.seq), 0) INTO v_prev FROM access_log l WHERE l.tenant_id = p_tenant;
  v_seq := v_prev + 1;
  frontier_levels := '{}';
  frontier_hashes := '{}';
  FOR v_l IN 0..62 LOOP
    EXIT WHEN (v_prev >> v_l) = 0;
    CONTINUE WHEN (v_prev >> v_l) % 2 = 0;
    frontier_levels := frontier_levels || v_l;
    frontier_hashes := frontier_hashes || (SELECT t.hash FROM access_log_tree t
      WHERE t.tenant_id = p_tenant AND t.level = v_l AND t.idx = (v_prev >> v_l) - 1);
  END LOOP;
  SELECT c.note INTO last_note FROM access_log_checkpoints c WHERE c.tenant_id = p_tenant ORDER BY c.size DESC LIMIT 1;
  SELECT a.size INTO adopted_size FROM access_log_adopted a WHERE a.tenant_id = p_tenant;
  v_record := access_log_record(p_tenant, v_seq, p_id, p_at, p_event, p_actor_kind, p_actor_id, p_grant_id, p_detail);
  INSERT INTO access_log (tenant_id, seq, id, at, event, actor_kind, actor_id, grant_id, detail, record)
  VALUES (p_tenant, v_seq, p_id, p_at, p_event, p_actor_kind, p_actor_id, p_grant_id, coalesce(p_detail, '{}'::jsonb), v_record);
  PERFORM access_log_add_leaf(p_tenant, v_seq - 1, sha256('\x00'::bytea || convert_to(v_record, 'UTF8')));
  entry_seq := v_seq;
  entry_record := v_record;
  tree_root := access_log_root(p_tenant, v_seq);
  adopted_size := coalesce(adopted_size, 0);
  RETURN NEXT;
END
$$;
-- +goose StatementEnd

-- Stores a checkpoint the server signed. It must be of the log's current size and name the root
-- the tree has at that size; the signature itself only a verifier with the public key checks.
-- +goose StatementBegin
CREATE FUNCTION access_log_add_checkpoint(p_tenant uuid, p_size bigint, p_note text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_root bytea;
BEGIN
  IF p_tenant IS NULL OR NOT (p_tenant = ANY (app_tenants())) THEN
    RAISE EXCEPTION 'the transaction may not sign this customer''s access log' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_size <> (SELECT coalesce(max(l.seq), 0) FROM access_log l WHERE l.tenant_id = p_tenant) THEN
    RAISE EXCEPTION 'a checkpoint must be of the log''s current size' USING ERRCODE = 'check_violation';
  END IF;
  v_root := access_log_root(p_tenant, p_size);
  IF split_part(p_note, E'\n', 2) <> p_size::text OR split_part(p_note, E'\n', 3) <> encode(v_root, 'base64') THEN
    RAISE EXCEPTION 'the checkpoint does not name the tree''s root' USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO access_log_checkpoints (tenant_id, size, root, note) VALUES (p_tenant, p_size, v_root, p_note)
    ON CONFLICT (tenant_id, size) DO NOTHING;
END
$$;
-- +goose StatementEnd

-- Append-only, for the tree and the checkpoints too, and no TRUNCATE. The owner can switch
-- triggers off; what catches the owner is a checkpoint the customer kept.
CREATE TRIGGER access_log_tree_append_only BEFORE UPDATE OR DELETE ON access_log_tree
  FOR EACH ROW EXECUTE FUNCTION access_log_is_append_only();
CREATE TRIGGER access_log_checkpoints_append_only BEFORE UPDATE OR DELETE ON access_log_checkpoints
  FOR EACH ROW EXECUTE FUNCTION access_log_is_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
  FOR EACH STATEMENT EXECUTE FUNCTION access_log_is_append_only();
CREATE TRIGGER access_log_tree_no_truncate BEFORE TRUNCATE ON access_log_tree
  FOR EACH STATEMENT EXECUTE FUNCTION access_log_is_append_only();
CREATE TRIGGER access_log_checkpoints_no_truncate BEFORE TRUNCATE ON access_log_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION access_log_is_append_only();

ALTER TABLE access_log_tree ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_log_tree FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON access_log_tree USING (tenant_id = ANY (app_tenants()));
ALTER TABLE access_log_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_log_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON access_log_checkpoints USING (tenant_id = ANY (app_tenants()));
ALTER TABLE access_log_adopted ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_log_adopted FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON access_log_adopted USING (tenant_id = ANY (app_tenants()));
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['access_log_tree', 'access_log_checkpoints', 'access_log_adopted'] LOOP
    EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
  END LOOP;
END
$$;
-- +goose StatementEnd

-- The SECURITY DEFINER functions search pg_catalog first, so no built-in can be shadowed, then
-- public, where the application role creates nothing (PostgreSQL 15 gives PUBLIC no CREATE on
-- it), and pg_temp last.

REVOKE ALL ON FUNCTION access_log_append(uuid, uuid, timestamptz, text, text, uuid, uuid, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION access_log_add_checkpoint(uuid, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION access_log_add_leaf(uuid, bigint, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access_log_append(uuid, uuid, timestamptz, text, text, uuid, uuid, jsonb) TO wvsoft_app;
GRANT EXECUTE ON FUNCTION access_log_add_checkpoint(uuid, bigint, text) TO wvsoft_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON access_log FROM wvsoft_app;
GRANT SELECT ON access_log_tree, access_log_checkpoints, access_log_adopted TO wvsoft_app;

-- +goose Down
REVOKE SELECT ON access_log_tree, access_log_checkpoints, access_log_adopted FROM wvsoft_app;
GRANT INSERT ON access_log TO wvsoft_app;
DROP FUNCTION access_log_add_checkpoint(uuid, bigint, text);
DROP FUNCTION access_log_append(uuid, uuid, timestamptz, text, text, uuid, uuid, jsonb);
DROP TRIGGER access_log_no_truncate ON access_log;
-- The hash chain cannot be restored from the tree: the old columns come back empty.
ALTER TABLE access_log ADD COLUMN prev_hash bytea NOT NULL DEFAULT '', ADD COLUMN hash bytea NOT NULL DEFAULT '';
ALTER TABLE access_log DROP COLUMN record;
DROP TABLE access_log_adopted, access_log_checkpoints, access_log_tree;
DROP FUNCTION access_log_root(uuid, bigint);
DROP FUNCTION access_log_add_leaf(uuid, bigint, bytea);
DROP FUNCTION access_log_record(uuid, bigint, uuid, timestamptz, text, text, uuid, uuid, jsonb);
