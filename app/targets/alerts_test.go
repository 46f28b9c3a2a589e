package targets_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"pulso/app/live"
	"pulso/app/stats"
	"pulso/app/targets"
	"pulso/queries"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// A won deal queues the owner's target check in its own transaction; the
// job raises "reached" for the rep and their manager (bell and toast
// through notify jobs, and the alert centre), once however often it runs.
func TestReachedAlertFromTheWin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	if r := w.set(w.ManagerC, w.Rep.ID, "won_amount", "1.000,00"); r.Status != http.StatusSeeOther {
		t.Fatalf("set: %d", r.Status)
	}
	cu, err := w.Env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: w.Org.ID, LegalName: "Bodegas Ebro S.L.", Country: "ES", OwnerID: &w.Rep.ID, Tags: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := w.Env.Q.CreateOpportunityFull(ctx, queries.CreateOpportunityFullParams{OrgID: w.Org.ID, CustomerID: cu.ID, Title: "Pedido de temporada",
		Amount: 1_500_00, Probability: 10, OwnerID: &w.Rep.ID, CreatedBy: &w.Rep.ID})
	if err != nil {
		t.Fatal(err)
	}
	tw := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, river.Worker[jobargs.TargetCheck](&workers.TargetCheckWorker{DB: w.Env.DB}))
	run := func() {
		t.Helper()
		tx, err := w.Env.DB.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if r, err := tw.Work(ctx, t, tx, jobargs.TargetCheck{OrgID: w.Org.ID, UserID: w.Rep.ID, Month: w.month}, nil); err != nil || r.EventKind != river.EventKindJobCompleted {
			t.Fatalf("target_check: %v %v", r, err)
		}
	}
	run() // before the win: nothing to say
	if n := w.Env.Count(`SELECT count(*) FROM alerts WHERE kind LIKE 'target_%'`); n != 0 {
		t.Fatalf("%d alerts before the win", n)
	}
	w.Env.Exec(`DELETE FROM river_job WHERE kind = 'target_check'`)
	if r := w.RepC.Post(fmt.Sprintf("/opportunities/%d/move", o.ID), url.Values{"stage": {"ganada"}, "version": {fmt.Sprint(o.Version)}}); r.Status >= 400 {
		t.Fatalf("win: %d %.300s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'target_check' AND (args->>'user_id')::bigint = $1 AND args->>'month' = $2`, w.Rep.ID, w.month); n != 1 {
		t.Fatalf("the win queued %d target checks", n)
	}
	// A win committed while that check runs gets a check of its own.
	w.Env.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() WHERE kind = 'target_check'`)
	for i, stage := range []string{"en_negociacion", "ganada"} {
		if r := w.RepC.Post(fmt.Sprintf("/opportunities/%d/move", o.ID), url.Values{"stage": {stage}, "version": {fmt.Sprint(o.Version + int32(i) + 1)}}); r.Status >= 400 {
			t.Fatalf("move to %s: %d %.300s", stage, r.Status, r.Body)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'target_check' AND (args->>'user_id')::bigint = $1 AND args->>'month' = $2`, w.Rep.ID, w.month); n != 2 {
		t.Fatalf("a win during a running check queued %d checks in all, want 2", n)
	}
	run()
	run()
	if n := w.Env.Count(`SELECT count(*) FROM alerts WHERE kind = 'target_reached' AND object_type = 'sales_target' AND subject_user_id = $1 AND user_id IN ($1, $2)`, w.Rep.ID, w.Manager.ID); n != 2 {
		t.Fatalf("%d reached alerts, want one each for the rep and the manager", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND args->>'title_id' = 'alerts.target_reached_title' AND (args->>'toast')::boolean`); n != 2 {
		t.Fatalf("%d toasting notifications queued", n)
	}
	// The hourly sweep finds nothing more to say.
	if n, err := targets.SweepPace(ctx, w.Env.DB, w.Env.Deps.Jobs, time.Now()); err != nil || n != 0 {
		t.Fatalf("sweep after the job: %d %v", n, err)
	}
	contains(t, w.ManagerC.Get("/alerts?kind=target_reached").Body, "Objetivo alcanzado", w.Rep.Name+" · "+w.month, `href="/targets"`)
	contains(t, w.RepC.Get("/targets").Body, "150 %", `data-status="reached"`, "Alcanzado", "1.500,00\u00a0€")
}

// Behind pace is judged from the 16th, in the month itself, by the hourly
// sweep: one alert per rep, target and threshold, however often it runs.
func TestBehindPaceOncePerTarget(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.Env.Exec(`UPDATE users SET manager_id = $1 WHERE id = $2`, w.Manager.ID, w.Rep2.ID)
	for _, u := range []queries.User{w.Rep, w.Rep2} {
		if r := w.set(w.AdminC, u.ID, "month", "2026-03"); r.Status != http.StatusSeeOther {
			t.Fatalf("set: %d", r.Status)
		}
	}
	madrid, _ := time.LoadLocation("Europe/Madrid")
	march := stats.Month{Year: 2026, Month: time.March}
	check := func(user int64, now time.Time) int {
		t.Helper()
		var n int
		if err := live.BeginFunc(ctx, w.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			n, err = targets.Check(ctx, tx, w.Env.Deps.Jobs, w.Org.ID, user, march, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := check(w.Rep2.ID, time.Date(2026, 3, 15, 12, 0, 0, 0, madrid)); n != 0 {
		t.Fatalf("behind on the 15th: %d alerts", n)
	}
	if n := check(w.Rep2.ID, time.Date(2026, 3, 20, 12, 0, 0, 0, madrid)); n != 2 {
		t.Fatalf("behind on the 20th: %d alerts, want the rep's and the manager's", n)
	}
	if n := check(w.Rep2.ID, time.Date(2026, 3, 21, 12, 0, 0, 0, madrid)); n != 0 {
		t.Fatalf("checked again: %d new alerts", n)
	}
	// Once the month is over, behind is no news.
	if n := check(w.Rep.ID, time.Date(2026, 4, 2, 12, 0, 0, 0, madrid)); n != 0 {
		t.Fatalf("behind judged after the month: %d", n)
	}
	sweepAt := time.Date(2026, 3, 22, 9, 0, 0, 0, madrid)
	if n, err := targets.SweepPace(ctx, w.Env.DB, w.Env.Deps.Jobs, sweepAt); err != nil || n != 2 {
		t.Fatalf("sweep: %d %v (the rep's two; rep2 has theirs)", n, err)
	}
	if n, err := targets.SweepPace(ctx, w.Env.DB, w.Env.Deps.Jobs, sweepAt); err != nil || n != 0 {
		t.Fatalf("sweep again: %d %v", n, err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM alerts WHERE kind = 'target_behind' AND severity = 'warning'`); n != 4 {
		t.Fatalf("%d behind alerts", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM alerts WHERE kind = 'target_behind' AND user_id = $1`, w.Manager.ID); n != 2 {
		t.Fatalf("the manager has %d", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND args->>'title_id' = 'alerts.target_behind_title' AND (args->>'toast')::boolean`); n != 4 {
		t.Fatalf("%d notifications", n)
	}
	if b := w.RepC.Get("/alerts").Body; !strings.Contains(b, "Objetivo por debajo del ritmo") || strings.Contains(b, w.Rep2.Name) {
		t.Error("the rep's alert centre")
	}
}
