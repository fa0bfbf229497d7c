// Package mail delivers the outbox through SMTP. The outbox row is written in the same
// transaction as the event that causes the mail; the sender claims due rows with a lease, sends
// each to its one recipient, and marks it sent or schedules a retry with backoff. A server that
// stops mid-send leaves its claimed rows to be retried when the lease runs out; the Message-ID is
// the row id, so the rare message sent again (delivered, then the server died before marking
// it) is recognisable as the same message.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Outbox is what the sender needs from the store.
type Outbox interface {
	ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*wvsoft.OutboxMessage, error)
	MarkSent(ctx context.Context, m *wvsoft.OutboxMessage, now time.Time) error
	MarkFailed(ctx context.Context, m *wvsoft.OutboxMessage, reason string, next time.Time, final bool) error
}

// Sending limits.
const (
	batchSize   = 50
	lease       = 2 * time.Minute
	maxAttempts = 8
	firstRetry  = 30 * time.Second
	maxRetry    = time.Hour
	dialTimeout = 10 * time.Second
)

// Sender delivers the outbox.
type Sender struct {
	outbox Outbox
	host   string // host:port
	user   *url.Userinfo
	from   string
	logger *slog.Logger
	now    wvsoft.Clock
	poll   time.Duration
	tls    *tls.Config
}

// Option configures a Sender.
type Option func(*Sender)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Sender) { s.logger = l } }

// WithClock sets the time source (tests move time to pass leases and backoffs).
func WithClock(now wvsoft.Clock) Option { return func(s *Sender) { s.now = now } }

// WithPoll sets how often Run looks for due mail.
func WithPoll(d time.Duration) Option { return func(s *Sender) { s.poll = d } }

// NewSender returns a sender for smtpURL: smtp://[user:password@]host:port?from=address. It
// uses STARTTLS when the server offers it, and authenticates only over TLS (or to localhost).
func NewSender(outbox Outbox, smtpURL string, opts ...Option) (*Sender, error) {
	u, err := url.Parse(smtpURL)
	if err != nil || u.Scheme != "smtp" || u.Host == "" {
		return nil, errors.New("SMTP_URL must look like smtp://user:password@host:587?from=privacy@example.nl")
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "25")
	}
	from := u.Query().Get("from")
	if from == "" {
		return nil, errors.New("SMTP_URL needs ?from=address")
	}
	s := &Sender{outbox: outbox, host: host, user: u.User, from: from, logger: slog.New(slog.DiscardHandler),
		now: time.Now, poll: 2 * time.Second, tls: &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Run sends due mail until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		if _, err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.logger.ErrorContext(ctx, "outbox", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// SendDue sends the messages that are due now and reports how many were delivered.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	msgs, err := s.outbox.ClaimDue(ctx, s.now(), batchSize, lease)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, m := range msgs {
		if err := s.send(m); err != nil {
			final := m.Attempts >= maxAttempts
			next := s.now().Add(backoff(m.Attempts))
			// The reason is the server's reply; it names no recipient beyond what the row holds.
			if markErr := s.outbox.MarkFailed(ctx, m, truncate(err.Error(), 500), next, final); markErr != nil {
				return sent, markErr
			}
			s.logger.WarnContext(ctx, "mail not delivered", "message_id", m.UUID.String(), "purpose", m.Purpose,
				"attempt", m.Attempts, "final", final)
			continue
		}
		if err := s.outbox.MarkSent(ctx, m, s.now()); err != nil {
			return sent, err
		}
		sent++
		s.logger.InfoContext(ctx, "mail delivered", "message_id", m.UUID.String(), "purpose", m.Purpose)
	}
	return sent, nil
}

// backoff doubles from 30 seconds up to an hour.
func backoff(attempt int) time.Duration {
	d := firstRetry
	for i := 1; i < attempt && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

func (s *Sender) send(m *wvsoft.OutboxMessage) error {
	conn, err := net.DialTimeout("tcp", s.host, dialTimeout)
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(time.Minute))
	c, err := smtp.NewClient(conn, s.tls.ServerName)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello("wvsoft"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(s.tls); err != nil {
			return err
		}
	}
	if s.user != nil {
		password, _ := s.user.Password()
		if err := c.Auth(smtp.PlainAuth("", s.user.Username(), password, s.tls.ServerName)); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from); err != nil {
		return err
	}
	if err := c.Rcpt(m.Recipient); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(s.compose(m)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose writes the message: plain text in UTF-8, quoted-printable.
func (s *Sender) compose(m *wvsoft.OutboxMessage) []byte {
	var b bytes.Buffer
	domain := s.from[strings.LastIndex(s.from, "@")+1:]
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n",
		s.from, m.Recipient, mime.QEncoding.Encode("utf-8", m.Subject), m.CreatedAt.UTC().Format(time.RFC1123Z), m.UUID, domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
