package pipelineweb

import (
	"github.com/gofiber/fiber/v2"

	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	pipelineview "pulso/views/pipeline"
)

// Show is one deal: its facts, a move form (with the cancel reason), the
// stage history and delete.
func (h *Handler) Show(c *fiber.Ctx) error {
	o, _, err := h.load(c)
	if err != nil {
		return err
	}
	return h.renderShow(c, fiber.StatusOK, o, nil)
}

func (h *Handler) renderShow(c *fiber.Ctx, status int, o queries.GetOpportunityRow, errs map[string]string) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	v := pipelineview.ShowPage{
		Card:       card(p, o.ID, o.Version, o.Stage, o.Title, o.CustomerName, o.OwnerName, o.OwnerID, o.Amount, o.Probability, o.ExpectedClose),
		CustomerID: o.CustomerID, Notes: o.Notes, CancelReason: o.CancelReason, Errors: errs,
		SourceLead: o.SourceLeadName, Delete: p.Role.In(web.DealDeleters),
	}
	if o.SourceLeadID != nil {
		v.SourceLeadID = *o.SourceLeadID
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	v.MoveTo = o.Stage
	if s := c.Query("stage"); isStage(s) {
		v.MoveTo = s
	}
	hist, err := h.Q.ListStageHistory(ctx, queries.ListStageHistoryParams{OrgID: p.OrgID, OpportunityID: o.ID})
	if err != nil {
		return err
	}
	loc := p.Location()
	for _, r := range hist {
		row := pipelineview.HistoryRow{To: r.ToStage, By: r.ChangedByName, At: r.ChangedAt.In(loc).Format("02/01/2006 15:04")}
		if r.FromStage != nil {
			row.From = *r.FromStage
		}
		v.History = append(v.History, row)
	}
	invs, err := h.Q.ListOpportunityInvoices(ctx, queries.ListOpportunityInvoicesParams{OrgID: p.OrgID, OpportunityID: &o.ID})
	if err != nil {
		return err
	}
	for _, r := range invs {
		inv := pipelineview.DealInvoice{ID: r.ID, Kind: r.Kind, State: r.State, Number: r.FullNumber, Total: money.Format(r.Total, r.Currency)}
		if r.IssueDate.Valid {
			inv.Date = r.IssueDate.Time.Format("02/01/2006")
		}
		v.Invoices = append(v.Invoices, inv)
	}
	reasons, err := h.Q.ListCancelReasons(ctx, p.OrgID)
	if err != nil {
		return err
	}
	v.Reasons = []components.SelectOption{{Value: "", Label: "pipeline.no_reason"}}
	for _, r := range reasons {
		if r.Active {
			v.Reasons = append(v.Reasons, components.SelectOption{Value: itoa(r.ID), Label: r.Name, Raw: true})
		}
	}
	return web.Render(c, status, web.Page{Title: "pipeline.title", Nav: "pipeline"}, pipelineview.Show(v))
}

const pageSize = 25

var listPage = web.Page{Title: "pipeline.list_title", Nav: "pipeline", Fragment: "opportunities-results"}

// List is the list view: the board's filters plus a stage, keyset pages.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	f, sc, _, owners, teams, err := h.filtered(c)
	if err != nil {
		return err
	}
	params := queries.ListOpportunitiesParams{OrgID: p.OrgID, OwnerScope: sc, OwnerID: f.ownerID, Stage: f.stage,
		CloseFrom: f.closeFrom, CloseTo: f.closeTo, AmountMin: f.amountMin, AmountMax: f.amountMax, PageSize: pageSize + 1}
	if b := c.QueryInt("before"); b > 0 {
		before := int64(b)
		params.BeforeID = &before
	}
	rows, err := h.Q.ListOpportunities(ctx, params)
	if err != nil {
		return err
	}
	q := f.query()
	if f.stage != nil {
		if q == "" {
			q = "?stage=" + *f.stage
		} else {
			q += "&stage=" + *f.stage
		}
	}
	v := pipelineview.ListPage{Filters: f.view, Owners: owners, Teams: teams, Query: q, Errors: f.errs}
	for i, r := range rows {
		if i == pageSize {
			sep := "?"
			if q != "" {
				sep = q + "&"
			}
			v.MoreURL = "/opportunities" + sep + "before=" + itoa(rows[pageSize-1].ID)
			break
		}
		v.Cards = append(v.Cards, card(p, r.ID, r.Version, r.Stage, r.Title, r.CustomerName, r.OwnerName, r.OwnerID, r.Amount, r.Probability, r.ExpectedClose))
	}
	return web.Render(c, fiber.StatusOK, listPage, pipelineview.List(v))
}
