package invoicesweb

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/orders"
	"pulso/app/web"
	"pulso/queries"
	invoicesview "pulso/views/invoices"
)

// Issue issues a draft from its page, dated as asked (empty: today).
func (h *Handler) Issue(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	form := &showForm{issueDate: c.FormValue("issue_date"), operationDate: c.FormValue("operation_date")}
	day, ok := parseDay(form.issueDate)
	if !ok {
		return h.renderShow(c, fiber.StatusUnprocessableEntity, inv, invoicesview.Errors{"issue_date": {ID: "validation.date"}}, form)
	}
	opDay, ok := parseDay(form.operationDate)
	if !ok {
		return h.renderShow(c, fiber.StatusUnprocessableEntity, inv, invoicesview.Errors{"operation_date": {ID: "validation.date"}}, form)
	}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: p.OrgID, InvoiceID: inv.ID, UserID: &p.UserID, Locale: p.Locale, Jobs: h.Jobs,
			IssueDate: day, OperationDate: opDay, Now: time.Now()})
		return err
	})
	if done, rerr := h.refused(c, inv, err, form); done {
		return rerr
	}
	web.Flash(c, "success", "invoices.issued_flash")
	return web.Redirect(c, "/invoices/"+itoa(inv.ID))
}

// Delete deletes a draft (what it billed can be billed again).
func (h *Handler) Delete(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		return invoices.DeleteDraft(ctx, tx, inv.OrgID, inv.ID)
	})
	if done, rerr := stateFlash(c, inv.ID, err); done {
		return rerr
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", "invoices.draft_deleted")
	return web.Redirect(c, "/invoices")
}

// Void voids an invoice issued in error, with the reason (billing only).
func (h *Handler) Void(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	form := &showForm{voidReason: c.FormValue("reason")}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: p.OrgID, InvoiceID: inv.ID, UserID: &p.UserID, Reason: form.voidReason, Jobs: h.Jobs, Now: time.Now()})
		return err
	})
	if done, rerr := h.refused(c, inv, err, form); done {
		return rerr
	}
	web.Flash(c, "success", "invoices.voided_flash")
	return web.Redirect(c, "/invoices/"+itoa(inv.ID))
}

// Payment records money received for an issued invoice.
func (h *Handler) Payment(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	form := &showForm{amount: c.FormValue("amount"), paidOn: c.FormValue("paid_on")}
	errs := invoicesview.Errors{}
	amount, perr := money.Parse(form.amount, p.OrgCountry)
	if perr != nil {
		errs["amount"] = invoicesview.Msg{ID: "invoices.amount_invalid"}
	}
	on, ok := parseDay(form.paidOn)
	if !ok {
		errs["paid_on"] = invoicesview.Msg{ID: "validation.date"}
	} else if on.IsZero() {
		on = p.Today(time.Now())
	}
	if len(errs) > 0 {
		return h.renderShow(c, fiber.StatusUnprocessableEntity, inv, errs, form)
	}
	var pay invoices.Payment
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		pay, err = invoices.RecordPayment(ctx, tx, invoices.PaymentInput{OrgID: p.OrgID, InvoiceID: inv.ID, Amount: amount, On: on,
			UserID: &p.UserID, Now: p.Today(time.Now())})
		return err
	})
	if done, rerr := h.refused(c, inv, err, form); done {
		return rerr
	}
	if pay.Paid {
		web.Flash(c, "success", "invoices.paid_flash")
	} else {
		web.Flash(c, "success", "invoices.payment_recorded")
	}
	return web.Redirect(c, "/invoices/"+itoa(inv.ID))
}

// FromProforma drafts the invoice a proforma becomes.
func (h *Handler) FromProforma(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	var made queries.Invoice
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		made, err = invoices.FromProforma(ctx, tx, p.OrgID, inv.ID, &p.UserID)
		return err
	})
	if done, rerr := h.refused(c, inv, err, nil); done {
		return rerr
	}
	web.Flash(c, "success", "invoices.draft_saved")
	return web.Redirect(c, "/invoices/"+itoa(made.ID))
}

// FromOrder drafts the invoice of an order (POST /orders/:id/invoice):
// mode "all" its lines, "delivered" what its delivery notes delivered and
// nothing bills yet, "notes" the delivery notes ticked (note_id).
func (h *Handler) FromOrder(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	o, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.GetOrderRow, error) {
		return h.Q.GetOrder(ctx, queries.GetOrderParams{OrgID: org, ID: id})
	}, func(o queries.GetOrderRow) *int64 { return &o.OwnerID })
	if err != nil {
		return err
	}
	back := "/orders/" + itoa(o.ID)
	mode := c.FormValue("mode")
	var noteIDs []int64
	if mode == "notes" {
		open, err := h.Q.ListOrderUninvoicedNotes(c.UserContext(), queries.ListOrderUninvoicedNotesParams{OrgID: p.OrgID, OrderID: o.ID})
		if err != nil {
			return err
		}
		for _, b := range c.Request().PostArgs().PeekMulti("note_id") {
			id, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err != nil || !slices.ContainsFunc(open, func(n queries.ListOrderUninvoicedNotesRow) bool { return n.ID == id }) {
				web.Flash(c, "error", "invoices.notes_choose")
				return web.Redirect(c, back)
			}
			noteIDs = append(noteIDs, id)
		}
		if len(noteIDs) == 0 {
			web.Flash(c, "error", "invoices.notes_choose")
			return web.Redirect(c, back)
		}
	} else if mode != "all" && mode != "delivered" {
		web.Flash(c, "error", "invoices.order_mode")
		return web.Redirect(c, back)
	}
	var inv queries.Invoice
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if mode == "notes" {
			inv, err = invoices.FromDeliveryNotes(ctx, tx, invoices.NotesInput{OrgID: p.OrgID, NoteIDs: noteIDs, By: &p.UserID, Now: time.Now()})
		} else {
			inv, err = invoices.FromOrder(ctx, tx, invoices.OrderInput{OrgID: p.OrgID, OrderID: o.ID, DeliveredOnly: mode == "delivered",
				By: &p.UserID, Now: time.Now()})
		}
		return err
	})
	return drafted(c, inv, err, back)
}

// drafted answers a draft made from a source (an order, its notes, a
// quote): its page, or back to the source with why it was not made.
func drafted(c *fiber.Ctx, inv queries.Invoice, err error, back string) error {
	var bad invoices.Invalid
	switch {
	case errors.Is(err, orders.ErrNotSigned):
		web.Flash(c, "error", "orders.not_signed")
		return web.Redirect(c, back)
	case errors.As(err, &bad):
		for _, pr := range bad {
			web.Flash(c, "error", pr.ID)
			break
		}
		return web.Redirect(c, back)
	case errors.Is(err, invoices.ErrAlreadyInvoiced):
		web.Flash(c, "error", "invoices.already_invoiced")
		return web.Redirect(c, back)
	case err != nil:
		return err
	}
	web.Flash(c, "success", "invoices.draft_saved")
	return web.Redirect(c, "/invoices/"+itoa(inv.ID))
}

// FromQuote drafts the invoice of a signed quote (POST /quotes/:id/invoice):
// its order, made now if the quote has none yet, invoiced whole. The draft's
// page then issues it and schedules its send.
func (h *Handler) FromQuote(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	qt, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.GetQuoteRow, error) {
		return h.Q.GetQuote(ctx, queries.GetQuoteParams{OrgID: org, ID: id})
	}, func(qt queries.GetQuoteRow) *int64 { return &qt.OwnerID })
	if err != nil {
		return err
	}
	back := "/quotes/" + itoa(qt.ID)
	var inv queries.Invoice
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = invoices.FromQuote(ctx, tx, p.OrgID, qt.ID, &p.UserID, time.Now())
		return err
	})
	return drafted(c, inv, err, back)
}

// refused answers an action on an invoice's page that did not happen: its
// field messages on the page, a flash when the invoice has moved on (issued
// or voided meanwhile), or the error. done is false when err is nil.
func (h *Handler) refused(c *fiber.Ctx, inv queries.Invoice, err error, form *showForm) (done bool, _ error) {
	if errs, ok := asInvalid(err); ok {
		return true, h.renderShow(c, fiber.StatusUnprocessableEntity, inv, errs, form)
	}
	if done, rerr := stateFlash(c, inv.ID, err); done {
		return true, rerr
	}
	return err != nil, err
}
