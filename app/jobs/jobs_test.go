package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"pulso/app/apptest"
	"pulso/app/jobs"
	"pulso/app/web"
	"pulso/queries"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// world is the shared test world (org Alfa) and a second org, Beta, whose
// jobs Alfa's admin must not see.
type world struct {
	*apptest.World
	other      queries.Org
	otherAdmin queries.User
}

func newWorld(t *testing.T) world {
	t.Helper()
	w := world{World: apptest.NewWorld(t, "Alfa Trabajos S.L.", "alfa.test")}
	w.other = w.Env.Org("Beta Trabajos S.L.")
	w.otherAdmin = w.Env.User(w.other, "admin@beta.test", web.RoleAdmin)
	return w
}

// notify enqueues a notify job for u, as an app area would.
func (w world) notify(t *testing.T, u queries.User, key string, opts *river.InsertOpts) *rivertype.JobRow {
	t.Helper()
	return w.insert(t, jobargs.Notify{OrgID: u.OrgID, UserID: u.ID, Severity: "info", Title: "Hola", Key: key}, opts)
}

// failing enqueues a notify job for admin A that fails on its only attempt
// (the severity breaks a CHECK constraint), so it ends discarded.
func (w world) failing(t *testing.T, key string) *rivertype.JobRow {
	t.Helper()
	return w.insert(t, jobargs.Notify{OrgID: w.Org.ID, UserID: w.Admin.ID, Severity: "bogus", Title: "x", Key: key}, &river.InsertOpts{MaxAttempts: 1})
}

func (w world) insert(t *testing.T, args river.JobArgs, opts *river.InsertOpts) *rivertype.JobRow {
	t.Helper()
	res, err := w.Env.Deps.Jobs.Insert(context.Background(), args, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res.Job
}

func (w world) job(t *testing.T, id int64) *rivertype.JobRow {
	t.Helper()
	j, err := w.Env.Deps.Jobs.JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// work runs the jobs to their end with the app's real worker client, then
// stops it, so jobs enqueued afterwards stay where the test puts them.
func (w world) work(t *testing.T, queued ...*rivertype.JobRow) []*rivertype.JobRow {
	t.Helper()
	ctx := context.Background()
	client, err := workers.NewClient(w.Env.DB, slog.New(slog.DiscardHandler), workers.Options{Work: true, DefaultWorkers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := client.Stop(sctx); err != nil {
			t.Errorf("stop worker client: %v", err)
		}
	}()
	out := make([]*rivertype.JobRow, len(queued))
	deadline := time.Now().Add(30 * time.Second)
	for i, q := range queued {
		for {
			j := w.job(t, q.ID)
			if j.FinalizedAt != nil {
				out[i] = j
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %d (%s) still %s", j.ID, j.Kind, j.State)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return out
}

var jobRowID = regexp.MustCompile(`<li class="row" id="job-(\d+)"`)

// listed returns the ids of the jobs a page shows, in order.
func listed(body string) []int64 {
	var ids []int64
	for _, m := range jobRowID.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		ids = append(ids, id)
	}
	return ids
}

func path(id int64, action string) string {
	return "/admin/jobs/" + strconv.FormatInt(id, 10) + "/" + action
}

func TestListShowsOnlyTheOrgsJobs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a1 := w.notify(t, w.Admin, "a1", nil)
	a2 := w.notify(t, w.Rep, "a2", nil)
	b1 := w.notify(t, w.otherAdmin, "b1", nil)
	system := w.insert(t, jobargs.SessionCleanup{}, nil)

	res := w.Env.LoginAs(w.Admin).Get("/admin/jobs")
	if res.Status != http.StatusOK {
		t.Fatalf("GET /admin/jobs: %d %.300s", res.Status, res.Body)
	}
	if got, want := listed(res.Body), []int64{a2.ID, a1.ID}; !slices.Equal(got, want) {
		t.Errorf("admin A sees jobs %v, want %v (newest first; not B's %d nor the system job %d)", got, want, b1.ID, system.ID)
	}
	for _, s := range []string{"Trabajos en segundo plano", "Aviso", "Disponible", "Intentos: 0/25"} {
		if !strings.Contains(res.Body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	// Times are in the org's zone (Europe/Madrid), not UTC.
	madrid, _ := time.LoadLocation("Europe/Madrid")
	if want := a1.CreatedAt.In(madrid).Format("02/01/2006 15:04:05"); !strings.Contains(res.Body, want) {
		t.Errorf("creation time %q (Madrid) not shown", want)
	}

	res = w.Env.LoginAs(w.otherAdmin).Get("/admin/jobs")
	if got := listed(res.Body); !slices.Equal(got, []int64{b1.ID}) {
		t.Errorf("admin B sees jobs %v, want only %d", got, b1.ID)
	}
}

func TestListFiltersByState(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	worked := w.work(t, w.notify(t, w.Admin, "done", nil), w.failing(t, "failed"))
	done, failed := worked[0], worked[1]
	if done.State != rivertype.JobStateCompleted {
		t.Fatalf("worked job is %s, want completed", done.State)
	}
	if failed.State != rivertype.JobStateDiscarded || len(failed.Errors) != 1 {
		t.Fatalf("failing job is %s with %d errors, want discarded with 1", failed.State, len(failed.Errors))
	}
	waiting := w.notify(t, w.Admin, "waiting", nil)
	later := w.notify(t, w.Admin, "later", &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	stopped := w.notify(t, w.Admin, "stopped", nil)
	if _, err := w.Env.Deps.Jobs.JobCancel(ctx, stopped.ID); err != nil {
		t.Fatal(err)
	}
	w.notify(t, w.otherAdmin, "b-waiting", nil)

	c := w.Env.LoginAs(w.Admin)
	for state, want := range map[string][]int64{
		"available": {waiting.ID},
		"scheduled": {later.ID},
		"running":   nil,
		"retryable": nil,
		"completed": {done.ID},
		"cancelled": {stopped.ID},
		"discarded": {failed.ID},
	} {
		res := c.Get("/admin/jobs?state=" + state)
		if res.Status != http.StatusOK {
			t.Fatalf("state %s: %d", state, res.Status)
		}
		if got := listed(res.Body); !slices.Equal(got, want) {
			t.Errorf("state %s lists %v, want %v", state, got, want)
		}
		if !strings.Contains(res.Body, `aria-current="page"`) {
			t.Errorf("state %s: no tab marked current", state)
		}
		if len(want) == 0 && !strings.Contains(res.Body, "No hay trabajos en este estado.") {
			t.Errorf("state %s: empty list says nothing", state)
		}
	}

	// The discarded job shows why, and offers Retry but not Cancel.
	res := c.Get("/admin/jobs?state=discarded")
	if !strings.Contains(res.Body, `data-testid="job-errors"`) || !strings.Contains(res.Body, "notifications_severity_check") {
		t.Errorf("discarded job's error not shown: %.2000s", res.Body)
	}
	if !strings.Contains(res.Body, path(failed.ID, "retry")) || strings.Contains(res.Body, path(failed.ID, "cancel")) {
		t.Error("discarded job should offer retry and not cancel")
	}
	res = c.Get("/admin/jobs?state=available")
	if strings.Contains(res.Body, path(waiting.ID, "retry")) || !strings.Contains(res.Body, path(waiting.ID, "cancel")) {
		t.Error("available job should offer cancel and not retry")
	}

	for _, q := range []string{"state=nope", "state=pending%27", "after=not-a-cursor", "after=e30"} {
		if res := c.Get("/admin/jobs?" + q); res.Status != http.StatusBadRequest {
			t.Errorf("GET /admin/jobs?%s: %d, want 400", q, res.Status)
		}
	}
}

func TestListPagesWithRiversCursor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var params []river.InsertManyParams
	for i := range 31 {
		params = append(params, river.InsertManyParams{Args: jobargs.Notify{
			OrgID: w.Org.ID, UserID: w.Admin.ID, Severity: "info", Title: "x", Key: fmt.Sprint("page-", i),
		}})
	}
	if _, err := w.Env.Deps.Jobs.InsertMany(context.Background(), params); err != nil {
		t.Fatal(err)
	}
	w.notify(t, w.otherAdmin, "b", nil)

	c := w.Env.LoginAs(w.Admin)
	for _, tab := range []string{"", "available"} {
		var seen []int64
		next, pages := "/admin/jobs?state="+tab, 0
		for next != "" {
			res := c.Get(next)
			if res.Status != http.StatusOK {
				t.Fatalf("GET %s: %d", next, res.Status)
			}
			seen = append(seen, listed(res.Body)...)
			pages++
			next = ""
			if m := regexp.MustCompile(`href="([^"]+)" data-testid="jobs-next"`).FindStringSubmatch(res.Body); m != nil {
				next = strings.ReplaceAll(m[1], "&amp;", "&")
				if !strings.Contains(next, "after=") {
					t.Fatalf("next link %q carries no cursor", next)
				}
			}
		}
		if pages != 2 || len(seen) != 31 {
			t.Errorf("tab %q: %d pages, %d jobs; want 2 pages and 31 jobs", tab, pages, len(seen))
		}
		if !slices.IsSortedFunc(seen, func(a, b int64) int { return int(b - a) }) || len(slices.Compact(slices.Clone(seen))) != len(seen) {
			t.Errorf("tab %q: pages overlap or are out of order: %v", tab, seen)
		}
	}
}

func TestRetryAndCancel(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.Env.LoginAs(w.Admin)

	worked := w.work(t, w.failing(t, "failed"), w.notify(t, w.Admin, "done", nil))
	failed, done := worked[0], worked[1]
	res := c.Post(path(failed.ID, "retry"), url.Values{"state": {"discarded"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/admin/jobs?state=discarded" {
		t.Fatalf("retry: %d → %q", res.Status, res.Header.Get("Location"))
	}
	if j := w.job(t, failed.ID); j.State != rivertype.JobStateAvailable || j.MaxAttempts != 2 {
		t.Errorf("retried job is %s with max %d attempts, want available with 2", j.State, j.MaxAttempts)
	}
	if res := c.Get("/admin/jobs?state=discarded"); !strings.Contains(res.Body, "vuelve a la cola") {
		t.Error("no flash after retry")
	}

	waiting := w.notify(t, w.Admin, "waiting", nil)
	res = c.Post(path(waiting.ID, "cancel"), nil)
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/admin/jobs" {
		t.Fatalf("cancel: %d → %q", res.Status, res.Header.Get("Location"))
	}
	if j := w.job(t, waiting.ID); j.State != rivertype.JobStateCancelled {
		t.Errorf("cancelled job is %s", j.State)
	}
	// htmx submits get HX-Redirect instead of a 303.
	htmxWaiting := w.notify(t, w.Admin, "htmx", nil)
	c.HTMX = true
	res = c.Post(path(htmxWaiting.ID, "cancel"), url.Values{"state": {"available"}})
	c.HTMX = false
	if res.Status != http.StatusNoContent || res.Header.Get("HX-Redirect") != "/admin/jobs?state=available" {
		t.Errorf("htmx cancel: %d, HX-Redirect %q", res.Status, res.Header.Get("HX-Redirect"))
	}

	// A cancelled job can be retried; a completed one is left alone.
	res = c.Post(path(waiting.ID, "retry"), nil)
	if j := w.job(t, waiting.ID); res.Status != http.StatusSeeOther || j.State != rivertype.JobStateAvailable {
		t.Errorf("retry of cancelled job: %d, now %s", res.Status, j.State)
	}
	res = c.Post(path(done.ID, "retry"), nil)
	if j := w.job(t, done.ID); res.Status != http.StatusSeeOther || j.State != rivertype.JobStateCompleted {
		t.Errorf("retry of completed job: %d, now %s (want untouched)", res.Status, j.State)
	}
	res = c.Post(path(done.ID, "cancel"), nil)
	if j := w.job(t, done.ID); res.Status != http.StatusSeeOther || j.State != rivertype.JobStateCompleted {
		t.Errorf("cancel of completed job: %d, now %s (want untouched)", res.Status, j.State)
	}
	if res := c.Get("/admin/jobs"); !strings.Contains(res.Body, "ya ha terminado") {
		t.Error("no warning after cancelling a finished job")
	}
	if n := countNotifications(t, w, w.Admin.ID); n != 1 {
		t.Errorf("%d notifications, want 1 (only the completed job ran)", n)
	}
}

func countNotifications(t *testing.T, w world, userID int64) int {
	t.Helper()
	var n int
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT count(*) FROM notifications WHERE user_id = $1`, userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOtherOrgsAndRolesGetNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	waiting := w.notify(t, w.Admin, "waiting", nil)
	stopped := w.notify(t, w.Admin, "stopped", nil)
	if _, err := w.Env.Deps.Jobs.JobCancel(ctx, stopped.ID); err != nil {
		t.Fatal(err)
	}
	system := w.insert(t, jobargs.SessionCleanup{}, nil)

	b := w.Env.LoginAs(w.otherAdmin)
	a := w.Env.LoginAs(w.Admin)
	rep := w.Env.LoginAs(w.Rep)
	for _, tc := range []struct {
		who    string
		c      *apptest.Client
		path   string
		status int
	}{
		{"admin B", b, path(waiting.ID, "cancel"), http.StatusNotFound},
		{"admin B", b, path(stopped.ID, "retry"), http.StatusNotFound},
		{"admin B", b, path(system.ID, "cancel"), http.StatusNotFound},
		{"admin A", a, path(system.ID, "cancel"), http.StatusNotFound},
		{"admin A", a, path(system.ID, "retry"), http.StatusNotFound},
		{"admin A", a, "/admin/jobs/abc/retry", http.StatusNotFound},
		{"admin A", a, "/admin/jobs/-1/cancel", http.StatusNotFound},
		{"admin A", a, "/admin/jobs/99999999999/cancel", http.StatusNotFound},
		{"admin A", a, "/admin/jobs/99999999999999999999999/retry", http.StatusNotFound},
		{"rep A", rep, path(waiting.ID, "cancel"), http.StatusForbidden},
		{"rep A", rep, path(stopped.ID, "retry"), http.StatusForbidden},
	} {
		if res := tc.c.Post(tc.path, nil); res.Status != tc.status {
			t.Errorf("%s POST %s: %d, want %d", tc.who, tc.path, res.Status, tc.status)
		}
	}
	if res := rep.Get("/admin/jobs"); res.Status != http.StatusForbidden {
		t.Errorf("rep GET /admin/jobs: %d, want 403", res.Status)
	}
	if j := w.job(t, waiting.ID); j.State != rivertype.JobStateAvailable {
		t.Errorf("A's waiting job is now %s", j.State)
	}
	if j := w.job(t, stopped.ID); j.State != rivertype.JobStateCancelled {
		t.Errorf("A's cancelled job is now %s", j.State)
	}
	if j := w.job(t, system.ID); j.State != rivertype.JobStateAvailable {
		t.Errorf("system job is now %s", j.State)
	}
	// Nor does B's listing, on any tab, show A's jobs.
	for _, s := range append([]rivertype.JobState{""}, jobs.States...) {
		if got := listed(b.Get("/admin/jobs?state=" + string(s)).Body); len(got) != 0 {
			t.Errorf("admin B's %q tab lists %v", s, got)
		}
	}
}

func TestRetryAndCancelRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		state         rivertype.JobState
		retry, cancel bool
	}{
		{rivertype.JobStateAvailable, false, true},
		{rivertype.JobStatePending, false, true},
		{rivertype.JobStateScheduled, false, true},
		{rivertype.JobStateRunning, false, true},
		{rivertype.JobStateRetryable, true, true},
		{rivertype.JobStateCompleted, false, false},
		{rivertype.JobStateCancelled, true, false},
		{rivertype.JobStateDiscarded, true, false},
	} {
		if got := jobs.CanRetry(tc.state); got != tc.retry {
			t.Errorf("CanRetry(%s) = %v", tc.state, got)
		}
		if got := jobs.CanCancel(tc.state); got != tc.cancel {
			t.Errorf("CanCancel(%s) = %v", tc.state, got)
		}
	}
}
