package workers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/linktoken"
	"pulso/app/mail"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// SendEmailWorker works jobargs.SendEmail.
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
	river.WorkerDefaults[jobargs.SendEmail]
	Q *queries.Queries
	// Mailer is nil or without SMTP in development: messages are then kept
	// for /admin/outbox.
	Mailer *mail.Mailer
	// Links puts back the secret link a stored e-mail keeps redacted.
	Links linktoken.Keys
}

// Timeout bounds an attempt; the Mailer's own timeout covers the SMTP
// conversation, this adds room for the database.
func (w *SendEmailWorker) Timeout(*river.Job[jobargs.SendEmail]) time.Duration {
	return 2 * time.Minute
}

func (w *SendEmailWorker) Work(ctx context.Context, job *river.Job[jobargs.SendEmail]) error {
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

	// The link goes into the message here, on its way out; the row keeps
	// it redacted. Without the secret this node cannot send it: a retry
	// may land on a node configured right.
	if e, err = mail.Reveal(e, w.Links); err != nil {
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
