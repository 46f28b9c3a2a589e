package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"pulso/queries"
)

// SessionCleanupArgs removes expired sessions, old login failures and web
// form hits (both only count within minutes), and live events no screen can
// still need. Deleting is naturally idempotent, so a
// retry or an overlapping run does no harm.
type SessionCleanupArgs struct{}

func (SessionCleanupArgs) Kind() string { return "session_cleanup" }

func (SessionCleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// Retention for rows that only matter briefly.
const (
	loginFailureRetention = 24 * time.Hour
	liveEventRetention    = 24 * time.Hour
)

// SessionCleanupWorker works SessionCleanupArgs.
type SessionCleanupWorker struct {
	river.WorkerDefaults[SessionCleanupArgs]
	Q *queries.Queries
}

func (w *SessionCleanupWorker) Work(ctx context.Context, job *river.Job[SessionCleanupArgs]) error {
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
	_ = river.RecordOutput(ctx, map[string]int64{"sessions": sessions, "login_failures": failures, "live_events": events, "capture_hits": hits})
	return nil
}
