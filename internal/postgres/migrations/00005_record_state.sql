-- +goose Up
-- Derived values carry their source: an outbox row names the record field its
-- recipient address comes from, so that the policy decides the address by that field's rule.
ALTER TABLE outbox ADD COLUMN recipient_source text
  CHECK (recipient_source IN ('User.email', 'ContactPerson.email', 'Inquiry.email'));

-- Rows from before: a contact person's address where one matches, else an admin's login; an
-- inquiry's answer goes to the inquirer. What matches nothing keeps no source and is denied.
UPDATE outbox o SET recipient_source = CASE
    WHEN o.purpose = 'INQUIRY_ANSWER' THEN 'Inquiry.email'
    WHEN EXISTS (SELECT 1 FROM contact_persons cp WHERE cp.tenant_id = o.tenant_id AND lower(cp.email) = o.recipient) THEN 'ContactPerson.email'
    WHEN EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = o.tenant_id AND lower(u.email) = o.recipient) THEN 'User.email'
  END;

-- The change history names fields as the API does (GraphQL field names), never columns.
UPDATE change_history SET fields = ARRAY(
  SELECT CASE f
    WHEN 'postal_code' THEN 'postalCode' WHEN 'kvk_number' THEN 'kvkNumber'
    WHEN 'relationship_start' THEN 'relationshipStart' WHEN 'relationship_end' THEN 'relationshipEnd'
    WHEN 'birth_date' THEN 'birthDate' WHEN 'marital_status' THEN 'maritalStatus'
    WHEN 'medical_notes' THEN 'medicalNotes' ELSE f END
  FROM unnest(fields) AS f);

-- +goose Down
UPDATE change_history SET fields = ARRAY(
  SELECT CASE f
    WHEN 'postalCode' THEN 'postal_code' WHEN 'kvkNumber' THEN 'kvk_number'
    WHEN 'relationshipStart' THEN 'relationship_start' WHEN 'relationshipEnd' THEN 'relationship_end'
    WHEN 'birthDate' THEN 'birth_date' WHEN 'maritalStatus' THEN 'marital_status'
    WHEN 'medicalNotes' THEN 'medical_notes' ELSE f END
  FROM unnest(fields) AS f);
ALTER TABLE outbox DROP COLUMN recipient_source;
