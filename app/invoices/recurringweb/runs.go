package recurringweb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/i18n"
	view "pulso/views/recurring"
)

var (
	runsPage = web.Page{Title: "invoice_runs.title", Nav: "invoices"}
	runPage  = web.Page{Title: "invoice_runs.title", Nav: "invoices"}
)

// Runs is /invoice-runs: start the month-end run, and the runs so far.
func (h *Handler) Runs(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	last := recurring.Month(recurring.Today(time.Now(), p.Location().String())).AddDate(0, -1, 0)
	return h.renderRuns(c, fiber.StatusOK, last.Format("2006-01"), view.Msg{})
}

func (h *Handler) renderRuns(c *fiber.Ctx, status int, month string, bad view.Msg) error {
	p := web.MustPrincipal(c)
	rows, err := h.Q.ListInvoiceRuns(c.UserContext(), queries.ListInvoiceRunsParams{OrgID: p.OrgID, PageSize: 24})
	if err != nil {
		return err
	}
	v := view.RunsPage{Month: month, Error: bad}
	for _, r := range rows {
		v.Runs = append(v.Runs, runView(r, nil))
	}
	return web.Render(c, status, runsPage, view.Runs(v))
}

func runView(r queries.InvoiceRun, items []queries.ListInvoiceRunItemsRow) view.Run {
	v := view.Run{ID: r.ID, Month: r.PeriodStart.Time.Format("01/2006"), State: r.State, Total: int(r.Total), Done: int(r.Done), Failed: int(r.Failed)}
	switch {
	case r.State == "done":
		v.Pct = 100
	case r.Total > 0:
		v.Pct = int(100 * (r.Done + r.Failed) / r.Total)
	}
	for _, it := range items {
		ri := view.RunItem{Customer: it.CustomerName}
		if it.InvoiceID != nil {
			ri.InvoiceID = *it.InvoiceID
			if it.FullNumber != nil {
				ri.Number = *it.FullNumber
			}
			if it.Total != nil && it.Currency != nil {
				ri.Total = money.Format(*it.Total, *it.Currency)
			}
		} else {
			ri.Error = view.Msg{ID: it.Error}
			if params, err := i18n.Data(it.ErrorParams); err == nil && len(params) > 0 {
				ri.Error.Params = params
			}
		}
		v.Items = append(v.Items, ri)
	}
	return v
}

// StartRun opens the month-end run of the month posted (YYYY-MM) and goes
// to its page, where the bar moves live.
func (h *Handler) StartRun(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	month := c.FormValue("month")
	at, err := time.Parse("2006-01", month)
	if err != nil {
		return h.renderRuns(c, fiber.StatusUnprocessableEntity, month, view.Msg{ID: "invoice_runs.month_required"})
	}
	var run queries.InvoiceRun
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		run, err = recurring.StartMonthEnd(ctx, tx, h.Jobs, p.OrgID, at, &p.UserID, time.Now())
		return err
	})
	var bad invoices.Invalid
	if errors.As(err, &bad) {
		pr := bad["period"]
		return h.renderRuns(c, fiber.StatusUnprocessableEntity, month, view.Msg{ID: pr.ID, Params: pr.Params})
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/invoice-runs/%d", run.ID))
}

func (h *Handler) loadRun(c *fiber.Ctx) (view.Run, error) {
	r, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.InvoiceRun, error) {
		return h.Q.GetInvoiceRun(ctx, queries.GetInvoiceRunParams{OrgID: org, ID: id})
	}, nil)
	if err != nil {
		return view.Run{}, err
	}
	return runOf(c.UserContext(), h.Q, r)
}

func runOf(ctx context.Context, q *queries.Queries, r queries.InvoiceRun) (view.Run, error) {
	items, err := q.ListInvoiceRunItems(ctx, queries.ListInvoiceRunItemsParams{OrgID: r.OrgID, RunID: r.ID})
	if err != nil {
		return view.Run{}, err
	}
	return runView(r, items), nil
}

// ShowRun is a run's page: its progress, failures with their reasons, and
// the invoices made.
func (h *Handler) ShowRun(c *fiber.Ctx) error {
	r, err := h.loadRun(c)
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, runPage, view.RunPage(r))
}

// RunStatus is the live block alone (a page re-fetches it after a
// reconnect).
func (h *Handler) RunStatus(c *fiber.Ctx) error {
	r, err := h.loadRun(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, fiber.StatusOK, web.Page{}, view.RunStatus(r, false))
}

// RegisterLive renders month-end run events: the run's status block,
// swapped in place on its page, for billing roles only (the event is
// org-wide).
func RegisterLive(h *hub.Hub, q *queries.Queries) {
	h.Handle(recurring.RunTopic, hub.Topic{Render: func(ctx context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		if ev.EntityID == nil || !aud.Role.In(web.Billing) {
			return nil, nil
		}
		r, err := q.GetInvoiceRun(ctx, queries.GetInvoiceRunParams{OrgID: ev.OrgID, ID: *ev.EntityID})
		if err != nil {
			return nil, err
		}
		v, err := runOf(ctx, q, r)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := view.RunStatus(v, true).Render(hub.RenderContext(ctx, aud), &buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}})
}
