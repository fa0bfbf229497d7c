-- +goose Up
-- An access entry of a request under a grant lists every record read: a page of 1,000 persons is
-- ~50 KB, kept twice (the detail and the signed record), and compressed in the transaction that
-- must commit before the answer leaves (P9). lz4 compresses it in a fraction of pglz's time
-- (the append of such an entry took ~7 ms, most of it in PostgreSQL). A server built
-- without lz4 keeps pglz: the setting only changes how new values are stored.
-- +goose StatementBegin
DO $$
BEGIN
  ALTER TABLE access_log ALTER COLUMN record SET COMPRESSION lz4, ALTER COLUMN detail SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 is not available: the access log stays compressed with pglz';
END
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE access_log ALTER COLUMN record SET COMPRESSION default, ALTER COLUMN detail SET COMPRESSION default;
