package tasksweb

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/calendar"
	"pulso/app/ident"
	"pulso/app/tasks"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	tasksview "pulso/views/tasks"
)

var (
	calendarPage = web.Page{Title: "calendar.title", Nav: "calendar"}
	reasonsPage  = web.Page{Title: "reasons.title", Nav: "task_reasons"}
	rulesPage    = web.Page{Title: "task_rules.title", Nav: "task_rules"}
)

// CalendarAdmin is /admin/calendar: working hours and holidays.
func (h *Handler) CalendarAdmin(c *fiber.Ctx) error {
	return h.renderCalendar(c, fiber.StatusOK, "", nil, nil, c.Query("saved") == "1")
}

func (h *Handler) renderCalendar(c *fiber.Ctx, status int, hours string, values, errs map[string]string, saved bool) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	if hours == "" {
		hours = calendar.DefaultHours
		if bc, err := h.Q.GetBusinessCalendar(ctx, p.OrgID); err == nil {
			hours = bc.Hours
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	v := tasksview.CalendarPage{Hours: hours, Values: values, Errors: errs, Saved: saved}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	if v.Values == nil {
		v.Values = map[string]string{}
	}
	hs, err := h.Q.ListHolidays(ctx, queries.ListHolidaysParams{OrgID: p.OrgID, FromDay: calendar.Date(time.Now().AddDate(-1, 0, 0))})
	if err != nil {
		return err
	}
	for _, d := range hs {
		v.Holidays = append(v.Holidays, tasksview.Holiday{Day: d.Day.Time.Format("2006-01-02"), Label: d.Day.Time.Format("02/01/2006"), Name: d.Name})
	}
	return web.Render(c, status, calendarPage, tasksview.CalendarAdmin(v))
}

// SaveCalendar stores the working hours if they parse; the message says
// what is wrong otherwise (in the admin's language for the known cases).
func (h *Handler) SaveCalendar(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	hours := strings.TrimSpace(c.FormValue("hours"))
	week, err := calendar.Parse(hours)
	if err != nil || len(hours) > 500 {
		msg := web.Translate(c, "calendar.hours_invalid")
		if err != nil {
			msg += " (" + strings.TrimPrefix(err.Error(), "calendar: working hours: ") + ")"
		}
		return h.renderCalendar(c, fiber.StatusUnprocessableEntity, hours, nil, map[string]string{"hours": msg}, false)
	}
	// Stored as written back, so the page shows one canonical form.
	if err := h.Q.SaveBusinessCalendar(c.UserContext(), queries.SaveBusinessCalendarParams{OrgID: p.OrgID, Hours: week.String()}); err != nil {
		return err
	}
	return web.Redirect(c, "/admin/calendar?saved=1")
}

// AddHoliday adds a day off.
func (h *Handler) AddHoliday(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	values := map[string]string{"day": c.FormValue("day"), "name": strings.TrimSpace(c.FormValue("name"))}
	errs := map[string]string{}
	d, err := time.Parse("2006-01-02", values["day"])
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		errs["day"] = "tasks.due_invalid"
	}
	if len([]rune(values["name"])) > 120 || !ident.CleanText(values["name"]) || strings.ContainsAny(values["name"], "\n\t") {
		errs["name"] = "validation.bad_chars"
	}
	if len(errs) == 0 {
		n, err := h.Q.AddHoliday(c.UserContext(), queries.AddHolidayParams{OrgID: p.OrgID, Day: calendar.Date(d), Name: values["name"]})
		if err != nil {
			return err
		}
		if n == 0 {
			errs["day"] = "calendar.holiday_exists"
		}
	}
	if len(errs) > 0 {
		return h.renderCalendar(c, fiber.StatusUnprocessableEntity, "", values, errs, false)
	}
	return web.Redirect(c, "/admin/calendar#holidays")
}

// DeleteHoliday removes a day off.
func (h *Handler) DeleteHoliday(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	d, err := time.Parse("2006-01-02", c.FormValue("day"))
	if err != nil {
		return web.ErrNotFound
	}
	n, err := h.Q.DeleteHoliday(c.UserContext(), queries.DeleteHolidayParams{OrgID: p.OrgID, Day: calendar.Date(d)})
	if err != nil {
		return err
	}
	if n == 0 {
		return web.ErrNotFound
	}
	return web.Redirect(c, "/admin/calendar#holidays")
}

// Reasons is /admin/task-reasons.
func (h *Handler) Reasons(c *fiber.Ctx) error {
	return h.renderReasons(c, fiber.StatusOK, map[string]string{"sla_kind": "business", "manager_kind": "assignee"}, nil, nil)
}

func (h *Handler) users(c *fiber.Ctx) ([]components.SelectOption, error) {
	return h.assignees(c.UserContext(), web.MustPrincipal(c), nil)
}

func (h *Handler) renderReasons(c *fiber.Ctx, status int, values map[string]string, checked map[string]bool, errs map[string]string) error {
	p := web.MustPrincipal(c)
	rs, err := h.Q.ListTaskReasons(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	users, err := h.users(c)
	if err != nil {
		return err
	}
	v := tasksview.ReasonsPage{Users: users, Values: values, Checked: checked, Errors: errs}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	for _, r := range rs {
		row := tasksview.Reason{ID: r.ID, Name: r.Name, AppliesIn: r.AppliesIn, Business: r.SlaBusiness, Active: r.Active}
		if r.SlaMinutes != nil {
			kind := web.Translate(c, "reasons.business_short")
			if !r.SlaBusiness {
				kind = web.Translate(c, "reasons.calendar_short")
			}
			row.SLA = fmt.Sprintf("%s %s", hoursText(int(*r.SlaMinutes)), kind)
		}
		switch r.ManagerKind {
		case "user":
			row.Manager = r.ManagerUserName
		case "role":
			row.Manager = web.Translate(c, "role."+*r.ManagerRole)
		default:
			row.Manager = web.Translate(c, "reasons.manager.assignee")
		}
		v.Reasons = append(v.Reasons, row)
	}
	return web.Render(c, status, reasonsPage, tasksview.ReasonsAdmin(v))
}

// hoursText writes minutes as hours: "8 h", "1,5 h", "45 min".
func hoursText(min int) string {
	switch {
	case min < 60:
		return fmt.Sprintf("%d min", min)
	case min%60 == 0:
		return fmt.Sprintf("%d h", min/60)
	}
	return strings.Replace(strconv.FormatFloat(float64(min)/60, 'f', -1, 64), ".", ",", 1) + " h"
}

// parseHours reads "8", "1,5", "1.5" or "0,25" hours into whole minutes.
func parseHours(s string) (int, bool) {
	s = strings.Replace(strings.TrimSpace(s), ",", ".", 1)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 8760 {
		return 0, false
	}
	min := int(f*60 + 0.5)
	return min, min >= 1
}

// CreateReason adds a task reason.
func (h *Handler) CreateReason(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	values := map[string]string{}
	for _, k := range []string{"name", "sla_hours", "sla_kind", "manager_kind", "manager_user_id", "manager_role"} {
		values[k] = strings.TrimSpace(c.FormValue(k))
	}
	checked := map[string]bool{}
	errs := map[string]string{}
	params := queries.CreateTaskReasonParams{OrgID: p.OrgID, Name: values["name"], AppliesIn: []string{}, SlaBusiness: values["sla_kind"] != "calendar",
		ManagerKind: values["manager_kind"]}
	for _, s := range c.Context().PostArgs().PeekMulti("applies_in") {
		st := string(s)
		if !contains(tasksview.Stages, st) {
			errs["applies_in"] = "validation.choice"
			continue
		}
		checked[st] = true
		params.AppliesIn = append(params.AppliesIn, st)
	}
	switch {
	case params.Name == "":
		errs["name"] = "validation.required"
	case len([]rune(params.Name)) > 120 || !ident.CleanText(params.Name) || strings.ContainsAny(params.Name, "\n\t"):
		errs["name"] = "validation.bad_chars"
	}
	if values["sla_hours"] != "" {
		min, ok := parseHours(values["sla_hours"])
		if !ok {
			errs["sla_hours"] = "reasons.sla_invalid"
		} else {
			m := int32(min)
			params.SlaMinutes = &m
		}
	}
	switch params.ManagerKind {
	case "assignee":
	case "user":
		id, err := strconv.ParseInt(values["manager_user_id"], 10, 64)
		if err != nil || id <= 0 {
			errs["manager_user_id"] = "validation.required"
		} else if ok, err := h.Q.IsActiveLeadOwner(c.UserContext(), queries.IsActiveLeadOwnerParams{OrgID: p.OrgID, ID: id}); err != nil {
			return err
		} else if !ok {
			errs["manager_user_id"] = "validation.choice"
		} else {
			params.ManagerUserID = &id
		}
	case "role":
		if !contains([]string{"admin", "manager", "rep", "accountant"}, values["manager_role"]) {
			errs["manager_role"] = "validation.required"
		} else {
			r := values["manager_role"]
			params.ManagerRole = &r
		}
	default:
		errs["manager_kind"] = "validation.choice"
	}
	if len(errs) == 0 {
		_, err := h.Q.CreateTaskReason(c.UserContext(), params)
		if errors.Is(err, pgx.ErrNoRows) {
			errs["name"] = "reasons.exists"
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return h.renderReasons(c, fiber.StatusUnprocessableEntity, values, checked, errs)
	}
	return web.Redirect(c, "/admin/task-reasons")
}

// ToggleReason retires a reason or brings it back.
func (h *Handler) ToggleReason(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	id, err := web.ID(c)
	if err != nil {
		return err
	}
	n, err := h.Q.ToggleTaskReason(c.UserContext(), queries.ToggleTaskReasonParams{OrgID: p.OrgID, ID: id})
	if err != nil {
		return err
	}
	if n == 0 {
		return web.ErrNotFound
	}
	return web.Redirect(c, "/admin/task-reasons")
}

// Rules is /admin/task-rules.
func (h *Handler) Rules(c *fiber.Ctx) error {
	return h.renderRules(c, fiber.StatusOK, map[string]string{"due_hours": "24", "task_type": "llamada"}, nil)
}

func (h *Handler) renderRules(c *fiber.Ctx, status int, values, errs map[string]string) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	rules, err := h.Q.ListTaskRules(ctx, p.OrgID)
	if err != nil {
		return err
	}
	reasons, err := h.Q.ListTaskReasons(ctx, p.OrgID)
	if err != nil {
		return err
	}
	v := tasksview.RulesPage{Values: values, Errors: errs}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	for _, r := range reasons {
		if r.Active {
			v.Reasons = append(v.Reasons, components.SelectOption{Value: itoa(r.ID), Label: r.Name, Raw: true})
		}
	}
	for _, r := range rules {
		row := tasksview.Rule{ID: r.ID, Event: r.Event, Reason: r.ReasonName, Title: r.Title, Type: r.TaskType,
			DueHours: strconv.Itoa(int(r.DueHours)), Active: r.Active}
		if r.Stage != nil {
			row.Stage = *r.Stage
		}
		if r.WaitDays != nil {
			row.WaitDays = strconv.Itoa(int(*r.WaitDays))
		}
		v.Rules = append(v.Rules, row)
	}
	return web.Render(c, status, rulesPage, tasksview.RulesAdmin(v))
}

// CreateRule adds an automatic-task rule.
func (h *Handler) CreateRule(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	values := map[string]string{}
	for _, k := range []string{"event", "stage", "wait_days", "reason_id", "title", "task_type", "due_hours"} {
		values[k] = strings.TrimSpace(c.FormValue(k))
	}
	errs := map[string]string{}
	params := queries.CreateTaskRuleParams{OrgID: p.OrgID, Event: values["event"], Title: values["title"], TaskType: values["task_type"]}
	if !contains([]string{"stage_entered", "lead_assigned", "quote_sent", "quote_unanswered", "quote_signed"}, params.Event) {
		errs["event"] = "validation.choice"
	}
	if params.Event == "stage_entered" {
		if !contains(tasksview.Stages, values["stage"]) {
			errs["stage"] = "validation.required"
		} else {
			s := values["stage"]
			params.Stage = &s
		}
	}
	if params.Event == "quote_unanswered" {
		if n, err := strconv.Atoi(values["wait_days"]); err != nil || n < 1 || n > 365 {
			errs["wait_days"] = "task_rules.wait_invalid"
		} else {
			w := int32(n)
			params.WaitDays = &w
		}
	}
	if id, err := strconv.ParseInt(values["reason_id"], 10, 64); err != nil || id <= 0 {
		errs["reason_id"] = "validation.required"
	} else if r, err := h.Q.GetTaskReason(c.UserContext(), queries.GetTaskReasonParams{OrgID: p.OrgID, ID: id}); err != nil || !r.Active {
		errs["reason_id"] = "validation.choice"
	} else {
		params.ReasonID = id
	}
	switch {
	case params.Title == "":
		errs["title"] = "validation.required"
	case len([]rune(params.Title)) > 200 || !ident.CleanText(params.Title) || strings.ContainsAny(params.Title, "\n\t"):
		errs["title"] = "validation.bad_chars"
	}
	if !contains(tasks.Types, params.TaskType) {
		errs["task_type"] = "validation.choice"
	}
	if n, err := strconv.Atoi(values["due_hours"]); err != nil || n < 0 || n > 8760 {
		errs["due_hours"] = "task_rules.due_invalid"
	} else {
		params.DueHours = int32(n)
	}
	if len(errs) > 0 {
		return h.renderRules(c, fiber.StatusUnprocessableEntity, values, errs)
	}
	if _, err := h.Q.CreateTaskRule(c.UserContext(), params); err != nil {
		return err
	}
	return web.Redirect(c, "/admin/task-rules")
}

// ToggleRule pauses a rule or starts it again.
func (h *Handler) ToggleRule(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	id, err := web.ID(c)
	if err != nil {
		return err
	}
	n, err := h.Q.ToggleTaskRule(c.UserContext(), queries.ToggleTaskRuleParams{OrgID: p.OrgID, ID: id})
	if err != nil {
		return err
	}
	if n == 0 {
		return web.ErrNotFound
	}
	return web.Redirect(c, "/admin/task-rules")
}
