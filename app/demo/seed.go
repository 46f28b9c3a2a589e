// Package demo seeds the demo organisations `make run` shows. Later areas add
// their own demo data here. Seeding is idempotent: rows are found by their
// natural keys (org name, user e-mail) and only missing ones are created.
package demo

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/auth"
	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/queries"
	"pulso/workers"
)

// Password is every demo user's password (listed in the README).
const Password = "demo1234"

type orgSeed struct {
	queries.CreateOrgParams
	users []userSeed
}

type userSeed struct {
	email, name, role, manager string // manager: e-mail of the manager
	locale                     string
}

var orgs = []orgSeed{
	{
		CreateOrgParams: queries.CreateOrgParams{Name: "Demo Ventas S.L.", Country: "ES", Currency: "EUR", TimeZone: "Europe/Madrid", TaxID: "B12345674"},
		users: []userSeed{
			{"admin@demo.test", "Alicia Admin", "admin", "", "es"},
			{"manager@demo.test", "Marcos Responsable", "manager", "", "es"},
			{"rep@demo.test", "Rosa Comercial", "rep", "manager@demo.test", "es"},
			{"rep2@demo.test", "Rafael Comercial", "rep", "manager@demo.test", "es"},
			{"accountant@demo.test", "Carmen Contable", "accountant", "", "es"},
		},
	},
	{
		CreateOrgParams: queries.CreateOrgParams{Name: "Otra Empresa S.A. de C.V.", Country: "MX", Currency: "MXN", TimeZone: "America/Mexico_City", TaxID: "OEM010101AB1"},
		users: []userSeed{
			{"admin@otra.test", "Óscar Admin", "admin", "", "es"},
			{"rep@otra.test", "Olga Ventas", "rep", "admin@otra.test", "es"},
		},
	},
}

// demoAddress is each demo org's address.
var demoAddress = map[string]string{
	"ES": "Calle de Alcalá 20, 28014 Madrid",
	"MX": "Av. Paseo de la Reforma 222, Juárez, 06600 Ciudad de México, CDMX",
}

// Seed creates whatever part of the demo data is missing, in one transaction.
// keys must be those of the server that will serve the demo
// (config.LinkKeys): its links (quotes, the web form) are derived with them.
func Seed(ctx context.Context, pool *pgxpool.Pool, keys linktoken.Keys, log *slog.Logger) error {
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return err
	}
	// Insert-only: the demo's quotes enqueue their e-mails and notifications
	// like the app does; the workers of `pulso serve` deliver them.
	jobs, err := workers.NewClient(pool, log, workers.Options{})
	if err != nil {
		return err
	}
	return live.BeginFunc(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		for _, o := range orgs {
			org, err := q.GetOrgByName(ctx, o.Name)
			if errors.Is(err, pgx.ErrNoRows) {
				org, err = q.CreateOrg(ctx, o.CreateOrgParams)
				log.Info("seeded org", "org", o.Name)
			}
			if err != nil {
				return err
			}
			ids := map[string]int64{}
			for _, u := range o.users {
				existing, err := q.GetUserByEmail(ctx, u.email)
				if err == nil {
					ids[u.email] = existing.ID
					continue
				}
				if !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
				p := queries.CreateUserParams{OrgID: org.ID, Email: u.email, Name: u.name, Role: u.role, Locale: u.locale, PasswordHash: &hash, Active: true}
				if u.manager != "" {
					m := ids[u.manager]
					p.ManagerID = &m
				}
				created, err := q.CreateUser(ctx, p)
				if err != nil {
					return err
				}
				ids[u.email] = created.ID
				log.Info("seeded user", "email", u.email)
			}
			if err := seedLeads(ctx, q, org, ids, log); err != nil {
				return err
			}
			if err := seedCapture(ctx, q, keys, org, ids, log); err != nil {
				return err
			}
			if org.Address == "" {
				// Invoices print the issuer's address (RD 1619/2012 art. 6.1.e).
				if err := q.SetOrgInvoicing(ctx, queries.SetOrgInvoicingParams{ID: org.ID, Address: demoAddress[org.Country]}); err != nil {
					return err
				}
			}
			if err := seedCustomers(ctx, tx, org, ids, log); err != nil {
				return err
			}
			if err := seedOpportunities(ctx, q, org, log); err != nil {
				return err
			}
			if err := seedTasks(ctx, q, org, ids, log); err != nil {
				return err
			}
			if err := seedQuotes(ctx, tx, jobs, keys, org, ids, log); err != nil {
				return err
			}
			if err := seedDealHistory(ctx, q, org, log); err != nil {
				return err
			}
			if err := seedBilling(ctx, tx, org, ids, log); err != nil {
				return err
			}
			if err := seedInvoiceSends(ctx, tx, jobs, keys, org, log); err != nil {
				return err
			}
			if err := seedTargets(ctx, q, org, o.users, ids, log); err != nil {
				return err
			}
		}
		return seedPlans(ctx, tx, hash, log)
	})
}
