package main

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/config"
	"pulso/app/sealed"
	"pulso/app/verifactu"
	"pulso/app/verifactu/aeattest"
	"pulso/app/verifactu/sending"
)

// devRootCAs is the demo's fake AEAT's CA: this process's VERI*FACTU
// client trusts it only when `pulso dev` started the fake.
var devRootCAs *x509.CertPool

// demoRejected is the demo invoice whose first VERI*FACTU record the fake
// AEAT rejects (aeattest.DemoRejection), so the demo shows a record
// rejected and then accepted as its corrected resubmission.
const demoRejected = "F-2025-0003"

// startDemoAEAT runs the fake AEAT inside `pulso dev` for the demo's
// Spanish org: it stores the fake's client certificate as the org's
// (sending.Certificates.Save) and points the sender at the fake
// (cfg.AEATURL), so the demo's records are answered after `make run`.
// With PULSO_AEAT_URL set, or without the demo org, it does nothing.
func startDemoAEAT(ctx context.Context, pool *pgxpool.Pool, cfg *config.Config, log *slog.Logger) (stop func(), err error) {
	stop = func() {}
	if cfg.AEATURL != "" {
		return stop, nil
	}
	var orgID int64
	var issuer verifactu.PersonaES
	err = pool.QueryRow(ctx, `SELECT id, name, tax_id FROM orgs WHERE name = 'Demo Ventas S.L.' AND country = 'ES'`).Scan(&orgID, &issuer.NombreRazon, &issuer.NIF)
	if errors.Is(err, pgx.ErrNoRows) {
		return stop, nil
	}
	if err != nil {
		return stop, err
	}
	issuer.NombreRazon = verifactu.CleanText(issuer.NombreRazon)
	d, err := aeattest.StartDemo(log, issuer, demoRejected)
	if err != nil {
		return stop, err
	}
	keys, err := cfg.SealedKeys()
	if err != nil {
		d.Close()
		return stop, err
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := sending.Certificates{Keys: keys}.Save(ctx, tx, orgID, d.P12, d.Password, nil, time.Now())
		return err
	}); err != nil {
		d.Close()
		return stop, err
	}
	// Pulso's own Spanish company invoices its subscribers' plans: its
	// records go to the same fake, with a certificate of its own.
	if err := devOperatorCertificate(ctx, pool, keys, d); err != nil {
		d.Close()
		return stop, err
	}
	cfg.AEATURL, devRootCAs = d.URL, d.RootCAs
	log.Info("demo: a fake AEAT answers the VERI*FACTU records", "url", d.URL, "rejected_once", demoRejected)
	return d.Close, nil
}

// devOperatorCertificate gives the demo's Spanish operator org (Pulso
// Software S.L.) a certificate of the fake AEAT, so the records of its
// plan charges are answered like Demo Ventas's.
func devOperatorCertificate(ctx context.Context, pool *pgxpool.Pool, keys sealed.Keys, d *aeattest.Demo) error {
	var orgID int64
	var op verifactu.PersonaES
	err := pool.QueryRow(ctx, `SELECT id, name, tax_id FROM orgs WHERE operator AND country = 'ES'`).Scan(&orgID, &op.NombreRazon, &op.NIF)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	op.NombreRazon = verifactu.CleanText(op.NombreRazon)
	p12, err := d.Certificate(op)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := sending.Certificates{Keys: keys}.Save(ctx, tx, orgID, p12, d.Password, nil, time.Now())
		return err
	})
}
