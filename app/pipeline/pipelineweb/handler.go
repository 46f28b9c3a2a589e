// Package pipeline is the sales pipeline: opportunities (oportunidades), the
// kanban board and list, stage moves with their history, cancel reasons and
// the per-org stage settings. Every change is published live so that open
// boards move the card and correct their counts within a second.
package pipelineweb

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	pipelineview "pulso/views/pipeline"
)

// Handler serves /opportunities and /admin/pipeline.
type Handler struct{ web.Deps }

// New builds the pipeline handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Closed deals stay on the board this long after they were won or
// cancelled; older ones are in the list view.
const closedOnBoard = 30 * 24 * time.Hour

// perColumn is how many cards a column shows; the list view has the rest.
const perColumn = 50

var errConflict = errors.New("pipeline: changed by someone else")

// load returns the :id opportunity if the viewer may see it (the same
// owner rule as leads and customers); anything else is 404.
func (h *Handler) load(c *fiber.Ctx) (queries.GetOpportunityRow, []int64, error) {
	return web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.GetOpportunityRow, error) {
		return h.Q.GetOpportunity(ctx, queries.GetOpportunityParams{OrgID: org, ID: id})
	}, func(o queries.GetOpportunityRow) *int64 { return o.OwnerID })
}

// filter is the board's and list's filters, parsed.
type filter struct {
	view                 pipelineview.Filters
	ownerID              *int64
	teamID               *int64
	closeFrom, closeTo   pgtype.Date
	amountMin, amountMax *int64
	stage                *string
	errs                 map[string]string
}

func parseFilters(c *fiber.Ctx, p *web.Principal) filter {
	f := filter{view: pipelineview.Filters{Owner: c.Query("owner"), Team: c.Query("team"), Month: c.Query("month"), Min: c.Query("min"), Max: c.Query("max"), Stage: c.Query("stage")}, errs: map[string]string{}}
	if f.view.Team != "" {
		if id, err := strconv.ParseInt(f.view.Team, 10, 64); err == nil && id > 0 {
			f.teamID = &id
		} else {
			f.errs["team"] = "validation.choice"
		}
	}
	if f.view.Owner != "" {
		if id, err := strconv.ParseInt(f.view.Owner, 10, 64); err == nil && id > 0 {
			f.ownerID = &id
		} else {
			f.errs["owner"] = "validation.choice"
		}
	}
	if f.view.Month != "" {
		m, err := time.Parse("2006-01", f.view.Month)
		if err != nil {
			f.errs["month"] = "pipeline.month_invalid"
		} else {
			f.closeFrom = pgtype.Date{Time: m, Valid: true}
			f.closeTo = pgtype.Date{Time: m.AddDate(0, 1, 0), Valid: true}
		}
	}
	for _, a := range []struct {
		in  string
		out **int64
		key string
	}{{f.view.Min, &f.amountMin, "min"}, {f.view.Max, &f.amountMax, "max"}} {
		if a.in == "" {
			continue
		}
		n, err := money.ParseAmount(a.in, p.OrgCountry)
		if err != nil {
			f.errs[a.key] = "customers.amount_invalid"
			continue
		}
		*a.out = &n
	}
	if f.view.Stage != "" {
		if slices.Contains(pipelineview.Stages, f.view.Stage) {
			f.stage = &f.view.Stage
		} else {
			f.errs["stage"] = "validation.choice"
		}
	}
	return f
}

// query writes the filters back as a query string ("" when none).
func (f filter) query() string {
	v := make([]string, 0, 5)
	for _, kv := range [][2]string{{"owner", f.view.Owner}, {"team", f.view.Team}, {"month", f.view.Month}, {"min", f.view.Min}, {"max", f.view.Max}} {
		if kv[1] != "" && f.errs[kv[0]] == "" {
			v = append(v, kv[0]+"="+url.QueryEscape(kv[1]))
		}
	}
	if len(v) == 0 {
		return ""
	}
	q := "?"
	for i, s := range v {
		if i > 0 {
			q += "&"
		}
		q += s
	}
	return q
}

// card turns a row into what the board shows.
func card(p *web.Principal, id int64, version int32, stage, title, customer, owner string, ownerID *int64,
	amount int64, probability int32, close pgtype.Date) pipelineview.Card {
	c := pipelineview.Card{ID: id, Version: version, Stage: stage, Title: title, Customer: customer, Owner: owner,
		Amount: money.Format(amount, p.Currency), AmountMinor: amount, Probability: probability}
	if ownerID != nil {
		c.OwnerID = *ownerID
	}
	if close.Valid {
		c.Close = close.Time.Format("02/01/2006")
		c.CloseMonth = close.Time.Format("2006-01")
	}
	return c
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// teamScope narrows the viewer's scope to a manager's team (the manager and
// everyone under them) when the filter names one; it returns the members
// too, for the board's live updates.
func (h *Handler) teamScope(ctx context.Context, p *web.Principal, sc []int64, f filter) ([]int64, []int64, error) {
	if f.teamID == nil {
		return sc, nil, nil
	}
	team, err := h.Q.ListTeamIDs(ctx, queries.ListTeamIDsParams{OrgID: p.OrgID, ManagerID: f.teamID})
	if err != nil {
		return nil, nil, err
	}
	team = append(team, *f.teamID)
	out := []int64{}
	for _, id := range team {
		if sc == nil || slices.Contains(sc, id) {
			out = append(out, id)
		}
	}
	return out, team, nil
}

// teams lists the managers whose teams the viewer may filter by (admins
// and accountants: every manager; others see their own scope already).
func (h *Handler) teams(ctx context.Context, p *web.Principal, sc []int64) ([]components.SelectOption, error) {
	if sc != nil {
		return nil, nil
	}
	ms, err := h.Q.ListManagers(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	var out []components.SelectOption
	for _, m := range ms {
		out = append(out, components.SelectOption{Value: itoa(m.ID), Label: m.Name, Raw: true})
	}
	return out, nil
}

// filtered is what the board and the list start from: the filters asked,
// the owners they cover (the viewer's scope narrowed to a team when one is
// chosen) and that team's members, and the owner and team options.
func (h *Handler) filtered(c *fiber.Ctx) (f filter, sc, members []int64, owners, teams []components.SelectOption, err error) {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	if sc, err = web.Scope(ctx, h.Q, p); err != nil {
		return
	}
	f = parseFilters(c, p)
	if owners, err = web.Owners(ctx, h.Q, p, sc, ""); err != nil {
		return
	}
	if teams, err = h.teams(ctx, p, sc); err != nil {
		return
	}
	sc, members, err = h.teamScope(ctx, p, sc, f)
	return
}
