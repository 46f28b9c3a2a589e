package tasks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/live"
	"pulso/app/tasks"
	"pulso/queries"
)

type world struct {
	*apptest.World
	customer int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: apptest.NewWorld(t, "Tareas S.L.", "tareas.test")}
	env := w.Env
	cu, err := env.Q.CreateCustomer(context.Background(), queries.CreateCustomerParams{OrgID: w.Org.ID, LegalName: "Bodegas Ebro S.L.", Country: "ES", OwnerID: &w.Rep.ID, Tags: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	w.customer = cu.ID
	return w
}

func (w *world) reason(t *testing.T, name string, slaMinutes *int32, business bool, managerKind string, role *string) int64 {
	t.Helper()
	r, err := w.Env.Q.CreateTaskReason(context.Background(), queries.CreateTaskReasonParams{OrgID: w.Org.ID, Name: name, AppliesIn: []string{},
		SlaMinutes: slaMinutes, SlaBusiness: business, ManagerKind: managerKind, ManagerRole: role})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func i32(n int32) *int32 { return &n }

var taskURL = regexp.MustCompile(`^/tasks/(\d+)$`)

func (w *world) create(t *testing.T, c *apptest.Client, form url.Values) string {
	t.Helper()
	r := c.Post("/tasks", form)
	m := taskURL.FindStringSubmatch(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %s %.500s", r.Status, r.Header.Get("Location"), r.Body)
	}
	return m[1]
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
}

// A reason managed by a role fixes "Gestionado por"; its SLA in business
// hours becomes a deadline on the org's calendar, and a job waits at it.
func TestCreateWithReasonSetsManagerAndDeadline(t *testing.T) {
	w := newWorld(t)
	w.Env.Exec(`INSERT INTO business_calendars (org_id, hours) VALUES ($1, 'lun-dom 00:00-24:00')`, w.Org.ID)
	role := "manager"
	rid := w.reason(t, "Llamada de bienvenida", i32(120), true, "role", &role)
	form := w.RepC.Get(fmt.Sprintf("/tasks/new?reason_id=%d&customer_id=%d", rid, w.customer))
	contains(t, form.Body, `data-testid="managed-fixed"`, "Responsable de equipo", "Bodegas Ebro S.L.")
	before := time.Now()
	id := w.create(t, w.RepC, url.Values{"title": {"Llamar a Marta"}, "type": {"llamada"}, "due_at": {"2026-12-01T10:00"},
		"reason_id": {fmt.Sprint(rid)}, "assignee_id": {fmt.Sprint(w.Rep.ID)}, "customer_id": {fmt.Sprint(w.customer)},
		"managed_by_id": {fmt.Sprint(w.Rep2.ID)}}) // ignored: the reason decides
	var managedRole *string
	var managedBy *int64
	var deadline time.Time
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT managed_by_role, managed_by_id, sla_deadline FROM tasks WHERE id = $1`, id).
		Scan(&managedRole, &managedBy, &deadline); err != nil {
		t.Fatal(err)
	}
	if managedRole == nil || *managedRole != "manager" || managedBy != nil {
		t.Errorf("managed by %v / %v, want the manager role", managedRole, managedBy)
	}
	if d := deadline.Sub(before); d < 119*time.Minute || d > 121*time.Minute {
		t.Errorf("deadline %v after creation, want 2 h on a round-the-clock calendar", d)
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'task_sla' AND args->>'task_id' = $1 AND scheduled_at = $2`, id, deadline); n != 1 {
		t.Errorf("%d SLA jobs scheduled at the deadline", n)
	}
	page := w.RepC.Get("/tasks/" + id)
	contains(t, page.Body, "Llamar a Marta", `data-sla="en_plazo"`, "Responsable de equipo", "Bodegas Ebro S.L.")
	// Another rep cannot see it; the rep's manager can.
	if r := w.Rep2C.Get("/tasks/" + id); r.Status != http.StatusNotFound {
		t.Errorf("another rep: %d", r.Status)
	}
	if r := w.ManagerC.Get("/tasks/" + id); r.Status != http.StatusOK {
		t.Errorf("manager: %d", r.Status)
	}
}

func TestCreateRefusesBadInputField(t *testing.T) {
	w := newWorld(t)
	r := w.RepC.Post("/tasks", url.Values{"title": {""}, "type": {"fax"}, "due_at": {"mañana"}, "assignee_id": {fmt.Sprint(w.Rep2.ID)},
		"reason_id": {"999999"}, "customer_id": {"abc"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad task: %d", r.Status)
	}
	for _, f := range []string{"title", "type", "due_at", "assignee_id", "reason_id"} {
		if !strings.Contains(r.Body, `id="e-`+f+`"`) {
			t.Errorf("no message next to %s", f)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM tasks`); n != 0 {
		t.Errorf("%d tasks saved", n)
	}
}

// "¿Cumple SLA?" for each case, in the list and through its filter.
func TestSLAColumnAndFilter(t *testing.T) {
	w := newWorld(t)
	ins := func(title, status string, deadline, completed *time.Time) {
		w.Env.Exec(`INSERT INTO tasks (org_id, title, type, due_at, assignee_id, status, sla_deadline, completed_at)
			VALUES ($1, $2, 'llamada', now(), $3, $4, $5, $6)`, w.Org.ID, title, w.Rep.ID, status, deadline, completed)
	}
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	early, late := time.Now().Add(-2*time.Hour), time.Now()
	ins("hecha a tiempo", "hecha", &past, &early)
	ins("hecha tarde", "hecha", &past, &late)
	ins("abierta vencida", "pendiente", &past, nil)
	ins("abierta en plazo", "pendiente", &future, nil)
	ins("sin sla", "pendiente", nil, nil)
	ins("cancelada vencida", "cancelada", &past, nil)
	want := map[string][]string{
		"cumple":    {"hecha a tiempo"},
		"no_cumple": {"hecha tarde", "abierta vencida"},
		"en_plazo":  {"abierta en plazo"},
		"no_tiene":  {"sin sla", "cancelada vencida"},
	}
	all := []string{"hecha a tiempo", "hecha tarde", "abierta vencida", "abierta en plazo", "sin sla", "cancelada vencida"}
	for sla, titles := range want {
		body := w.RepC.Get("/tasks?sla=" + sla).Body
		for _, title := range all {
			has := strings.Contains(body, ">"+title+"<")
			if has != contains1(titles, title) {
				t.Errorf("sla=%s: %q shown=%v", sla, title, has)
			}
		}
	}
	list := w.RepC.Get("/tasks").Body
	contains(t, list, `data-sla="no_cumple"`, "No cumple", "Sí cumple", "No tiene", "En plazo", "data-breached")
}

func contains1(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// My day: one tap completes (htmx swaps the row), with the note; a stale
// version is refused.
func TestMyDayCompleteAndFollowUp(t *testing.T) {
	w := newWorld(t)
	w.Env.Exec(`INSERT INTO tasks (org_id, title, type, due_at, assignee_id, customer_id) VALUES
		($1, 'Atrasada', 'llamada', now() - interval '2 days', $2, $3),
		($1, 'Para hoy', 'visita', date_trunc('day', now() AT TIME ZONE 'Europe/Madrid') AT TIME ZONE 'Europe/Madrid' + interval '23 hours 30 minutes', $2, $3),
		($1, 'La semana que viene', 'email', now() + interval '3 days', $2, $3),
		($1, 'De otra persona', 'email', now(), $4, NULL)`, w.Org.ID, w.Rep.ID, w.customer, w.Rep2.ID)
	day := w.RepC.Get("/my-day")
	contains(t, day.Body, `data-testid="overdue"`, "Atrasada", `data-testid="today"`, "Para hoy", `data-testid="upcoming"`, "La semana que viene")
	if strings.Contains(day.Body, "De otra persona") {
		t.Error("another rep's task on my day")
	}
	if home := w.RepC.Get("/"); !strings.Contains(home.Body, `data-testid="my-day"`) || !strings.Contains(home.Body, "Para hoy") {
		t.Error("the rep's home does not show their day")
	}
	var id int64
	_ = w.Env.DB.QueryRow(context.Background(), `SELECT id FROM tasks WHERE title = 'Para hoy'`).Scan(&id)
	w.RepC.HTMX = true
	r := w.RepC.Post(fmt.Sprintf("/tasks/%d/complete", id), url.Values{"version": {"1"}, "result_note": {"Pedido confirmado"}})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="task-done"`) || !strings.Contains(r.Body, fmt.Sprintf("/tasks/new?follow=%d", id)) {
		t.Fatalf("complete: %d %.300s", r.Status, r.Body)
	}
	w.RepC.HTMX = false
	if r := w.RepC.Post(fmt.Sprintf("/tasks/%d/complete", id), url.Values{"version": {"1"}}); r.Status != http.StatusConflict {
		t.Fatalf("second complete: %d", r.Status)
	}
	var note, status string
	_ = w.Env.DB.QueryRow(context.Background(), `SELECT result_note, status FROM tasks WHERE id = $1`, id).Scan(&note, &status)
	if note != "Pedido confirmado" || status != "hecha" {
		t.Fatalf("saved %q %q", note, status)
	}
	// Follow-up: the form comes prefilled with the same customer.
	f := w.RepC.Get(fmt.Sprintf("/tasks/new?follow=%d", id))
	contains(t, f.Body, "Seguimiento: Para hoy", fmt.Sprintf(`name="customer_id" value="%d"`, w.customer))
	if r := w.Rep2C.Post(fmt.Sprintf("/tasks/%d/complete", id), url.Values{"version": {"2"}}); r.Status != http.StatusNotFound {
		t.Errorf("another rep completing: %d", r.Status)
	}
}

// The breach of a task open past its SLA: one alert for the assignee and one
// for their manager, each with an urgent notification, however many times
// the deadline job and the sweep run; a task done in time raises nothing.
func TestBreachAlertsOnceFromJobAndSweep(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	past := time.Now().Add(-time.Minute).Truncate(time.Second)
	w.Env.Exec(`INSERT INTO tasks (org_id, title, type, due_at, assignee_id, sla_deadline) VALUES
		($1, 'Vencida', 'llamada', now(), $2, $3), ($1, 'Hecha a tiempo', 'llamada', now(), $2, $3)`, w.Org.ID, w.Rep.ID, past)
	w.Env.Exec(`UPDATE tasks SET status = 'hecha', completed_at = $1::timestamptz - interval '1 minute' WHERE title = 'Hecha a tiempo'`, past)
	var id, done int64
	_ = w.Env.DB.QueryRow(ctx, `SELECT id FROM tasks WHERE title = 'Vencida'`).Scan(&id)
	_ = w.Env.DB.QueryRow(ctx, `SELECT id FROM tasks WHERE title = 'Hecha a tiempo'`).Scan(&done)
	raise := func(task int64) int {
		var n int
		if err := live.BeginFunc(ctx, w.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			n, err = tasks.RaiseBreach(ctx, tx, w.Env.Deps.Jobs, w.Org.ID, task, time.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := raise(id); n != 2 {
		t.Fatalf("first run raised %d alerts, want 2 (rep and manager)", n)
	}
	if n := raise(id); n != 0 {
		t.Fatalf("second run raised %d", n)
	}
	if n := raise(done); n != 0 {
		t.Fatalf("a task done in time raised %d", n)
	}
	for i := 0; i < 2; i++ {
		if n, err := tasks.SweepBreaches(ctx, w.Env.DB, w.Env.Deps.Jobs, time.Now()); err != nil || n != 0 {
			t.Fatalf("sweep after the job: %d %v", n, err)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM alerts WHERE object_id = $1 AND kind = 'task_sla' AND user_id IN ($2, $3)`, id, w.Rep.ID, w.Manager.ID); n != 2 {
		t.Fatalf("%d alerts", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND args->>'severity' = 'urgent'`); n != 2 {
		t.Fatalf("%d urgent notifications queued", n)
	}
	// The sweep alone finds a breach no job was scheduled for.
	w.Env.Exec(`INSERT INTO tasks (org_id, title, type, due_at, assignee_id, sla_deadline) VALUES ($1, 'Sin trabajo', 'llamada', now(), $2, now() - interval '1 hour')`, w.Org.ID, w.Rep2.ID)
	if n, err := tasks.SweepBreaches(ctx, w.Env.DB, w.Env.Deps.Jobs, time.Now()); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v (rep2 has no manager: one alert)", n, err)
	}
	if n, err := tasks.SweepBreaches(ctx, w.Env.DB, w.Env.Deps.Jobs, time.Now()); err != nil || n != 0 {
		t.Fatalf("sweep again: %d %v", n, err)
	}
	// The list shows the breach in red; the alert centre lists it for the
	// manager, who can mark it read; another user's alert is not found.
	contains(t, w.RepC.Get("/tasks").Body, "data-breached", "No cumple")
	alerts := w.ManagerC.Get("/alerts?kind=task_sla")
	contains(t, alerts.Body, "Vencida", fmt.Sprintf(`href="/tasks/%d"`, id), `data-sev="urgent"`)
	var alertID int64
	_ = w.Env.DB.QueryRow(ctx, `SELECT id FROM alerts WHERE user_id = $1`, w.Manager.ID).Scan(&alertID)
	if r := w.RepC.Post(fmt.Sprintf("/alerts/%d/read", alertID), nil); r.Status != http.StatusNotFound {
		t.Errorf("reading another's alert: %d", r.Status)
	}
	if r := w.ManagerC.Post(fmt.Sprintf("/alerts/%d/read", alertID), nil); r.Status != http.StatusSeeOther {
		t.Errorf("read: %d", r.Status)
	}
	if strings.Contains(w.ManagerC.Get("/alerts?unread=1").Body, "Vencida") {
		t.Error("a read alert is listed as unread")
	}
	// Filtered by whom it is about.
	if b := w.ManagerC.Get(fmt.Sprintf("/alerts?user=%d", w.Rep.ID)).Body; !strings.Contains(b, "Vencida") {
		t.Error("the rep's alert is missing under their filter")
	}
	if b := w.ManagerC.Get(fmt.Sprintf("/alerts?user=%d", w.Rep2.ID)).Body; strings.Contains(b, "Vencida") {
		t.Error("the rep's alert is listed under another user")
	}
}

// A rule on entering a stage gives the deal's owner a task, once per move.
func TestRuleCreatesTaskOnStageEntered(t *testing.T) {
	w := newWorld(t)
	rid := w.reason(t, "Seguimiento de oferta", i32(480), true, "assignee", nil)
	if r := w.AdminC.Post("/admin/task-rules", url.Values{"event": {"stage_entered"}, "stage": {"oferta_presentada"}, "reason_id": {fmt.Sprint(rid)},
		"title": {"Llamar para la oferta"}, "task_type": {"llamada"}, "due_hours": {"48"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("rule: %d %.300s", r.Status, r.Body)
	}
	if r := w.AdminC.Post("/admin/task-rules", url.Values{"event": {"stage_entered"}, "reason_id": {fmt.Sprint(rid)}, "title": {""}, "due_hours": {"-1"}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, `id="e-stage"`) || !strings.Contains(r.Body, `id="e-title"`) || !strings.Contains(r.Body, `id="e-due_hours"`) {
		t.Fatalf("bad rule: %d", r.Status)
	}
	o, err := w.Env.Q.CreateOpportunityFull(context.Background(), queries.CreateOpportunityFullParams{OrgID: w.Org.ID, CustomerID: w.customer,
		Title: "Vinos", Probability: 10, OwnerID: &w.Rep.ID, CreatedBy: &w.Rep.ID})
	if err != nil {
		t.Fatal(err)
	}
	w.RepC.HTMX = true
	if r := w.RepC.Post(fmt.Sprintf("/opportunities/%d/move", o.ID), url.Values{"stage": {"oferta_presentada"}, "version": {"1"}}); r.Status != http.StatusNoContent {
		t.Fatalf("move: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM tasks WHERE opportunity_id = $1 AND title = 'Llamar para la oferta' AND assignee_id = $2 AND sla_deadline IS NOT NULL AND customer_id = $3`, o.ID, w.Rep.ID, w.customer); n != 1 {
		t.Fatalf("%d rule tasks after the move", n)
	}
	// The same event again (a retried transaction) adds nothing; a new move
	// into the stage is a new event.
	ctx := context.Background()
	stage := "oferta_presentada"
	subject := tasks.Subject{OrgID: w.Org.ID, OwnerID: &w.Rep.ID, OpportunityID: &o.ID, Key: fmt.Sprintf("%d:%d", o.ID, 2)}
	if err := live.BeginFunc(ctx, w.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		made, err := tasks.ApplyRules(ctx, tx, w.Env.Deps.Jobs, tasks.EventStageEntered, &stage, subject, time.Now())
		if len(made) != 0 {
			t.Errorf("a replay made %d tasks", len(made))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w.RepC.Post(fmt.Sprintf("/opportunities/%d/move", o.ID), url.Values{"stage": {"en_analisis"}, "version": {"2"}})
	w.RepC.Post(fmt.Sprintf("/opportunities/%d/move", o.ID), url.Values{"stage": {"oferta_presentada"}, "version": {"3"}})
	if n := w.Env.Count(`SELECT count(*) FROM tasks WHERE opportunity_id = $1`, o.ID); n != 2 {
		t.Fatalf("%d rule tasks after re-entering the stage", n)
	}
}

var feedURL = regexp.MustCompile(`/agenda/feed/([A-Za-z0-9_-]+)\.ics`)

func TestAgendaAndICSFeed(t *testing.T) {
	w := newWorld(t)
	// Due now: in this week's agenda at any hour (an hour ahead fell into
	// next week late on a Sunday evening in Madrid).
	w.Env.Exec(`INSERT INTO tasks (org_id, title, type, due_at, assignee_id, customer_id) VALUES
		($1, 'Visita a Ebro', 'visita', now(), $2, $3)`, w.Org.ID, w.Rep.ID, w.customer)
	page := w.RepC.Get("/agenda")
	contains(t, page.Body, "Visita a Ebro", `data-testid="feed-url"`)
	m := feedURL.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatal("no feed address on the agenda")
	}
	feed := w.Env.Client().Get("/agenda/feed/" + m[1] + ".ics")
	if feed.Status != http.StatusOK || !strings.HasPrefix(feed.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("feed: %d %s", feed.Status, feed.Header.Get("Content-Type"))
	}
	contains(t, feed.Body, "BEGIN:VCALENDAR", "BEGIN:VEVENT", "SUMMARY:Visita a Ebro · Bodegas Ebro S.L.", "UID:task-")
	// The manager sees the rep's agenda; another rep does not.
	if r := w.ManagerC.Get(fmt.Sprintf("/agenda?user=%d", w.Rep.ID)); !strings.Contains(r.Body, "Visita a Ebro") {
		t.Error("manager cannot see the rep's agenda")
	}
	if r := w.Rep2C.Get(fmt.Sprintf("/agenda?user=%d", w.Rep.ID)); r.Status != http.StatusNotFound {
		t.Errorf("another rep's agenda: %d", r.Status)
	}
	// Rotating the secret retires the old address.
	if r := w.RepC.Post("/agenda/feed/rotate", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("rotate: %d", r.Status)
	}
	if r := w.Env.Client().Get("/agenda/feed/" + m[1] + ".ics"); r.Status != http.StatusNotFound {
		t.Fatalf("old feed after rotation: %d", r.Status)
	}
	for _, bad := range []string{"x", strings.Repeat("a", 43), "../../etc"} {
		if r := w.Env.Client().Get("/agenda/feed/" + bad + ".ics"); r.Status != http.StatusNotFound {
			t.Errorf("feed %q: %d", bad, r.Status)
		}
	}
	// Drag to another day keeps the time of day.
	var id int64
	var due time.Time
	_ = w.Env.DB.QueryRow(context.Background(), `SELECT id, due_at FROM tasks`).Scan(&id, &due)
	w.RepC.HTMX = true
	madrid, _ := time.LoadLocation("Europe/Madrid")
	if r := w.RepC.Post(fmt.Sprintf("/tasks/%d/reschedule", id), url.Values{"day": {due.In(madrid).AddDate(0, 0, 2).Format("2006-01-02")}, "version": {"1"}}); r.Status != http.StatusNoContent {
		t.Fatalf("reschedule: %d", r.Status)
	}
	var moved time.Time
	_ = w.Env.DB.QueryRow(context.Background(), `SELECT due_at FROM tasks WHERE id = $1`, id).Scan(&moved)
	if moved.Sub(due.Truncate(time.Minute)) != 48*time.Hour {
		t.Errorf("moved to %v from %v: not the same time two days later", moved, due)
	}
}

func TestAdminCalendarAndReasons(t *testing.T) {
	w := newWorld(t)
	if r := w.RepC.Get("/admin/calendar"); r.Status != http.StatusForbidden {
		t.Fatalf("rep: %d", r.Status)
	}
	if r := w.AdminC.Post("/admin/calendar", url.Values{"hours": {"lunes 9-18"}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "No se entiende el horario") {
		t.Fatalf("bad hours: %d", r.Status)
	}
	if r := w.AdminC.Post("/admin/calendar", url.Values{"hours": {"LUN-VIE 9:00-14:00, 15:00-18:00"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("hours: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM business_calendars WHERE org_id = $1 AND hours = 'lun-vie 09:00-14:00, 15:00-18:00'`, w.Org.ID); n != 1 {
		t.Fatal("hours not saved in canonical form")
	}
	if r := w.AdminC.Post("/admin/calendar/holidays", url.Values{"day": {"2026-12-08"}, "name": {"Inmaculada"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("holiday: %d", r.Status)
	}
	if r := w.AdminC.Post("/admin/calendar/holidays", url.Values{"day": {"2026-12-08"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("same holiday: %d", r.Status)
	}
	if r := w.AdminC.Post("/admin/calendar/holidays", url.Values{"day": {"8/12/2026"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad day: %d", r.Status)
	}
	cal, err := tasks.LoadCalendar(context.Background(), w.Env.Q, w.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	madrid, _ := time.LoadLocation("Europe/Madrid")
	got, _ := cal.AddBusiness(time.Date(2026, 12, 7, 17, 0, 0, 0, madrid), 2*time.Hour)
	if want := time.Date(2026, 12, 9, 10, 0, 0, 0, madrid); !got.Equal(want) {
		t.Fatalf("the saved calendar gives %v, want %v", got, want)
	}
	// Reasons.
	if r := w.AdminC.Post("/admin/task-reasons", url.Values{"name": {""}, "sla_hours": {"-2"}, "manager_kind": {"user"}, "applies_in": {"perdida"}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, `id="e-name"`) || !strings.Contains(r.Body, `id="e-sla_hours"`) || !strings.Contains(r.Body, `id="e-manager_user_id"`) {
		t.Fatalf("bad reason: %d", r.Status)
	}
	if r := w.AdminC.Post("/admin/task-reasons", url.Values{"name": {"Visita técnica"}, "sla_hours": {"1,5"}, "sla_kind": {"calendar"},
		"manager_kind": {"role"}, "manager_role": {"manager"}, "applies_in": {"oferta_presentada", "en_negociacion"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reason: %d %.300s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM task_reasons WHERE name = 'Visita técnica' AND sla_minutes = 90 AND NOT sla_business AND manager_role = 'manager' AND applies_in = '{oferta_presentada,en_negociacion}'`); n != 1 {
		t.Fatal("reason not saved as typed")
	}
	contains(t, w.AdminC.Get("/admin/task-reasons").Body, "Visita técnica", "1,5 h naturales")
	if r := w.AdminC.Post("/admin/task-reasons", url.Values{"name": {"Visita técnica"}, "manager_kind": {"assignee"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate reason: %d", r.Status)
	}
}

// A breach found long after its deadline (after downtime) alerts without
// the urgency of a toast.
func TestLateFoundBreachIsAWarning(t *testing.T) {
	w := newWorld(t)
	w.Env.Exec(`INSERT INTO tasks (org_id, title, type, due_at, assignee_id, sla_deadline) VALUES ($1, 'Antigua', 'llamada', now(), $2, now() - interval '3 hours')`, w.Org.ID, w.Rep2.ID)
	if n, err := tasks.SweepBreaches(context.Background(), w.Env.DB, w.Env.Deps.Jobs, time.Now()); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM alerts WHERE title = 'Antigua' AND severity = 'warning'`); n != 1 {
		t.Fatal("a late-found breach is not a warning")
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND args->>'severity' = 'warning'`); n != 1 {
		t.Fatal("no warning notification")
	}
}

// The month view is whole weeks around the month, Monday first; day and
// week views show one and seven days.
func TestAgendaViews(t *testing.T) {
	w := newWorld(t)
	w.Env.Exec(`INSERT INTO tasks (org_id, title, type, due_at, assignee_id) VALUES ($1, 'Feria de febrero', 'visita', '2026-02-10 10:00+01', $2)`, w.Org.ID, w.Rep.ID)
	month := w.RepC.Get("/agenda?view=month&day=2026-02-10").Body
	if n := strings.Count(month, `class="agenda-day"`); n != 35 {
		t.Errorf("February 2026 shows %d days, want 35 (26 Jan to 1 Mar)", n)
	}
	contains(t, month, `data-day="2026-01-26"`, `data-day="2026-03-01"`, "Feria de febrero", "data-outside", "day=2026-01-01&amp;view=month", "day=2026-03-01&amp;view=month")
	if n := strings.Count(w.RepC.Get("/agenda?view=week&day=2026-02-10").Body, `class="agenda-day"`); n != 7 {
		t.Errorf("week shows %d days", n)
	}
	day := w.RepC.Get("/agenda?view=day&day=2026-02-10").Body
	if n := strings.Count(day, `class="agenda-day"`); n != 1 || !strings.Contains(day, "Feria de febrero") {
		t.Errorf("day shows %d days", n)
	}
	if r := w.RepC.Get("/agenda?day=10-02-2026"); r.Status != http.StatusNotFound {
		t.Errorf("bad day: %d", r.Status)
	}
}

// A reason for some stages is offered, and accepted, only for deals in them.
func TestReasonsFollowTheDealsStage(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	offer, err := w.Env.Q.CreateTaskReason(ctx, queries.CreateTaskReasonParams{OrgID: w.Org.ID, Name: "Defender la oferta",
		AppliesIn: []string{"oferta_presentada"}, ManagerKind: "assignee"})
	if err != nil {
		t.Fatal(err)
	}
	w.reason(t, "General", nil, true, "assignee", nil)
	o, err := w.Env.Q.CreateOpportunityFull(ctx, queries.CreateOpportunityFullParams{OrgID: w.Org.ID, CustomerID: w.customer,
		Title: "Vinos", Probability: 10, OwnerID: &w.Rep.ID, CreatedBy: &w.Rep.ID})
	if err != nil {
		t.Fatal(err)
	}
	form := w.RepC.Get(fmt.Sprintf("/tasks/new?opportunity_id=%d", o.ID)).Body
	if strings.Contains(form, "Defender la oferta") || !strings.Contains(form, "General") {
		t.Error("a deal in analysis is offered the offer stage's reason, or not the general one")
	}
	post := url.Values{"title": {"Llamar"}, "type": {"llamada"}, "due_at": {"2026-12-01T10:00"}, "assignee_id": {fmt.Sprint(w.Rep.ID)},
		"opportunity_id": {fmt.Sprint(o.ID)}, "reason_id": {fmt.Sprint(offer.ID)}}
	if r := w.RepC.Post("/tasks", post); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "no se usa en la fase") {
		t.Fatalf("reason outside its stage: %d", r.Status)
	}
	w.Env.Exec(`UPDATE opportunities SET stage = 'oferta_presentada' WHERE id = $1`, o.ID)
	if !strings.Contains(w.RepC.Get(fmt.Sprintf("/tasks/new?opportunity_id=%d", o.ID)).Body, "Defender la oferta") {
		t.Error("the offer stage's reason is not offered in that stage")
	}
	post.Del("_csrf")
	w.create(t, w.RepC, post)
}
