package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/mail"
	"github.com/wvsoft/privacy/internal/mailtest"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

func setup(t *testing.T) (*postgres.DB, *mailtest.Server, *time.Time) {
	t.Helper()
	db := pgtest.New(t)
	store, err := postgres.Open(context.Background(), db.AppURL, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Now()
	return store, mailtest.Start(t), &now
}

// answer puts one message for recipient into the outbox the way the API does.
func answer(t *testing.T, store *postgres.DB, recipient string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	if err := store.SubmitInquiry(ctx, &wvsoft.Inquiry{UUID: id, Name: "Piet", Email: recipient, Question: "Hoe lang bewaart u mijn gegevens?", ReceivedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := store.AnswerInquiry(ctx, wvsoft.TenantFilter{All: true}, id, wvsoft.Letter{Subject: "Uw vraag", Body: "Zeven jaar, voor de fiscus."}, now); err != nil {
		t.Fatal(err)
	}
}

func TestDeliversOnceWithRetries(t *testing.T) {
	store, smtpd, now := setup(t)
	ctx := context.Background()
	sender, err := mail.NewSender(store, smtpd.URL(), mail.WithClock(func() time.Time { return *now }))
	if err != nil {
		t.Fatal(err)
	}
	answer(t, store, "piet@example.nl", *now)
	answer(t, store, "klaas@example.nl", *now)

	smtpd.Reject("klaas")
	if n, err := sender.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("first round delivered %d, %v", n, err)
	}
	got := smtpd.To("piet@example.nl")
	if len(got) != 1 || !strings.Contains(got[0].Data, "Zeven jaar") || !strings.Contains(got[0].Data, "Message-ID: <") {
		t.Fatalf("piet got %+v", got)
	}
	if n, _ := sender.SendDue(ctx); n != 0 {
		t.Fatal("the failed message was retried before its backoff")
	}
	smtpd.Reject("")
	*now = now.Add(31 * time.Second)
	if n, err := sender.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("retry delivered %d, %v", n, err)
	}
	*now = now.Add(time.Hour)
	if n, _ := sender.SendDue(ctx); n != 0 {
		t.Fatal("a sent message was sent again")
	}
	if len(smtpd.To("piet@example.nl")) != 1 || len(smtpd.To("klaas@example.nl")) != 1 {
		t.Fatalf("deliveries: %+v", smtpd.Messages())
	}
	// Inquiry answers leave the outbox, and with them the visitors' addresses, once sent (P5).
	msgs, err := store.Outbox(ctx, wvsoft.TenantFilter{All: true}, nil, 10)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("outbox after sending: %+v %v", msgs, err)
	}
}

// A server that dies after claiming a message loses nothing: once the lease runs out, another
// sends it.
func TestClaimedMessageSurvivesACrash(t *testing.T) {
	store, smtpd, now := setup(t)
	ctx := context.Background()
	answer(t, store, "piet@example.nl", *now)
	claimed, err := store.ClaimDue(ctx, *now, 10, 2*time.Minute) // the server that dies
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	sender, _ := mail.NewSender(store, smtpd.URL(), mail.WithClock(func() time.Time { return *now }))
	if n, _ := sender.SendDue(ctx); n != 0 {
		t.Fatal("a leased message was taken by a second server")
	}
	*now = now.Add(3 * time.Minute)
	if n, err := sender.SendDue(ctx); err != nil || n != 1 || len(smtpd.To("piet@example.nl")) != 1 {
		t.Fatalf("after the lease: %d %v", n, err)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	store, smtpd, now := setup(t)
	ctx := context.Background()
	answer(t, store, "nobody@example.nl", *now)
	smtpd.Reject("nobody")
	sender, _ := mail.NewSender(store, smtpd.URL(), mail.WithClock(func() time.Time { return *now }))
	for i := 0; i < 12; i++ {
		sender.SendDue(ctx)
		*now = now.Add(2 * time.Hour)
	}
	failed := wvsoft.OutboxFailed
	msgs, err := store.Outbox(ctx, wvsoft.TenantFilter{All: true}, &failed, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Attempts != 8 || msgs[0].LastError == nil {
		t.Fatalf("after giving up: %+v %v", msgs, err)
	}
}
