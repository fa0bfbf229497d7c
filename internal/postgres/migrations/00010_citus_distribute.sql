-- +goose Up
-- Distribution on Citus. When the citus extension is installed in this database, every
-- tenant table (a NOT NULL tenant_id column) is distributed by tenant_id, colocated with
-- customers, and every other table of the application becomes a reference table. Without the
-- extension this migration creates the two functions below and changes nothing else.
--
-- The order that works (wvsoft_citus_plan lists it, wvsoft_distribute carries it out):
--   1. the foreign keys between the application's tables are dropped (their definitions kept):
--      Citus refuses to distribute a table whose foreign keys point at a table it does not know;
--   2. the statement-level TRUNCATE triggers of the access log are dropped: TRUNCATE is refused
--      by privilege already (the application role has no TRUNCATE on the log, migration 00006);
--   3. the reference tables;
--   4. customers, then every other tenant table colocated with it;
--   5. the foreign keys again, as they were (distributed -> reference, and between colocated
--      tables on (tenant_id, ...), the only kinds this schema has; the invariant test keeps it so);
--   6. the application role's citus.propagate_set_commands = 'local', so that the tenant the
--      server sets with SET LOCAL reaches every worker connection of the transaction.
--
-- The access log's row triggers (append-only: BEFORE UPDATE OR DELETE, they only raise an error)
-- stay, under citus.enable_unsafe_triggers for this transaction: they touch no other table, so
-- running them on the shards is safe; that is the decision, and the README says so.
--
-- Tables added later run `SELECT wvsoft_distribute()` again (as the owner): it distributes what
-- is not distributed yet and leaves the rest alone.

-- +goose StatementBegin
CREATE FUNCTION wvsoft_citus_plan(p_done oid[] DEFAULT '{}')
  RETURNS TABLE (step integer, ord integer, relation text, action text, name text, detail text)
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  RETURN QUERY
  WITH app AS (
    SELECT c.oid, c.relname::text AS relname,
           EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                    AND a.attnotnull AND NOT a.attisdropped) AS tenant
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname NOT IN ('goose_db_version') AND NOT (c.oid = ANY (coalesce(p_done, '{}')))
  ), fks AS (
    SELECT k.oid, k.conrelid, k.conname::text AS conname, pg_get_constraintdef(k.oid) AS def
      FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE k.contype = 'f' AND n.nspname = 'public'
       AND (k.conrelid IN (SELECT app.oid FROM app) OR k.confrelid IN (SELECT app.oid FROM app))
  )
  SELECT 1, (row_number() OVER (ORDER BY f.conrelid::regclass::text, f.conname))::integer,
         f.conrelid::regclass::text, 'drop_foreign_key', f.conname, NULL::text FROM fks f
  UNION ALL
  SELECT 2, (row_number() OVER (ORDER BY t.tgrelid::regclass::text, t.tgname))::integer,
         t.tgrelid::regclass::text, 'drop_truncate_trigger', t.tgname::text, NULL::text
    FROM pg_trigger t JOIN app ON app.oid = t.tgrelid
   WHERE NOT t.tgisinternal AND (t.tgtype & 32) <> 0
  UNION ALL
  SELECT 3, (row_number() OVER (ORDER BY app.relname))::integer, app.oid::regclass::text, 'reference', NULL::text, NULL::text
    FROM app WHERE NOT app.tenant
  UNION ALL
  SELECT 4, (row_number() OVER (ORDER BY app.relname <> 'customers', app.relname))::integer, app.oid::regclass::text,
         'distribute', 'tenant_id',
         CASE WHEN app.relname = 'customers' THEN 'default' ELSE 'customers' END
    FROM app WHERE app.tenant
  UNION ALL
  SELECT 5, (row_number() OVER (ORDER BY f.conrelid::regclass::text, f.conname))::integer,
         f.conrelid::regclass::text, 'add_foreign_key', f.conname, f.def FROM fks f
  ORDER BY 1, 2;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION wvsoft_distribute() RETURNS text
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
  -- One connection per worker for the whole transaction: the DDL after a reference table's
  -- creation in the same transaction must see it (Citus's advice for foreign keys to reference
  -- tables in one transaction).
  PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
  PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
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
  -- The tenant travels with SET LOCAL; Citus passes it on to the workers only with this.
  EXECUTE 'ALTER ROLE wvsoft_app SET citus.propagate_set_commands = ''local''';
  RETURN format('citus: %s tables distributed or made reference tables', v_n);
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION wvsoft_citus_plan(oid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION wvsoft_distribute() FROM PUBLIC;

SELECT wvsoft_distribute();

-- +goose Down
-- Undistributing (undistribute_table) is left to the operator; without Citus there is nothing.
DROP FUNCTION wvsoft_distribute();
DROP FUNCTION wvsoft_citus_plan(oid[]);
