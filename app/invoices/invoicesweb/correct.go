package invoicesweb

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	invoicesview "pulso/views/invoices"
)

// correctable loads an issued invoice that a corrective may name.
func (h *Handler) correctable(c *fiber.Ctx) (queries.Invoice, error) {
	inv, err := h.load(c)
	if err != nil {
		return inv, err
	}
	if inv.State != invoices.Issued || inv.Kind == string(invoices.Proforma) {
		return inv, web.ErrNotFound
	}
	return inv, nil
}

// CorrectForm is the rectificativa of an issued invoice, its lines
// prefilled from the invoice (by substitution they are the new content;
// by difference the user turns them into what changes).
func (h *Handler) CorrectForm(c *fiber.Ctx) error {
	inv, err := h.correctable(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	lines, err := h.Q.ListInvoiceLines(c.UserContext(), queries.ListInvoiceLinesParams{OrgID: p.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	typ := "R1"
	if inv.FiscalType != nil && (*inv.FiscalType == "F2" || *inv.FiscalType == "R5") {
		typ = "R5"
	}
	f := invoicesview.CorrectForm{Type: typ, Method: invoices.BySubstitution, Lines: lineForms(p, lines)}
	return h.renderCorrect(c, fiber.StatusOK, inv, f)
}

func (h *Handler) renderCorrect(c *fiber.Ctx, status int, inv queries.Invoice, f invoicesview.CorrectForm) error {
	p := web.MustPrincipal(c)
	f.ID, f.Number = inv.ID, number(inv)
	if f.Errors == nil {
		f.Errors = invoicesview.Errors{}
	}
	if inv.CustomerID != nil {
		cu, err := h.Q.GetCustomer(c.UserContext(), queries.GetCustomerParams{OrgID: p.OrgID, ID: *inv.CustomerID})
		if err != nil {
			return err
		}
		f.Customer = cu.LegalName
	}
	// The lines restate the corrected operation: its devengo's rates.
	rates, _, err := web.RateOptionsOn(c.UserContext(), h.Q, p, invoices.Accrued(inv))
	if err != nil {
		return err
	}
	f.Rates = rates
	return web.Render(c, status, showPage, invoicesview.Correct(f))
}

// Correct drafts (action "draft") or issues (action "issue") the
// rectificativa; a refusal stores nothing and shows the form again with
// the domain's messages.
func (h *Handler) Correct(c *fiber.Ctx) error {
	inv, err := h.correctable(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	f := invoicesview.CorrectForm{Type: c.FormValue("corrective_type"), Method: c.FormValue("method"), Reason: c.FormValue("reason"),
		IssueDate: c.FormValue("issue_date"), Lines: formLines(c), Errors: invoicesview.Errors{}}
	if s := c.FormValue("remove"); s != "" {
		if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(f.Lines) {
			f.Lines = append(f.Lines[:i], f.Lines[i+1:]...)
		}
		return h.renderCorrect(c, fiber.StatusOK, inv, f)
	}
	if c.FormValue("refresh") != "" {
		return h.renderCorrect(c, fiber.StatusOK, inv, f)
	}
	if c.FormValue("add_free") != "" {
		_, def, err := web.RateOptions(c.UserContext(), h.Q, p)
		if err != nil {
			return err
		}
		f.Lines = append(f.Lines, invoicesview.LineForm{Unit: "ud", Quantity: "1", TaxRateID: def})
		return h.renderCorrect(c, fiber.StatusOK, inv, f)
	}
	d := invoices.DraftInput{OrgID: p.OrgID, Kind: invoices.Corrective, CorrectiveType: f.Type, Method: f.Method, Reason: f.Reason,
		Corrects: []int64{inv.ID}, By: &p.UserID, Now: time.Now()}
	if f.Type != "R5" {
		d.CustomerID = inv.CustomerID
	}
	d.Lines = parseLines(p, f.Lines, f.Method == invoices.ByDifference, f.Errors)
	day, ok := parseDay(f.IssueDate)
	if !ok {
		f.Errors["issue_date"] = invoicesview.Msg{ID: "validation.date"}
	}
	if len(f.Errors) > 0 {
		return h.renderCorrect(c, fiber.StatusUnprocessableEntity, inv, f)
	}
	issue := c.FormValue("action") == "issue"
	var made queries.Invoice
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if made, err = invoices.CreateDraft(ctx, tx, d); err != nil || !issue {
			return err
		}
		made, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: p.OrgID, InvoiceID: made.ID, UserID: &p.UserID, Locale: p.Locale, Jobs: h.Jobs,
			IssueDate: day, Now: time.Now()})
		return err
	})
	if errs, ok := asInvalid(err); ok {
		f.Errors = errs
		return h.renderCorrect(c, fiber.StatusUnprocessableEntity, inv, f)
	}
	if err != nil {
		return err
	}
	if issue {
		web.Flash(c, "success", "invoices.issued_flash")
	} else {
		web.Flash(c, "success", "invoices.draft_saved")
	}
	return web.Redirect(c, "/invoices/"+itoa(made.ID))
}
