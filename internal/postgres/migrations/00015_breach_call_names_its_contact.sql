-- +goose Up
-- A breach call names the contact person who was called by reference, not by a typed copy of the
-- name: the name shown is the contact person's own, decided as that field and gone or restricted
-- with it when the person is erased. What was said (outcome) is about that person too, and is
-- erased with the person's support data. A call logged before this change keeps its typed name
-- only when it matched no contact person of its customer; such a name is shown to nobody.
ALTER TABLE breach_calls ADD COLUMN contact_person_id uuid, ALTER COLUMN called DROP NOT NULL;

UPDATE breach_calls bc SET contact_person_id = m.id, called = NULL
  FROM (SELECT bc2.tenant_id, bc2.id AS call_id, min(cp.id::text)::uuid AS id
          FROM breach_calls bc2 JOIN contact_persons cp ON cp.tenant_id = bc2.tenant_id
           AND cp.name IS NOT NULL AND (bc2.called = cp.name OR bc2.called LIKE cp.name || ' (%')
         GROUP BY bc2.tenant_id, bc2.id HAVING count(*) = 1) m
 WHERE bc.tenant_id = m.tenant_id AND bc.id = m.call_id;

CREATE INDEX breach_calls_contact_person ON breach_calls (tenant_id, contact_person_id);

-- +goose Down
DROP INDEX breach_calls_contact_person;
UPDATE breach_calls bc SET called = coalesce(bc.called, cp.name, '')
  FROM breach_calls b LEFT JOIN contact_persons cp ON cp.tenant_id = b.tenant_id AND cp.id = b.contact_person_id
 WHERE bc.tenant_id = b.tenant_id AND bc.id = b.id;
ALTER TABLE breach_calls DROP COLUMN contact_person_id, ALTER COLUMN called SET NOT NULL;
