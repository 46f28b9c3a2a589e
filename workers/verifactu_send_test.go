package workers_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/sealed"
	"pulso/app/verifactu"
	"pulso/app/verifactu/aeat"
	"pulso/app/verifactu/aeattest"
	"pulso/app/verifactu/sending"
	"pulso/app/web"
	"pulso/queries"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// Issuing and voiding queue one send job per chain in their transaction;
// the job sends the chain's records to the AEAT (the fake, over TLS with
// the org's certificate) and they come back accepted; the sweep finds
// nothing more to do.
func TestIssuingQueuesTheVerifactuSend(t *testing.T) {
	ctx := context.Background()
	env := apptest.New(t)
	org := env.Org("Demo Ventas S.L.")
	env.Exec(`UPDATE orgs SET tax_id = 'B76543214', address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, org.ID)
	user := env.User(org, "admin@demo.test", web.RoleAdmin)
	srv := aeattest.New(t, aeattest.Options{Validate: true})
	keys, err := sealed.New(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	certs := sending.Certificates{Keys: keys}
	if err := live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := certs.Save(ctx, tx, org.ID, srv.ClientCA.ClientPKCS12(t, aeattest.Client{}, "x"), "x", &user.ID, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cu, err := env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: org.ID, LegalName: "Cliente Uno S.A.", Country: "ES", OwnerID: &user.ID, Tags: []string{}, TaxID: "A58818501"})
	if err != nil {
		t.Fatal(err)
	}
	var rate int64
	if err := env.DB.QueryRow(ctx, `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`).Scan(&rate); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for range 2 {
		if err := live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
			d, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: org.ID, Kind: invoices.Ordinary, CustomerID: &cu.ID, By: &user.ID, Now: time.Now(),
				Lines: []invoices.LineInput{{Description: "Servicio", Unit: "ud", Quantity: decimal.NewFromInt(1), UnitPrice: 10000, TaxRateID: rate}}})
			if err != nil {
				return err
			}
			inv, err := invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: org.ID, InvoiceID: d.ID, Locale: "es", Now: time.Now(), Jobs: env.Deps.Jobs})
			ids = append(ids, inv.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: org.ID, InvoiceID: ids[1], Reason: "Emitida por error", Now: time.Now(), Jobs: env.Deps.Jobs})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var jobID int64
	if n := env.Count(`SELECT count(*) FROM river_job WHERE kind = 'verifactu_send' AND queue = 'sync'
		AND (args->>'org_id')::bigint = $1 AND args->>'issuer_nif' = 'B76543214'`, org.ID); n != 1 {
		t.Fatalf("%d send jobs for three records of one chain", n)
	}
	if err := env.DB.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'verifactu_send'`).Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	job, err := env.Deps.Jobs.JobGet(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}

	// The sweep would queue this chain too (the job above holds its place).
	if due, err := sending.Due(ctx, env.Q, time.Now()); err != nil || len(due) != 1 || due[0].OrgID != org.ID {
		t.Errorf("sweep: %v (%v)", due, err)
	}

	sender := &sending.Sender{DB: env.DB, Certs: certs, Env: verifactu.Test, Client: aeat.Options{Endpoint: srv.URL, RootCAs: srv.CA.Pool}}
	w := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, river.Worker[jobargs.VerifactuSend](&workers.VerifactuSendWorker{Sender: sender}))
	tx, err := env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	res, err := w.WorkJob(ctx, t, tx, job)
	if err != nil {
		t.Fatal(err)
	}
	if res.EventKind != river.EventKindJobCompleted {
		t.Errorf("job ended %s", res.EventKind)
	}
	if n := env.Count(`SELECT count(*) FROM verifactu_records WHERE org_id = $1 AND status = 'accepted'`, org.ID); n != 3 {
		t.Errorf("%d of 3 records accepted", n)
	}
	if got := len(srv.Requests()); got != 1 {
		t.Errorf("%d requests", got)
	}
	due, err := sending.Due(ctx, env.Q, time.Now())
	if err != nil || len(due) != 0 {
		t.Errorf("the sweep would send %v (%v)", due, err)
	}
}

// Records written without a job (the demo's, or while the queue was
// unreachable) go out by the periodic sweep of the real worker client.
func TestSweepSendsWaitingRecords(t *testing.T) {
	ctx := context.Background()
	env := apptest.New(t)
	org := env.Org("Demo Ventas S.L.")
	env.Exec(`UPDATE orgs SET tax_id = 'B76543214', address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, org.ID)
	user := env.User(org, "admin@demo.test", web.RoleAdmin)
	srv := aeattest.New(t, aeattest.Options{Validate: true})
	keys, err := sealed.New(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	cu, err := env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: org.ID, LegalName: "Cliente Uno S.A.", Country: "ES", OwnerID: &user.ID, Tags: []string{}, TaxID: "A58818501"})
	if err != nil {
		t.Fatal(err)
	}
	var rate int64
	if err := env.DB.QueryRow(ctx, `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`).Scan(&rate); err != nil {
		t.Fatal(err)
	}
	if err := live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := (sending.Certificates{Keys: keys}).Save(ctx, tx, org.ID, srv.ClientCA.ClientPKCS12(t, aeattest.Client{}, "x"), "x", &user.ID, time.Now()); err != nil {
			return err
		}
		d, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: org.ID, Kind: invoices.Ordinary, CustomerID: &cu.ID, By: &user.ID, Now: time.Now(),
			Lines: []invoices.LineInput{{Description: "Servicio", Unit: "ud", Quantity: decimal.NewFromInt(1), UnitPrice: 10000, TaxRateID: rate}}})
		if err != nil {
			return err
		}
		_, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: org.ID, InvoiceID: d.ID, Locale: "es", Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	client, err := workers.NewClient(env.DB, slog.New(slog.DiscardHandler), workers.Options{Work: true, DefaultWorkers: 2, Sealed: keys,
		AEAT: aeat.Options{Endpoint: srv.URL, RootCAs: srv.CA.Pool}})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := client.Stop(sctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for env.Count(`SELECT count(*) FROM verifactu_records WHERE org_id = $1 AND status = 'accepted'`, org.ID) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the waiting record was not sent; requests: %d", len(srv.Requests()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
