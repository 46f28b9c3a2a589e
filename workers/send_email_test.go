package workers_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"pulso/app/apptest"
	"pulso/app/mail"
	"pulso/app/mail/mailtest"
	"pulso/queries"
	emailview "pulso/views/email"
	"pulso/workers"
	"pulso/workers/jobargs"
)

type emailWorld struct {
	env *apptest.Env
	org queries.Org
	srv *mailtest.Server
	// worker sends through srv; outbox has no SMTP server.
	worker, outbox *rivertest.Worker[jobargs.SendEmail, pgx.Tx]
}

func newEmailWorld(t *testing.T) *emailWorld {
	t.Helper()
	env := apptest.New(t)
	srv := mailtest.NewServer(t, mailtest.Options{})
	m, err := mail.NewMailer(srv.URL(), "Pulso <no-reply@pulso.test>")
	if err != nil {
		t.Fatal(err)
	}
	m.Timeout = 10 * time.Second
	driver := riverpgxv5.New(nil)
	return &emailWorld{
		env: env, org: env.Org("Demo"), srv: srv,
		worker: rivertest.NewWorker(t, driver, &river.Config{}, river.Worker[jobargs.SendEmail](&workers.SendEmailWorker{Q: env.Q, Mailer: m, Links: env.Deps.Cfg.LinkKeys()})),
		outbox: rivertest.NewWorker(t, driver, &river.Config{}, river.Worker[jobargs.SendEmail](&workers.SendEmailWorker{Q: env.Q})),
	}
}

func (w *emailWorld) message(key, to string) mail.Message {
	return mail.Message{
		OrgID: w.org.ID, Key: key, To: to, ToName: "Ana", Locale: "es",
		Template: mail.Invite(emailview.Invite{Name: "Ana", OrgName: w.org.Name, InviterName: "Bea", Link: "http://localhost:8080/invite/" + key, Days: 7}),
	}
}

// enqueue runs EnqueueEmail in its own committed transaction, as a handler would.
func (w *emailWorld) enqueue(t *testing.T, msg mail.Message) queries.Email {
	t.Helper()
	var e queries.Email
	err := pgx.BeginFunc(context.Background(), w.env.DB, func(tx pgx.Tx) error {
		var err error
		e, err = mail.Enqueue(context.Background(), tx, w.env.Deps.Jobs, msg)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// job returns the send_email job of an e-mail, failing unless there is one.
func (w *emailWorld) job(t *testing.T, emailID int64) *rivertype.JobRow {
	t.Helper()
	ctx := context.Background()
	rows, err := w.env.DB.Query(ctx, `SELECT id FROM river_job WHERE kind = 'send_email' AND (args->>'email_id')::bigint = $1`, emailID)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Fatalf("e-mail %d has %d send_email jobs, want 1", emailID, len(ids))
	}
	job, err := w.env.Deps.Jobs.JobGet(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if job.Queue != jobargs.QueueEmail || job.MaxAttempts != 15 {
		t.Errorf("job on queue %q with %d attempts", job.Queue, job.MaxAttempts)
	}
	return job
}

// work runs one attempt of the job the way River would, in a transaction
// that is rolled back afterwards: the job row is as it was (so the next call
// is a retry), while the worker's own writes to emails are committed.
func work(t *testing.T, tw *rivertest.Worker[jobargs.SendEmail, pgx.Tx], env *apptest.Env, job *rivertype.JobRow) (*rivertest.WorkResult, error) {
	t.Helper()
	ctx := context.Background()
	tx, err := env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	return tw.WorkJob(ctx, t, tx, job)
}

func (w *emailWorld) get(t *testing.T, id int64) queries.Email {
	t.Helper()
	e, err := w.env.Q.GetEmail(context.Background(), queries.GetEmailParams{OrgID: w.org.ID, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSendEmailNeverTwice(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	e := w.enqueue(t, w.message("invite:1:a", "ana@empresa.es"))
	if e.Status != "queued" || e.SentAt != nil {
		t.Fatalf("new e-mail: status %s", e.Status)
	}
	job := w.job(t, e.ID)

	res, err := work(t, w.worker, w.env, job)
	if err != nil || res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("first attempt: %v, %v", res, err)
	}
	got := w.get(t, e.ID)
	if got.Status != "sent" || got.SentAt == nil || got.Error != "" {
		t.Fatalf("after sending: status %s, sent_at %v, error %q", got.Status, got.SentAt, got.Error)
	}

	// The job row was rolled back, as if the process had died after the
	// e-mails row was marked but before River recorded completion: the
	// retry must find the message sent and do nothing.
	res, err = work(t, w.worker, w.env, job)
	if err != nil || res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("retry: %v, %v", res, err)
	}
	msgs := w.srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want exactly 1", len(msgs))
	}
	p := mailtest.Parse(t, msgs[0].Data)
	if p.Header.Get("Message-ID") != mail.MessageID(w.org.ID, "invite:1:a", "pulso.test") {
		t.Errorf("Message-ID %q is not derived from the key", p.Header.Get("Message-ID"))
	}
	if !strings.Contains(p.Text, "http://localhost:8080/invite/invite:1:a") {
		t.Errorf("body:\n%s", p.Text)
	}
}

func TestEnqueueEmailSameKeyOnce(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	first := w.enqueue(t, w.message("invite:2:b", "ana@empresa.es"))
	second := w.enqueue(t, w.message("invite:2:b", "other@empresa.es"))
	if second.ID != first.ID || second.ToAddress != "ana@empresa.es" {
		t.Errorf("second enqueue returned e-mail %d to %s, want the first (%d)", second.ID, second.ToAddress, first.ID)
	}
	// And twice within one transaction.
	err := pgx.BeginFunc(context.Background(), w.env.DB, func(tx pgx.Tx) error {
		for range 2 {
			if _, err := mail.Enqueue(context.Background(), tx, w.env.Deps.Jobs, w.message("invite:2:c", "bea@empresa.es")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := w.env.Count(`SELECT count(*) FROM emails WHERE org_id = $1`, w.org.ID); n != 2 {
		t.Errorf("%d e-mail rows, want 2 (one per key)", n)
	}
	if n := w.env.Count(`SELECT count(*) FROM river_job WHERE kind = 'send_email'`); n != 2 {
		t.Errorf("%d send_email jobs, want 2 (one per key)", n)
	}
	w.job(t, first.ID)

	// Another org may use the same key: keys are per org.
	other := w.env.Org("Otra")
	msg := w.message("invite:2:b", "ana@otra.es")
	msg.OrgID = other.ID
	if e := w.enqueue(t, msg); e.ID == first.ID || e.OrgID != other.ID {
		t.Error("a key of one org blocked another org's message")
	}
}

func TestEnqueueEmailRollsBackWithTheChange(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	rollback := errors.New("the change failed")
	err := pgx.BeginFunc(context.Background(), w.env.DB, func(tx pgx.Tx) error {
		if _, err := mail.Enqueue(context.Background(), tx, w.env.Deps.Jobs, w.message("k", "ana@empresa.es")); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if n := w.env.Count(`SELECT count(*) FROM emails`) + w.env.Count(`SELECT count(*) FROM river_job`); n != 0 {
		t.Errorf("a rolled-back change left %d e-mail rows and jobs", n)
	}
}

func TestEnqueueEmailBadAddress(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	for i, to := range []string{"", "   ", "ana", "Ana <ana@empresa.es>", "ana@empresa.es\r\nBcc: x@evil.test", "ñ@empresa.es"} {
		err := pgx.BeginFunc(context.Background(), w.env.DB, func(tx pgx.Tx) error {
			_, err := mail.Enqueue(context.Background(), tx, w.env.Deps.Jobs, w.message("bad:"+strconv.Itoa(i), to))
			return err
		})
		if !errors.Is(err, mail.ErrInvalid) {
			t.Errorf("to %q: err = %v, want mail.ErrInvalid", to, err)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM emails`) + w.env.Count(`SELECT count(*) FROM river_job`); n != 0 {
		t.Errorf("invalid messages left %d rows and jobs", n)
	}
}

func TestSendEmailTransientRejectRetries(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	e := w.enqueue(t, w.message("k", "ana@empresa.es"))
	job := w.job(t, e.ID)

	w.srv.RejectRcpt(451, "try again later")
	res, err := work(t, w.worker, w.env, job)
	if err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("err = %v, want the server's 451", err)
	}
	// A retry due within seconds goes straight back to available.
	if res.EventKind != river.EventKindJobFailed || (res.Job.State != rivertype.JobStateRetryable && res.Job.State != rivertype.JobStateAvailable) {
		t.Errorf("event %s, state %s: want a retry", res.EventKind, res.Job.State)
	}
	got := w.get(t, e.ID)
	if got.Status != "queued" || got.SentAt != nil || !strings.Contains(got.Error, "451 try again later") || got.Attempts != 1 {
		t.Errorf("after a refused RCPT: status %s, sent_at %v, error %q, attempts %d", got.Status, got.SentAt, got.Error, got.Attempts)
	}
	if n := len(w.srv.Messages()); n != 0 {
		t.Fatalf("server stored %d messages", n)
	}

	// The server recovers; the retry delivers, once.
	w.srv.RejectRcpt(0, "")
	if _, err := work(t, w.worker, w.env, job); err != nil {
		t.Fatal(err)
	}
	if got := w.get(t, e.ID); got.Status != "sent" || got.Error != "" {
		t.Errorf("after the retry: status %s, error %q", got.Status, got.Error)
	}
	if n := len(w.srv.Messages()); n != 1 {
		t.Errorf("server received %d messages, want 1", n)
	}
}

func TestSendEmailPermanentRejectFails(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	e := w.enqueue(t, w.message("k", "nobody@empresa.es"))
	job := w.job(t, e.ID)
	w.srv.RejectRcpt(550, "no such user")
	res, err := work(t, w.worker, w.env, job)
	if err != nil || res.EventKind != river.EventKindJobCancelled {
		t.Fatalf("550: event %v, err %v; want the job cancelled (no retry can help)", res.EventKind, err)
	}
	if got := w.get(t, e.ID); got.Status != "failed" || got.SentAt != nil || !strings.Contains(got.Error, "550") {
		t.Errorf("status %s, error %q", got.Status, got.Error)
	}
	// Even if the server would now accept, a failed message stays failed.
	w.srv.RejectRcpt(0, "")
	if res, _ := work(t, w.worker, w.env, job); res.EventKind != river.EventKindJobCancelled || len(w.srv.Messages()) != 0 {
		t.Errorf("a failed e-mail was worked again: %s, %d messages", res.EventKind, len(w.srv.Messages()))
	}
}

func TestSendEmailLastAttemptFails(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	e := w.enqueue(t, w.message("k", "ana@empresa.es"))
	job := w.job(t, e.ID)
	job.Attempt = job.MaxAttempts - 1 // the next attempt is the last
	w.srv.RejectRcpt(421, "closing")
	res, err := work(t, w.worker, w.env, job)
	if err == nil || res.Job.State != rivertype.JobStateDiscarded {
		t.Fatalf("state %s, err %v: want the job discarded", res.Job.State, err)
	}
	if got := w.get(t, e.ID); got.Status != "failed" {
		t.Errorf("status %s after the last attempt, want failed", got.Status)
	}
}

func TestSendEmailOutbox(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	e := w.enqueue(t, w.message("k", "ana@empresa.es"))
	job := w.job(t, e.ID)
	for range 2 {
		if res, err := work(t, w.outbox, w.env, job); err != nil || res.EventKind != river.EventKindJobCompleted {
			t.Fatalf("%v, %v", res, err)
		}
	}
	got := w.get(t, e.ID)
	if got.Status != "outboxed" || got.SentAt == nil {
		t.Errorf("without SMTP: status %s, sent_at %v; want outboxed", got.Status, got.SentAt)
	}
	if n := len(w.srv.Messages()); n != 0 {
		t.Errorf("an outbox mailer talked to an SMTP server (%d messages)", n)
	}
	// Configuring SMTP later does not resend what the outbox kept.
	if _, err := work(t, w.worker, w.env, job); err != nil || len(w.srv.Messages()) != 0 {
		t.Errorf("an outboxed e-mail was sent later (%v)", err)
	}
}

func TestSendEmailRowGone(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	e := w.enqueue(t, w.message("k", "ana@empresa.es"))
	job := w.job(t, e.ID)
	if _, err := w.env.DB.Exec(context.Background(), `DELETE FROM emails WHERE id = $1`, e.ID); err != nil {
		t.Fatal(err)
	}
	if res, err := work(t, w.worker, w.env, job); err != nil || res.EventKind != river.EventKindJobCancelled {
		t.Errorf("event %v, err %v: want cancelled", res.EventKind, err)
	}
}

// PULSO_SMTP_REQUIRE_TLS against a server without STARTTLS: nothing leaves,
// and the message stays queued with the reason for the admin's outbox page,
// to go out once the server offers TLS.
func TestSendEmailRequireTLSKeepsTheMessage(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	m, err := mail.NewMailer(w.srv.URL(), "Pulso <no-reply@pulso.test>")
	if err != nil {
		t.Fatal(err)
	}
	m.Timeout, m.RequireTLS = 10*time.Second, true
	strict := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, river.Worker[jobargs.SendEmail](&workers.SendEmailWorker{Q: w.env.Q, Mailer: m}))
	e := w.enqueue(t, w.message("k", "ana@empresa.es"))
	job := w.job(t, e.ID)
	res, err := work(t, strict, w.env, job)
	if err == nil || res.EventKind != river.EventKindJobFailed {
		t.Fatalf("event %v, err %v: want a failed attempt to retry", res.EventKind, err)
	}
	if got := w.get(t, e.ID); got.Status != "queued" || got.SentAt != nil || !strings.Contains(got.Error, "does not offer STARTTLS") {
		t.Errorf("status %s, sent_at %v, error %q", got.Status, got.SentAt, got.Error)
	}
	if n := len(w.srv.Messages()); n != 0 {
		t.Errorf("server received %d messages in the clear", n)
	}
}
