package plansweb

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/checkout"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/plans"
	"pulso/app/web"
	"pulso/queries"
	plansview "pulso/views/plans"
	"pulso/workers/jobargs"
)

// maxWebhookBody bounds a notification: the provider's are a few hundred
// bytes.
const maxWebhookBody = 16 << 10

// Pay is POST /autogestion/suscripcion/pago (plan_id, method): the change
// is quoted again (the dialog is not trusted), the upgrade is recorded
// pending with the operator's draft invoice, and the browser goes to the
// provider's checkout for the draft's total.
func (h *Handler) Pay(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	now := time.Now()
	today := p.Today(now)
	ch, err := plans.Quote(ctx, h.Q, p.OrgID, planID(c), today)
	var r *plans.Refusal
	if errors.As(err, &r) {
		return h.refused(c, r)
	}
	if err != nil {
		return err
	}
	if !ch.Upgrade {
		// A downgrade costs nothing: it is scheduled from the change form.
		return h.refused(c, &plans.Refusal{ID: "plans.not_upgrade", Params: map[string]any{"Plan": ch.To.Name}})
	}
	if h.Payments == nil {
		return h.renderChange(c, fiber.StatusOK, plansview.Change{Message: "plans.payments_unavailable", Kind: "warning"})
	}
	methods, err := h.Payments.Methods(ctx, ch.Currency)
	if err != nil {
		h.Log.WarnContext(ctx, "payment methods", "org_id", p.OrgID, "err", err)
		return h.renderChange(c, fiber.StatusOK, plansview.Change{Message: "plans.payments_failed", Kind: "warning"})
	}
	method := c.FormValue("method")
	if !slices.ContainsFunc(methods, func(m checkout.Method) bool { return m.ID == method }) {
		d, msg := h.dialog(ctx, p, ch, today)
		if msg != "" {
			return h.renderChange(c, fiber.StatusOK, plansview.Change{Message: msg, Kind: "warning"})
		}
		d.Error = "plans.method_required"
		return h.renderChange(c, fiber.StatusUnprocessableEntity, plansview.Change{Dialog: d})
	}

	var up queries.PlanUpgrade
	free := false
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		draft, amount, err := h.prepareInvoice(ctx, tx, p.OrgID, ch, today, now)
		if err != nil {
			return err
		}
		if amount == 0 {
			// Nothing to charge for the rest of the month (the plans cost
			// the same): no checkout, the plan changes now.
			free = true
			return plans.ApplyUpgrade(ctx, tx, p.OrgID, ch.To.ID, 0, nil, p.UserID, now)
		}
		up, err = queries.New(tx).CreatePlanUpgrade(ctx, queries.CreatePlanUpgradeParams{OrgID: p.OrgID, FromPlan: ch.From.ID, ToPlan: ch.To.ID,
			Amount: amount, Currency: ch.Currency, Method: method, InvoiceID: draft, UserID: p.UserID})
		return err
	})
	if err != nil {
		return err
	}
	if free {
		web.Flash(c, "success", "plans.upgraded")
		return web.Redirect(c, Path)
	}
	base := h.Cfg.BaseURL.String()
	co, err := h.Payments.Create(ctx, checkout.Charge{Reference: plans.Reference(p.OrgID, up.ID), Title: "Pulso · Plan " + ch.To.Name,
		Amount: plans.Amount(up.Amount), Currency: up.Currency, Method: method, SuccessURL: base + Path + "/pagado", CancelURL: base + Path,
		Payer: p.Email})
	if err != nil {
		// Nothing can pay an upgrade without a checkout: it is cancelled
		// and its draft deleted, and the next attempt makes new ones.
		h.Log.ErrorContext(ctx, "create checkout", "org_id", p.OrgID, "upgrade_id", up.ID, "err", err)
		if err := h.abandon(ctx, up); err != nil {
			return err
		}
		return h.renderChange(c, fiber.StatusOK, plansview.Change{Message: "plans.payments_failed", Kind: "warning"})
	}
	if err := h.Q.SetPlanUpgradeCheckout(ctx, queries.SetPlanUpgradeCheckoutParams{OrgID: p.OrgID, ID: up.ID, CheckoutID: &co.ID}); err != nil {
		return err
	}
	return web.Redirect(c, co.URL)
}

// abandon cancels an upgrade no checkout was made for, with its draft.
func (h *Handler) abandon(ctx context.Context, up queries.PlanUpgrade) error {
	return live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		if err := q.CancelPlanUpgrade(ctx, queries.CancelPlanUpgradeParams{OrgID: up.OrgID, ID: up.ID}); err != nil {
			return err
		}
		if up.InvoiceID == nil {
			return nil
		}
		op, err := q.GetOperatorOrg(ctx, up.Currency)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := invoices.DeleteDraft(ctx, tx, op.ID, *up.InvoiceID); err != nil && !errors.Is(err, invoices.ErrNotDraft) {
			return err
		}
		return nil
	})
}

// Paid is GET /autogestion/suscripcion/pagado, where the provider sends
// the browser back (?payment_id=...). The query string is anyone's to
// type: the payment is fetched from the provider and applied as fetched,
// and only if it is this org's.
func (h *Handler) Paid(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	id := c.Query("payment_id")
	if id == "" || h.Payments == nil {
		return web.Redirect(c, Path)
	}
	pay, err := h.Payments.Payment(ctx, id)
	if err != nil {
		h.Log.WarnContext(ctx, "fetch payment", "org_id", p.OrgID, "err", err)
		if errors.Is(err, checkout.ErrNotFound) {
			return web.ErrNotFound
		}
		web.Flash(c, "warning", "plans.payment_pending")
		return web.Redirect(c, Path)
	}
	if org, _, ok := plans.ParseReference(pay.Reference); !ok || org != p.OrgID {
		return web.ErrNotFound
	}
	res, err := h.apply(ctx, pay, "redirect")
	if err != nil {
		return err
	}
	switch res.Outcome {
	case plans.Applied, plans.AlreadyApplied:
		web.Flash(c, "success", "plans.upgraded")
	case plans.NotApproved:
		web.Flash(c, "info", "plans.payment_pending")
	default:
		web.Flash(c, "error", "plans.payment_problem")
	}
	return web.Redirect(c, Path)
}

// Webhook is POST /webhooks/pagos, the provider's notification: no
// session, no CSRF; the signature is the credential. It fetches the
// payment named and applies it. Answers: 401 for a bad signature (nothing
// is read further), 503 when the provider could not be asked (it sends the
// notification again), 200 otherwise — also for a payment that is not
// applied, which another notification would not change.
func (h *Handler) Webhook(c *fiber.Ctx) error {
	body, err := web.ReadBody(c, maxWebhookBody)
	if err != nil {
		return err
	}
	hd := http.Header{}
	hd.Set(checkout.HeaderSignature, c.Get(checkout.HeaderSignature))
	hd.Set(checkout.HeaderRequestID, c.Get(checkout.HeaderRequestID))
	ctx := c.UserContext()
	w, err := checkout.Verify(h.PaymentsWebhookSecret, hd, body, time.Now(), 0)
	if err != nil {
		h.Log.WarnContext(ctx, "payment webhook refused", "err", err)
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	if w.Type != "payment" || h.Payments == nil {
		return c.SendStatus(fiber.StatusOK)
	}
	pay, err := h.Payments.Payment(ctx, w.DataID)
	if err != nil {
		if checkout.Retryable(err) {
			h.Log.WarnContext(ctx, "payment webhook: fetch failed, the provider will retry", "payment", w.DataID, "err", err)
			return c.SendStatus(fiber.StatusServiceUnavailable)
		}
		h.Log.WarnContext(ctx, "payment webhook: payment not readable", "payment", w.DataID, "err", err)
		return c.SendStatus(fiber.StatusOK)
	}
	if _, err := h.apply(ctx, pay, "webhook"); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusOK)
}

// apply runs plans.ApplyPayment in a transaction of its own and logs the
// result.
func (h *Handler) apply(ctx context.Context, pay checkout.Payment, via string) (plans.Result, error) {
	var res plans.Result
	err := live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		res, err = plans.ApplyPayment(ctx, tx, pay, h.bill, time.Now())
		if err != nil || res.Outcome != plans.Applied || h.Jobs == nil {
			return err
		}
		// The limit is lifted now: the store orders it held back go in.
		_, err = h.Jobs.InsertTx(ctx, tx, jobargs.StoreRetryBlocked{OrgID: res.OrgID}, nil)
		return err
	})
	if err != nil {
		return res, err
	}
	h.logResult(ctx, via, res)
	return res, nil
}
