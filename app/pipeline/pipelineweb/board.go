package pipelineweb

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/pipeline"
	"pulso/app/web"
	"pulso/queries"
	pipelineview "pulso/views/pipeline"
)

var (
	boardPage = web.Page{Title: "pipeline.title", Nav: "pipeline", Fragment: "board"}
	// toastPage answers a refused move from the board: only an out-of-band
	// toast, the board reloads itself.
	toastPage = web.Page{Title: "pipeline.title", Nav: "pipeline"}
)

// Board shows the kanban: a column per stage with its count and total under
// the filters, and the newest cards of each.
func (h *Handler) Board(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	f, sc, members, owners, teams, err := h.filtered(c)
	if err != nil {
		return err
	}
	v := pipelineview.BoardPage{Filters: f.view, Owners: owners, Teams: teams, Currency: p.Currency, Query: f.query(), Errors: f.errs}
	for i, m := range members {
		if i > 0 {
			v.TeamMembers += ","
		}
		v.TeamMembers += itoa(m)
	}
	if f.amountMin != nil {
		v.MinCents = itoa(*f.amountMin)
	}
	if f.amountMax != nil {
		v.MaxCents = itoa(*f.amountMax)
	}
	since := time.Now().Add(-closedOnBoard)
	cols, err := h.Q.BoardColumns(ctx, queries.BoardColumnsParams{OrgID: p.OrgID, OwnerScope: sc, OwnerID: f.ownerID,
		CloseFrom: f.closeFrom, CloseTo: f.closeTo, AmountMin: f.amountMin, AmountMax: f.amountMax, ClosedSince: since})
	if err != nil {
		return err
	}
	cards, err := h.Q.BoardCards(ctx, queries.BoardCardsParams{OrgID: p.OrgID, OwnerScope: sc, OwnerID: f.ownerID,
		CloseFrom: f.closeFrom, CloseTo: f.closeTo, AmountMin: f.amountMin, AmountMax: f.amountMax, ClosedSince: since, PerColumn: perColumn})
	if err != nil {
		return err
	}
	ids := make([]int64, len(cards))
	for i, r := range cards {
		ids[i] = r.ID
	}
	badges, err := h.Q.QuoteBadges(ctx, queries.QuoteBadgesParams{OrgID: p.OrgID, Ids: ids})
	if err != nil {
		return err
	}
	badge := make(map[int64]string, len(badges))
	for _, b := range badges {
		badge[b.OpportunityID] = b.Badge
	}
	byStage := map[string][]pipelineview.Card{}
	for _, r := range cards {
		cd := card(p, r.ID, r.Version, r.Stage, r.Title, r.CustomerName, r.OwnerName, r.OwnerID, r.Amount, r.Probability, r.ExpectedClose)
		cd.Alert = r.Idle // past its stage's idle limit: a red edge and a mark
		cd.Quote = badge[r.ID]
		byStage[r.Stage] = append(byStage[r.Stage], cd)
	}
	for _, col := range cols {
		v.Columns = append(v.Columns, pipelineview.Column{Stage: col.Stage, Count: col.Deals, TotalMinor: col.Total,
			Total: money.Format(col.Total, p.Currency), Cards: byStage[col.Stage], More: col.Deals > int64(len(byStage[col.Stage]))})
	}
	return web.Render(c, fiber.StatusOK, boardPage, pipelineview.Board(v))
}

// Move puts a deal in another stage, from the board (drag or the "move to"
// menu, htmx) or the deal's page (a form). It names the version the mover
// saw: if someone changed the deal since, nothing moves and the mover is
// told who, and their board reloads. Cancelling needs an active reason.
func (h *Handler) Move(c *fiber.Ctx) error {
	o, _, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	stage := c.FormValue("stage")
	version, _ := strconvAtoi32(c.FormValue("version"))
	errs := map[string]string{}
	if !isStage(stage) {
		errs["stage"] = "validation.choice"
	}
	if version <= 0 {
		errs["stage"] = "validation.required"
	}
	var reasonID *int64
	if stage == "cancelada" {
		id, _ := strconvParse64(c.FormValue("cancel_reason_id"))
		if id <= 0 {
			errs["cancel_reason_id"] = "pipeline.reason_required"
		} else if _, err := h.Q.GetActiveCancelReason(c.UserContext(), queries.GetActiveCancelReasonParams{OrgID: p.OrgID, ID: id}); err != nil {
			if !isNoRows(err) {
				return err
			}
			errs["cancel_reason_id"] = "validation.choice"
		} else {
			reasonID = &id
		}
	}
	if len(errs) > 0 {
		if web.IsPartial(c) {
			c.Set(web.HXTrigger, "pulso:resync")
			return web.Render(c, fiber.StatusUnprocessableEntity, toastPage, pipelineview.Refused())
		}
		return h.renderShow(c, fiber.StatusUnprocessableEntity, o, errs)
	}
	if stage == o.Stage {
		return h.moved(c, o.ID)
	}
	ctx := c.UserContext()
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		err := pipeline.Move(ctx, tx, h.Jobs, pipeline.StateOf(o.Stage, o.Amount, o.OwnerID, o.ExpectedClose), queries.MoveOpportunityParams{
			OrgID: p.OrgID, ID: o.ID, Version: version, Stage: stage, CancelReasonID: reasonID, UpdatedBy: &p.UserID})
		if isNoRows(err) {
			return errConflict
		}
		return err
	})
	if err == errConflict {
		return h.conflict(c, o.ID)
	}
	if err != nil {
		return err
	}
	return h.moved(c, o.ID)
}

func (h *Handler) moved(c *fiber.Ctx, id int64) error {
	if web.IsPartial(c) {
		// The board updates from the live event, like everyone else's.
		return c.SendStatus(fiber.StatusNoContent)
	}
	return web.Redirect(c, "/opportunities/"+itoa(id))
}

// conflict tells the mover who changed the deal first; an htmx board also
// reloads itself so the card goes back to where it really is.
func (h *Handler) conflict(c *fiber.Ctx, id int64) error {
	p := web.MustPrincipal(c)
	cur, err := h.Q.GetOpportunity(c.UserContext(), queries.GetOpportunityParams{OrgID: p.OrgID, ID: id})
	if isNoRows(err) {
		return web.ErrNotFound // deleted meanwhile
	}
	if err != nil {
		return err
	}
	if web.IsPartial(c) {
		c.Set(web.HXTrigger, "pulso:resync")
		return web.Render(c, fiber.StatusConflict, toastPage, pipelineview.Conflict(cur.EditorName))
	}
	return h.renderShow(c, fiber.StatusConflict, cur, map[string]string{"stage": "pipeline.conflict"})
}

func isStage(s string) bool {
	for _, x := range pipelineview.Stages {
		if x == s {
			return true
		}
	}
	return false
}
