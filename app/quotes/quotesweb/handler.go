package quotesweb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/catalog"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/quotes"
	"pulso/app/tax"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	quotesview "pulso/views/quotes"
)

// Handler serves /quotes (the rep's side) and /q/:token (the client's).
type Handler struct{ web.Deps }

// New builds the quote handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const pageSize = 25

// DefaultValidityDays is how long a new quote is valid unless the rep
// changes it.
const DefaultValidityDays = 30

var (
	listPage   = web.Page{Title: "quotes.title", Nav: "quotes", Fragment: "quotes-results"}
	showPage   = web.Page{Title: "quotes.title", Nav: "quotes", Fragment: "quote-show"}
	editorPage = web.Page{Title: "quotes.title", Nav: "quotes", Fragment: "quote-editor"}
)

// load finds a quote the principal may see: their own as a rep, their
// team's as a manager, any as an admin or accountant. Anything else is 404.
func (h *Handler) load(c *fiber.Ctx) (queries.GetQuoteRow, error) {
	qt, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.GetQuoteRow, error) {
		return h.Q.GetQuote(ctx, queries.GetQuoteParams{OrgID: org, ID: id})
	}, func(qt queries.GetQuoteRow) *int64 { return &qt.OwnerID })
	return qt, err
}

// List is /quotes: newest first, by state (expired = sent and past its
// validity), within the viewer's scope.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	v := quotesview.ListPage{Status: c.Query("status")}
	params := queries.ListQuotesParams{OrgID: p.OrgID, OwnerScope: sc, PageSize: pageSize + 1,
		Today: pgtype.Date{Time: p.Today(time.Now()), Valid: true}}
	qs := url.Values{}
	switch v.Status {
	case "draft", "sent", "signed", "rejected", "expired":
		params.Status = &v.Status
		qs.Set("status", v.Status)
	default:
		v.Status = ""
	}
	if id, err := strconv.ParseInt(c.Query("opportunity"), 10, 64); err == nil && id > 0 {
		params.OpportunityID = &id
		qs.Set("opportunity", itoa(id))
	}
	if b, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && b > 0 {
		params.BeforeID = &b
	}
	rows, err := h.Q.ListQuotes(ctx, params)
	if err != nil {
		return err
	}
	for i, r := range rows {
		if i == pageSize {
			qs.Set("before", itoa(rows[pageSize-1].ID))
			v.MoreURL = "/quotes?" + qs.Encode()
			break
		}
		status := r.Status
		if r.Expired {
			status = "expired"
		}
		row := quotesview.Row{ID: r.ID, Customer: r.CustomerName, Owner: r.OwnerName, Status: status, Version: r.CurrentVersion,
			Total: money.Format(r.Total, r.Currency), ValidUntil: r.ValidUntil.Time.Format("02/01/2006"), Opened: r.FirstOpenedAt != nil}
		if r.Number != nil {
			row.Number = *r.Number
		}
		v.Rows = append(v.Rows, row)
	}
	return web.Render(c, fiber.StatusOK, listPage, quotesview.List(v))
}

// NewForm is step 1 for a new quote: customer, contact and deal. The
// customer list is the viewer's; ?customer_id= and ?opportunity_id=
// preselect (the deal and customer pages link here). Naming a customer or
// deal the viewer may not see is 404, as opening it would be.
func (h *Handler) NewForm(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	v := map[string]string{"customer_id": c.Query("customer_id"), "contact_id": c.Query("contact_id"), "opportunity_id": c.Query("opportunity_id")}
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	if s := v["opportunity_id"]; s != "" {
		id, _ := strconv.ParseInt(s, 10, 64)
		o, err := h.Q.GetOpportunity(ctx, queries.GetOpportunityParams{OrgID: p.OrgID, ID: id})
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !web.InScope(sc, o.OwnerID)) {
			return web.ErrNotFound
		}
		if err != nil {
			return err
		}
		if v["customer_id"] == "" {
			v["customer_id"] = itoa(o.CustomerID)
		}
	}
	if s := v["customer_id"]; s != "" {
		id, _ := strconv.ParseInt(s, 10, 64)
		if _, ok, err := h.visibleCustomer(ctx, p, sc, id); err != nil {
			return err
		} else if !ok {
			return web.ErrNotFound
		}
	}
	return h.renderHeader(c, fiber.StatusOK, 0, v, nil)
}

// visibleCustomer reads customer id of the viewer's org if it is within
// their scope sc (ok false otherwise, or when there is no such customer):
// the one check behind every customer step 1 names or lists.
func (h *Handler) visibleCustomer(ctx context.Context, p *web.Principal, sc []int64, id int64) (queries.Customer, bool, error) {
	cu, err := h.Q.GetCustomer(ctx, queries.GetCustomerParams{OrgID: p.OrgID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cu, false, nil
	}
	if err != nil {
		return cu, false, err
	}
	return cu, web.InScope(sc, cu.OwnerID), nil
}

func (h *Handler) renderHeader(c *fiber.Ctx, status int, id int64, values, errs map[string]string) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	f := quotesview.HeaderForm{ID: id, Values: values, Errors: errs}
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	cs, err := h.Q.ListCustomerChoices(ctx, queries.ListCustomerChoicesParams{OrgID: p.OrgID, OwnerScope: sc})
	if err != nil {
		return err
	}
	f.Customers = []components.SelectOption{{Value: "", Label: "quotes.choose_customer"}}
	for _, cu := range cs {
		f.Customers = append(f.Customers, components.SelectOption{Value: itoa(cu.ID), Label: cu.LegalName, Raw: true})
	}
	// Contacts and deals only of a customer the viewer may see: the form
	// re-renders with whatever id was posted.
	visible := false
	cid, _ := strconv.ParseInt(values["customer_id"], 10, 64)
	if cid > 0 {
		if _, visible, err = h.visibleCustomer(ctx, p, sc, cid); err != nil {
			return err
		}
	}
	if visible {
		contacts, err := h.Q.ListCustomerContacts(ctx, queries.ListCustomerContactsParams{OrgID: p.OrgID, CustomerID: cid})
		if err != nil {
			return err
		}
		f.Contacts = []components.SelectOption{{Value: "", Label: "quotes.no_contact"}}
		for _, ct := range contacts {
			label := ct.Name
			if ct.Email != "" {
				label += " · " + ct.Email
			}
			f.Contacts = append(f.Contacts, components.SelectOption{Value: itoa(ct.ID), Label: label, Raw: true})
		}
		opps, err := h.Q.ListCustomerOpportunities(ctx, queries.ListCustomerOpportunitiesParams{OrgID: p.OrgID, CustomerID: cid})
		if err != nil {
			return err
		}
		f.Opportunities = []components.SelectOption{{Value: "", Label: "quotes.no_opportunity"}}
		for _, o := range opps {
			if o.Stage == "ganada" || o.Stage == "cancelada" || !web.InScope(sc, o.OwnerID) {
				continue
			}
			f.Opportunities = append(f.Opportunities, components.SelectOption{Value: itoa(o.ID), Label: o.Title, Raw: true})
		}
		if values["contact_id"] == "" && len(contacts) > 0 && contacts[0].IsPrimary {
			values["contact_id"] = itoa(contacts[0].ID)
		}
	}
	return web.Render(c, status, editorPage, quotesview.Editor(quotesview.EditorPage{Step: 1, Header: f, ID: id}))
}

type header struct {
	CustomerID    int64
	Customer      queries.Customer // as read to check it, for its tax defaults
	ContactID     *int64
	OpportunityID *int64
}

// parseHeader checks step 1: the customer in scope, the contact theirs,
// the deal theirs and open.
func (h *Handler) parseHeader(c *fiber.Ctx) (header, map[string]string, map[string]string, error) {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	v := map[string]string{"customer_id": c.FormValue("customer_id"), "contact_id": c.FormValue("contact_id"),
		"opportunity_id": c.FormValue("opportunity_id"), "revision": c.FormValue("revision")}
	errs := map[string]string{}
	var hd header
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return hd, v, nil, err
	}
	cid, _ := strconv.ParseInt(v["customer_id"], 10, 64)
	cu, visible, err := h.visibleCustomer(ctx, p, sc, cid)
	if err != nil {
		return hd, v, nil, err
	}
	if !visible {
		errs["customer_id"] = "quotes.choose_customer"
		return hd, v, errs, nil
	}
	hd.CustomerID, hd.Customer = cu.ID, cu
	if s := v["contact_id"]; s != "" {
		id, _ := strconv.ParseInt(s, 10, 64)
		if _, err := h.Q.GetCustomerContact(ctx, queries.GetCustomerContactParams{OrgID: p.OrgID, CustomerID: cu.ID, ID: id}); errors.Is(err, pgx.ErrNoRows) {
			errs["contact_id"] = "validation.choice"
		} else if err != nil {
			return hd, v, nil, err
		} else {
			hd.ContactID = &id
		}
	}
	if s := v["opportunity_id"]; s != "" {
		id, _ := strconv.ParseInt(s, 10, 64)
		o, err := h.Q.GetOpportunity(ctx, queries.GetOpportunityParams{OrgID: p.OrgID, ID: id})
		switch {
		case errors.Is(err, pgx.ErrNoRows) || (err == nil && (o.CustomerID != cu.ID || !web.InScope(sc, o.OwnerID))):
			errs["opportunity_id"] = "validation.choice"
		case err != nil:
			return hd, v, nil, err
		default:
			hd.OpportunityID = &id
		}
	}
	return hd, v, errs, nil
}

// Create stores step 1 as a new draft quote (version 1, valid for
// DefaultValidityDays) and goes on to the lines.
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	hd, v, errs, err := h.parseHeader(c)
	if err != nil {
		return err
	}
	if c.FormValue("refresh") != "" || len(errs) > 0 {
		// Choosing a customer reloads step 1 with their contacts and deals.
		status := fiber.StatusUnprocessableEntity
		if c.FormValue("refresh") != "" {
			status, errs = fiber.StatusOK, nil
		}
		return h.renderHeader(c, status, 0, v, errs)
	}
	ctx := c.UserContext()
	var id int64
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		qt, err := q.CreateQuote(ctx, queries.CreateQuoteParams{OrgID: p.OrgID, CustomerID: hd.CustomerID, ContactID: hd.ContactID,
			OpportunityID: hd.OpportunityID, OwnerID: p.UserID, CreatedBy: &p.UserID})
		if err != nil {
			return err
		}
		id = qt.ID
		// The customer's tax regime is the quote's default.
		cu := hd.Customer
		recargo, irpf := tax.CustomerTax{Regime: tax.Regime(cu.TaxRegime), IRPF: money.Decimal(cu.IrpfRate)}.Defaults()
		_, err = q.CreateQuoteVersion(ctx, queries.CreateQuoteVersionParams{OrgID: p.OrgID, QuoteID: qt.ID, N: 1,
			ValidUntil: pgtype.Date{Time: p.Today(time.Now()).AddDate(0, 0, DefaultValidityDays), Valid: true}, Currency: p.Currency,
			Recargo: &recargo, IrpfRate: money.Numeric(irpf)})
		return err
	})
	if err != nil {
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/quotes/%d/edit?step=2", id))
}

// UpdateHeader saves step 1 of an existing draft.
func (h *Handler) UpdateHeader(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	hd, v, errs, err := h.parseHeader(c)
	if err != nil {
		return err
	}
	if c.FormValue("refresh") != "" || len(errs) > 0 {
		status := fiber.StatusUnprocessableEntity
		if c.FormValue("refresh") != "" {
			status, errs = fiber.StatusOK, nil
		}
		return h.renderHeader(c, status, qt.ID, v, errs)
	}
	if qt.Status != "draft" && hd.CustomerID != qt.CustomerID {
		// A sent quote's number belongs to its customer.
		return h.renderHeader(c, fiber.StatusUnprocessableEntity, qt.ID, v, map[string]string{"customer_id": "quotes.customer_fixed"})
	}
	rev, _ := strconv.ParseInt(v["revision"], 10, 32)
	_, err = h.Q.UpdateQuoteHeader(c.UserContext(), queries.UpdateQuoteHeaderParams{OrgID: p.OrgID, ID: qt.ID, Revision: int32(rev),
		CustomerID: hd.CustomerID, ContactID: hd.ContactID, OpportunityID: hd.OpportunityID})
	if errors.Is(err, pgx.ErrNoRows) {
		return h.renderHeader(c, fiber.StatusConflict, qt.ID, v, map[string]string{"customer_id": "quotes.conflict"})
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/quotes/%d/edit?step=2", qt.ID))
}

// Edit is the editor at ?step=1|2|3 for the quote's draft version. A sent
// quote without a draft shows its page instead (Revise opens the next
// version).
func (h *Handler) Edit(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	if qt.Status == "signed" || qt.Status == "rejected" {
		return web.Redirect(c, fmt.Sprintf("/quotes/%d", qt.ID))
	}
	p := web.MustPrincipal(c)
	v, err := h.Q.GetDraftVersion(c.UserContext(), queries.GetDraftVersionParams{OrgID: p.OrgID, QuoteID: qt.ID})
	if errors.Is(err, pgx.ErrNoRows) {
		return web.Redirect(c, fmt.Sprintf("/quotes/%d", qt.ID))
	}
	if err != nil {
		return err
	}
	switch c.Query("step") {
	case "1":
		vals := map[string]string{"customer_id": itoa(qt.CustomerID), "revision": strconv.Itoa(int(qt.Revision))}
		if qt.ContactID != nil {
			vals["contact_id"] = itoa(*qt.ContactID)
		}
		if qt.OpportunityID != nil {
			vals["opportunity_id"] = itoa(*qt.OpportunityID)
		}
		return h.renderHeader(c, fiber.StatusOK, qt.ID, vals, nil)
	case "3":
		return h.renderReview(c, fiber.StatusOK, qt, v, "")
	}
	lines, err := h.Q.ListQuoteLines(c.UserContext(), queries.ListQuoteLinesParams{OrgID: p.OrgID, QuoteID: qt.ID, VersionN: v.N})
	if err != nil {
		return err
	}
	t, err := tax.Compute(quotes.LinesOf(lines))
	if err != nil {
		return err
	}
	return h.renderLines(c, fiber.StatusOK, qt, qt.Revision, draftValues(p, v, lines), nil, &t, false)
}

// draftValues turns the stored draft back into what the form shows.
func draftValues(p *web.Principal, v queries.QuoteVersion, lines []queries.QuoteLine) quotes.DraftInput {
	d := quotes.DraftInput{ValidUntil: v.ValidUntil.Time.Format("2006-01-02"), Terms: v.Terms, Recargo: v.Recargo}
	if r := money.Decimal(v.IrpfRate); !r.IsZero() {
		d.IRPF = r.String()
	}
	for _, l := range lines {
		li := quotes.LineInput{Description: l.Description, Unit: l.Unit, Quantity: money.Number(money.Decimal(l.Quantity), p.Currency),
			UnitPrice: money.Input(l.UnitPrice, p.OrgCountry), DiscountPct: "", TaxRateID: itoa(l.TaxRateID)}
		if l.ProductID != nil {
			li.ProductID = itoa(*l.ProductID)
		}
		if dp := money.Decimal(l.DiscountPct); !dp.IsZero() {
			li.DiscountPct = money.Number(dp, p.Currency)
		}
		d.Lines = append(d.Lines, li)
	}
	return d
}

// renderLines shows step 2 with the draft as typed; t is the draft's totals
// when they are known (the stored or just-saved lines), nil while the form
// has errors.
func (h *Handler) renderLines(c *fiber.Ctx, status int, qt queries.GetQuoteRow, revision int32, d quotes.DraftInput, errs map[string]string, t *tax.Totals, saved bool) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	rates, _, err := web.RateOptions(ctx, h.Q, p)
	if err != nil {
		return err
	}
	e := quotesview.EditorPage{Step: 2, ID: qt.ID, Customer: qt.CustomerName, Revision: revision, Rates: rates,
		Country: p.OrgCountry, Errors: errs, Saved: saved}
	if e.Errors == nil {
		e.Errors = map[string]string{}
	}
	if qt.Number != nil {
		e.Number = *qt.Number
	}
	e.ValidUntil, e.Terms, e.Recargo, e.IRPF = d.ValidUntil, d.Terms, d.Recargo, d.IRPF
	for _, l := range d.Lines {
		e.Lines = append(e.Lines, quotesview.LineForm{ProductID: l.ProductID, Description: l.Description, Unit: l.Unit,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, Discount: l.DiscountPct, TaxRateID: l.TaxRateID})
	}
	if t != nil {
		e.Totals = web.TotalsView(*t, p.Currency)
	}
	return web.Render(c, status, editorPage, quotesview.Editor(e))
}

// formDraft reads the editor form: lines are posted as parallel arrays.
func formDraft(c *fiber.Ctx) quotes.DraftInput {
	args := c.Request().PostArgs()
	col := func(name string) []string {
		var out []string
		for _, b := range args.PeekMulti(name) {
			out = append(out, string(b))
		}
		return out
	}
	d := quotes.DraftInput{ValidUntil: c.FormValue("valid_until"), Terms: c.FormValue("terms"), Recargo: c.FormValue("recargo") == "1",
		IRPF: c.FormValue("irpf")}
	pid, desc, unit, qty, price, disc, rate := col("product_id"), col("description"), col("unit"), col("quantity"), col("unit_price"), col("discount"), col("tax_rate_id")
	at := func(s []string, i int) string {
		if i < len(s) {
			return s[i]
		}
		return ""
	}
	for i := range desc {
		d.Lines = append(d.Lines, quotes.LineInput{ProductID: at(pid, i), Description: at(desc, i), Unit: at(unit, i), Quantity: at(qty, i),
			UnitPrice: at(price, i), DiscountPct: at(disc, i), TaxRateID: at(rate, i)})
	}
	return d
}

// quotes.SaveDraft is the editor's autosave and its buttons (add a product, add a
// free line, remove a line): the whole draft is posted, changed as asked,
// validated and — when valid — stored. Invalid input is shown next to its
// field and nothing is stored, so the last good draft is never lost.
func (h *Handler) SaveDraft(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	v, err := h.Q.GetDraftVersion(ctx, queries.GetDraftVersionParams{OrgID: p.OrgID, QuoteID: qt.ID})
	if errors.Is(err, pgx.ErrNoRows) {
		return web.Redirect(c, fmt.Sprintf("/quotes/%d", qt.ID))
	}
	if err != nil {
		return err
	}
	rev64, _ := strconv.ParseInt(c.FormValue("revision"), 10, 32)
	rev := int32(rev64)
	d := formDraft(c)
	if s := c.FormValue("remove"); s != "" {
		if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(d.Lines) {
			d.Lines = append(d.Lines[:i], d.Lines[i+1:]...)
		}
	}
	if c.FormValue("add_free") != "" {
		_, def, err := web.RateOptions(ctx, h.Q, p)
		if err != nil {
			return err
		}
		d.Lines = append(d.Lines, quotes.LineInput{Unit: "ud", Quantity: "1", TaxRateID: def})
		// A new empty line is for typing into: show it, store on the next
		// change; the totals are still the stored lines'.
		lines, err := h.Q.ListQuoteLines(ctx, queries.ListQuoteLinesParams{OrgID: p.OrgID, QuoteID: qt.ID, VersionN: v.N})
		if err != nil {
			return err
		}
		t, err := tax.Compute(quotes.LinesOf(lines))
		if err != nil {
			return err
		}
		return h.renderLines(c, fiber.StatusOK, qt, rev, d, nil, &t, false)
	}
	if s := c.FormValue("add_product"); s != "" {
		id, _ := strconv.ParseInt(s, 10, 64)
		pr, err := h.Q.GetActiveProduct(ctx, queries.GetActiveProductParams{OrgID: p.OrgID, ID: id})
		if errors.Is(err, pgx.ErrNoRows) {
			return h.renderLines(c, fiber.StatusUnprocessableEntity, qt, rev, d, map[string]string{"lines": "quotes.product_gone"}, nil, false)
		}
		if err != nil {
			return err
		}
		// The customer's price list decides the price (their base price otherwise).
		price, err := catalog.PriceFor(ctx, h.Q, p.OrgID, qt.CustomerID, pr.ID, pr.Price)
		if err != nil {
			return err
		}
		d.Lines = append(d.Lines, quotes.LineInput{ProductID: itoa(pr.ID), Description: pr.Name, Unit: pr.Unit, Quantity: "1",
			UnitPrice: money.Input(price, p.OrgCountry), TaxRateID: itoa(pr.TaxRateID)})
	}
	d.Customer = quotes.CustomerTaxOf(qt)
	dr, errs, err := quotes.ParseDraft(ctx, h.Q, p.OrgID, p.OrgCountry, d, p.Today(time.Now()))
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return h.renderLines(c, fiber.StatusUnprocessableEntity, qt, rev, d, errs, nil, false)
	}
	var newRev int32
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		newRev, err = quotes.SaveDraft(ctx, tx, p.OrgID, qt.ID, rev, v.N, dr)
		return err
	})
	if errors.Is(err, quotes.ErrConflict) {
		return h.renderLines(c, fiber.StatusConflict, qt, rev, d, map[string]string{"lines": "quotes.conflict"}, nil, false)
	}
	if err != nil {
		return err
	}
	if c.FormValue("next") != "" {
		return web.Redirect(c, fmt.Sprintf("/quotes/%d/edit?step=3", qt.ID))
	}
	return h.renderLines(c, fiber.StatusOK, qt, newRev, d, nil, &dr.Totals, true)
}

// Products is the editor's catalog search (quick add).
func (h *Handler) Products(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	rows, err := h.Q.QuoteProducts(c.UserContext(), queries.QuoteProductsParams{OrgID: p.OrgID, Search: web.SearchPattern(c.Query("q"))})
	if err != nil {
		return err
	}
	var out []quotesview.Product
	for _, r := range rows {
		price, err := catalog.PriceFor(c.UserContext(), h.Q, p.OrgID, qt.CustomerID, r.ID, r.Price)
		if err != nil {
			return err
		}
		out = append(out, quotesview.Product{ID: r.ID, Code: r.Code, Name: r.Name,
			Price: money.Format(price, p.Currency), Unit: r.Unit})
	}
	return web.Render(c, fiber.StatusOK, web.Page{}, quotesview.ProductResults(qt.ID, out))
}
