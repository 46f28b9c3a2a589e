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
// change: 16 concurrent writers each updating their own row, with and
// without PublishLiveEvent (row + pg_notify) in the same transaction, while
// a hub LISTENs as in production. NOTIFY serialises commits on a global
// lock, so this ratio decides between notify-per-transaction and an outbox.
// Run with -benchtime=1x: each run measures a fixed wall-clock window.
func BenchmarkWritePath(b *testing.B) {
	env := apptest.New(b)
	org := env.Org("Bench S.L.")
	const writers = 16
	users := make([]queries.User, writers)
	for i := range users {
		users[i] = env.User(org, fmt.Sprintf("w%d@bench.test", i), web.RoleRep)
	}
	window := benchWindow()

	run := func(withEvent bool) float64 {
		var done atomic.Int64
		ctx, cancel := context.WithTimeout(context.Background(), window)
		defer cancel()
		var wg sync.WaitGroup
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func(u queries.User) {
				defer wg.Done()
				for ctx.Err() == nil {
					err := pgx.BeginFunc(ctx, env.DB, func(tx pgx.Tx) error {
						q := queries.New(tx)
						if _, err := q.SetUserActive(ctx, queries.SetUserActiveParams{OrgID: u.OrgID, ID: u.ID, Active: true}); err != nil {
							return err
						}
						if withEvent {
							_, err := live.Publish(ctx, q, live.Event{OrgID: u.OrgID, Topic: "bench", Entity: "user", EntityID: &u.ID, Kind: "updated", SubjectUserID: &u.ID})
							return err
						}
						return nil
					})
					if err == nil {
						done.Add(1)
					}
				}
			}(users[i])
		}
		wg.Wait()
		return float64(done.Load()) / window.Seconds()
	}
	run(true) // warm up
	b.ResetTimer()
	// Alternate short windows so drift (autovacuum, checkpoints) hits both
	// sides alike.
	var with, without float64
	const rounds = 3
	for i := 0; i < b.N*rounds; i++ {
		without += run(false) / rounds
		with += run(true) / rounds
	}
	with /= float64(b.N)
	without /= float64(b.N)
	ratio := with / without
	b.ReportMetric(with, "tx/s_with_event")
	b.ReportMetric(without, "tx/s_without")
	b.ReportMetric(ratio, "ratio")
	summary("write-path", fmt.Sprintf("%.0f tx/s with event vs %.0f without, 16 writers", with, without), ratio, 0.8, true)
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
