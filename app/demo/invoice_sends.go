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
// the send of its newest issued invoice whose customer has an address, two
// minutes from now, as a rep would from the invoice's page.
func seedInvoiceSends(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], keys linktoken.Keys, org queries.Org, log *slog.Logger) error {
	if org.Country != "ES" {
		return nil
	}
	row, err := queries.New(tx).DemoInvoiceToSend(ctx, org.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // sent already, or nothing to send
	}
	if err != nil {
		return err
	}
	now := time.Now()
	at := now.Add(demoSendDelay).Truncate(time.Minute).Add(time.Minute)
	s := sends.Sender{Jobs: jobs, Links: keys}
	if _, err := s.Schedule(ctx, tx, sends.Input{OrgID: org.ID, InvoiceID: row.ID, By: row.OwnerID, Now: now}, at); err != nil {
		return err
	}
	log.Info("seeded scheduled invoice send", "org", org.Name, "at", at)
	return nil
}
