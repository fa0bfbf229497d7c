package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"
)

// RotateResult is what RotateKeys did.
type RotateResult struct {
	// Persons is how many persons were read, Resealed how many values were written anew.
	Persons, Resealed int
	// KeyID is the key every encrypted value is sealed with now.
	KeyID string
}

// RotateKeys re-encrypts every BSN and medical note that is not sealed with the current key of
// keys (sealed with an old key, or written before encryption existed), as the owner of the
// database at ownerURL, in batches of batch persons. Servers may keep running: a value they
// change meanwhile is written with the current key, and a row changed between the read and the
// write here is left alone, never overwritten with what was read.
func RotateKeys(ctx context.Context, ownerURL string, keys *Keyring, batch int) (RotateResult, error) {
	res := RotateResult{KeyID: keys.CurrentKeyID()}
	db, err := sql.Open("postgres", ownerURL)
	if err != nil {
		return res, err
	}
	defer db.Close()
	var afterTenant, afterID uuid.UUID
	for {
		n, err := rotateBatch(ctx, db, keys, &afterTenant, &afterID, batch, &res)
		if err != nil {
			return res, err
		}
		if n < batch {
			return res, nil
		}
	}
}

type sealedRow struct {
	tenant, id   uuid.UUID
	bsn, notes   sql.NullString
	newBSN, newN sql.NullString
}

func rotateBatch(ctx context.Context, db *sql.DB, keys *Keyring, afterTenant, afterID *uuid.UUID, batch int, res *RotateResult) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, bsn, medical_notes FROM persons
		WHERE (tenant_id, id) > ($1, $2) ORDER BY tenant_id, id LIMIT $3`, *afterTenant, *afterID, batch)
	if err != nil {
		return 0, err
	}
	var todo []sealedRow
	n := 0
	for rows.Next() {
		var r sealedRow
		if err := rows.Scan(&r.tenant, &r.id, &r.bsn, &r.notes); err != nil {
			rows.Close()
			return 0, err
		}
		n++
		*afterTenant, *afterID = r.tenant, r.id
		changedB, errB := reseal(keys, colBSN, r.id, r.bsn, &r.newBSN)
		changedN, errN := reseal(keys, colMedicalNotes, r.id, r.notes, &r.newN)
		if errB != nil || errN != nil {
			rows.Close()
			return 0, fmt.Errorf("rotate keys: %w", firstErr(errB, errN))
		}
		if changedB || changedN {
			todo = append(todo, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, r := range todo {
		done, err := tx.ExecContext(ctx, `UPDATE persons SET bsn = $3, medical_notes = $4
			WHERE tenant_id = $1 AND id = $2 AND bsn IS NOT DISTINCT FROM $5 AND medical_notes IS NOT DISTINCT FROM $6`,
			r.tenant, r.id, r.newBSN, r.newN, r.bsn, r.notes)
		if err != nil {
			return 0, err
		}
		if k, _ := done.RowsAffected(); k == 1 {
			if r.newBSN != r.bsn {
				res.Resealed++
			}
			if r.newN != r.notes {
				res.Resealed++
			}
		}
	}
	res.Persons += n
	return n, tx.Commit()
}

// reseal sets out to v sealed with the current key, and reports whether that differs from v.
func reseal(keys *Keyring, column string, row uuid.UUID, v sql.NullString, out *sql.NullString) (bool, error) {
	*out = v
	if !v.Valid || keys.isCurrent(v.String) {
		return false, nil
	}
	plain, err := keys.open(column, row, v.String)
	if err != nil {
		return false, err
	}
	sealed, err := keys.seal(column, row, plain)
	if err != nil {
		return false, err
	}
	*out = sql.NullString{String: sealed, Valid: true}
	return true, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
