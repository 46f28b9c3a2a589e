package demo

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/invoices/sends"
	"pulso/app/linktoken"
	"pulso/queries"
)

// demoSendDelay is how long after seeding the demo's scheduled invoice send
// goes: long enough to sign in after `make run`, short enough to watch it
// happen live ("enviada" on the rep's and manager's screens).
const demoSendDelay = 2 * time.Minute

// seedInvoiceSends schedules, in a Spanish org that has sent nothing yet,
// the send of its first issued invoice whose customer has an address, two
// minutes from now, as a rep would from the invoice's page.
func seedInvoiceSends(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], keys linktoken.Keys, org queries.Org, log *slog.Logger) error {
	if org.Country != "ES" {
		return nil
	}
	var sent bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM invoice_sends WHERE org_id = $1)`, org.ID).Scan(&sent); err != nil || sent {
		return err
	}
	var invoiceID int64
	var owner *int64
	err := tx.QueryRow(ctx, `SELECT i.id, c.owner_id FROM invoices i JOIN customers c ON c.org_id = i.org_id AND c.id = i.customer_id
		WHERE i.org_id = $1 AND i.state = 'issued' AND c.email <> '' ORDER BY i.id LIMIT 1`, org.ID).Scan(&invoiceID, &owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	now := time.Now()
	at := now.Add(demoSendDelay).Truncate(time.Minute).Add(time.Minute)
	s := sends.Sender{Jobs: jobs, Links: keys}
	if _, err := s.Schedule(ctx, tx, sends.Input{OrgID: org.ID, InvoiceID: invoiceID, By: owner, Now: now}, at); err != nil {
		return err
	}
	log.Info("seeded scheduled invoice send", "org", org.Name, "at", at)
	return nil
}
