// Package jobs is the admin's view of the org's background jobs: what is
// queued, running, failing or done, with the errors of failed attempts, and
// retry/cancel. It works through River's client API, never River's tables.
//
// River's jobs are not tenant-scoped, so Pulso's convention does it: the args
// of every job that concerns an org carry it as "org_id" (jobargs.Notify
// does). An admin sees and touches only jobs whose args name their org; jobs
// without one (system maintenance such as session_cleanup) are nobody's.
package jobs

import (
	"net/url"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"pulso/app/web"
	jobsview "pulso/views/jobs"
)

// Handler serves /admin/jobs.
type Handler struct{ web.Deps }

// New builds the handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

const pageSize = 25

// States are the page's tabs, in the order a job lives through them.
var States = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStateScheduled,
	rivertype.JobStateRunning,
	rivertype.JobStateRetryable,
	rivertype.JobStateCompleted,
	rivertype.JobStateCancelled,
	rivertype.JobStateDiscarded,
}

var listPage = web.Page{Title: "jobs.title", Nav: "jobs"}

// orgFilter keeps a listing to one org's jobs. The named argument must not
// prefix any of River's own (state, after_id, ...): River substitutes them
// textually.
const orgFilter = "args->'org_id' = to_jsonb(@pulso_org_id::bigint)"

// listParams is the org's listing for a tab ("" is every state). A state's
// tab is ordered by the time that matters for it (when it will run, when it
// started, when it finished); the all tab by creation, newest first.
func listParams(orgID int64, state rivertype.JobState) *river.JobListParams {
	params := river.NewJobListParams().Where(orgFilter, river.NamedArgs{"pulso_org_id": orgID})
	if state == "" {
		return params.OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	}
	return params.States(state).OrderBy(river.JobListOrderByTime, river.SortOrderDesc)
}

// List shows a keyset page of the org's jobs, optionally of one state. The
// "after" cursor is River's own, text-marshalled into the URL.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	state, ok := parseState(c.Query("state"))
	if !ok {
		return web.NewError(fiber.StatusBadRequest, "error.bad_request", nil)
	}
	params := listParams(p.OrgID, state)
	after := c.Query("after")
	if after != "" {
		var cur river.JobListCursor
		if err := cur.UnmarshalText([]byte(after)); err != nil {
			return web.NewError(fiber.StatusBadRequest, "error.bad_request", err)
		}
		params = params.After(&cur)
	}
	res, err := h.Jobs.JobList(ctx, params.First(pageSize))
	if err != nil {
		return err
	}

	loc := p.Location()
	page := jobsview.Page{State: string(state), Paged: after != ""}
	for _, s := range States {
		page.States = append(page.States, string(s))
	}
	for _, j := range res.Jobs {
		page.Rows = append(page.Rows, row(j, loc))
	}
	if len(res.Jobs) == pageSize {
		// One more look decides whether "more" leads anywhere, so the last
		// page never links to an empty one.
		more, err := h.Jobs.JobList(ctx, params.After(res.LastCursor).First(1))
		if err != nil {
			return err
		}
		if len(more.Jobs) > 0 {
			next, err := res.LastCursor.MarshalText()
			if err != nil {
				return err
			}
			page.NextURL = listURL(state, string(next))
		}
	}
	page.FirstURL = listURL(state, "")
	return web.Render(c, fiber.StatusOK, listPage, jobsview.List(page))
}

// parseState accepts a tab's state, or "" for all of them.
func parseState(s string) (rivertype.JobState, bool) {
	if s == "" {
		return "", true
	}
	st := rivertype.JobState(s)
	return st, slices.Contains(States, st)
}

// listURL is the list's address for a tab and an optional cursor.
func listURL(state rivertype.JobState, after string) string {
	q := url.Values{}
	if state != "" {
		q.Set("state", string(state))
	}
	if after != "" {
		q.Set("after", after)
	}
	if len(q) == 0 {
		return "/admin/jobs"
	}
	return "/admin/jobs?" + q.Encode()
}

const timeLayout = "02/01/2006 15:04:05"

func row(j *rivertype.JobRow, loc *time.Location) jobsview.Row {
	stamp := func(t *time.Time) jobsview.Stamp {
		if t == nil || t.IsZero() {
			return jobsview.Stamp{}
		}
		return jobsview.Stamp{ISO: t.UTC().Format(time.RFC3339), Text: t.In(loc).Format(timeLayout)}
	}
	r := jobsview.Row{
		ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: string(j.State),
		Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		Created: stamp(&j.CreatedAt), Scheduled: stamp(&j.ScheduledAt),
		Attempted: stamp(j.AttemptedAt), Finalized: stamp(j.FinalizedAt),
		CanRetry: CanRetry(j.State), CanCancel: CanCancel(j.State),
		CancelRequested: cancelRequested(j),
	}
	// Newest first: the last attempt's error is the one that explains the
	// job's state.
	for i := len(j.Errors) - 1; i >= 0; i-- {
		e := j.Errors[i]
		r.Errors = append(r.Errors, jobsview.AttemptError{Attempt: e.Attempt, At: stamp(&e.At), Message: e.Error})
	}
	return r
}
