package web

import (
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/checkout"
	"pulso/app/config"
	"pulso/app/inbound/senderauth"
	"pulso/queries"
)

// Deps is what handlers are built from. Areas reach Postgres through Q (or
// DB for transactions) and enqueue follow-up work with Jobs.InsertTx.
type Deps struct {
	Cfg  config.Config
	DB   *pgxpool.Pool
	Q    *queries.Queries
	Jobs *river.Client[pgx.Tx]
	Log  *slog.Logger
	// Sessions caches signed-in principals; app.New makes one when nil.
	Sessions *SessionCache
	// DNS answers the sender checks (SPF, DKIM, DMARC) of inbound e-mail;
	// nil is senderauth.System. Tests give a fixed zone: no network.
	DNS senderauth.Resolver
	// Payments is the provider plan upgrades are paid through; app.New
	// makes a checkout.Client from PULSO_PAYMENTS_URL when nil. Still nil:
	// upgrades are not offered for payment.
	Payments checkout.Provider
	// PaymentsWebhookSecret verifies the provider's webhooks; app.New takes
	// PULSO_PAYMENTS_WEBHOOK_SECRET when empty.
	PaymentsWebhookSecret []byte
}
