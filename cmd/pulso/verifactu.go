package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"pulso/app/config"
	"pulso/app/invoices"
	"pulso/app/schema"
	"pulso/app/verifactu/ledger"
	"pulso/queries"
)

// applyRecording names this installation in every VERI*FACTU record it
// writes: the binary's version, and the producer, installation and AEAT
// environment the configuration gives.
func applyRecording(cfg config.Config) {
	invoices.Recording.Version = buildVersion()
	invoices.Recording.Env = cfg.VerifactuEnv
	invoices.Recording.ProducerName, invoices.Recording.ProducerNIF = cfg.VerifactuProducerName, cfg.VerifactuProducerNIF
	invoices.Recording.ProducerAddress = cfg.VerifactuProducerAddress
	invoices.Recording.Installation = cfg.VerifactuInstallation
}

// errChainBroken makes `pulso verifactu verify` exit with status 1.
var errChainBroken = errors.New("a VERI*FACTU chain is broken")

// verifactuCmd is `pulso verifactu verify --org N`: it recomputes every
// chain of the org and prints each one's result to w.
func verifactuCmd(ctx context.Context, cfg config.Config, args []string, w io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: pulso verifactu verify --org N")
	}
	fs := flag.NewFlagSet("verifactu verify", flag.ContinueOnError)
	org := fs.Int64("org", 0, "id of the org whose chains to check")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *org <= 0 || fs.NArg() > 0 {
		return errors.New("usage: pulso verifactu verify --org N (N: the org's id)")
	}
	pool, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := schema.Check(ctx, pool); err != nil {
		return fmt.Errorf("%w: run `pulso migrate` first", err)
	}
	q := queries.New(pool)
	o, err := q.GetOrg(ctx, *org)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("verifactu verify: there is no org %d", *org)
	}
	if err != nil {
		return err
	}
	chains, err := ledger.Verify(ctx, q, o.ID)
	if err != nil {
		return err
	}
	if len(chains) == 0 {
		fmt.Fprintf(w, "org %d (%s): no VERI*FACTU records\n", o.ID, o.Name)
		return nil
	}
	for _, c := range chains {
		if c.Break == nil {
			fmt.Fprintf(w, "org %d NIF %s: %d records, the chain holds\n", o.ID, c.IssuerNIF, c.Checked)
			continue
		}
		b := c.Break
		fmt.Fprintf(w, "org %d NIF %s: BROKEN at position %d (record %d, invoice %d %s): %s: %s\n",
			o.ID, c.IssuerNIF, b.Seq, b.RecordID, b.InvoiceID, b.Number, b.Problem, b.Detail)
	}
	if !ledger.OK(chains) {
		return errChainBroken
	}
	return nil
}
