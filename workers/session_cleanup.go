package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"pulso/queries"
	"pulso/workers/jobargs"
)

// Retention for rows that only matter briefly. Login failures must outlive
// the window app/auth counts them in (24 h).
const (
	loginFailureRetention = 24 * time.Hour
	liveEventRetention    = 24 * time.Hour
)

// SessionCleanupWorker works jobargs.SessionCleanup.
type SessionCleanupWorker struct {
	river.WorkerDefaults[jobargs.SessionCleanup]
	Q *queries.Queries
}

func (w *SessionCleanupWorker) Work(ctx context.Context, job *river.Job[jobargs.SessionCleanup]) error {
	now := time.Now()
	sessions, err := w.Q.DeleteExpiredSessions(ctx)
	if err != nil {
		return err
	}
	failures, err := w.Q.DeleteOldLoginFailures(ctx, now.Add(-loginFailureRetention))
	if err != nil {
		return err
	}
	events, err := w.Q.DeleteOldLiveEvents(ctx, now.Add(-liveEventRetention))
	if err != nil {
		return err
	}
	hits, err := w.Q.DeleteOldCaptureHits(ctx, now.Add(-loginFailureRetention))
	if err != nil {
		return err
	}
	// Throttle windows last a minute or so; an hour-old counter is dead.
	counters, err := w.Q.DeleteOldRateCounters(ctx, now.Add(-time.Hour))
	if err != nil {
		return err
	}
	_ = river.RecordOutput(ctx, map[string]int64{"sessions": sessions, "login_failures": failures, "live_events": events,
		"capture_hits": hits, "rate_counters": counters})
	return nil
}
