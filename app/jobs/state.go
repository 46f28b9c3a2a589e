package jobs

import (
	"encoding/json"

	"github.com/riverqueue/river/rivertype"
)

// CanRetry reports whether the page offers Retry for a job in state s.
// River's JobRetry makes any job but a running one available at once; Pulso
// offers it where an admin means "try again": a job waiting out a backoff
// (retryable: run it now), one that gave up (discarded) or one that was
// stopped (cancelled). A completed job is not retried: its work is done.
func CanRetry(s rivertype.JobState) bool {
	switch s {
	case rivertype.JobStateRetryable, rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
		return true
	}
	return false
}

// CanCancel reports whether the page offers Cancel for a job in state s.
// River cancels a queued job at once and asks a running one to stop (it ends
// cancelled when its worker returns); a finished job has nothing to cancel.
func CanCancel(s rivertype.JobState) bool {
	switch s {
	case rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled,
		rivertype.JobStateRetryable, rivertype.JobStateRunning:
		return true
	}
	return false
}

// cancelRequested reports a running job River has been asked to cancel: it
// records the request in the job's metadata until the worker returns.
func cancelRequested(j *rivertype.JobRow) bool {
	if j.State != rivertype.JobStateRunning {
		return false
	}
	var meta struct {
		CancelAttemptedAt *string `json:"cancel_attempted_at"`
	}
	return json.Unmarshal(j.Metadata, &meta) == nil && meta.CancelAttemptedAt != nil
}

// orgOf returns the org a job's args name, if any.
func orgOf(j *rivertype.JobRow) (int64, bool) {
	var args struct {
		OrgID *int64 `json:"org_id"`
	}
	if json.Unmarshal(j.EncodedArgs, &args) != nil || args.OrgID == nil {
		return 0, false
	}
	return *args.OrgID, true
}
