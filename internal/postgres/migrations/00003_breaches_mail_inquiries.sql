-- +goose Up
-- E-mail through an outbox, the breach register (P4), website inquiries (P5) and support
-- notices (P8).

-- One row per message and recipient, written in the same transaction as the event that causes
-- it. The sender claims due rows, sends, and marks them; a message is never lost when a server
-- stops, and a recipient gets it once (its Message-ID is the row id, for the rare resend).
CREATE TABLE outbox (
  id              uuid PRIMARY KEY,
  tenant_id       uuid REFERENCES customers (tenant_id) ON DELETE SET NULL,
  recipient       text NOT NULL,
  subject         text NOT NULL,
  body            text NOT NULL,
  purpose         text NOT NULL CHECK (purpose IN ('BREACH', 'INQUIRY_ANSWER', 'SUPPORT_NOTICE', 'SUPPORT_ACCESS')),
  related_id      uuid,
  status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_error      text,
  created_at      timestamptz NOT NULL,
  sent_at         timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'PENDING';

CREATE TABLE breaches (
  id             uuid PRIMARY KEY,
  description    text NOT NULL,
  discovered_at  timestamptz NOT NULL,
  categories     text[] NOT NULL,
  approx_persons integer,
  approx_records integer,
  consequences   text,
  measures       text,
  recorded_by    uuid NOT NULL REFERENCES staff_members (id),
  recorded_at    timestamptz NOT NULL
);

-- The breach as one affected customer sees it: how and when it was informed, and its report to
-- the Autoriteit Persoonsgegevens.
CREATE TABLE breach_customers (
  tenant_id         uuid NOT NULL REFERENCES customers (tenant_id) ON DELETE CASCADE,
  breach_id         uuid NOT NULL REFERENCES breaches (id),
  emailed_at        timestamptz,
  phoned_at         timestamptz,
  reported_to_ap_at timestamptz,
  ap_report_number  text,
  PRIMARY KEY (tenant_id, breach_id)
);

CREATE TABLE breach_calls (
  tenant_id  uuid NOT NULL,
  id         uuid NOT NULL,
  breach_id  uuid NOT NULL,
  called_by  uuid NOT NULL REFERENCES staff_members (id),
  called     text NOT NULL,
  called_at  timestamptz NOT NULL,
  reached    boolean NOT NULL,
  outcome    text,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, breach_id) REFERENCES breach_customers (tenant_id, breach_id) ON DELETE CASCADE
);

-- A website visitor's question. The row, and with it every personal value, goes when it is
-- answered, or after the maximum age when it never is; inquiry_counts keeps only numbers.
CREATE TABLE inquiries (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  email       text NOT NULL,
  question    text NOT NULL,
  received_at timestamptz NOT NULL
);

CREATE TABLE inquiry_counts (
  day      date PRIMARY KEY,
  received integer NOT NULL DEFAULT 0,
  answered integer NOT NULL DEFAULT 0,
  expired  integer NOT NULL DEFAULT 0
);

CREATE TABLE support_notices (
  id           uuid PRIMARY KEY,
  title        text NOT NULL,
  body         text NOT NULL,
  published_by uuid NOT NULL REFERENCES staff_members (id),
  published_at timestamptz NOT NULL,
  recipients   integer NOT NULL
);

-- WvSoft's own tables: only a transaction with the register flag (staff, the sender) reads them.
-- The customer's part of a breach is tenant-owned.
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['outbox', 'breaches', 'inquiries', 'inquiry_counts', 'support_notices'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY staff ON %I USING (app_all_tenants()) WITH CHECK (app_all_tenants())', t);
    EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['breach_customers', 'breach_calls'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_or_register ON %I USING (tenant_id = ANY (app_tenants()) OR app_all_tenants()) WITH CHECK (tenant_id = ANY (app_tenants()) OR app_all_tenants())', t);
    EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
  END LOOP;
END
$$;
-- +goose StatementEnd

-- A customer reads its breach through breach_customers; the breach itself is read through this
-- function, for the breaches that concern the customers of the transaction only.
CREATE FUNCTION customer_breaches(p_tenants uuid[])
  RETURNS SETOF breaches
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    SELECT b.* FROM breaches b
     WHERE EXISTS (SELECT 1 FROM breach_customers bc WHERE bc.breach_id = b.id AND bc.tenant_id = ANY (p_tenants))
  $$;
REVOKE ALL ON FUNCTION customer_breaches(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_breaches(uuid[]) TO wvsoft_app;

-- Website visitors have no account: the public mutation stores the question through this
-- function, the only way in for a request without a tenant or a staff member.
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
REVOKE ALL ON FUNCTION submit_inquiry(uuid, text, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION submit_inquiry(uuid, text, text, text, timestamptz) TO wvsoft_app;

GRANT SELECT, INSERT, UPDATE ON outbox, breaches, breach_customers, breach_calls, support_notices, inquiry_counts TO wvsoft_app;
GRANT SELECT, DELETE ON inquiries TO wvsoft_app;

-- +goose Down
DROP FUNCTION submit_inquiry(uuid, text, text, text, timestamptz);
DROP FUNCTION customer_breaches(uuid[]);
DROP TABLE support_notices, inquiry_counts, inquiries, breach_calls, breach_customers, breaches, outbox;
