package postgres

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// SubjectsChannel is the PostgreSQL notification channel on which a server says that users, keys,
// grants or consents may have changed: every server listening forgets the subjects it keeps.
const SubjectsChannel = "wvsoft_subjects"

// MaxSubjectAge bounds how long a server keeps a subject it read: a credential, a
// grant or a consent that changed stops counting within this time on every server, even one
// whose notification connection is down. The brief asks for a second; a notification usually
// ends it within milliseconds.
const MaxSubjectAge = 500 * time.Millisecond

// subjectCache keeps the subjects of recent credentials (users and API keys, not staff) for at
// most MaxSubjectAge, so that a request does not pay a round trip before its first query. Any
// mutation on this server (SubjectsChanged), any notification on SubjectsChannel and any change
// event (ForgettingSubjects) empties it; a subject read while it was emptied is not kept.
type subjectCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]cachedSubject
	// changed asks for a notification of the other servers (SubjectsChanged).
	changed chan struct{}
	// clock is monotonic wall time, not the injected clock: the bound is on real time.
	clock func() time.Time
}

type cachedSubject struct {
	s    *wvsoft.Subject
	read time.Time
}

// WithSubjectCache keeps subjects for up to MaxSubjectAge and listens on SubjectsChannel (a
// connection of its own) for changes made through other servers; for `wvsoft serve`. Without
// it every request reads its subject.
func WithSubjectCache(logger *slog.Logger) Option {
	return func(d *DB) {
		d.subjects = &subjectCache{entries: map[string]cachedSubject{}, changed: make(chan struct{}, 1), clock: time.Now}
		d.subjectsLogger = logger
	}
}

// get returns a copy of the kept subject for key, or the generation to store a fresh one under.
func (c *subjectCache) get(key string) (*wvsoft.Subject, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		if c.clock().Sub(e.read) < MaxSubjectAge {
			s := *e.s
			return &s, c.gen
		}
		delete(c.entries, key)
	}
	return nil, c.gen
}

// put keeps s unless the cache was emptied since the read began (gen).
func (c *subjectCache) put(key string, gen uint64, read time.Time, s *wvsoft.Subject) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) > 10_000 {
		clear(c.entries) // many credentials at once: keep the memory bounded
	}
	kept := *s
	c.entries[key] = cachedSubject{s: &kept, read: read}
}

func (c *subjectCache) forget() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}

// cachedSubjectFor reads the subject of key through the cache, if there is one.
func (d *DB) cachedSubjectFor(key string, read func() (*wvsoft.Subject, error)) (*wvsoft.Subject, error) {
	if d.subjects == nil {
		return read()
	}
	s, gen := d.subjects.get(key)
	if s != nil {
		return s, nil
	}
	at := d.subjects.clock()
	s, err := read()
	if err == nil && s.Kind != wvsoft.SubjectStaff {
		// Staff are read on every request: a withdrawn consent or a revoked grant restricts
		// the director's very next request on every server (P6, P9), which no notification
		// can promise. Users and API keys stop within MaxSubjectAge.
		d.subjects.put(key, gen, at, s)
	}
	return s, err
}

// SubjectsChanged empties this server's subjects and has every other server told to, after a
// mutation: the next request of a revoked key or a removed user reads anew. It runs before the
// mutation's answer leaves, so the caller's own next request sees the change; the notification
// goes out on a goroutine of its own, so that an answer never waits for it (the other servers
// forget within MaxSubjectAge all the same).
func (d *DB) SubjectsChanged(ctx context.Context) {
	if d.subjects == nil {
		return
	}
	d.subjects.forget()
	select {
	case d.subjects.changed <- struct{}{}:
	default: // one is pending already: it covers this change too
	}
}

// forgetSubjects empties this server's kept subjects, telling no other server.
func (d *DB) forgetSubjects() {
	if d.subjects != nil {
		d.subjects.forget()
	}
}

// notifySubjects sends the notifications that SubjectsChanged asks for, until done closes.
func (d *DB) notifySubjects(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-d.subjects.changed:
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := d.db.ExecContext(ctx, `SELECT pg_notify($1, '')`, SubjectsChannel)
			cancel()
			if err != nil && d.subjectsLogger != nil {
				d.subjectsLogger.Warn("notifying the other servers of changed subjects failed", "error", err.Error())
			}
		}
	}
}

// listenSubjects empties the cache on every notification, and when the listening connection
// comes back (notifications may have been lost); it ends when the listener is closed.
func (d *DB) listenSubjects(dsn string) {
	l := pq.NewListener(dsn, 100*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, err error) {
		if ev != pq.ListenerEventConnected {
			d.subjects.forget()
		}
		if err != nil && d.subjectsLogger != nil {
			d.subjectsLogger.Warn("subject notifications", "event", int(ev), "error", err.Error())
		}
	})
	if err := l.Listen(SubjectsChannel); err != nil && d.subjectsLogger != nil {
		d.subjectsLogger.Warn("listening for subject notifications", "error", err.Error())
	}
	d.listener = l
	d.stopNotify = make(chan struct{})
	go d.notifySubjects(d.stopNotify)
	go func() {
		for range l.NotificationChannel() {
			d.subjects.forget()
		}
	}()
}
