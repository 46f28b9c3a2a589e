// Package plansweb serves Autogestión › Suscripción to an org's admins: the
// plan and the month's vouchers against it (/autogestion/suscripcion),
// changing plan (/cambio: a downgrade is scheduled for the 1st, an upgrade
// offered for payment), paying the upgrade through the hosted checkout
// (/pago), and the two ways the payment comes back — the browser's return
// (/pagado) and the provider's signed webhook (/webhooks/pagos). Both end
// in plans.ApplyPayment, which applies a payment once.
//
// Plan prices are net: the operator's invoice adds its VAT, and what the
// provider charges is that invoice's total (drafted before the checkout is
// created, issued when the payment arrives), so charge and invoice agree
// to the cent. Without an operator org (or with one invoicing in another
// currency) nothing is invoiced and the net prorated amount is charged.
package plansweb

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/plans"
	"pulso/app/plans/planbilling"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/i18n"
	plansview "pulso/views/plans"
)

// Path is the page; the routes below it hang off it.
const Path = plans.SubscriptionPath

// Handler serves the subscription pages and the payment webhook.
type Handler struct{ web.Deps }

// New builds the handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

var page = web.Page{Title: "plans.title", Nav: "subscription"}

// dateFormat is the day as the three countries write it (dd/mm/aaaa).
const dateFormat = "02/01/2006"

// Show is GET /autogestion/suscripcion.
func (h *Handler) Show(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	v, err := h.page(c.UserContext(), p, time.Now())
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, page, plansview.Show(v))
}

// page reads everything the page shows: one subscription row, one usage
// row, the plans and the last events — never the vouchers themselves.
func (h *Handler) page(ctx context.Context, p *web.Principal, now time.Time) (plansview.Page, error) {
	today := p.Today(now)
	cat, err := plans.LoadCatalog(ctx, h.Q)
	if err != nil {
		return plansview.Page{}, err
	}
	u, err := plans.UsageOf(ctx, h.Q, p.OrgID, today)
	if err != nil {
		return plansview.Page{}, err
	}
	v := plansview.Page{Physical: u.Physical, Ecommerce: u.Ecommerce, Used: u.Used(), Overage: u.Overage, StoreUsers: u.StoreUsers}
	s, err := h.Q.GetSubscription(ctx, p.OrgID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return v, err
	default:
		v.Subscribed = true
		cur, _ := cat.Plan(s.PlanID)
		v.Plan, v.Frequency = cur.Name, s.Frequency
		v.Monthly = money.Format(cat.Prices[cur.ID][s.Currency].Monthly, s.Currency)
		v.NextInvoice = s.TermEnd.Time.Format(dateFormat)
		if s.PendingPlanID != nil {
			next, _ := cat.Plan(*s.PendingPlanID)
			v.PendingPlan, v.PendingFrom = next.Name, s.PendingFrom.Time.Format(dateFormat)
		}
		// The limit of the plan in force today (a downgrade whose day has
		// come counts before the renewal runs), as issuing applies it.
		if u.Plan != nil {
			v.StoreLimit = int(u.Plan.StoreUsers)
		}
		v.Limit, v.Remaining, v.Percent = u.Limit(), u.Remaining(), u.Percent()
	}
	n := func(v int) string { return money.Count(int64(v), p.Currency) }
	v.Text = plansview.Figures{Physical: n(v.Physical), Ecommerce: n(v.Ecommerce), Used: n(v.Used), Limit: n(v.Limit),
		Remaining: n(v.Remaining), Overage: n(v.Overage)}
	for _, pl := range cat.Plans {
		if !pl.Active {
			continue
		}
		r := plansview.PlanRow{ID: pl.ID, Name: pl.Name, StoreUsers: int(pl.StoreUsers), AtLimit: pl.AtLimit, Current: v.Subscribed && pl.ID == s.PlanID}
		if pl.Vouchers != nil {
			r.Vouchers = money.Count(int64(*pl.Vouchers), p.Currency)
		}
		if pr, ok := cat.Prices[pl.ID][p.Currency]; ok {
			r.Price, r.Overage = money.Format(pr.Monthly, p.Currency), money.Format(pr.Overage, p.Currency)
		}
		v.Plans = append(v.Plans, r)
	}
	charges, err := h.Q.ListSubscriptionCharges(ctx, p.OrgID)
	if err != nil {
		return v, err
	}
	for _, c := range charges {
		pl, _ := cat.Plan(c.PlanID)
		ch := plansview.Charge{Month: planbilling.MonthName(c.Month.Time), Plan: pl.Name, Amount: money.Format(c.Amount, c.Currency)}
		switch {
		case c.InvoiceState != nil && *c.InvoiceState == "draft":
			// Why issuing refused it is the operator's to fix.
			ch.Draft = true
		case c.InvoiceState != nil && c.FullNumber != nil && c.InvoiceTotal != nil:
			ch.Number, ch.Total = *c.FullNumber, money.Format(*c.InvoiceTotal, c.Currency)
		default:
			ch.Reason = c.Reason
		}
		v.Charges = append(v.Charges, ch)
	}
	events, err := h.Q.ListSubscriptionEvents(ctx, p.OrgID)
	if err != nil {
		return v, err
	}
	name := func(id *int64) string {
		if id == nil {
			return ""
		}
		pl, _ := cat.Plan(*id)
		return pl.Name
	}
	for _, e := range events {
		ev := plansview.Event{At: e.At.In(p.Location()).Format(dateFormat + " 15:04"), Kind: e.Kind, From: name(e.FromPlan), To: name(e.ToPlan), Reason: e.Reason}
		if e.Amount != nil && *e.Amount > 0 {
			ev.Amount = money.Format(*e.Amount, p.Currency)
		}
		v.History = append(v.History, ev)
	}
	return v, nil
}

// renderChange answers a change or a payment: the #plan-change area alone
// for htmx, the whole page with it filled in otherwise.
func (h *Handler) renderChange(c *fiber.Ctx, status int, ch plansview.Change) error {
	p := web.MustPrincipal(c)
	if web.IsPartial(c) {
		return web.Render(c, status, page, plansview.ChangeArea(ch))
	}
	v, err := h.page(c.UserContext(), p, time.Now())
	if err != nil {
		return err
	}
	v.Change = ch
	return web.Render(c, status, page, plansview.Show(v))
}

// refused shows why a change is not allowed.
func (h *Handler) refused(c *fiber.Ctx, r *plans.Refusal) error {
	return h.renderChange(c, fiber.StatusUnprocessableEntity, plansview.Change{Message: r.ID, Params: r.Params, Kind: "error"})
}

// planID reads the form's plan_id; 0 when it is not a positive id, which
// Quote refuses as an unknown plan.
func planID(c *fiber.Ctx) int64 {
	id, err := strconv.ParseInt(c.FormValue("plan_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// Change is POST /autogestion/suscripcion/cambio: a refusal with its
// reason, a downgrade scheduled for the 1st, or the upgrade's dialog.
func (h *Handler) Change(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	now := time.Now()
	today := p.Today(now)
	ch, err := plans.Quote(ctx, h.Q, p.OrgID, planID(c), today)
	var r *plans.Refusal
	if errors.As(err, &r) {
		if r.ID == "plans.does_not_fit" {
			// The history keeps what was refused and why, in the org's words.
			reason := i18n.In(i18n.Default, r.ID, r.Params)
			if _, err := h.Q.AddSubscriptionEvent(ctx, queries.AddSubscriptionEventParams{OrgID: p.OrgID, Kind: "change_refused",
				Reason: truncate(reason, 500), UserID: &p.UserID, At: now}); err != nil {
				return err
			}
		}
		return h.refused(c, r)
	}
	if err != nil {
		return err
	}
	if !ch.Upgrade {
		if err := live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
			return plans.ScheduleDowngrade(ctx, tx, p.OrgID, ch, p.UserID, now)
		}); err != nil {
			return err
		}
		web.Flash(c, "success", "plans.downgrade_scheduled")
		return web.Redirect(c, Path)
	}
	d, msg := h.dialog(ctx, p, ch, today)
	if msg != "" {
		return h.renderChange(c, fiber.StatusOK, plansview.Change{Message: msg, Kind: "warning"})
	}
	return h.renderChange(c, fiber.StatusOK, plansview.Change{Dialog: d})
}

// dialog is the upgrade's offer: the prorated amount, what is charged
// today with VAT, and the provider's payment methods. msg is a catalog id
// when payment is not possible now.
func (h *Handler) dialog(ctx context.Context, p *web.Principal, ch plans.Change, today time.Time) (*plansview.Dialog, string) {
	if h.Payments == nil {
		return nil, "plans.payments_unavailable"
	}
	methods, err := h.Payments.Methods(ctx, ch.Currency)
	if err != nil || len(methods) == 0 {
		h.Log.WarnContext(ctx, "payment methods", "org_id", p.OrgID, "err", err)
		return nil, "plans.payments_failed"
	}
	price, err := h.preview(ctx, ch, today)
	if err != nil {
		h.Log.ErrorContext(ctx, "upgrade price", "org_id", p.OrgID, "err", err)
		return nil, "plans.payments_failed"
	}
	cat, err := plans.LoadCatalog(ctx, h.Q)
	if err != nil {
		return nil, "plans.payments_failed"
	}
	d := &plansview.Dialog{PlanID: ch.To.ID, Plan: ch.To.Name, From: today.Format("02/01"), To: lastDay(today).Format("02/01"),
		Prorated: money.Format(ch.Prorated, ch.Currency), Monthly: money.Format(cat.Prices[ch.To.ID][ch.Currency].Monthly, ch.Currency),
		Total: money.Format(price.Total, ch.Currency)}
	if price.Tax != 0 {
		d.Tax = money.Format(price.Tax, ch.Currency)
	}
	for _, m := range methods {
		d.Methods = append(d.Methods, plansview.Method{ID: m.ID, Name: m.Name})
	}
	return d, ""
}

// lastDay is the last day of day's month: the end of the prorated period.
func lastDay(day time.Time) time.Time { return plans.Month(day).AddDate(0, 1, -1) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// logResult writes what a payment came to; a refused one needs a person.
func (h *Handler) logResult(ctx context.Context, via string, res plans.Result) {
	switch res.Outcome {
	case plans.Refused:
		// Money may have been collected for nothing: an error, for a person.
		h.Log.ErrorContext(ctx, "plan payment refused", "via", via, "org_id", res.OrgID, "upgrade_id", res.Upgrade.ID, "why", res.Why)
	case plans.Applied:
		h.Log.InfoContext(ctx, "plan upgrade paid", "via", via, "org_id", res.OrgID, "upgrade_id", res.Upgrade.ID, "to_plan", res.Upgrade.ToPlan)
	default:
		h.Log.DebugContext(ctx, "plan payment", "via", via, "org_id", res.OrgID, "upgrade_id", res.Upgrade.ID, "outcome", string(res.Outcome))
	}
}
