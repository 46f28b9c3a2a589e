package invoices

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/ident"
	"pulso/queries"
)

// VoidInput names an invoice issued in error and why it is voided.
type VoidInput struct {
	OrgID, InvoiceID int64
	UserID           *int64
	Reason           string
	Now              time.Time
	// Jobs queues the sending of the RegistroAnulacion (see IssueInput.Jobs).
	Jobs *river.Client[pgx.Tx]
}

// Void marks an issued invoice as issued in error (state voided, with who,
// when and why; nothing else changes, and its number stays taken) and lets
// the delivery notes and order it billed be billed again. A mistake in an
// invoice is corrected with a corrective, not a void, so an invoice a
// corrective already corrects cannot be voided. A Spanish fiscal invoice's
// RegistroAnulacion is written in the same transaction, and EventVoided
// announced (so it runs inside live.BeginFunc).
func Void(ctx context.Context, tx pgx.Tx, in VoidInput) (queries.Invoice, error) {
	q := queries.New(tx)
	reason := strings.TrimSpace(in.Reason)
	switch {
	case reason == "":
		return queries.Invoice{}, Invalid{"reason": {ID: "invoices.void_reason_required"}}
	case len(reason) > 500 || !ident.CleanText(reason):
		return queries.Invoice{}, Invalid{"reason": {ID: "validation.text"}}
	}
	inv, err := q.LockInvoice(ctx, queries.LockInvoiceParams{OrgID: in.OrgID, ID: in.InvoiceID})
	if err != nil {
		return inv, err
	}
	if inv.State != Issued {
		return inv, ErrNotIssued
	}
	n, err := q.IssuedCorrectionsOf(ctx, queries.IssuedCorrectionsOfParams{OrgID: in.OrgID, CorrectedID: inv.ID})
	if err != nil {
		return inv, err
	}
	if n > 0 {
		return inv, Invalid{"reason": {ID: "invoices.void_corrected"}}
	}
	inv, err = q.VoidInvoice(ctx, queries.VoidInvoiceParams{OrgID: in.OrgID, ID: inv.ID, VoidedAt: &in.Now, VoidedBy: in.UserID, VoidReason: reason})
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, ErrNotIssued
	}
	if err != nil {
		return inv, err
	}
	if err := q.ReleaseDeliveryNotes(ctx, queries.ReleaseDeliveryNotesParams{OrgID: in.OrgID, InvoiceID: inv.ID, ReleasedAt: &in.Now}); err != nil {
		return inv, err
	}
	org, err := q.GetOrgForInvoicing(ctx, in.OrgID)
	if err != nil {
		return inv, err
	}
	if org.Country == "ES" && Kind(inv.Kind) != Proforma {
		if err := writeRegistroAnulacion(ctx, tx, in.Jobs, inv, in.Now); err != nil {
			return inv, err
		}
	}
	return inv, Announce(ctx, q, inv, EventVoided)
}
