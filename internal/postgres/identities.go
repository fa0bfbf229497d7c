package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

var _ wvsoft.Identities = (*DB)(nil)

// subjectRow is a row of the auth_subject_by_* functions.
type subjectRow struct {
	Kind                 string         `db:"kind"`
	ID                   uuid.UUID      `db:"id"`
	TenantID             uuid.NullUUID  `db:"tenant_id"`
	Role                 string         `db:"role"`
	Email                sql.NullString `db:"email"`
	Name                 sql.NullString `db:"name"`
	CanWrite             bool           `db:"can_write"`
	SpecialCategories    bool           `db:"special_categories"`
	DeclarationExpiresAt sql.NullTime   `db:"declaration_expires_at"`
}

func (r *subjectRow) subject() *wvsoft.Subject {
	s := &wvsoft.Subject{Kind: r.Kind, ID: r.ID, TenantID: r.TenantID.UUID, Role: r.Role,
		CanWrite: r.CanWrite, SpecialCategories: r.SpecialCategories}
	if r.Email.Valid {
		s.Email = &r.Email.String
	}
	if r.Name.Valid {
		s.Name = &r.Name.String
	}
	if r.DeclarationExpiresAt.Valid {
		t := r.DeclarationExpiresAt.Time
		s.DeclarationExpiresAt = &t
	}
	return s
}

// SubjectByEmail finds the user or staff member with this e-mail address, through a function
// that reads nothing else, since no tenant is known yet.
func (d *DB) SubjectByEmail(ctx context.Context, email string) (*wvsoft.Subject, error) {
	return d.cachedSubjectFor("email\x00"+email, func() (*wvsoft.Subject, error) {
		return d.subject(ctx, `SELECT * FROM auth_subject_by_email($1)`, email)
	})
}

// SubjectByEmailIn finds the user with this e-mail address among the users of the customer
// with this slug: a person who is a user of several customers chooses one.
func (d *DB) SubjectByEmailIn(ctx context.Context, email, customer string) (*wvsoft.Subject, error) {
	return d.cachedSubjectFor("in\x00"+email+"\x00"+customer, func() (*wvsoft.Subject, error) {
		return d.subject(ctx, `SELECT * FROM auth_user_by_email_in($1, $2)`, email, customer)
	})
}

// SubjectByAPIKey finds the unrevoked API key with this secret hash.
func (d *DB) SubjectByAPIKey(ctx context.Context, hash []byte) (*wvsoft.Subject, error) {
	return d.cachedSubjectFor("key\x00"+string(hash), func() (*wvsoft.Subject, error) {
		return d.subject(ctx, `SELECT * FROM auth_subject_by_api_key($1)`, hash)
	})
}

func (d *DB) subject(ctx context.Context, q string, args ...any) (*wvsoft.Subject, error) {
	var row subjectRow
	err := d.db.GetContext(ctx, &row, q, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &wvsoft.Error{Code: wvsoft.EUNAUTHENTICATED, Message: "unknown credentials"}
	}
	if err != nil {
		return nil, mapError(err)
	}
	s := row.subject()
	if s.Kind == wvsoft.SubjectStaff {
		if s.ConsentWithdrawn, err = d.withdrawnConsents(ctx); err != nil {
			return nil, err
		}
	}
	if s.Kind == wvsoft.SubjectStaff && s.Role == wvsoft.RoleDirector {
		// Read with the subject: a revoked grant stops the next request on this server and,
		// through the subject cache's notifications (at most MaxSubjectAge), on every other.
		if s.Grants, err = d.activeGrants(ctx, s.ID, d.now()); err != nil {
			return nil, err
		}
	}
	return s, nil
}
