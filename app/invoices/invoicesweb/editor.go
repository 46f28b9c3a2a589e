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

	"pulso/app/catalog"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	invoicesview "pulso/views/invoices"
)

// The by-hand editor keeps nothing before its last step: steps 1 and 2
// post everything typed so far, and each step asks app/invoices (in a
// transaction rolled back) whether what it has so far stands, so the rules
// are checked where they are written and a half-typed invoice leaves no
// row behind.

// editorInput is the editor's form as posted.
type editorInput struct {
	kind, customerID, notes, issueDate, operationDate string
	// replaces is the draft being edited ("" for a new invoice).
	replaces string
	// canje is the simplified invoice a complete one (F3) replaces, when
	// the customer asked for one ("" otherwise).
	canje string
	lines []invoicesview.LineForm
}

func readEditor(c *fiber.Ctx) editorInput {
	return editorInput{kind: c.FormValue("kind"), customerID: c.FormValue("customer_id"), notes: c.FormValue("notes"),
		issueDate: c.FormValue("issue_date"), operationDate: c.FormValue("operation_date"), replaces: c.FormValue("replaces"),
		canje: c.FormValue("canje"), lines: formLines(c)}
}

// NewForm is step 1: the kind and the customer (?customer_id= preselects;
// one the viewer may not see is 404).
func (h *Handler) NewForm(c *fiber.Ctx) error {
	in := editorInput{kind: string(invoices.Ordinary), customerID: c.Query("customer_id")}
	if c.Query("canje") != "" {
		// A complete invoice in place of a simplified one: its lines, a
		// customer to name.
		id, err := strconv.ParseInt(c.Query("canje"), 10, 64)
		if err != nil {
			return web.ErrNotFound
		}
		ticket, err := h.loadID(c, id)
		if err != nil {
			return err
		}
		if ticket.State != invoices.Issued || ticket.FiscalType == nil || *ticket.FiscalType != "F2" {
			return web.ErrNotFound
		}
		lines, err := h.Q.ListInvoiceLines(c.UserContext(), queries.ListInvoiceLinesParams{OrgID: ticket.OrgID, InvoiceID: ticket.ID})
		if err != nil {
			return err
		}
		in.kind, in.canje, in.lines = string(invoices.Replacement), itoa(ticket.ID), lineForms(web.MustPrincipal(c), lines)
	}
	if in.customerID != "" {
		p := web.MustPrincipal(c)
		if _, ok, err := h.visibleCustomer(c.UserContext(), p, in.customerID); err != nil {
			return err
		} else if !ok {
			return web.ErrNotFound
		}
	}
	return h.renderEditor(c, fiber.StatusOK, 1, in, nil, nil)
}

// visibleCustomer reads the customer of the id typed if the viewer may see
// it (ok false otherwise, or when there is none).
func (h *Handler) visibleCustomer(ctx context.Context, p *web.Principal, s string) (queries.Customer, bool, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return queries.Customer{}, false, nil
	}
	cu, err := h.Q.GetCustomer(ctx, queries.GetCustomerParams{OrgID: p.OrgID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cu, false, nil
	}
	if err != nil {
		return cu, false, err
	}
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return cu, false, err
	}
	return cu, web.InScope(sc, cu.OwnerID), nil
}

// draftInput checks what the viewer may choose (a hand kind, a customer in
// scope) and parses the lines; the rest is the domain's.
func (h *Handler) draftInput(c *fiber.Ctx, in editorInput) (invoices.DraftInput, invoicesview.Errors, error) {
	p := web.MustPrincipal(c)
	errs := invoicesview.Errors{}
	d := invoices.DraftInput{OrgID: p.OrgID, Kind: invoices.Kind(in.kind), Notes: in.notes, By: &p.UserID, Now: time.Now()}
	switch {
	case in.canje != "":
		// The replaced invoice's rules (issued, simplified, not replaced
		// yet) are checked by Issue; an id that is not one is a choice
		// that does not stand.
		id, err := strconv.ParseInt(in.canje, 10, 64)
		if err != nil || in.kind != string(invoices.Replacement) {
			errs["kind"] = invoicesview.Msg{ID: "validation.choice"}
		}
		d.Corrects = []int64{id}
	case !slices.Contains(invoicesview.HandKinds, in.kind):
		errs["kind"] = invoicesview.Msg{ID: "validation.choice"}
	}
	if strings.TrimSpace(in.customerID) != "" {
		cu, ok, err := h.visibleCustomer(c.UserContext(), p, in.customerID)
		if err != nil {
			return d, nil, err
		}
		if !ok {
			errs["customer"] = invoicesview.Msg{ID: "invoices.customer_required"}
		} else {
			d.CustomerID = &cu.ID
		}
	}
	d.Lines = parseLines(p, in.lines, false, errs)
	return d, errs, nil
}

// tryDraft asks the domain to write the draft and rolls it back: its field
// messages, or the draft and its lines as they would be stored.
func (h *Handler) tryDraft(ctx context.Context, d invoices.DraftInput) (queries.Invoice, []queries.InvoiceLine, error) {
	var inv queries.Invoice
	var lines []queries.InvoiceLine
	err := live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if inv, err = invoices.CreateDraft(ctx, tx, d); err != nil {
			return err
		}
		if lines, err = queries.New(tx).ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: inv.OrgID, InvoiceID: inv.ID}); err != nil {
			return err
		}
		return errRollback
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	return inv, lines, err
}

// Step moves the editor between its steps (POST /invoices/new): to 2 once
// the kind and customer stand, to 3 once the lines do; adding, removing or
// picking a product stays on 2.
func (h *Handler) Step(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	in := readEditor(c)
	if s := c.FormValue("remove"); s != "" {
		if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(in.lines) {
			in.lines = append(in.lines[:i], in.lines[i+1:]...)
		}
	}
	if c.FormValue("add_free") != "" {
		_, def, err := web.RateOptions(ctx, h.Q, p)
		if err != nil {
			return err
		}
		in.lines = append(in.lines, invoicesview.LineForm{Unit: "ud", Quantity: "1", TaxRateID: def})
		return h.renderEditor(c, fiber.StatusOK, 2, in, nil, nil)
	}
	if s := c.FormValue("add_product"); s != "" {
		id, _ := strconv.ParseInt(s, 10, 64)
		pr, err := h.Q.GetActiveProduct(ctx, queries.GetActiveProductParams{OrgID: p.OrgID, ID: id})
		if errors.Is(err, pgx.ErrNoRows) {
			return h.renderEditor(c, fiber.StatusUnprocessableEntity, 2, in, invoicesview.Errors{"lines": {ID: "quotes.product_gone"}}, nil)
		}
		if err != nil {
			return err
		}
		price := pr.Price
		if cu, ok, err := h.visibleCustomer(ctx, p, in.customerID); err != nil {
			return err
		} else if ok {
			// The customer's price list decides the price (their base price otherwise).
			if price, err = catalog.PriceFor(ctx, h.Q, p.OrgID, cu.ID, pr.ID, pr.Price); err != nil {
				return err
			}
		}
		in.lines = append(in.lines, invoicesview.LineForm{ProductID: itoa(pr.ID), Description: pr.Name, Unit: pr.Unit, Quantity: "1",
			UnitPrice: money.Input(price, p.OrgCountry), TaxRateID: itoa(pr.TaxRateID)})
		return h.renderEditor(c, fiber.StatusOK, 2, in, nil, nil)
	}
	step, _ := strconv.Atoi(c.FormValue("step"))
	switch step {
	case 1:
		return h.renderEditor(c, fiber.StatusOK, 1, in, nil, nil)
	case 2, 3:
	default:
		return h.renderEditor(c, fiber.StatusOK, 2, in, nil, nil)
	}
	d, errs, err := h.draftInput(c, in)
	if err != nil {
		return err
	}
	if step == 2 {
		// Step 1 stands when the domain takes the draft without lines.
		d.Lines = nil
		errs = stepOneErrors(errs)
	}
	var lines []queries.InvoiceLine
	var inv queries.Invoice
	if len(errs) == 0 {
		inv, lines, err = h.tryDraft(ctx, d)
		if e, ok := asInvalid(err); ok {
			errs = e
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		back := 2
		if step == 2 || errs["kind"].ID != "" || errs["customer"].ID != "" {
			back = 1
		}
		return h.renderEditor(c, fiber.StatusUnprocessableEntity, back, in, errs, nil)
	}
	if step == 2 {
		if len(in.lines) == 0 {
			_, def, err := web.RateOptions(ctx, h.Q, p)
			if err != nil {
				return err
			}
			in.lines = []invoicesview.LineForm{{Unit: "ud", Quantity: "1", TaxRateID: def}}
		}
		return h.renderEditor(c, fiber.StatusOK, 2, in, nil, nil)
	}
	if len(lines) == 0 {
		return h.renderEditor(c, fiber.StatusUnprocessableEntity, 2, in, invoicesview.Errors{"lines": {ID: "invoices.no_lines"}}, nil)
	}
	return h.renderEditor(c, fiber.StatusOK, 3, in, nil, &review{inv: inv, lines: lines})
}

// stepOneErrors keeps the messages that belong to step 1.
func stepOneErrors(errs invoicesview.Errors) invoicesview.Errors {
	out := invoicesview.Errors{}
	for _, k := range []string{"kind", "customer"} {
		if m, ok := errs[k]; ok {
			out[k] = m
		}
	}
	return out
}

// review is the draft as it would be stored, for step 3.
type review struct {
	inv   queries.Invoice
	lines []queries.InvoiceLine
}

// Create is step 3's buttons (POST /invoices): save the draft, or save and
// issue it in one transaction. A refusal to issue stores nothing and shows
// the domain's messages on the review.
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	in := readEditor(c)
	d, errs, err := h.draftInput(c, in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return h.renderEditor(c, fiber.StatusUnprocessableEntity, 2, in, errs, nil)
	}
	// The dates are typed on the review (step 3), and shown there when
	// they are not dates.
	issueDate, ok := parseDay(in.issueDate)
	if !ok {
		errs["issue_date"] = invoicesview.Msg{ID: "validation.date"}
	}
	opDate, ok := parseDay(in.operationDate)
	if !ok {
		errs["operation_date"] = invoicesview.Msg{ID: "validation.date"}
	}
	if len(errs) > 0 {
		return h.review(c, d, in, errs)
	}
	issue := c.FormValue("action") == "issue"
	var old queries.Invoice
	if in.replaces != "" {
		id, err := strconv.ParseInt(in.replaces, 10, 64)
		if err != nil || id <= 0 {
			return web.ErrNotFound
		}
		if old, err = h.loadID(c, id); err != nil {
			return err
		}
		if ok, err := h.editable(ctx, old); err != nil {
			return err
		} else if !ok {
			_, err := stateFlash(c, old.ID, invoices.ErrNotDraft)
			return err
		}
	}
	var inv queries.Invoice
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		// An edited draft is replaced, in the same transaction: if saving
		// fails, the old draft stays as it was.
		if old.ID != 0 {
			if err := invoices.DeleteDraft(ctx, tx, old.OrgID, old.ID); err != nil {
				return err
			}
		}
		if inv, err = invoices.CreateDraft(ctx, tx, d); err != nil || !issue {
			return err
		}
		inv, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: p.OrgID, InvoiceID: inv.ID, UserID: &p.UserID, Locale: p.Locale, Jobs: h.Jobs,
			IssueDate: issueDate, OperationDate: opDate, Now: time.Now()})
		return err
	})
	if e, ok := asInvalid(err); ok {
		return h.review(c, d, in, e)
	}
	if old.ID != 0 {
		// Issued or deleted meanwhile.
		if done, rerr := stateFlash(c, old.ID, err); done {
			return rerr
		}
	}
	if err != nil {
		return err
	}
	if issue {
		web.Flash(c, "success", "invoices.issued_flash")
	} else {
		web.Flash(c, "success", "invoices.draft_saved")
	}
	return web.Redirect(c, "/invoices/"+itoa(inv.ID))
}

// review shows the review again with errs: the draft as it would be, or
// the lines (step 2) when the draft itself does not stand.
func (h *Handler) review(c *fiber.Ctx, d invoices.DraftInput, in editorInput, errs invoicesview.Errors) error {
	rinv, lines, err := h.tryDraft(c.UserContext(), d)
	if _, bad := asInvalid(err); bad || len(lines) == 0 {
		return h.renderEditor(c, fiber.StatusUnprocessableEntity, 2, in, errs, nil)
	} else if err != nil {
		return err
	}
	return h.renderEditor(c, fiber.StatusUnprocessableEntity, 3, in, errs, &review{inv: rinv, lines: lines})
}

// editable says whether a draft can be opened in the by-hand editor: one
// typed by hand (a hand kind, from no order, quote, proforma or delivery
// note), so replacing it loses nothing the editor cannot show.
func (h *Handler) editable(ctx context.Context, inv queries.Invoice) (bool, error) {
	if inv.State != invoices.Draft || !slices.Contains(invoicesview.HandKinds, inv.Kind) || inv.OrderID != nil || inv.QuoteID != nil ||
		inv.FromProformaID != nil {
		return false, nil
	}
	notes, err := h.Q.ListInvoiceDeliveryNotes(ctx, queries.ListInvoiceDeliveryNotesParams{OrgID: inv.OrgID, InvoiceID: inv.ID})
	return len(notes) == 0, err
}

// Edit opens a hand draft in the editor at its lines (step 2); saving or
// issuing replaces the draft.
func (h *Handler) Edit(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if ok, err := h.editable(ctx, inv); err != nil {
		return err
	} else if !ok {
		return web.Redirect(c, "/invoices/"+itoa(inv.ID))
	}
	lines, err := h.Q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: inv.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	in := editorInput{kind: inv.Kind, notes: inv.Notes, replaces: itoa(inv.ID), lines: lineForms(web.MustPrincipal(c), lines)}
	if inv.CustomerID != nil {
		in.customerID = itoa(*inv.CustomerID)
	}
	return h.renderEditor(c, fiber.StatusOK, 2, in, nil, nil)
}

func (h *Handler) renderEditor(c *fiber.Ctx, status, step int, in editorInput, errs invoicesview.Errors, r *review) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	e := invoicesview.EditorPage{Step: step, Kind: in.kind, CustomerID: in.customerID, Notes: in.notes, Lines: in.lines, Errors: errs,
		IssueDate: in.issueDate, OperationDate: in.operationDate, Replaces: in.replaces, Canje: in.canje}
	if e.Errors == nil {
		e.Errors = invoicesview.Errors{}
	}
	if e.Kind == "" {
		e.Kind = string(invoices.Ordinary)
	}
	if cu, ok, err := h.visibleCustomer(ctx, p, in.customerID); err != nil {
		return err
	} else if ok {
		e.Customer = cu.LegalName
	}
	switch step {
	case 1:
		sc, err := web.Scope(ctx, h.Q, p)
		if err != nil {
			return err
		}
		cs, err := h.Q.ListCustomerChoices(ctx, queries.ListCustomerChoicesParams{OrgID: p.OrgID, OwnerScope: sc})
		if err != nil {
			return err
		}
		e.Customers = []components.SelectOption{{Value: "", Label: "invoices.no_customer"}}
		for _, cu := range cs {
			e.Customers = append(e.Customers, components.SelectOption{Value: itoa(cu.ID), Label: cu.LegalName, Raw: true})
		}
		kinds := invoicesview.HandKinds
		if in.canje != "" {
			kinds = []string{string(invoices.Replacement)}
		}
		for _, k := range kinds {
			e.KindOptions = append(e.KindOptions, components.SelectOption{Value: k, Label: "invoices.kind." + k})
		}
	case 2:
		// An F3 restates the ticket's sale: the rates of its devengo.
		day := p.Today(time.Now())
		if id, err := strconv.ParseInt(in.canje, 10, 64); err == nil {
			ticket, err := h.Q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: p.OrgID, ID: id})
			switch {
			case err == nil && ticket.State == invoices.Issued:
				day = invoices.Accrued(ticket)
			case err != nil && !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		rates, _, err := web.RateOptionsOn(ctx, h.Q, p, day)
		if err != nil {
			return err
		}
		e.Rates = rates
	default:
		if r != nil {
			e.Review = reviewLines(r.lines, r.inv.Currency)
			e.Totals = totalsOf(r.inv, r.lines)
		}
	}
	return web.Render(c, status, editorPage, invoicesview.Editor(e))
}

// Products is the editor's catalog search (quick add), priced for the
// customer chosen in step 1 when there is one.
func (h *Handler) Products(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	rows, err := h.Q.QuoteProducts(ctx, queries.QuoteProductsParams{OrgID: p.OrgID, Search: web.SearchPattern(c.Query("q"))})
	if err != nil {
		return err
	}
	cu, priced, err := h.visibleCustomer(ctx, p, c.Query("customer_id"))
	if err != nil {
		return err
	}
	var out []invoicesview.Product
	for _, r := range rows {
		price := r.Price
		if priced {
			if price, err = catalog.PriceFor(ctx, h.Q, p.OrgID, cu.ID, r.ID, r.Price); err != nil {
				return err
			}
		}
		out = append(out, invoicesview.Product{ID: r.ID, Code: r.Code, Name: r.Name, Price: money.Format(price, p.Currency), Unit: r.Unit})
	}
	return web.Render(c, fiber.StatusOK, web.Page{}, invoicesview.ProductResults(out))
}
