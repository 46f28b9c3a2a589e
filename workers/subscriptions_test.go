package workers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"pulso/app/apptest"
	"pulso/app/plans"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// The pass gives every org without a plan its first one, the smallest
// that fits last month's vouchers, saying why; the operator's own org
// gets none; a second pass changes nothing.
func TestSubscriptionsPassStartsNewOrgsOnTheFittingPlan(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	busy := env.Org("Ocupada S.L.")
	quiet := env.Org("Tranquila S.L.")
	op := env.Org("Operador S.L.")
	env.Exec(`UPDATE orgs SET operator = true WHERE id = $1`, op.ID)
	// Last month's counter, as issuing keeps it: 300 vouchers.
	now := time.Now()
	env.Exec(`INSERT INTO voucher_usage (org_id, month, physical, ecommerce) VALUES ($1, $2, 200, 100)`,
		busy.ID, plans.Month(now.UTC()).AddDate(0, -1, 0))

	w := rivertest.NewWorker(t, riverpgxv5.New(env.DB), &river.Config{}, river.Worker[jobargs.Subscriptions](&workers.SubscriptionsWorker{DB: env.DB}))
	for range 2 {
		tx, err := env.DB.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Work(ctx, t, tx, jobargs.Subscriptions{}, nil); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for org, want := range map[int64]string{busy.ID: "estandar", quiet.ID: "inicial"} {
		var code, reason string
		if err := env.DB.QueryRow(ctx, `SELECT p.code, e.reason FROM subscriptions s JOIN plans p ON p.id = s.plan_id
			JOIN subscription_events e ON e.org_id = s.org_id AND e.kind = 'started' WHERE s.org_id = $1 AND s.frequency = 'monthly'`, org).Scan(&code, &reason); err != nil {
			t.Fatalf("org %d: %v", org, err)
		}
		if code != want {
			t.Errorf("org %d started on %s, want %s (%s)", org, code, want, reason)
		}
		if org == busy.ID && !strings.Contains(reason, "300 comprobantes") {
			t.Errorf("the reason does not say what the plan was chosen from: %q", reason)
		}
	}
	if n := env.Count(`SELECT count(*) FROM subscriptions WHERE org_id = $1`, op.ID); n != 0 {
		t.Error("the operator's org got a plan")
	}
	if n := env.Count(`SELECT count(*) FROM subscription_events WHERE kind = 'started'`); n != 2 {
		t.Errorf("%d started events after two passes, want 2", n)
	}
}
