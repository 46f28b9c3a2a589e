package workers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/mail"
	"pulso/queries"
	"pulso/views/i18n"
)

// SendEmailArgs delivers one row of the emails table, written with
// EnqueueEmail in the transaction that asked for the message.
type SendEmailArgs struct {
	OrgID   int64 `json:"org_id"`
	EmailID int64 `json:"email_id"`
}

func (SendEmailArgs) Kind() string { return "send_email" }

// emailMaxAttempts: River's backoff (attempt⁴ seconds) spreads 15 attempts
// over about two days, enough to ride out a mail server outage while an
// invite link (7 days) is still worth receiving.
const emailMaxAttempts = 15

func (SendEmailArgs) InsertOpts() river.InsertOpts {
	// One job per e-mail row; the row's own key (UNIQUE (org_id, key)) is
	// what stops a repeated request from creating a second message.
	return river.InsertOpts{Queue: QueueEmail, MaxAttempts: emailMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// EnqueueEmail renders msg in its recipient's locale, stores it and inserts
// its send_email job, all in the caller's transaction: if the change that
// asked for the e-mail rolls back, no e-mail exists. Enqueueing a key the
// org already has returns the existing row and enqueues nothing.
func EnqueueEmail(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], msg mail.Message) (queries.Email, error) {
	if err := msg.Validate(); err != nil {
		return queries.Email{}, err
	}
	r, err := msg.Render(ctx)
	if err != nil {
		return queries.Email{}, err
	}
	q := queries.New(tx)
	e, err := q.CreateEmail(ctx, queries.CreateEmailParams{
		OrgID: msg.OrgID, Key: msg.Key, ToAddress: msg.To, ToName: msg.ToName,
		Subject: r.Subject, TextBody: r.Text, HtmlBody: r.HTML, Template: msg.Name, Locale: i18n.Normalize(msg.Locale),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return q.GetEmailByKey(ctx, queries.GetEmailByKeyParams{OrgID: msg.OrgID, Key: msg.Key})
	}
	if err != nil {
		return queries.Email{}, err
	}
	if _, err := jobs.InsertTx(ctx, tx, SendEmailArgs{OrgID: e.OrgID, EmailID: e.ID}, nil); err != nil {
		return queries.Email{}, err
	}
	return e, nil
}

// SendEmailWorker works SendEmailArgs.
//
// A retry never sends twice: the row's status is read first, and a message
// already sent (or outboxed) is done. The status is set right after the
// server accepts the data, which leaves one window: a crash (or a lost
// database) between the server's 250 and our UPDATE. We then send again on
// retry: at-least-once, because a lost invite is worse than a duplicate,
// and the copy carries the same Message-ID (derived from the key), which
// receiving systems use to drop duplicates. Closing the window would need
// the SMTP server to take part in our transaction, which it cannot.
//
// Two attempts of one job never overlap: River runs a job on one worker at
// a time, and Timeout is far below its stuck-job rescue interval.
type SendEmailWorker struct {
	river.WorkerDefaults[SendEmailArgs]
	Q *queries.Queries
	// Mailer is nil or without SMTP in development: messages are then kept
	// for /admin/outbox.
	Mailer *mail.Mailer
}

// Timeout bounds an attempt; the Mailer's own timeout covers the SMTP
// conversation, this adds room for the database.
func (w *SendEmailWorker) Timeout(*river.Job[SendEmailArgs]) time.Duration { return 2 * time.Minute }

func (w *SendEmailWorker) Work(ctx context.Context, job *river.Job[SendEmailArgs]) error {
	a := job.Args
	e, err := w.Q.GetEmail(ctx, queries.GetEmailParams{OrgID: a.OrgID, ID: a.EmailID})
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(errors.New("e-mail no longer exists"))
	}
	if err != nil {
		return err
	}
	switch e.Status {
	case "sent", "outboxed":
		return nil // delivered by an earlier attempt
	case "failed":
		return river.JobCancel(errors.New("e-mail already marked failed"))
	}

	if w.Mailer.Outbox() {
		_, err := w.Q.MarkEmailDelivered(ctx, queries.MarkEmailDeliveredParams{OrgID: e.OrgID, ID: e.ID, Status: "outboxed"})
		return err
	}

	rows, err := w.Q.ListEmailAttachments(ctx, queries.ListEmailAttachmentsParams{OrgID: e.OrgID, EmailID: e.ID})
	if err != nil {
		return err
	}
	atts := make([]mail.Attachment, len(rows))
	for i, a := range rows {
		atts[i] = mail.Attachment{Filename: a.Filename, ContentType: a.ContentType, Content: a.Content}
	}
	if err := w.Mailer.Deliver(ctx, e, atts...); err != nil {
		permanent := mail.Permanent(err)
		final := permanent || job.Attempt >= job.MaxAttempts
		// Recorded even when the job was cancelled mid-conversation, so the
		// admin sees why the message has not left.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if rerr := w.Q.RecordEmailAttempt(rctx, queries.RecordEmailAttemptParams{
			OrgID: e.OrgID, ID: e.ID, Error: truncate(err.Error(), 1000), Final: final,
		}); rerr != nil {
			return errors.Join(err, rerr)
		}
		if permanent {
			return river.JobCancel(err)
		}
		return err
	}

	// The server has the message. Record it even if the job's context ends
	// now (shutdown): every failure here is a duplicate on retry.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := w.Q.MarkEmailDelivered(mctx, queries.MarkEmailDeliveredParams{OrgID: e.OrgID, ID: e.ID, Status: "sent"}); err != nil {
		return fmt.Errorf("e-mail sent but not recorded (a retry resends it): %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n]
}
