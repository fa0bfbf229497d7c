// Package service holds the business rules of every operation that changes something: it
// validates and normalises input, mints ids and API key secrets, and carries out data-subject
// requests, and composes the documents the AVG asks for (the article 15 export, the article 30
// records). The GraphQL resolvers (graph/) and the command line (cmd/wvsoft) both call it, so a
// rule lives in one place whoever asks.
//
// It reaches the data only through the authorized store (authz.Store), which asks the policy for
// every read and write: the service decides what a valid request is, never who may make it.
package service

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// RateLimiter limits the public inquiry mutation per client address, across every server. Take
// counts one event of key when allowed and returns 0, else how long until one more is allowed.
type RateLimiter interface {
	Take(ctx context.Context, key string) (time.Duration, error)
}

// SubjectReader reads a data subject's record as the caller may read it: every field of its type
// with an @personal category. The GraphQL layer implements it, because the record is read through
// the same executor and field hook as any query, so the export withholds what the caller may not
// read.
type SubjectReader interface {
	ReadSubject(ctx context.Context, typ string, id uuid.UUID) (*wvsoft.SubjectRecord, error)
}

// Service carries out the operations. Make one with New.
type Service struct {
	store        *authz.Store
	now          wvsoft.Clock
	retention    wvsoft.RetentionPolicy
	inquiryLimit RateLimiter
	subjects     SubjectReader
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (time.Now by default).
func WithClock(now wvsoft.Clock) Option {
	return func(s *Service) {
		if now != nil {
			s.now = now
		}
	}
}

// WithRetention overrides the protocol's retention periods (wvsoft.DefaultRetention).
func WithRetention(p wvsoft.RetentionPolicy) Option { return func(s *Service) { s.retention = p } }

// WithInquiryLimit limits website inquiries per client address (P5); without it, no limit.
func WithInquiryLimit(l RateLimiter) Option { return func(s *Service) { s.inquiryLimit = l } }

// WithSubjectReader sets what reads a data subject's record for the article 15 export; without
// it, access requests cannot be carried out.
func WithSubjectReader(r SubjectReader) Option { return func(s *Service) { s.subjects = r } }

// New returns a service over the authorized store.
func New(store *authz.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, retention: wvsoft.DefaultRetention()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Retention is the retention policy in force.
func (s *Service) Retention() wvsoft.RetentionPolicy { return s.retention }

// actor is who makes the request.
func actor(ctx context.Context) *wvsoft.Subject { return authz.FromContext(ctx).Subject() }

// newID mints the id of a new record: time-ordered, so that keyset pages follow creation.
func newID() (uuid.UUID, error) { return uuid.NewV7() }
