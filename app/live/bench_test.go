package live_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
)

// BenchmarkWritePath measures what publishing a live event costs a typical
// change: 16 concurrent writers each saving their own lead (the form's
// UpdateLead, version-checked), with and without live.Publish in the same
// transaction. It decided between NOTIFY per transaction (a global commit
// lock) and the outbox. Leads, not users: users carry the session-cache
// trigger (migration 0012), which would slow both sides and flatter the
// ratio.
// Run with -benchtime=1x: each run measures a fixed wall-clock window.
func BenchmarkWritePath(b *testing.B) {
	env := apptest.New(b)
	org := env.Org("Bench S.L.")
	const writers = 16
	owner := env.User(org, "w@bench.test", web.RoleRep)
	ctx0 := context.Background()
	leads := make([]queries.Lead, writers)
	for i := range leads {
		l, err := env.Q.CreateLead(ctx0, queries.CreateLeadParams{
			OrgID: org.ID, Name: fmt.Sprintf("Potencial %d", i), Country: "ES", Source: "manual", OwnerID: &owner.ID, Status: "nuevo", Tags: []string{},
		})
		if err != nil {
			b.Fatal(err)
		}
		leads[i] = l
	}
	window := benchWindow()

	// mode: 0 no event, 1 event held and sent with the COMMIT (what
	// handlers do through live.BeginFunc), 2 event INSERTed on its own
	// (the design before live.BeginFunc).
	run := func(mode int) float64 {
		var done atomic.Int64
		ctx, cancel := context.WithTimeout(context.Background(), window)
		defer cancel()
		var wg sync.WaitGroup
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func(l *queries.Lead) {
				defer wg.Done()
				for n := 0; ctx.Err() == nil; n++ {
					var saved queries.Lead
					body := func(ctx context.Context, tx pgx.Tx) error {
						q := queries.New(tx)
						var err error
						saved, err = q.UpdateLead(ctx, queries.UpdateLeadParams{
							OrgID: l.OrgID, ID: l.ID, Version: l.Version, Name: l.Name, Country: l.Country, OwnerID: l.OwnerID,
							Status: l.Status, Notes: fmt.Sprintf("llamada %d", n), Tags: l.Tags,
						})
						if err != nil {
							return err
						}
						switch mode {
						case 1:
							return live.Publish(ctx, live.Event{OrgID: l.OrgID, Topic: live.TopicLead, Entity: "lead", EntityID: &l.ID, Kind: "updated", SubjectUserID: l.OwnerID})
						case 2:
							_, err := q.InsertLiveEvent(ctx, queries.InsertLiveEventParams{OrgID: l.OrgID, Topic: live.TopicLead, Entity: "lead",
								EntityID: &l.ID, Kind: "updated", SubjectUserID: l.OwnerID, Payload: []byte(`{}`)})
							return err
						}
						return nil
					}
					var err error
					if mode == 2 {
						err = pgx.BeginFunc(ctx, env.DB, func(tx pgx.Tx) error { return body(ctx, tx) })
					} else {
						err = live.BeginFunc(ctx, env.DB, body)
					}
					if err == nil {
						*l = saved // the next save names the committed version
						done.Add(1)
					}
				}
			}(&leads[i])
		}
		wg.Wait()
		return float64(done.Load()) / window.Seconds()
	}
	run(1) // warm up
	b.ResetTimer()
	// Alternate short windows so drift (autovacuum, checkpoints) hits every
	// side alike.
	var with, separate, without float64
	const rounds = 3
	for i := 0; i < b.N*rounds; i++ {
		without += run(0) / rounds
		with += run(1) / rounds
		separate += run(2) / rounds
	}
	with /= float64(b.N)
	separate /= float64(b.N)
	without /= float64(b.N)
	ratio := with / without
	b.ReportMetric(with, "tx/s_with_event")
	b.ReportMetric(without, "tx/s_without")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(separate/without, "ratio_separate_insert")
	summary("write-path", fmt.Sprintf("%.0f tx/s with event vs %.0f without, 16 writers (event as its own INSERT: %.2f)", with, without, separate/without), ratio, 0.8, true)
}

func benchWindow() time.Duration {
	if testing.Short() {
		return 500 * time.Millisecond
	}
	return 1500 * time.Millisecond
}

// summary prints the one line per ratio that `make bench` collects.
func summary(name, detail string, ratio, target float64, higherIsBetter bool) {
	verdict := "MISS"
	if (higherIsBetter && ratio >= target) || (!higherIsBetter && ratio <= target) {
		verdict = "PASS"
	}
	op := ">="
	if !higherIsBetter {
		op = "<="
	}
	fmt.Printf("SUMMARY %-12s ratio %.2f (target %s %.2f) %s — %s\n", name, ratio, op, target, verdict, detail)
}
