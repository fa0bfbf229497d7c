-- +goose Up
-- What a real Citus cluster refused, in forms that it accepts and that behave as before on plain
-- PostgreSQL. On Citus the REVOKE/GRANT and function DDL of this migration reach every node;
-- sequentially, so that the DDL after it may follow in the same transaction (a placeholder
-- setting on plain PostgreSQL).
SET LOCAL citus.multi_shard_modify_mode = 'sequential';

-- The rate limit: Citus takes no STABLE expression (timestamptz arithmetic) in the DO UPDATE SET
-- of an upsert on a distributed or reference table. The row is locked and its new value computed
-- here, then written as a value; otherwise as in migration 00009.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_limit_take(p_key bytea, p_burst integer, p_interval interval, p_now timestamptz)
  RETURNS double precision
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
DECLARE
  v_tat timestamptz;
  v_new timestamptz;
BEGIN
  IF p_burst < 1 OR p_interval <= interval '0' THEN
    RAISE EXCEPTION 'rate_limit_take: burst and interval must be positive' USING ERRCODE = 'check_violation';
  END IF;
  LOOP
    SELECT tat INTO v_tat FROM rate_limits WHERE key = p_key FOR UPDATE;
    IF NOT FOUND THEN
      v_new := p_now + p_interval;
      INSERT INTO rate_limits (key, tat) VALUES (p_key, v_new) ON CONFLICT (key) DO NOTHING;
      EXIT WHEN FOUND;
      CONTINUE; -- another request made the row first: take it as that one left it
    END IF;
    v_new := greatest(v_tat, p_now) + p_interval;
    IF v_new - p_interval * p_burst > p_now THEN
      RETURN greatest(extract(epoch FROM v_tat + p_interval - p_interval * p_burst - p_now), 0.001);
    END IF;
    UPDATE rate_limits SET tat = v_new WHERE key = p_key;
    EXIT;
  END LOOP;
  WITH gone AS MATERIALIZED (SELECT key FROM rate_limits WHERE tat < p_now FOR UPDATE SKIP LOCKED)
  DELETE FROM rate_limits WHERE key IN (SELECT key FROM gone);
  RETURN 0;
END
$$;
-- +goose StatementEnd

-- The purge of the access logs: on Citus the log's append-only trigger runs on the shards, in the
-- workers' transactions, where a set_config of the coordinator never arrives; SET LOCAL does,
-- with citus.propagate_set_commands = 'local' (plain PostgreSQL: as before). Otherwise as in
-- migration 00008.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION purge_access_logs(p_at date, p_fiscal_years int, p_dry boolean, OUT entries bigint, OUT grants bigint)
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
  SET LOCAL citus.propagate_set_commands = 'local';
  SET LOCAL app.retention_purge = 'on';
  DELETE FROM access_log_checkpoints WHERE tenant_id = ANY (v_tenants);
  DELETE FROM access_log_tree WHERE tenant_id = ANY (v_tenants);
  DELETE FROM access_log_adopted WHERE tenant_id = ANY (v_tenants);
  DELETE FROM access_log WHERE tenant_id = ANY (v_tenants);
  GET DIAGNOSTICS entries = ROW_COUNT;
  DELETE FROM access_grants WHERE tenant_id = ANY (v_tenants);
  GET DIAGNOSTICS grants = ROW_COUNT;
  SET LOCAL app.retention_purge = 'off';
END
$$;
-- +goose StatementEnd

-- Distribution, as in migration 00010, and two more steps:
--   0. before anything is distributed, the functions that exist already become Citus objects,
--      so that they exist on every worker (a database migrated before Citus was added: the
--      tables' policies and triggers need them there);
--   6. after the tables, the functions over a table's row type, and any not distributed yet;
--   7. the SECURITY DEFINER functions whose first argument is p_tenant (the access log's append
--      and its checkpoints) run on the node of that customer's shards, in the transaction's own
--      connection to it (force_delegation): on the coordinator they would read and write as the
--      owner the shards that the transaction wrote as the application role, which Citus refuses
--      (SQLSTATE 25001). There every statement of theirs names the tenant, which Citus requires
--      of a delegated function.
-- The application's own functions (not an extension's), and whether one is over a table's row type.
-- +goose StatementBegin
CREATE FUNCTION wvsoft_plain_functions() RETURNS TABLE (oid oid, over_table boolean)
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  RETURN QUERY SELECT f.oid, EXISTS (SELECT 1 FROM pg_depend d JOIN pg_type ty ON d.refclassid = 'pg_type'::regclass AND ty.oid = d.refobjid
                                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = f.oid AND ty.typrelid <> 0)
                                  OR EXISTS (SELECT 1 FROM pg_type ty WHERE ty.oid = f.prorettype AND ty.typrelid <> 0)
    FROM pg_proc f
   WHERE f.pronamespace = 'public'::regnamespace AND f.prokind = 'f'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = f.oid AND d.deptype = 'e')
   ORDER BY f.oid;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION wvsoft_plain_functions() FROM PUBLIC;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION wvsoft_distribute() RETURNS text
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  v_done oid[];
  p      record;
  v_n    integer := 0;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    RETURN 'citus is not installed: nothing distributed';
  END IF;
  -- Citus's own catalog exists only with the extension: read through EXECUTE.
  EXECUTE 'SELECT coalesce(array_agg(logicalrelid::oid), ''{}'') FROM pg_dist_partition' INTO v_done;
  PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
  PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
  IF v_done = '{}' THEN
    -- 0. What exists before the first table is distributed, on every worker.
    -- The extensions first (unaccent: the search configuration of migration 00012 needs its
    -- dictionary), on every worker: Citus propagates no extension that existed before it, and
    -- refuses DDL on a worker unless told not to propagate it.
    FOR p IN SELECT e.extname::text AS name, e.extnamespace::regnamespace::text AS schema FROM pg_extension e
              WHERE e.extname NOT IN ('plpgsql', 'citus', 'citus_columnar') ORDER BY e.oid LOOP
      PERFORM run_command_on_workers(format('SET citus.enable_ddl_propagation TO off; CREATE EXTENSION IF NOT EXISTS %I SCHEMA %I',
                                            p.name, p.schema));
    END LOOP;
    -- (Those over a table's row type follow the tables, in 6.)
    FOR p IN SELECT f.oid::regprocedure::text AS sig FROM wvsoft_plain_functions() f WHERE NOT f.over_table LOOP
      EXECUTE format('SELECT create_distributed_function(%L)', p.sig);
    END LOOP;
  END IF;
  FOR p IN SELECT * FROM wvsoft_citus_plan(v_done) LOOP
    CASE p.action
      WHEN 'drop_foreign_key' THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', p.relation, p.name);
      WHEN 'drop_truncate_trigger' THEN
        EXECUTE format('DROP TRIGGER %I ON %s', p.name, p.relation);
      WHEN 'reference' THEN
        EXECUTE format('SELECT create_reference_table(%L)', p.relation);
        v_n := v_n + 1;
      WHEN 'distribute' THEN
        EXECUTE format('SELECT create_distributed_table(%L, %L, colocate_with => %L)', p.relation, p.name, p.detail);
        v_n := v_n + 1;
      WHEN 'add_foreign_key' THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', p.relation, p.name, p.detail);
    END CASE;
  END LOOP;
  -- 6. The functions not on the workers yet: those over a table's row type, and any added since.
  FOR p IN EXECUTE 'SELECT f.oid::regprocedure::text AS sig FROM wvsoft_plain_functions() f
                     WHERE f.oid NOT IN (SELECT objid FROM pg_dist_object WHERE classid = ''pg_proc''::regclass)' LOOP
    EXECUTE format('SELECT create_distributed_function(%L)', p.sig);
  END LOOP;
  -- The tenant travels with SET LOCAL; Citus passes it on to the workers only with this.
  EXECUTE 'ALTER ROLE wvsoft_app SET citus.propagate_set_commands = ''local''';
  -- 7. The owner's per-customer functions run on the customer's node.
  FOR p IN SELECT f.oid::regprocedure::text AS sig FROM pg_proc f
            WHERE f.pronamespace = 'public'::regnamespace AND f.prosecdef AND f.pronargs > 0
              AND f.proargnames[1] = 'p_tenant' AND f.proargtypes[0] = 'uuid'::regtype ORDER BY 1 LOOP
    EXECUTE format('SELECT create_distributed_function(%L, %L, colocate_with => %L, force_delegation => true)',
                   p.sig, 'p_tenant', 'customers');
  END LOOP;
  RETURN format('citus: %s tables distributed or made reference tables', v_n);
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION wvsoft_distribute() FROM PUBLIC;

SELECT wvsoft_distribute();

-- +goose Down
DROP FUNCTION wvsoft_plain_functions();
