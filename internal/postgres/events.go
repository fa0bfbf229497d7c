package postgres

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// eventChannel is the one NOTIFY channel of change events. A payload is "kind tenant id".
const eventChannel = "wvsoft_events"

// raise sends a change event in tx: PostgreSQL delivers it to every listening server when, and
// only if, tx commits, so no server is told of a change that did not happen.
func raise(ctx context.Context, tx *sqlx.Tx, kind string, tenant, id uuid.UUID) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, eventChannel, kind+" "+tenant.String()+" "+id.String())
	return err
}

func parseEvent(payload string) (wvsoft.Event, bool) {
	f := strings.Fields(payload)
	if len(f) != 3 {
		return wvsoft.Event{}, false
	}
	tenant, err1 := uuid.Parse(f[1])
	id, err2 := uuid.Parse(f[2])
	return wvsoft.Event{Kind: f[0], Tenant: tenant, ID: id}, err1 == nil && err2 == nil
}

// Listener receives the change events of every server (LISTEN) and hands each to the
// subscribers of this one. It holds one connection of its own, outside the pool.
type Listener struct {
	dsn    string
	logger *slog.Logger

	mu   sync.Mutex
	subs map[*subscriber]struct{}
	// beforePublish runs before an event reaches any subscriber (ForgettingSubjects).
	beforePublish func()
}

// ListenerOption configures a Listener.
type ListenerOption func(*Listener)

// ForgettingSubjects empties db's kept subjects (WithSubjectCache) before each event reaches a
// subscriber. A subscription checks its credential again on an event that may have revoked it
// (a key, a user, a grant), and must then read it anew, not the copy this server kept: the
// cache's own notification of the change may arrive after the event.
func ForgettingSubjects(db *DB) ListenerOption {
	return func(l *Listener) { l.beforePublish = db.forgetSubjects }
}

var _ wvsoft.Events = (*Listener)(nil)

// NewListener listens as the role of appURL once Run runs.
func NewListener(appURL string, logger *slog.Logger, opts ...ListenerOption) *Listener {
	l := &Listener{dsn: withConnectTimeout(appURL), logger: logger, subs: map[*subscriber]struct{}{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// withConnectTimeout adds connect_timeout to a connection string that lacks it. The listening
// connection gets no statement or read deadline: it waits for notifications, and Run pings it.
func withConnectTimeout(dsn string) string {
	if strings.Contains(dsn, "connect_timeout=") {
		return dsn
	}
	if strings.Contains(dsn, "://") {
		if strings.Contains(dsn, "?") {
			return dsn + "&connect_timeout=5"
		}
		return dsn + "?connect_timeout=5"
	}
	return dsn + " connect_timeout=5"
}

// listenerPing is how often Run checks the listening connection: a connection that died
// silently is noticed, re-made, and the subscribers told to check again, within this.
const listenerPing = 15 * time.Second

// Run listens until ctx ends. When the connection is lost it is re-made; events raised
// meanwhile are lost, so every subscriber then gets EventResync.
func (l *Listener) Run(ctx context.Context) error {
	pl := pq.NewListener(l.dsn, 100*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil && ctx.Err() == nil {
			l.logger.Warn("event listener", "event", int(ev), "error", err.Error())
		}
	})
	defer pl.Close()
	// Listen waits for the database (for ever while it is down); Close ends the wait.
	listening := make(chan error, 1)
	go func() { listening <- pl.Listen(eventChannel) }()
	ping := time.NewTicker(listenerPing)
	defer ping.Stop()
	var pinging atomic.Bool
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-pl.Notify:
			if n == nil { // re-connected: what was raised in between is unknown
				l.publish(wvsoft.Event{Kind: wvsoft.EventResync})
				continue
			}
			if ev, ok := parseEvent(n.Extra); ok {
				l.publish(ev)
			}
		case err := <-listening:
			if err != nil {
				return err
			}
		case <-ping.C:
			// A dead connection makes the listener re-connect (and say so above). One ping at a
			// time: on a connection that hangs, pings would otherwise pile up until TCP gives up.
			if pinging.CompareAndSwap(false, true) {
				go func() {
					defer pinging.Store(false)
					pl.Ping()
				}()
			}
		}
	}
}

func (l *Listener) publish(ev wvsoft.Event) {
	if l.beforePublish != nil {
		l.beforePublish()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.subs {
		s.push(ev)
	}
}

// maxBacklog is how many events a subscriber may fall behind before they are replaced by one
// EventResync.
const maxBacklog = 1000

// subscriber queues events for one consumer, so that a slow consumer never holds up the
// listener or the others.
type subscriber struct {
	mu     sync.Mutex
	queue  []wvsoft.Event
	signal chan struct{}
}

func (s *subscriber) push(ev wvsoft.Event) {
	s.mu.Lock()
	if len(s.queue) >= maxBacklog {
		s.queue = append(s.queue[:0], wvsoft.Event{Kind: wvsoft.EventResync})
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *subscriber) take() []wvsoft.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

// Subscribe delivers the events published from now until ctx ends.
func (l *Listener) Subscribe(ctx context.Context) <-chan wvsoft.Event {
	s := &subscriber{signal: make(chan struct{}, 1)}
	l.mu.Lock()
	l.subs[s] = struct{}{}
	l.mu.Unlock()
	out := make(chan wvsoft.Event)
	go func() {
		defer func() {
			l.mu.Lock()
			delete(l.subs, s)
			l.mu.Unlock()
			close(out)
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.signal:
			}
			for _, ev := range s.take() {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
