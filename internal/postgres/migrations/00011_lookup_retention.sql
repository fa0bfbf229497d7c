-- +goose Up
-- The lookup tables of migration 00009 follow the rows they index out of the database: the
-- purge removes a customer's slug once the customer is gone, its latest consent once its consent
-- history is gone, and a grant's index row once the grant is gone (issues 16 and 19).
GRANT DELETE ON customer_slugs, consent_state TO wvsoft_app;

-- +goose Down
REVOKE DELETE ON customer_slugs, consent_state FROM wvsoft_app;
