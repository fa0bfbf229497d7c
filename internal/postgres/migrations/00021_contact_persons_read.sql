-- +goose Up
-- A contact person is read with its customer's relationship end, which decides its record state.
-- As a correlated subquery in the select list, Citus sent every read of contact persons to all
-- shards of both tables, also for one named customer; as a join on tenant_id (this view, which
-- PostgreSQL expands into the query) it reaches the named customers' shards only. The view reads
-- as its caller (security_invoker): row-level security of both tables applies as before, and a
-- customer row the caller may not see gives no relationship end, as the subquery did.
SET LOCAL citus.multi_shard_modify_mode = 'sequential';
CREATE VIEW contact_persons_read WITH (security_invoker = true) AS
  SELECT cp.*, cu.relationship_end FROM contact_persons cp LEFT JOIN customers cu ON cu.tenant_id = cp.tenant_id;
GRANT SELECT ON contact_persons_read TO wvsoft_app;

-- +goose Down
DROP VIEW contact_persons_read;
