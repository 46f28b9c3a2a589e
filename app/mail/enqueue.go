package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"pulso/app/linktoken"
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
//
// A message's secret link is stored redacted (see SecretLink); a template
// that did not print the token is refused, as its e-mail would arrive
// without the link.
func Enqueue(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], msg Message) (queries.Email, error) {
	if err := msg.Validate(); err != nil {
		return queries.Email{}, err
	}
	r, err := msg.Render(ctx)
	if err != nil {
		return queries.Email{}, err
	}
	params := queries.CreateEmailParams{
		OrgID: msg.OrgID, Key: msg.Key, ToAddress: msg.To, ToName: msg.ToName,
		Subject: r.Subject, TextBody: r.Text, HtmlBody: r.HTML, Template: msg.Name, Locale: i18n.Normalize(msg.Locale),
	}
	if l := msg.Link; l != nil {
		if !strings.Contains(r.Text, l.Token) {
			return queries.Email{}, fmt.Errorf("%w: template %s does not print its link", ErrInvalid, msg.Name)
		}
		purpose := string(l.Purpose)
		params.LinkPurpose, params.LinkNonce = &purpose, l.Nonce
		params.Subject = strings.ReplaceAll(params.Subject, l.Token, Redacted)
		params.TextBody = strings.ReplaceAll(params.TextBody, l.Token, Redacted)
		params.HtmlBody = strings.ReplaceAll(params.HtmlBody, l.Token, Redacted)
	}
	q := queries.New(tx)
	e, err := q.CreateEmail(ctx, params)
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

// Reveal returns e with its secret link's token back where Enqueue put
// Redacted, derived again under keys; an e-mail without one comes back as
// it is. Only what leaves the app (the SMTP conversation, the outbox's
// view of a message it keeps instead of sending) is revealed: the row
// stays redacted.
func Reveal(e queries.Email, keys linktoken.Keys) (queries.Email, error) {
	if e.LinkPurpose == nil {
		return e, nil
	}
	token, err := keys.Token(linktoken.Purpose(*e.LinkPurpose), e.LinkNonce)
	if err != nil {
		return e, fmt.Errorf("e-mail %d: %w", e.ID, err)
	}
	e.Subject = strings.ReplaceAll(e.Subject, Redacted, token)
	e.TextBody = strings.ReplaceAll(e.TextBody, Redacted, token)
	e.HtmlBody = strings.ReplaceAll(e.HtmlBody, Redacted, token)
	return e, nil
}
