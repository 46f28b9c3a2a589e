package tasksweb

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/web"
	"pulso/queries"
	tasksview "pulso/views/tasks"
)

var alertsPage = web.Page{Title: "alerts.title", Nav: "alerts"}

// alertKinds are the alert centre's kinds (the alerts table's check).
var alertKinds = []string{"task_sla", "opportunity_idle", "target_behind", "target_reached", "voucher_quota"}

// Alerts is the alert centre: the viewer's alerts (SLA breaches, idle
// deals), filtered by kind, severity and read state, each linking to its
// object.
func (h *Handler) Alerts(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	params := queries.ListAlertsParams{OrgID: p.OrgID, UserID: p.UserID, PageSize: pageSize + 1}
	v := tasksview.AlertsPage{Kind: c.Query("kind"), Severity: c.Query("severity"), Unread: c.Query("unread")}
	q := url.Values{}
	if slices.Contains(alertKinds, v.Kind) {
		params.Kind = &v.Kind
		q.Set("kind", v.Kind)
	}
	if slices.Contains([]string{"info", "warning", "urgent"}, v.Severity) {
		params.Severity = &v.Severity
		q.Set("severity", v.Severity)
	}
	if v.Unread == "1" || v.Unread == "0" {
		unread := v.Unread == "1"
		params.Unread = &unread
		q.Set("unread", v.Unread)
	}
	if id, err := strconv.ParseInt(c.Query("user"), 10, 64); err == nil && id > 0 {
		params.SubjectUserID = &id
		v.User = c.Query("user")
		q.Set("user", v.User)
	}
	if b, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && b > 0 {
		params.BeforeID = &b
	}
	sc, err := web.Scope(c.UserContext(), h.Q, p)
	if err != nil {
		return err
	}
	if v.Users, err = h.assignees(c.UserContext(), p, sc); err != nil {
		return err
	}
	rows, err := h.Q.ListAlerts(c.UserContext(), params)
	if err != nil {
		return err
	}
	v.SelfURL = "/alerts?" + q.Encode()
	loc := p.Location()
	for i, a := range rows {
		if i == pageSize {
			q.Set("before", itoa(rows[pageSize-1].ID))
			v.MoreURL = "/alerts?" + q.Encode()
			break
		}
		link := fmt.Sprintf("/tasks/%d", a.ObjectID)
		switch a.ObjectType {
		case "opportunity":
			link = fmt.Sprintf("/opportunities/%d", a.ObjectID)
		case "sales_target":
			link = "/targets"
		}
		v.Alerts = append(v.Alerts, tasksview.Alert{ID: a.ID, Kind: a.Kind, Severity: a.Severity, Title: a.Title, Link: link,
			At: timeText(a.CreatedAt, loc), Read: a.ReadAt != nil})
	}
	return web.Render(c, fiber.StatusOK, alertsPage, tasksview.Alerts(v))
}

// ReadAlert marks one of the viewer's alerts read; anyone else's is 404.
func (h *Handler) ReadAlert(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	id, err := web.ID(c)
	if err != nil {
		return err
	}
	if _, err := h.Q.GetAlert(c.UserContext(), queries.GetAlertParams{OrgID: p.OrgID, UserID: p.UserID, ID: id}); err != nil {
		return err
	}
	if _, err := h.Q.MarkAlertRead(c.UserContext(), queries.MarkAlertReadParams{OrgID: p.OrgID, UserID: p.UserID, ID: id}); err != nil {
		return err
	}
	return web.Redirect(c, "/alerts")
}

// ReadAllAlerts marks every alert of the viewer read.
func (h *Handler) ReadAllAlerts(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	if _, err := h.Q.MarkAllAlertsRead(c.UserContext(), queries.MarkAllAlertsReadParams{OrgID: p.OrgID, UserID: p.UserID}); err != nil {
		return err
	}
	return web.Redirect(c, "/alerts")
}

// RegisterLive renders task events: a new stamp for #tasks-live, which makes
// each open task view of the audience reload its own content.
func RegisterLive(h *hub.Hub) {
	h.Handle(live.TopicTask, hub.Topic{Render: func(ctx context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		return fmt.Appendf(nil, `<span id="tasks-live" hidden hx-swap-oob="true" data-stamp="%d-%d"></span>`, ev.ID, deref(ev.EntityID)), nil
	}})
}
