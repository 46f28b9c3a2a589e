package plans_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/plans"
	"pulso/app/verifactu/ledger/ledgertest"
	"pulso/app/web"
	"pulso/queries"
)

// subscribe puts org on a plan of its own with limit vouchers and the
// given policy, so a test reaches the limit in a few invoices.
func subscribe(t *testing.T, env *apptest.Env, org queries.Org, limit int, atLimit string) queries.Plan {
	t.Helper()
	ctx := context.Background()
	var p queries.Plan
	err := env.DB.QueryRow(ctx, `INSERT INTO plans (code, name, vouchers, store_users, at_limit, rank)
		VALUES ('mini', 'Mini', $1, 1, $2, 0) RETURNING id`, limit, atLimit).Scan(&p.ID)
	if err != nil {
		t.Fatal(err)
	}
	env.Exec(`INSERT INTO plan_prices (plan_id, currency, monthly, overage) VALUES ($1, 'EUR', 900, 10)`, p.ID)
	env.Exec(`INSERT INTO subscriptions (org_id, plan_id, frequency, currency, term_start, term_end)
		VALUES ($1, $2, 'monthly', 'EUR', date_trunc('month', now())::date, (date_trunc('month', now()) + interval '1 month')::date)`, org.ID, p.ID)
	p, err = env.Q.GetPlan(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func usage(t *testing.T, env *apptest.Env, org queries.Org) plans.Usage {
	t.Helper()
	u, err := plans.UsageOf(context.Background(), env.Q, org.ID, time.Now().In(madrid))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var madrid, _ = time.LoadLocation("Europe/Madrid")

// recount is the vouchers of this month counted from the invoices.
func recount(t *testing.T, env *apptest.Env, org queries.Org) map[string]int {
	t.Helper()
	rows, err := env.Q.RecountVouchers(context.Background(), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	month := plans.Month(time.Now().In(madrid))
	for _, r := range rows {
		if r.Month.Time.Equal(month) {
			out[r.Channel] += int(r.N)
		}
	}
	return out
}

// 32 issuers at once against the last vouchers of a blocking plan: exactly
// the vouchers left are issued, every other one is refused with the plan's
// message, and the counter equals the invoices.
func TestCountIsExactUnderConcurrencyAtTheLimit(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Cuota S.L.")
	b := ledgertest.Setup(t, env, org)
	subscribe(t, env, org, 40, plans.Block)
	b.Issue(t, 30)

	var wg sync.WaitGroup
	var mu sync.Mutex
	issued, refused := 0, 0
	var other []error
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.TryIssue()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				issued++
			case invoices.OverPlanLimit(err):
				refused++
			default:
				other = append(other, err)
			}
		}()
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected errors: %v", other)
	}
	if issued != 10 || refused != 22 {
		t.Fatalf("issued %d, refused %d; want 10 and 22", issued, refused)
	}
	u := usage(t, env, org)
	if u.Used() != 40 || u.Physical != 40 || u.Remaining() != 0 || u.Percent() != 100 {
		t.Fatalf("usage %+v", u)
	}
	if rc := recount(t, env, org); rc["physical"] != 40 || len(rc) != 1 {
		t.Fatalf("recount %v, counter 40", rc)
	}
	// Each threshold was crossed once, by the voucher that reached it.
	rows, err := env.DB.Query(context.Background(), `SELECT threshold, used FROM quota_crossings WHERE org_id = $1 ORDER BY threshold`, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		T int16
		U int32
	}])
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		T int16
		U int32
	}{{80, 32}, {95, 38}, {100, 40}}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("crossings %v, want %v", got, want)
	}

	// The refusal names the plan and what to move to.
	_, err = b.TryIssue()
	var bad invoices.Invalid
	if !errors.As(err, &bad) || bad["plan"].Params["Plan"] != "Mini" || bad["plan"].Params["Upgrade"] != "Inicial" {
		t.Fatalf("refusal %v", err)
	}
}

// A plan that bills overage issues past its limit and counts the excess.
func TestOveragePlanIssuesPastTheLimit(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Excedente S.L.")
	b := ledgertest.Setup(t, env, org)
	p := subscribe(t, env, org, 5, plans.Overage)
	b.Issue(t, 7)
	u := usage(t, env, org)
	if u.Used() != 7 || u.Overage != 2 || u.Remaining() != 0 {
		t.Fatalf("usage %+v", u)
	}
	// The plan whose overage price bills them next month.
	if n := env.Count(`SELECT count(*) FROM voucher_usage WHERE org_id = $1 AND overage_plan_id = $2`, org.ID, p.ID); n != 1 {
		t.Errorf("the overage does not name its plan %d", p.ID)
	}
}

// After random issues of every kind, voids and proformas, the counter is
// the recount: voided vouchers stay counted, proformas never count.
func TestCounterEqualsRecountAfterRandomIssuesAndVoids(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Recuento S.L.")
	b := ledgertest.Setup(t, env, org)
	r := rand.New(rand.NewPCG(17, 4))
	var issued []queries.Invoice
	proformas := 0
	for range 40 {
		switch r.IntN(4) {
		case 0, 1:
			issued = append(issued, b.Issue(t, 1)...)
		case 2:
			if len(issued) > 0 {
				i := r.IntN(len(issued))
				if issued[i].State == invoices.Issued {
					b.Void(t, issued[i])
					issued[i].State = invoices.Voided
				}
			}
		case 3:
			issueProforma(t, b)
			proformas++
		}
	}
	u := usage(t, env, org)
	rc := recount(t, env, org)
	if u.Used() != len(issued) || rc["physical"] != len(issued) {
		t.Fatalf("counter %d, recount %v, issued %d (proformas %d)", u.Used(), rc, len(issued), proformas)
	}
	if proformas == 0 || env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND state = 'voided'`, org.ID) == 0 {
		t.Fatal("the random run made no proforma or no void: change the seed")
	}
}

func issueProforma(t *testing.T, b *ledgertest.Biller) {
	t.Helper()
	err := live.BeginFunc(context.Background(), b.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		now := time.Now()
		d, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: b.Org.ID, Kind: invoices.Proforma, CustomerID: &b.Customer,
			By: &b.User.ID, Now: now, Lines: []invoices.LineInput{{Description: "Presupuesto", Unit: "ud",
				Quantity: decimal.NewFromInt(1), UnitPrice: 5000, TaxRateID: b.Rate}}})
		if err != nil {
			return err
		}
		_, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: b.Org.ID, InvoiceID: d.ID, UserID: &b.User.ID, Locale: "es", Now: now})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A crossing alerts every admin once (bell + alert centre + e-mail), and
// running it again — the job and the sweep both may — adds nothing.
func TestCrossingAlertsEveryAdminOnce(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Avisos S.L.")
	b := ledgertest.Setup(t, env, org)
	env.User(org, "otra-admin@avisos.test", web.RoleAdmin)
	env.User(org, "rep@avisos.test", web.RoleRep)
	p := subscribe(t, env, org, 5, plans.Block)
	b.Issue(t, 4) // 80 %

	pending, err := plans.PendingCrossings(context.Background(), env.Q, time.Now().Add(time.Minute))
	if err != nil || len(pending) != 1 || pending[0].Threshold != 80 || pending[0].PlanID != p.ID {
		t.Fatalf("pending %v %v", pending, err)
	}
	for range 2 {
		if err := live.BeginFunc(context.Background(), env.DB, func(ctx context.Context, tx pgx.Tx) error {
			return plans.Alert(ctx, tx, env.Deps.Jobs, pending[0], "https://pulso.test", time.Now())
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n := env.Count(`SELECT count(*) FROM alerts WHERE org_id = $1 AND kind = 'voucher_quota'`, org.ID); n != 2 {
		t.Fatalf("%d alerts, want one per admin (2)", n)
	}
	if n := env.Count(`SELECT count(*) FROM emails WHERE org_id = $1 AND template = 'voucher_quota' AND subject LIKE '%80 %% de los comprobantes del plan Mini%'`, org.ID); n != 2 {
		t.Fatalf("%d e-mails, want 2", n)
	}
	if n := env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify'`); n != 2 {
		t.Fatalf("%d notify jobs, want 2", n)
	}
	pending, _ = plans.PendingCrossings(context.Background(), env.Q, time.Now().Add(time.Minute))
	if len(pending) != 0 {
		t.Fatalf("still pending: %v", pending)
	}
}
