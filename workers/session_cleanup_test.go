package workers_test

import (
	"context"
	"testing"

	"github.com/riverqueue/river"

	"pulso/app/apptest"
	"pulso/queries"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// The sweep drops throttle counters whose window is long over and keeps the
// ones still counting.
func TestSessionCleanupSweepsOldRateCounters(t *testing.T) {
	t.Parallel()
	pool := apptest.NewDB(t)
	if _, err := pool.Exec(context.Background(), `INSERT INTO rate_counters (scope, key, window_start, hits) VALUES
		('client_link', '203.0.113.9', now() - interval '2 hours', 60), ('client_link', '192.0.2.1', now(), 3)`); err != nil {
		t.Fatal(err)
	}
	w := &workers.SessionCleanupWorker{Q: queries.New(pool)}
	if err := w.Work(context.Background(), &river.Job[jobargs.SessionCleanup]{}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	rows, err := pool.Query(context.Background(), `SELECT key FROM rate_counters ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if len(keys) != 1 || keys[0] != "192.0.2.1" {
		t.Errorf("counters left %v, want only the current one", keys)
	}
}
