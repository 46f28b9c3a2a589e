package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/plans"
	"pulso/app/tax"
	"pulso/queries"
)

// The operator's orgs: Pulso itself, which sells the plans and issues
// their invoices (orgs.operator), one company per currency it sells in —
// an invoice is in its issuer's currency.
var operators = []struct {
	org     orgSeed
	address string
}{
	{orgSeed{
		CreateOrgParams: queries.CreateOrgParams{Name: "Pulso Software S.L.", Country: "ES", Currency: "EUR", TimeZone: "Europe/Madrid", TaxID: "B87654323"},
		users:           []userSeed{{"operador@pulso.test", "Pablo Operador", "admin", "", "es"}},
	}, "Calle de Serrano 41, 28001 Madrid"},
	{orgSeed{
		CreateOrgParams: queries.CreateOrgParams{Name: "Pulso Software México S.A. de C.V.", Country: "MX", Currency: "MXN", TimeZone: "America/Mexico_City", TaxID: "PSM120101AB0"},
		users:           []userSeed{{"operador.mx@pulso.test", "Paola Operadora", "admin", "", "es"}},
	}, "Av. Paseo de la Reforma 250, 06600 Ciudad de México"},
	{orgSeed{
		CreateOrgParams: queries.CreateOrgParams{Name: "Pulso Software Argentina S.R.L.", Country: "AR", Currency: "ARS", TimeZone: "America/Argentina/Buenos_Aires", TaxID: "30-71234567-1"},
		users:           []userSeed{{"operador.ar@pulso.test", "Pedro Operador", "admin", "", "es"}},
	}, "Av. Corrientes 1234, C1043 Ciudad Autónoma de Buenos Aires"},
}

// The store demo: an Argentine seller whose Mercado Libre orders become
// vouchers (`pulso dev` connects it to a fake store).
var storeOrg = orgSeed{
	CreateOrgParams: queries.CreateOrgParams{Name: "Tienda Austral S.R.L.", Country: "AR", Currency: "ARS", TimeZone: "America/Argentina/Buenos_Aires", TaxID: "30-00000000-7"},
	users:           []userSeed{{"admin@austral.test", "Ana Austral", "admin", "", "es"}},
}

// StoreOrgName is the store demo's org, which `pulso dev` connects to its
// fake Mercado Libre.
const StoreOrgName = "Tienda Austral S.R.L."

// mainUsed is how many of its 250 vouchers (plan Inicial) the main demo
// org has issued this month: past 80 %, so its admin meets the quota alert
// on first start.
const mainUsed = 205

// seedPlans puts the demo orgs on different plans: the main org on
// Inicial past 80 % of its month (its counter tickets), the Mexican org on
// FULL with an annual term about to end (the renewal picks the plan its
// use fits), the store org on PRO; and makes the operator's orgs.
func seedPlans(ctx context.Context, tx pgx.Tx, hash string, log *slog.Logger) error {
	q := queries.New(tx)
	for _, o := range operators {
		if _, err := q.GetOperatorOrg(ctx, o.org.Currency); err == nil {
			continue
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		op, err := seedOrg(ctx, q, o.org, hash)
		if err != nil {
			return err
		}
		if err := q.SetOrgOperator(ctx, op.ID); err != nil {
			return err
		}
		if err := q.SetOrgInvoicing(ctx, queries.SetOrgInvoicingParams{ID: op.ID, Address: o.address}); err != nil {
			return err
		}
		log.Info("seeded an operator org", "org", op.Name, "currency", op.Currency)
	}
	if _, err := seedOrg(ctx, q, storeOrg, hash); err != nil {
		return err
	}
	now := time.Now()
	for _, s := range []struct {
		org, plan, frequency string
		months               int // the term's length back from next month
	}{
		{"Demo Ventas S.L.", "inicial", "monthly", 1},
		{"Otra Empresa S.A. de C.V.", "full", "annual", 12},
		{StoreOrgName, "pro", "monthly", 1},
	} {
		org, err := q.GetOrgByName(ctx, s.org)
		if err != nil {
			return err
		}
		if _, err := q.GetSubscription(ctx, org.ID); err == nil {
			continue
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		p, err := q.GetPlanByCode(ctx, s.plan)
		if err != nil {
			return err
		}
		today := recurring.Today(now, org.TimeZone)
		end := plans.Month(today).AddDate(0, 1, 0)
		if _, err := q.CreateSubscription(ctx, queries.CreateSubscriptionParams{OrgID: org.ID, PlanID: p.ID, Frequency: s.frequency,
			Currency: org.Currency, TermStart: date(end.AddDate(0, -s.months, 0)), TermEnd: date(end)}); err != nil {
			return err
		}
		if _, err := q.AddSubscriptionEvent(ctx, queries.AddSubscriptionEventParams{OrgID: org.ID, Kind: "started", ToPlan: &p.ID,
			Reason: "Plan de la demo", At: now}); err != nil {
			return err
		}
		if s.org == "Demo Ventas S.L." {
			// A minute back: the workers' first pass raises crossings older
			// than half a minute (younger ones are their own job's), so
			// the admin's 80 % alert is there from the first start.
			if err := seedTickets(ctx, tx, org, today, now.Add(-time.Minute)); err != nil {
				return err
			}
		}
		log.Info("seeded subscription", "org", org.Name, "plan", p.Name)
	}
	return nil
}

// seedOrg finds or makes an org with its users.
func seedOrg(ctx context.Context, q *queries.Queries, o orgSeed, hash string) (queries.Org, error) {
	org, err := q.GetOrgByName(ctx, o.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		org, err = q.CreateOrg(ctx, o.CreateOrgParams)
	}
	if err != nil {
		return org, err
	}
	for _, u := range o.users {
		if _, err := q.GetUserByEmail(ctx, u.email); err == nil {
			continue
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return org, err
		}
		if _, err := q.CreateUser(ctx, queries.CreateUserParams{OrgID: org.ID, Email: u.email, Name: u.name, Role: u.role,
			Locale: u.locale, PasswordHash: &hash, Active: true}); err != nil {
			return org, err
		}
	}
	return org, nil
}

// seedTickets issues the counter sales (simplified invoices) that bring
// the main org's month to mainUsed vouchers, through invoices.Issue like
// any sale: they count, and the 80 % crossing is recorded for the alert.
func seedTickets(ctx context.Context, tx pgx.Tx, org queries.Org, today, now time.Time) error {
	q := queries.New(tx)
	u, err := plans.UsageOf(ctx, q, org.ID, today)
	if err != nil {
		return err
	}
	rates, err := tax.IVAOn(ctx, q, org.Country, now)
	if err != nil || len(rates) == 0 {
		return fmt.Errorf("demo tickets: no IVA rates: %w", err)
	}
	for i := u.Used(); i < mainUsed; i++ {
		if _, err := invoices.DraftAndIssue(ctx, tx, invoices.DraftInput{OrgID: org.ID, Kind: invoices.Simplified, Now: now,
			Lines: []invoices.LineInput{{Description: "Venta en mostrador", Unit: "ud", Quantity: decimal.NewFromInt(int64(1 + i%3)),
				UnitPrice: int64(990 + 10*(i%7)), TaxRateID: rates[0].ID}}},
			invoices.IssueInput{OrgID: org.ID, Locale: "es", IssueDate: today, Now: now}); err != nil {
			return err
		}
	}
	return nil
}
