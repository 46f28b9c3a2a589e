// Package sends sends issued invoices to customers: now, at a minute chosen
// in the org's time zone, or again later. Each send is one e-mail with the
// invoice's PDF as issued and a client link (/i/{token}) whose visits are
// recorded. A scheduled send waits as a row; the invoice_send job (and the
// sweep under it, workers/invoice_send.go) calls Due at its minute, and
// Due goes by what the row says then, under its lock: a send changed or
// cancelled before its minute is honoured, and two workers send it once.
//
// Functions that change anything take the caller's transaction and publish
// invoices.Announce events: run them inside live.BeginFunc.
package sends

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/invoices"
	"pulso/app/linktoken"
	"pulso/app/mail"
	"pulso/app/money"
	"pulso/queries"
	emailview "pulso/views/email"
	"pulso/views/i18n"
	"pulso/workers/jobargs"
)

// States of a send (invoice_sends.state).
const (
	Scheduled = "scheduled"
	Sent      = "sent"
	Cancelled = "cancelled"
	Failed    = "failed"
)

// EventCancelled is published when a scheduled send is cancelled: open
// pages refresh, nobody is told (nothing happened to the customer).
const EventCancelled = "send_cancelled"

// TokenLen is the length of an invoice link's token: 128 bits of base64url.
const TokenLen = 22

// FailureVoided is why a scheduled send did not go: its invoice was
// voided before the minute came.
const FailureVoided = "invoice_voided"

// Sender sends invoices. Its zero value cannot: every field is required.
type Sender struct {
	Jobs *river.Client[pgx.Tx]
	// Links derives the client link's token (config.LinkKeys): the row keeps
	// only its digest and nonce.
	Links linktoken.Keys
	// BaseURL is PULSO_BASE_URL, for the link in the e-mail.
	BaseURL string
}

// ClientURL is the address a customer opens a send's link at.
func ClientURL(base, token string) string { return strings.TrimRight(base, "/") + "/i/" + token }

// Input is a send: which invoice, to whom (empty To: the customer's
// address on file), by whom.
type Input struct {
	OrgID, InvoiceID int64
	To, ToName       string
	By               *int64
	Now              time.Time
}

// SendNow sends an issued invoice (or proforma) at once to its customer's
// address on file, by by (nil: the system, as a recurring template does).
// It is what another area calls right after issuing, in the same tx:
//
//	inv, err := invoices.Issue(ctx, tx, ...)
//	_, err = sender.SendNow(ctx, tx, inv.OrgID, inv.ID, by, now)
//
// A customer without a valid address is an invoices.Invalid on "to".
func (s Sender) SendNow(ctx context.Context, tx pgx.Tx, orgID, invoiceID int64, by *int64, now time.Time) (queries.InvoiceSend, error) {
	return s.Send(ctx, tx, Input{OrgID: orgID, InvoiceID: invoiceID, By: by, Now: now})
}

// Send sends an issued invoice at once to in.To: the e-mail (queued in tx)
// with the PDF and the link, the send row marked sent, EventSent.
func (s Sender) Send(ctx context.Context, tx pgx.Tx, in Input) (queries.InvoiceSend, error) {
	q := queries.New(tx)
	inv, err := sendable(ctx, q, in.OrgID, in.InvoiceID)
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	if err := recipient(ctx, q, &in); err != nil {
		return queries.InvoiceSend{}, err
	}
	row, err := create(ctx, q, inv, in, in.Now)
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	return s.deliver(ctx, tx, inv, row, in.Now)
}

// Resend sends an invoice again to the address of one of its earlier sends
// that went out: any time, as long as the invoice is issued.
func (s Sender) Resend(ctx context.Context, tx pgx.Tx, orgID, sendID int64, by *int64, now time.Time) (queries.InvoiceSend, error) {
	q := queries.New(tx)
	prev, err := q.GetInvoiceSend(ctx, queries.GetInvoiceSendParams{OrgID: orgID, ID: sendID})
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	if prev.State != Sent {
		return queries.InvoiceSend{}, invoices.Invalid{"send": {ID: "invoices.sends.not_sent"}}
	}
	return s.Send(ctx, tx, Input{OrgID: orgID, InvoiceID: prev.InvoiceID, To: prev.ToAddress, ToName: prev.ToName, By: by, Now: now})
}

// Schedule sends an issued invoice at `at` (any zone; forms read it in the
// org's, see ParseAt): the row waits as scheduled and an invoice_send job
// is inserted in tx to run at that minute. EventScheduled.
func (s Sender) Schedule(ctx context.Context, tx pgx.Tx, in Input, at time.Time) (queries.InvoiceSend, error) {
	q := queries.New(tx)
	inv, err := sendable(ctx, q, in.OrgID, in.InvoiceID)
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	bad := invoices.Invalid{}
	if err := recipient(ctx, q, &in); err != nil {
		var inv invoices.Invalid
		if !errors.As(err, &inv) {
			return queries.InvoiceSend{}, err
		}
		bad = inv
	}
	if !at.After(in.Now) {
		bad["at"] = invoices.Problem{ID: "invoices.sends.at_past"}
	}
	if len(bad) > 0 {
		return queries.InvoiceSend{}, bad
	}
	row, err := create(ctx, q, inv, in, at)
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	if err := s.enqueue(ctx, tx, row); err != nil {
		return queries.InvoiceSend{}, err
	}
	return row, invoices.Announce(ctx, q, inv, invoices.EventScheduled)
}

// Reschedule changes a scheduled send's minute and address while it still
// waits (under its lock, so it cannot cross the job); an empty address is
// the customer's, as for a new send. The job already
// inserted for the old minute finds the row not due and does nothing; a
// new one is inserted for the new minute. A send that already ran is an
// invoices.Invalid on "send".
func (s Sender) Reschedule(ctx context.Context, tx pgx.Tx, orgID, sendID int64, to, toName string, at time.Time, by *int64, now time.Time) (queries.InvoiceSend, error) {
	q := queries.New(tx)
	row, err := q.LockInvoiceSend(ctx, queries.LockInvoiceSendParams{OrgID: orgID, ID: sendID})
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	if row.State != Scheduled {
		return queries.InvoiceSend{}, invoices.Invalid{"send": {ID: "invoices.sends.already_ran"}}
	}
	// Without a name given, the e-mail greets whom it greeted while the
	// address stays, and the customer (as a new send does) when it moves
	// to another: the old recipient's name must not greet someone else.
	in := Input{OrgID: orgID, InvoiceID: row.InvoiceID, To: to, ToName: toName}
	if strings.TrimSpace(toName) == "" && strings.EqualFold(strings.TrimSpace(to), row.ToAddress) {
		in.ToName = row.ToName
	}
	bad := invoices.Invalid{}
	if err := recipient(ctx, q, &in); err != nil {
		if !errors.As(err, &bad) {
			return queries.InvoiceSend{}, err
		}
	}
	if !at.After(now) {
		bad["at"] = invoices.Problem{ID: "invoices.sends.at_past"}
	}
	if len(bad) > 0 {
		return queries.InvoiceSend{}, bad
	}
	if row, err = q.RescheduleInvoiceSend(ctx, queries.RescheduleInvoiceSendParams{OrgID: orgID, ID: sendID, ScheduledAt: at.UTC(),
		ToAddress: in.To, ToName: in.ToName, UpdatedBy: by}); err != nil {
		return queries.InvoiceSend{}, err
	}
	if err := s.enqueue(ctx, tx, row); err != nil {
		return queries.InvoiceSend{}, err
	}
	inv, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: orgID, ID: row.InvoiceID})
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	return row, invoices.Announce(ctx, q, inv, invoices.EventScheduled)
}

// Cancel cancels a scheduled send while it still waits; after it ran it is
// an invoices.Invalid on "send" (the e-mail is out: nothing to cancel).
func Cancel(ctx context.Context, tx pgx.Tx, orgID, sendID int64, by *int64) (queries.InvoiceSend, error) {
	q := queries.New(tx)
	row, err := q.LockInvoiceSend(ctx, queries.LockInvoiceSendParams{OrgID: orgID, ID: sendID})
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	if row.State != Scheduled {
		return queries.InvoiceSend{}, invoices.Invalid{"send": {ID: "invoices.sends.already_ran"}}
	}
	if row, err = q.CancelInvoiceSend(ctx, queries.CancelInvoiceSendParams{OrgID: orgID, ID: sendID, CancelledBy: by}); err != nil {
		return queries.InvoiceSend{}, err
	}
	inv, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: orgID, ID: row.InvoiceID})
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	return row, invoices.Announce(ctx, q, inv, EventCancelled)
}

// Due sends a scheduled send if its minute has come by now, going by the
// row as it is under its lock: cancelled, already sent or moved later, it
// does nothing (false). An invoice voided since it was scheduled is not
// sent: the row is marked failed, saying why. This is the job's work and
// the sweep's; two of them racing on one row send it once.
func (s Sender) Due(ctx context.Context, tx pgx.Tx, orgID, sendID int64, now time.Time) (bool, error) {
	q := queries.New(tx)
	row, err := q.LockInvoiceSend(ctx, queries.LockInvoiceSendParams{OrgID: orgID, ID: sendID})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if row.State != Scheduled || row.ScheduledAt.After(now) {
		return false, nil
	}
	inv, err := q.LockInvoice(ctx, queries.LockInvoiceParams{OrgID: orgID, ID: row.InvoiceID})
	if err != nil {
		return false, err
	}
	if inv.State != invoices.Issued {
		_, err := q.FailInvoiceSend(ctx, queries.FailInvoiceSendParams{OrgID: orgID, ID: sendID, Failure: FailureVoided})
		return false, err
	}
	_, err = s.deliver(ctx, tx, inv, row, now)
	return err == nil, err
}

// sendable is the invoice, if it may be sent: issued (proformas included,
// which are issued unnumbered). Drafts and voided invoices are an
// invoices.Invalid on "invoice". The row is locked so a void cannot cross
// the send.
func sendable(ctx context.Context, q *queries.Queries, orgID, invoiceID int64) (queries.Invoice, error) {
	inv, err := q.LockInvoice(ctx, queries.LockInvoiceParams{OrgID: orgID, ID: invoiceID})
	if err != nil {
		return inv, err
	}
	switch inv.State {
	case invoices.Draft:
		return inv, invoices.Invalid{"invoice": {ID: "invoices.sends.draft"}}
	case invoices.Voided:
		return inv, invoices.Invalid{"invoice": {ID: "invoices.sends.voided"}}
	}
	return inv, nil
}

// recipient fills in.To from the customer's address when empty, and the
// name the e-mail greets from the customer's when none is given, and
// checks the address.
func recipient(ctx context.Context, q *queries.Queries, in *Input) error {
	in.To = strings.TrimSpace(in.To)
	in.ToName = strings.TrimSpace(in.ToName)
	if in.To == "" || in.ToName == "" {
		r, err := q.InvoiceRecipient(ctx, queries.InvoiceRecipientParams{OrgID: in.OrgID, InvoiceID: in.InvoiceID})
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if in.To == "" {
			in.To = strings.TrimSpace(r.Email)
		}
		if in.ToName == "" {
			in.ToName = r.LegalName
		}
	}
	if in.To == "" {
		return invoices.Invalid{"to": {ID: "invoices.sends.to_required"}}
	}
	if mail.ValidAddress(in.To) != nil {
		return invoices.Invalid{"to": {ID: "invoices.sends.to_invalid"}}
	}
	in.ToName = clip(in.ToName, 200)
	return nil
}

// create writes the send row, waiting for its minute.
func create(ctx context.Context, q *queries.Queries, inv queries.Invoice, in Input, at time.Time) (queries.InvoiceSend, error) {
	var pt invoices.Parties
	if err := json.Unmarshal(inv.Parties, &pt); err != nil {
		return queries.InvoiceSend{}, err
	}
	resend, err := wentOut(ctx, q, inv, 0)
	if err != nil {
		return queries.InvoiceSend{}, err
	}
	return q.CreateInvoiceSend(ctx, queries.CreateInvoiceSendParams{OrgID: inv.OrgID, InvoiceID: inv.ID, ToAddress: in.To, ToName: in.ToName,
		ScheduledAt: at.UTC(), Resend: resend, Locale: i18n.Normalize(pt.Locale), CreatedBy: in.By})
}

// enqueue inserts the job that runs the send at its minute. Unique by its
// args (the minute included): a rescheduled send gets a job of its own.
func (s Sender) enqueue(ctx context.Context, tx pgx.Tx, row queries.InvoiceSend) error {
	_, err := s.Jobs.InsertTx(ctx, tx, jobargs.InvoiceSend{OrgID: row.OrgID, SendID: row.ID, At: row.ScheduledAt},
		&river.InsertOpts{ScheduledAt: row.ScheduledAt})
	return err
}

// wentOut says whether the invoice has gone out by a send other than
// except: a send going out then is a resend, which its subject says.
func wentOut(ctx context.Context, q *queries.Queries, inv queries.Invoice, except int64) (bool, error) {
	prior, err := q.ListInvoiceSends(ctx, queries.ListInvoiceSendsParams{OrgID: inv.OrgID, InvoiceID: inv.ID})
	for _, p := range prior {
		if p.ID != except && p.State == Sent {
			return true, err
		}
	}
	return false, err
}

// deliver sends row now: a new link, the e-mail with the issued PDF
// (queued in tx, once per send), the row marked sent, EventSent. Whether
// it is a resend is decided now: a send scheduled before the invoice first
// went out by another may go out after it.
func (s Sender) deliver(ctx context.Context, tx pgx.Tx, inv queries.Invoice, row queries.InvoiceSend, now time.Time) (queries.InvoiceSend, error) {
	q := queries.New(tx)
	resend, err := wentOut(ctx, q, inv, row.ID)
	if err != nil {
		return row, err
	}
	token, err := s.Links.Mint(linktoken.Invoice)
	if err != nil {
		return row, err
	}
	pdf, name, err := invoices.PDF(ctx, q, inv.OrgID, inv.ID)
	if err != nil {
		return row, err
	}
	org, err := q.GetOrgForInvoicing(ctx, inv.OrgID)
	if err != nil {
		return row, err
	}
	e, err := mail.Enqueue(ctx, tx, s.Jobs, mail.Message{OrgID: inv.OrgID, Key: fmt.Sprintf("invoice-send:%d", row.ID),
		To: row.ToAddress, ToName: row.ToName, Locale: row.Locale,
		Template: mail.InvoiceSent(emailview.Invoice{Number: Number(inv, row.Locale), Org: org.Name, Customer: row.ToName,
			Total: money.Format(inv.Total, inv.Currency), IssueDate: inv.IssueDate.Time.Format("02/01/2006"),
			Link: ClientURL(s.BaseURL, token.Token), Proforma: inv.Kind == string(invoices.Proforma), Resend: resend}),
		Link: &mail.SecretLink{Token: token.Token, Purpose: linktoken.Invoice, Nonce: token.Nonce}})
	if err != nil {
		return row, err
	}
	if err := q.CreateEmailAttachment(ctx, queries.CreateEmailAttachmentParams{OrgID: inv.OrgID, EmailID: e.ID,
		Filename: name, ContentType: "application/pdf", Content: pdf}); err != nil {
		return row, err
	}
	if row, err = q.MarkInvoiceSendSent(ctx, queries.MarkInvoiceSendSentParams{OrgID: inv.OrgID, ID: row.ID, SentAt: &now,
		EmailID: &e.ID, TokenHash: token.Hash, TokenNonce: token.Nonce, Resend: resend}); err != nil {
		return row, err
	}
	return row, invoices.Announce(ctx, q, inv, invoices.EventSent)
}

// Number is how people name an invoice: its full number, or for a
// proforma (never numbered) its reference as its PDF prints it ("Ref. 12").
func Number(inv queries.Invoice, locale string) string {
	if inv.FullNumber != nil {
		return *inv.FullNumber
	}
	return i18n.In(locale, "invoices.pdf.proforma_ref", map[string]any{"ID": inv.ID})
}

// ParseAt reads a form's date (2006-01-02) and time (15:04) in the org's
// zone loc. Either missing or malformed is an invoices.Invalid on "at".
func ParseAt(date, clock string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02 15:04", strings.TrimSpace(date)+" "+strings.TrimSpace(clock), loc)
	if err != nil {
		return time.Time{}, invoices.Invalid{"at": {ID: "invoices.sends.at_invalid"}}
	}
	return t, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
