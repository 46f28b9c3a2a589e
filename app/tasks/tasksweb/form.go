package tasksweb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

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

var formPage = web.Page{Title: "tasks.new", Nav: "tasks", Fragment: "task-form"}

var formKeys = []string{"title", "type", "due_at", "reason_id", "assignee_id", "managed_by_id", "lead_id", "customer_id", "opportunity_id"}

// NewForm is the task form. ?follow=ID prefills a follow-up of a task (same
// customer, deal and lead, due tomorrow at ten); ?customer_id= and
// ?opportunity_id= prefill what it is about. Changing the reason reloads
// the form (htmx) so "Gestionado por" shows what the reason decides.
func (h *Handler) NewForm(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	loc := p.Location()
	now := time.Now().In(loc)
	v := map[string]string{"type": "llamada", "assignee_id": itoa(p.UserID),
		"due_at": time.Date(now.Year(), now.Month(), now.Day()+1, 10, 0, 0, 0, loc).Format("2006-01-02T15:04")}
	for _, k := range formKeys {
		if s := c.Query(k); s != "" {
			v[k] = s
		}
	}
	if id, err := strconv.ParseInt(c.Query("follow"), 10, 64); err == nil && id > 0 {
		t, err := h.Q.GetTask(c.UserContext(), queries.GetTaskParams{OrgID: p.OrgID, ID: id})
		if err == nil {
			sc, err := web.Scope(c.UserContext(), h.Q, p)
			if err != nil {
				return err
			}
			if web.InScope(sc, &t.AssigneeID) {
				v["title"] = web.Translate(c, "tasks.follow_up_prefix") + " " + t.Title
				v["type"] = t.Type
				for k, id := range map[string]*int64{"lead_id": t.LeadID, "customer_id": t.CustomerID, "opportunity_id": t.OpportunityID} {
					if id != nil {
						v[k] = itoa(*id)
					}
				}
			}
		}
	}
	return h.renderForm(c, fiber.StatusOK, v, nil)
}

func (h *Handler) renderForm(c *fiber.Ctx, status int, v, errs map[string]string) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	f := tasksview.FormPage{Values: v, Errors: errs}
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if f.Assignees, err = h.assignees(ctx, p, sc); err != nil {
		return err
	}
	reasons, err := h.Q.ListTaskReasons(ctx, p.OrgID)
	if err != nil {
		return err
	}
	stage := h.opportunityStage(ctx, p.OrgID, v["opportunity_id"])
	for _, r := range reasons {
		if !r.Active || !appliesIn(r.AppliesIn, stage) {
			continue
		}
		f.Reasons = append(f.Reasons, components.SelectOption{Value: itoa(r.ID), Label: r.Name, Raw: true})
		if v["reason_id"] == itoa(r.ID) {
			switch r.ManagerKind {
			case "user":
				f.ManagedFixed = r.ManagerUserName
			case "role":
				f.ManagedFixed = web.Translate(c, "role."+*r.ManagerRole)
			}
		}
	}
	if id, err := strconv.ParseInt(v["customer_id"], 10, 64); err == nil && id > 0 {
		if cu, err := h.Q.GetCustomer(ctx, queries.GetCustomerParams{OrgID: p.OrgID, ID: id}); err == nil && web.InScope(sc, cu.OwnerID) {
			f.Related = cu.LegalName
		}
	}
	return web.Render(c, status, formPage, tasksview.Form(f))
}

// Create saves a task made by hand.
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	loc := p.Location()
	v := map[string]string{}
	for _, k := range formKeys {
		v[k] = strings.TrimSpace(c.FormValue(k))
	}
	errs := map[string]string{}
	n := tasks.New{OrgID: p.OrgID, Title: v["title"], Type: v["type"], CreatedBy: &p.UserID}
	switch {
	case n.Title == "":
		errs["title"] = "validation.required"
	case len([]rune(n.Title)) > 200 || !ident.CleanText(n.Title) || strings.ContainsAny(n.Title, "\n\t"):
		errs["title"] = "validation.bad_chars"
	}
	if !contains(tasks.Types, n.Type) {
		errs["type"] = "validation.choice"
	}
	if d, err := time.ParseInLocation("2006-01-02T15:04", v["due_at"], loc); err != nil || d.Year() < 2000 || d.Year() > 2100 {
		errs["due_at"] = "tasks.due_invalid"
	} else {
		n.DueAt = d
	}
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	if id, err := strconv.ParseInt(v["assignee_id"], 10, 64); err == nil && id > 0 && web.InScope(sc, &id) {
		n.AssigneeID = id
		if ok, err := h.Q.IsActiveLeadOwner(ctx, queries.IsActiveLeadOwnerParams{OrgID: p.OrgID, ID: id}); err != nil {
			return err
		} else if !ok {
			errs["assignee_id"] = "validation.choice"
		}
	} else {
		errs["assignee_id"] = "validation.choice"
	}
	if s := v["managed_by_id"]; s != "" {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 && web.InScope(sc, &id) {
			n.ManagedByID = &id
		} else {
			errs["managed_by_id"] = "validation.choice"
		}
	}
	if s := v["reason_id"]; s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			errs["reason_id"] = "validation.choice"
		} else if r, err := h.Q.GetTaskReason(ctx, queries.GetTaskReasonParams{OrgID: p.OrgID, ID: id}); err != nil || !r.Active {
			errs["reason_id"] = "validation.choice"
		} else {
			n.ReasonID = &id
			if !appliesIn(r.AppliesIn, h.opportunityStage(ctx, p.OrgID, v["opportunity_id"])) {
				errs["reason_id"] = "tasks.reason_not_here"
			}
			if r.ManagerKind != "assignee" {
				// The reason decides who manages; whatever the form sent
				// (the field is not shown then) is not used.
				n.ManagedByID = nil
				delete(errs, "managed_by_id")
			}
		}
	}
	// What the task is about must be visible to the creator.
	if err := h.related(ctx, p, sc, v, &n, errs); err != nil {
		return err
	}
	if len(errs) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, v, errs)
	}
	var t queries.Task
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		t, err = tasks.Create(ctx, tx, h.Jobs, n, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	web.Flash(c, "success", "tasks.created")
	if c.Query("back") == "my-day" {
		return web.Redirect(c, "/my-day")
	}
	return web.Redirect(c, fmt.Sprintf("/tasks/%d", t.ID))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// related checks the lead, customer and deal ids the form carries.
func (h *Handler) related(ctx context.Context, p *web.Principal, sc []int64, v map[string]string, n *tasks.New, errs map[string]string) error {
	parse := func(k string) (int64, bool) {
		if v[k] == "" {
			return 0, false
		}
		id, err := strconv.ParseInt(v[k], 10, 64)
		if err != nil || id <= 0 {
			errs[k] = "validation.choice"
			return 0, false
		}
		return id, true
	}
	if id, ok := parse("customer_id"); ok {
		cu, err := h.Q.GetCustomer(ctx, queries.GetCustomerParams{OrgID: p.OrgID, ID: id})
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		if err != nil || !web.InScope(sc, cu.OwnerID) {
			errs["customer_id"] = "validation.choice"
		} else {
			n.CustomerID = &id
		}
	}
	if id, ok := parse("opportunity_id"); ok {
		o, err := h.Q.GetOpportunity(ctx, queries.GetOpportunityParams{OrgID: p.OrgID, ID: id})
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		if err != nil || !web.InScope(sc, o.OwnerID) {
			errs["opportunity_id"] = "validation.choice"
		} else {
			n.OpportunityID = &id
			if n.CustomerID == nil {
				n.CustomerID = &o.CustomerID
			}
		}
	}
	if id, ok := parse("lead_id"); ok {
		l, err := h.Q.GetLead(ctx, queries.GetLeadParams{OrgID: p.OrgID, ID: id})
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		if err != nil || !web.InScope(sc, l.OwnerID) {
			errs["lead_id"] = "validation.choice"
		} else {
			n.LeadID = &id
		}
	}
	return nil
}

// opportunityStage is the stage of the deal a task form is about ("" when
// none, or not found: the related-ids check reports that).
func (h *Handler) opportunityStage(ctx context.Context, orgID int64, id string) string {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return ""
	}
	o, err := h.Q.GetOpportunity(ctx, queries.GetOpportunityParams{OrgID: orgID, ID: n})
	if err != nil {
		return ""
	}
	return o.Stage
}

// appliesIn reports whether a reason is offered for a deal in stage: a
// reason naming no stages applies everywhere, and so does any reason for a
// task about no deal.
func appliesIn(stages []string, stage string) bool {
	return stage == "" || len(stages) == 0 || contains(stages, stage)
}
