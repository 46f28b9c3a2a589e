package mail

import (
	"context"
	"errors"
	"pulso/queries"
	"pulso/views/i18n"
	"pulso/workers/jobargs"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Enqueue renders msg in its recipient's locale, stores it and inserts
// its send_email job, all in the caller's transaction: if the change that
// asked for the e-mail rolls back, no e-mail exists. Enqueueing a key the
// org already has returns the existing row and enqueues nothing.
func Enqueue(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], msg Message) (queries.Email, error) {
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
	if _, err := jobs.InsertTx(ctx, tx, jobargs.SendEmail{OrgID: e.OrgID, EmailID: e.ID}, nil); err != nil {
		return queries.Email{}, err
	}
	return e, nil
}
