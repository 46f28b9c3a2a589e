// Package targetsweb serves the sales targets: the team's page with its
// inline editor (/targets) and the progress fragment the home pages and
// the dashboard include (/targets/progress). The rules are app/targets'.
package targetsweb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/stats"
	"pulso/app/targets"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/i18n"
	targetsview "pulso/views/targets"
	"pulso/workers/jobargs"
)

// Handler serves /targets.
type Handler struct{ web.Deps }

// New builds the targets handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

var (
	listPage     = web.Page{Title: "targets.title", Nav: "targets"}
	progressPage = web.Page{Title: "targets.progress_title", Nav: "home"}
)

func date(m stats.Month) pgtype.Date { return pgtype.Date{Time: m.Date(), Valid: true} }

// monthLabel is "marzo de 2026" in the viewer's language.
func monthLabel(c *fiber.Ctx, m stats.Month) string {
	l := web.Locale(c)
	return i18n.In(l, "targets.month_label", map[string]any{"Month": i18n.In(l, fmt.Sprintf("targets.m%02d", int(m.Month)), nil), "Year": m.Year})
}

// bar formats a measured target for the view.
func bar(p *web.Principal, pr targets.Progress) targetsview.Bar {
	b := targetsview.Bar{UserID: pr.UserID, Name: pr.Name, HasTarget: pr.WonAmount > 0, Won: money.Format(pr.Won, p.Currency),
		Target: money.Format(pr.WonAmount, p.Currency), Pace: money.Format(pr.Pace, p.Currency), Percent: pr.Percent,
		PacePercent: pr.PacePercent, Status: string(pr.Status)}
	if pr.Deals != nil {
		b.Deals = fmt.Sprintf("%d / %d", pr.WonDeals, *pr.Deals)
	}
	if pr.Visits != nil {
		b.Visits = fmt.Sprintf("%d / %d", pr.VisitsDone, *pr.Visits)
	}
	return b
}

// total sums the bars of those with a target: one team figure, judged by
// the same rule as each person's.
func total(p *web.Principal, name string, prs []targets.Progress, m stats.Month, now time.Time) *targetsview.Bar {
	var sum targets.Progress
	sum.Name, sum.Month = name, m
	for _, pr := range prs {
		if pr.WonAmount > 0 {
			sum.WonAmount += pr.WonAmount
			sum.Won += pr.Won
		}
	}
	day, days := targets.Elapsed(m, now, p.Location())
	sum.Pace = targets.Pace(sum.WonAmount, day, days)
	sum.Status = targets.StatusOf(sum.Won, sum.WonAmount, day, days)
	sum.Percent = targets.Percent(sum.Won, sum.WonAmount)
	sum.PacePercent = targets.Percent(sum.Pace, sum.WonAmount)
	b := bar(p, sum)
	return &b
}

// people measures the listed people's targets of month m (users nil:
// everyone the page lists).
func (h *Handler) people(ctx context.Context, p *web.Principal, users []int64, m stats.Month, now time.Time) ([]queries.ListTargetRowsRow, []targets.Progress, error) {
	rows, err := h.Q.ListTargetRows(ctx, queries.ListTargetRowsParams{OrgID: p.OrgID, Month: date(m), Users: users})
	if err != nil {
		return nil, nil, err
	}
	out := make([]targets.Progress, 0, len(rows))
	for _, r := range rows {
		t := targets.Target{UserID: r.ID, Name: r.Name, Deals: r.Deals, Visits: r.Visits}
		if r.TargetID == nil {
			out = append(out, targets.Progress{Target: t, Month: m, Status: targets.StatusNone})
			continue
		}
		t.ID, t.WonAmount = *r.TargetID, *r.WonAmount
		pr, err := targets.Measure(ctx, h.Q, p.OrgID, t, m, now, p.Location())
		if err != nil {
			return nil, nil, err
		}
		out = append(out, pr)
	}
	return rows, out, nil
}

// page builds the targets page of month m for the viewer's scope; edit,
// when set, is the row shown as a form.
func (h *Handler) page(c *fiber.Ctx, p *web.Principal, m stats.Month, edit *targetsview.Row) (targetsview.Page, error) {
	ctx := c.UserContext()
	now := time.Now()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return targetsview.Page{}, err
	}
	rows, prs, err := h.people(ctx, p, sc, m, now)
	if err != nil {
		return targetsview.Page{}, err
	}
	v := targetsview.Page{Month: m.String(), MonthLabel: monthLabel(c, m), CanSet: p.Role.In(web.TargetSetters)}
	edited := false
	for i, r := range rows {
		row := targetsview.Row{Bar: bar(p, prs[i]), Month: m.String(), Editable: targets.MaySet(string(p.Role), p.UserID, r.ID, sc)}
		if edit != nil && edit.UserID == r.ID {
			row.Form, edited = edit.Form, true
		}
		v.Rows = append(v.Rows, row)
	}
	if edit != nil && !edited {
		v.Rows = append([]targetsview.Row{*edit}, v.Rows...)
	}
	if p.Role != web.RoleRep && len(rows) > 1 {
		v.Total = total(p, web.Translate(c, "targets.team_total"), prs, m, now)
	}
	return v, nil
}

// List is GET /targets: everyone in the viewer's scope, their month's bar,
// and the editor for those the viewer may set.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	m := stats.MonthOf(time.Now(), p.Location())
	monthErr := ""
	if raw := c.Query("month"); raw != "" {
		if pm, ok := targets.ParseMonth(raw); ok {
			m = pm
		} else {
			monthErr = "targets.month_invalid"
		}
	}
	v, err := h.page(c, p, m, nil)
	if err != nil {
		return err
	}
	v.MonthError = monthErr
	status := fiber.StatusOK
	if monthErr != "" {
		status = fiber.StatusUnprocessableEntity
	}
	return web.Render(c, status, listPage, targetsview.List(v))
}

// render answers with row alone for htmx requests and with the whole page,
// that row included, otherwise.
func (h *Handler) render(c *fiber.Ctx, status int, m stats.Month, row targetsview.Row) error {
	if web.IsPartial(c) {
		return web.Render(c, status, listPage, targetsview.RowItem(row))
	}
	p := web.MustPrincipal(c)
	v, err := h.page(c, p, m, &row)
	if err != nil {
		return err
	}
	return web.Render(c, status, listPage, targetsview.List(v))
}

// settable loads user for the viewer to set their target, or says why not
// as a field error.
func (h *Handler) settable(ctx context.Context, p *web.Principal, user int64) (queries.GetTargetUserRow, string, error) {
	u, err := h.Q.GetTargetUser(ctx, queries.GetTargetUserParams{OrgID: p.OrgID, ID: user})
	if errors.Is(err, pgx.ErrNoRows) {
		return u, "validation.choice", nil
	}
	if err != nil {
		return u, "", err
	}
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return u, "", err
	}
	switch {
	case targets.MaySet(string(p.Role), p.UserID, u.ID, sc):
		return u, "", nil
	case u.ID == p.UserID:
		return u, "targets.not_own", nil
	}
	return u, "targets.not_your_team", nil
}

// Edit is GET /targets/edit?user=&month=: the inline form of one row.
func (h *Handler) Edit(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	user, err := strconv.ParseInt(c.Query("user"), 10, 64)
	m, ok := targets.ParseMonth(c.Query("month"))
	if err != nil || user <= 0 || !ok {
		return web.ErrNotFound
	}
	u, why, err := h.settable(c.UserContext(), p, user)
	if err != nil {
		return err
	}
	if why != "" {
		return web.ErrNotFound
	}
	values := map[string]string{}
	t, err := h.Q.GetSalesTarget(c.UserContext(), queries.GetSalesTargetParams{OrgID: p.OrgID, UserID: u.ID, Month: date(m)})
	switch {
	case err == nil:
		values["won_amount"] = money.Input(t.WonAmount, p.OrgCountry)
		if t.Deals != nil {
			values["deals"] = strconv.Itoa(int(*t.Deals))
		}
		if t.Visits != nil {
			values["visits"] = strconv.Itoa(int(*t.Visits))
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	row := targetsview.Row{Bar: targetsview.Bar{UserID: u.ID, Name: u.Name}, Month: m.String(), Editable: true,
		Form: &targetsview.Form{Values: values, Errors: map[string]string{}}}
	return h.render(c, fiber.StatusOK, m, row)
}

// Save is POST /targets: set (or change) one user's target of a month.
func (h *Handler) Save(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	in, errs := targets.ParseInput(func(k string) string { return c.FormValue(k) }, p.OrgCountry)
	var u queries.GetTargetUserRow
	if errs["user_id"] == "" {
		var why string
		var err error
		if u, why, err = h.settable(ctx, p, in.UserID); err != nil {
			return err
		}
		if why != "" {
			errs["user_id"] = why
		}
	}
	m := in.Month
	if errs["month"] != "" {
		m = stats.MonthOf(time.Now(), p.Location())
	}
	if len(errs) > 0 {
		values := map[string]string{}
		for _, k := range []string{"won_amount", "deals", "visits"} {
			values[k] = c.FormValue(k)
		}
		row := targetsview.Row{Bar: targetsview.Bar{UserID: in.UserID, Name: u.Name}, Month: m.String(), Editable: true,
			Form: &targetsview.Form{Values: values, Errors: errs}}
		return h.render(c, fiber.StatusUnprocessableEntity, m, row)
	}
	err := live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := h.Q.WithTx(tx).UpsertSalesTarget(ctx, queries.UpsertSalesTargetParams{OrgID: p.OrgID, UserID: u.ID, Month: date(m),
			WonAmount: in.WonAmount, Deals: in.Deals, Visits: in.Visits, SetBy: p.UserID}); err != nil {
			return err
		}
		// A target at or below what is already won is reached now.
		_, err := h.Jobs.InsertTx(ctx, tx, jobargs.TargetCheck{OrgID: p.OrgID, UserID: u.ID, Month: m.String()}, nil)
		return err
	})
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "sales target set", web.RequestAttrs(c, "target_user", u.ID, "month", m.String())...)
	if !web.IsPartial(c) {
		web.Flash(c, "success", "targets.saved")
		return web.Redirect(c, "/targets?month="+m.String())
	}
	_, prs, err := h.people(ctx, p, []int64{u.ID}, m, time.Now())
	if err != nil {
		return err
	}
	row := targetsview.Row{Month: m.String(), Editable: true, Bar: targetsview.Bar{UserID: u.ID, Name: u.Name}}
	if len(prs) == 1 {
		row.Bar = bar(p, prs[0])
	}
	return web.Render(c, fiber.StatusOK, listPage, targetsview.RowItem(row))
}

// Progress is GET /targets/progress, the #target-progress fragment: a
// rep's own bar for the current month, a manager's team (the sum and each
// member with a target); nothing for anyone else.
func (h *Handler) Progress(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	now := time.Now()
	m := stats.MonthOf(now, p.Location())
	v := targetsview.Progress{MonthLabel: monthLabel(c, m)}
	switch p.Role {
	case web.RoleRep:
		_, prs, err := h.people(ctx, p, []int64{p.UserID}, m, now)
		if err != nil {
			return err
		}
		own := targetsview.Bar{UserID: p.UserID, Name: p.Name, Status: string(targets.StatusNone)}
		if len(prs) == 1 {
			own = bar(p, prs[0])
		}
		v.Own = &own
	case web.RoleManager:
		team, err := h.Q.ListTeamIDs(ctx, queries.ListTeamIDsParams{OrgID: p.OrgID, ManagerID: &p.UserID})
		if err != nil {
			return err
		}
		var prs []targets.Progress
		if len(team) > 0 {
			if _, prs, err = h.people(ctx, p, team, m, now); err != nil {
				return err
			}
		}
		v.Total = total(p, web.Translate(c, "targets.team_total"), prs, m, now)
		for _, pr := range prs {
			if pr.WonAmount > 0 {
				v.Team = append(v.Team, bar(p, pr))
			}
		}
	}
	return web.Render(c, fiber.StatusOK, progressPage, targetsview.ProgressFragment(v))
}
