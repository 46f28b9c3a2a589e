package sends

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/app/linktoken"
	"pulso/queries"
)

// Client is who is at the other end of a link, for the audit trail.
type Client = linktoken.Visitor

// Resolve finds the send a client link's token names (pgx.ErrNoRows for a
// wrong one). Only the token's digest is looked up; a malformed token is
// hashed and looked up all the same, so it costs what a wrong one does.
func Resolve(ctx context.Context, q *queries.Queries, token string) (queries.FindInvoiceLinkRow, error) {
	if len(token) != TokenLen {
		token = strings.Repeat("-", TokenLen)
	}
	return q.FindInvoiceLink(ctx, linktoken.Hash(token))
}

// RecordOpen records a visit to a send's link: once per send, client
// address and hour (reloads are not news), and each recorded visit is
// announced (EventOpened) to the invoice's owner and their managers. It
// reports whether this visit was recorded.
func RecordOpen(ctx context.Context, tx pgx.Tx, l queries.FindInvoiceLinkRow, c Client, now time.Time) (bool, error) {
	q := queries.New(tx)
	// First: the send's row lock makes concurrent opens take turns, so the
	// hourly check sees the open committed just before.
	if _, err := q.LockInvoiceSend(ctx, queries.LockInvoiceSendParams{OrgID: l.OrgID, ID: l.ID}); err != nil {
		return false, err
	}
	n, err := q.InsertInvoiceOpen(ctx, queries.InsertInvoiceOpenParams{OrgID: l.OrgID, InvoiceID: l.InvoiceID, SendID: l.ID,
		IP: c.IPOrNil(), UserAgent: c.Agent()})
	if err != nil || n == 0 {
		return false, err
	}
	if _, err := q.MarkInvoiceSendOpened(ctx, queries.MarkInvoiceSendOpenedParams{OrgID: l.OrgID, ID: l.ID, At: &now}); err != nil {
		return false, err
	}
	inv, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: l.OrgID, ID: l.InvoiceID})
	if err != nil {
		return false, err
	}
	return true, invoices.Announce(ctx, q, inv, invoices.EventOpened)
}
