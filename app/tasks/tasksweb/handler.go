package tasksweb

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/ident"
	"pulso/app/live"
	"pulso/app/tasks"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	tasksview "pulso/views/tasks"
)

// Handler serves /tasks, /my-day, /alerts, /agenda and the task admin pages.
type Handler struct{ web.Deps }

// NewHandler builds the task handlers.
func NewHandler(d web.Deps) *Handler { return &Handler{d} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var errConflict = errors.New("tasks: changed meanwhile")

const pageSize = 25

// timeText formats an instant as the org reads it.
func timeText(t time.Time, loc *time.Location) string { return t.In(loc).Format("02/01/2006 15:04") }

// assignees are the people the viewer may give tasks to or filter by: reps
// themselves, managers their team, admins everyone.
func (h *Handler) assignees(ctx context.Context, p *web.Principal, sc []int64) ([]components.SelectOption, error) {
	all, err := h.Q.ListLeadOwners(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	var out []components.SelectOption
	for _, u := range all {
		if sc == nil || slices.Contains(sc, u.ID) {
			out = append(out, components.SelectOption{Value: itoa(u.ID), Label: u.Name, Raw: true})
		}
	}
	return out, nil
}

// load returns the :id task if its assignee is in the viewer's scope.
func (h *Handler) load(c *fiber.Ctx) (queries.GetTaskRow, error) {
	t, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.GetTaskRow, error) {
		return h.Q.GetTask(ctx, queries.GetTaskParams{OrgID: org, ID: id})
	}, func(t queries.GetTaskRow) *int64 { return &t.AssigneeID })
	return t, err
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

var listPage = web.Page{Title: "tasks.title", Nav: "tasks", Fragment: "tasks-results"}

// List is /tasks: the viewer's scope, filtered by status, type, assignee and
// "¿Cumple SLA?", newest first.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	f := tasksview.Filters{Status: c.Query("status"), Type: c.Query("type"), Assignee: c.Query("assignee"), SLA: c.Query("sla")}
	params := queries.ListTasksParams{OrgID: p.OrgID, AssigneeScope: sc, PageSize: pageSize + 1}
	q := url.Values{}
	if slices.Contains([]string{"pendiente", "hecha", "cancelada"}, f.Status) {
		params.Status = &f.Status
		q.Set("status", f.Status)
	}
	if slices.Contains(tasksview.Types, f.Type) {
		params.Type = &f.Type
		q.Set("type", f.Type)
	}
	if slices.Contains(tasksview.SLAValues, f.SLA) {
		params.Sla = &f.SLA
		q.Set("sla", f.SLA)
	}
	if id, err := strconv.ParseInt(f.Assignee, 10, 64); err == nil && id > 0 {
		params.AssigneeID = &id
		q.Set("assignee", f.Assignee)
	}
	// A customer's tasks (its page's tab): only within the viewer's scope,
	// like every list.
	if id, err := strconv.ParseInt(c.Query("customer"), 10, 64); err == nil && id > 0 {
		params.CustomerID = &id
		q.Set("customer", c.Query("customer"))
	}
	if b := c.QueryInt("before"); b > 0 {
		before := int64(b)
		params.BeforeID = &before
	}
	rows, err := h.Q.ListTasks(ctx, params)
	if err != nil {
		return err
	}
	assignees, err := h.assignees(ctx, p, sc)
	if err != nil {
		return err
	}
	loc := p.Location()
	v := tasksview.ListPage{Filters: f, Assignees: assignees, SelfURL: "/tasks?" + q.Encode()}
	now := time.Now()
	for i, r := range rows {
		if i == pageSize {
			q.Set("before", itoa(rows[pageSize-1].ID))
			v.MoreURL = "/tasks?" + q.Encode()
			break
		}
		v.Rows = append(v.Rows, tasksview.Row{ID: r.ID, Version: r.Version, Title: r.Title, Type: r.Type, Due: timeText(r.DueAt, loc),
			Status: r.Status, SLA: r.Sla, Assignee: r.AssigneeName, Reason: r.ReasonName, Customer: r.CustomerName,
			CustomerID: deref(r.CustomerID), OpportunityID: deref(r.OpportunityID), LeadID: deref(r.LeadID),
			Overdue: r.Status == "pendiente" && r.DueAt.Before(now)})
	}
	return web.Render(c, fiber.StatusOK, listPage, tasksview.List(v))
}

var dayPage = web.Page{Title: "tasks.my_day", Nav: "my_day", Fragment: "my-day"}

// MyDay is the rep's phone home: their open tasks that are overdue, due
// today, and due in the next week, each done with one tap.
func (h *Handler) MyDay(c *fiber.Ctx) error {
	v, err := h.day(c)
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, dayPage, tasksview.MyDay(v))
}

// DayComponent is My day's list for the home page.
func (h *Handler) DayComponent(c *fiber.Ctx) (templ.Component, error) {
	v, err := h.day(c)
	if err != nil {
		return nil, err
	}
	return tasksview.Day(v), nil
}

func (h *Handler) day(c *fiber.Ctx) (tasksview.DayPage, error) {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	loc := p.Location()
	now := time.Now().In(loc)
	startOfDay := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	tomorrow := startOfDay.AddDate(0, 0, 1)
	rows, err := h.Q.ListOpenTasksDue(ctx, queries.ListOpenTasksDueParams{OrgID: p.OrgID, AssigneeID: p.UserID, Until: startOfDay.AddDate(0, 0, 8)})
	if err != nil {
		return tasksview.DayPage{}, err
	}
	var v tasksview.DayPage
	for _, r := range rows {
		row := tasksview.Row{ID: r.ID, Version: r.Version, Title: r.Title, Type: r.Type, Due: timeText(r.DueAt, loc), Status: r.Status,
			SLA: r.Sla, Reason: r.ReasonName, Customer: r.CustomerName, CustomerID: deref(r.CustomerID),
			OpportunityID: deref(r.OpportunityID), LeadID: deref(r.LeadID), Overdue: r.DueAt.Before(now)}
		switch {
		case r.DueAt.Before(startOfDay) || (r.DueAt.Before(now) && r.Sla == "no_cumple"):
			v.Overdue = append(v.Overdue, row)
		case r.DueAt.Before(tomorrow):
			row.Due = r.DueAt.In(loc).Format("15:04")
			v.Today = append(v.Today, row)
		default:
			v.Upcoming = append(v.Upcoming, row)
		}
	}
	done, err := h.Q.ListTasksDoneSince(ctx, queries.ListTasksDoneSinceParams{OrgID: p.OrgID, AssigneeID: p.UserID, Since: &startOfDay})
	if err != nil {
		return v, err
	}
	for _, d := range done {
		v.DoneToday = append(v.DoneToday, tasksview.Row{ID: d.ID, Title: d.Title, Status: "hecha"})
	}
	return v, nil
}

// Show is one task: its facts, complete, reschedule, cancel, follow up.
func (h *Handler) Show(c *fiber.Ctx) error {
	t, err := h.load(c)
	if err != nil {
		return err
	}
	return h.renderShow(c, fiber.StatusOK, t, nil, false)
}

func (h *Handler) renderShow(c *fiber.Ctx, status int, t queries.GetTaskRow, errs map[string]string, conflict bool) error {
	p := web.MustPrincipal(c)
	loc := p.Location()
	v := tasksview.ShowPage{Row: tasksview.Row{ID: t.ID, Version: t.Version, Title: t.Title, Type: t.Type, Due: timeText(t.DueAt, loc),
		Status: t.Status, SLA: t.Sla, Assignee: t.AssigneeName, Reason: t.ReasonName, Customer: t.CustomerName,
		CustomerID: deref(t.CustomerID), OpportunityID: deref(t.OpportunityID), LeadID: deref(t.LeadID)},
		ManagedBy: t.ManagedByName, ResultNote: t.ResultNote, OpportunityTtl: t.OpportunityTitle, LeadName: t.LeadName,
		DueInput: t.DueAt.In(loc).Format("2006-01-02T15:04"), Errors: errs, Conflict: conflict}
	if t.ManagedByRole != nil {
		v.ManagedBy = web.Translate(c, "role."+*t.ManagedByRole)
	}
	if t.SlaDeadline != nil {
		v.SLADeadline = timeText(*t.SlaDeadline, loc)
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	return web.Render(c, status, web.Page{Title: "tasks.title", Nav: "tasks"}, tasksview.Show(v))
}

// change runs a version-checked status or date change and publishes it.
func (h *Handler) change(c *fiber.Ctx, t queries.GetTaskRow, fn func(ctx context.Context, q *queries.Queries, version int32) (queries.Task, error)) (queries.Task, error) {
	version, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("version")), 10, 32)
	if err != nil || version <= 0 {
		return queries.Task{}, errConflict
	}
	var saved queries.Task
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		var err error
		saved, err = fn(ctx, q, int32(version))
		if errors.Is(err, pgx.ErrNoRows) {
			return errConflict
		}
		if err != nil {
			return err
		}
		return tasks.Publish(ctx, q, saved, "updated")
	})
	return saved, err
}

// Complete marks a task done with an optional result note: from My day
// (htmx: the row turns into a "done" row with a follow-up link) or its page.
func (h *Handler) Complete(c *fiber.Ctx) error {
	t, err := h.load(c)
	if err != nil {
		return err
	}
	note := strings.TrimSpace(c.FormValue("result_note"))
	if len(note) > 2000 || !ident.CleanText(note) {
		return h.renderShow(c, fiber.StatusUnprocessableEntity, t, map[string]string{"result_note": "validation.bad_chars"}, false)
	}
	p := web.MustPrincipal(c)
	saved, err := h.change(c, t, func(ctx context.Context, q *queries.Queries, v int32) (queries.Task, error) {
		return q.CompleteTask(ctx, queries.CompleteTaskParams{OrgID: p.OrgID, ID: t.ID, Version: v, ResultNote: note})
	})
	if errors.Is(err, errConflict) {
		cur, _ := h.load(c)
		return h.renderShow(c, fiber.StatusConflict, cur, nil, true)
	}
	if err != nil {
		return err
	}
	if web.IsPartial(c) {
		return web.Render(c, fiber.StatusOK, web.Page{Title: "tasks.my_day", Nav: "my_day"}, tasksview.Done(tasksview.Row{ID: saved.ID, Title: saved.Title}))
	}
	web.Flash(c, "success", "tasks.done_flash")
	return web.Redirect(c, "/tasks/"+itoa(t.ID))
}

// Cancel drops a task (it no longer counts for the SLA).
func (h *Handler) Cancel(c *fiber.Ctx) error {
	t, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	_, err = h.change(c, t, func(ctx context.Context, q *queries.Queries, v int32) (queries.Task, error) {
		return q.CancelTask(ctx, queries.CancelTaskParams{OrgID: p.OrgID, ID: t.ID, Version: v, ResultNote: t.ResultNote})
	})
	if errors.Is(err, errConflict) {
		cur, _ := h.load(c)
		return h.renderShow(c, fiber.StatusConflict, cur, nil, true)
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/tasks/"+itoa(t.ID))
}

// Reschedule moves a task's due time: the page's field (a local date and
// time) or the agenda's drag (a day; the time of day is kept).
func (h *Handler) Reschedule(c *fiber.Ctx) error {
	t, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	loc := p.Location()
	var due time.Time
	if day := c.FormValue("day"); day != "" {
		d, err := time.ParseInLocation("2006-01-02", day, loc)
		if err != nil {
			return h.renderShow(c, fiber.StatusUnprocessableEntity, t, map[string]string{"due_at": "tasks.due_invalid"}, false)
		}
		old := t.DueAt.In(loc)
		due = time.Date(d.Year(), d.Month(), d.Day(), old.Hour(), old.Minute(), 0, 0, loc)
	} else {
		d, err := time.ParseInLocation("2006-01-02T15:04", c.FormValue("due_at"), loc)
		if err != nil || d.Year() < 2000 || d.Year() > 2100 {
			return h.renderShow(c, fiber.StatusUnprocessableEntity, t, map[string]string{"due_at": "tasks.due_invalid"}, false)
		}
		due = d
	}
	_, err = h.change(c, t, func(ctx context.Context, q *queries.Queries, v int32) (queries.Task, error) {
		return q.RescheduleTask(ctx, queries.RescheduleTaskParams{OrgID: p.OrgID, ID: t.ID, Version: v, DueAt: due})
	})
	if errors.Is(err, errConflict) {
		if web.IsPartial(c) {
			c.Set(web.HXTrigger, "pulso:tasks")
			return c.SendStatus(fiber.StatusConflict)
		}
		cur, _ := h.load(c)
		return h.renderShow(c, fiber.StatusConflict, cur, nil, true)
	}
	if err != nil {
		return err
	}
	if web.IsPartial(c) {
		return c.SendStatus(fiber.StatusNoContent)
	}
	return web.Redirect(c, "/tasks/"+itoa(t.ID))
}
