// Package recurringweb serves recurring invoice templates
// (/recurring-invoices) and month-end runs (/invoice-runs) to billing
// users (admin, accountant). The rules are in app/invoices/recurring.
package recurringweb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/tax"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	"pulso/views/i18n"
	view "pulso/views/recurring"
)

// Handler serves the pages.
type Handler struct{ web.Deps }

// New builds the handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

const pageSize = 25

var (
	listPage = web.Page{Title: "recurring.title", Nav: "invoices", Fragment: "recurring-list"}
	formPage = web.Page{Title: "recurring.title", Nav: "invoices"}
	showPage = web.Page{Title: "recurring.title", Nav: "invoices"}
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const dateForm = "2006-01-02"

func shown(d time.Time) string { return d.Format("02/01/2006") }

// List is /recurring-invoices, newest first.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	params := queries.ListRecurringInvoicesParams{OrgID: p.OrgID, PageSize: pageSize + 1}
	if b, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && b > 0 {
		params.BeforeID = &b
	}
	rows, err := h.Q.ListRecurringInvoices(c.UserContext(), params)
	if err != nil {
		return err
	}
	var v view.ListPage
	for i, r := range rows {
		if i == pageSize {
			v.MoreURL = "/recurring-invoices?before=" + itoa(rows[pageSize-1].ID)
			break
		}
		row := view.Row{ID: r.ID, Name: r.Name, Customer: r.CustomerName, Frequency: r.Frequency, Active: r.Active, LastError: r.LastError}
		if r.NextPeriod.Valid && r.Active {
			row.Next = shown(r.NextPeriod.Time)
		}
		v.Rows = append(v.Rows, row)
	}
	return web.Render(c, fiber.StatusOK, listPage, view.List(v))
}

func (h *Handler) load(c *fiber.Ctx) (queries.GetRecurringInvoiceRow, error) {
	t, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.GetRecurringInvoiceRow, error) {
		return h.Q.GetRecurringInvoice(ctx, queries.GetRecurringInvoiceParams{OrgID: org, ID: id})
	}, nil)
	return t, err
}

// NewForm is an empty template: monthly on the 1st from the next 1st.
func (h *Handler) NewForm(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	start := recurring.Today(time.Now(), p.Location().String()).AddDate(0, 1, 0)
	start = recurring.Month(start)
	vals := map[string]string{"frequency": recurring.Monthly, "day": "1", "start": start.Format(dateForm), "mode": recurring.ModeIssue}
	if s := c.Query("customer_id"); s != "" {
		vals["customer_id"] = s
	}
	return h.renderForm(c, fiber.StatusOK, 0, vals, []view.LineForm{{Quantity: "1", Unit: "ud"}}, nil)
}

func (h *Handler) renderForm(c *fiber.Ctx, status int, id int64, vals map[string]string, lines []view.LineForm, errs map[string]view.Msg) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	f := view.FormPage{ID: id, Values: vals, Lines: lines, Errors: errs}
	cs, err := h.Q.ListBillableCustomers(ctx, p.OrgID)
	if err != nil {
		return err
	}
	f.Customers = []components.SelectOption{{Value: "", Label: "quotes.choose_customer"}}
	for _, cu := range cs {
		label := cu.LegalName
		if cu.TaxID != "" {
			label += " · " + cu.TaxID
		}
		f.Customers = append(f.Customers, components.SelectOption{Value: itoa(cu.ID), Label: label, Raw: true})
	}
	rates, err := tax.IVAOn(ctx, h.Q, p.OrgCountry, p.Today(time.Now()))
	if err != nil {
		return err
	}
	for _, r := range rates {
		f.Rates = append(f.Rates, components.SelectOption{Value: itoa(r.ID), Label: r.Label, Raw: true})
	}
	return web.Render(c, status, formPage, view.Form(f))
}

// parse reads the form: the values as typed (to show them again), the
// lines, the input for the domain, and what cannot even be parsed.
func (h *Handler) parse(c *fiber.Ctx) (recurring.TemplateInput, map[string]string, []view.LineForm, map[string]view.Msg) {
	p := web.MustPrincipal(c)
	vals := map[string]string{}
	for _, k := range []string{"name", "customer_id", "frequency", "day", "start", "end", "mode", "notes"} {
		vals[k] = strings.TrimSpace(c.FormValue(k))
	}
	errs := map[string]view.Msg{}
	in := recurring.TemplateInput{OrgID: p.OrgID, Name: vals["name"], Frequency: vals["frequency"], Mode: vals["mode"], Notes: vals["notes"],
		By: &p.UserID, Now: time.Now()}
	in.CustomerID, _ = strconv.ParseInt(vals["customer_id"], 10, 64)
	if vals["day"] != "" {
		d, err := strconv.Atoi(vals["day"])
		if err != nil {
			errs["day"] = view.Msg{ID: "recurring.day_range"}
		}
		in.Day = d
	}
	for _, k := range []string{"start", "end"} {
		if vals[k] == "" {
			continue
		}
		t, err := time.Parse(dateForm, vals[k])
		if err != nil {
			errs[k] = view.Msg{ID: "validation.date"}
			continue
		}
		if k == "start" {
			in.Start = t
		} else {
			in.End = t
		}
	}
	args := c.Request().PostArgs()
	multi := func(k string) []string {
		var out []string
		for _, b := range args.PeekMulti(k) {
			out = append(out, strings.TrimSpace(string(b)))
		}
		return out
	}
	desc, qty, unit, price, rate := multi("description"), multi("quantity"), multi("unit"), multi("unit_price"), multi("tax_rate_id")
	at := func(s []string, i int) string {
		if i < len(s) {
			return s[i]
		}
		return ""
	}
	var lines []view.LineForm
	for i := range desc {
		l := view.LineForm{Description: at(desc, i), Quantity: at(qty, i), Unit: at(unit, i), UnitPrice: at(price, i), TaxRateID: at(rate, i)}
		if l.Description == "" && l.UnitPrice == "" {
			continue // a blank line the form offered
		}
		n := len(lines)
		lines = append(lines, l)
		key := "lines." + strconv.Itoa(n) + "."
		li := invoices.LineInput{Description: l.Description, Unit: l.Unit}
		if q, ok := money.ParseDecimal(l.Quantity); ok {
			li.Quantity = q
		} else {
			errs[key+"quantity"] = view.Msg{ID: "quotes.quantity_invalid"}
		}
		if pr, err := money.ParseAmount(l.UnitPrice, p.OrgCountry); err == nil && pr > 0 {
			li.UnitPrice = pr
		} else {
			errs[key+"unit_price"] = view.Msg{ID: "quotes.price_invalid"}
		}
		li.TaxRateID, _ = strconv.ParseInt(l.TaxRateID, 10, 64)
		li.DiscountPct = decimal.Zero
		in.Lines = append(in.Lines, li)
	}
	return in, vals, lines, errs
}

// messages turns the domain's refusal into the form's messages.
func messages(bad invoices.Invalid, into map[string]view.Msg) map[string]view.Msg {
	for f, p := range bad {
		if f == "issue_date" {
			continue
		}
		if _, ok := into[f]; !ok {
			into[f] = view.Msg{ID: p.ID, Params: p.Params}
		}
	}
	return into
}

// save runs fn on a parsed form; a refusal re-renders the form with its
// messages (422), add_line re-renders it with one more line.
func (h *Handler) save(c *fiber.Ctx, id int64, fn func(ctx context.Context, tx pgx.Tx, in recurring.TemplateInput) (queries.RecurringInvoice, error)) error {
	in, vals, lines, errs := h.parse(c)
	if c.FormValue("add_line") != "" {
		if len(lines) < recurring.MaxLines {
			lines = append(lines, view.LineForm{Quantity: "1", Unit: "ud"})
		}
		return h.renderForm(c, fiber.StatusOK, id, vals, lines, nil)
	}
	if len(lines) == 0 {
		lines = []view.LineForm{{Quantity: "1", Unit: "ud"}}
	}
	if len(errs) > 0 {
		// Also what the domain says of the rest, so every message shows at once.
		var bad invoices.Invalid
		err := live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
			_, err := fn(ctx, tx, in)
			if err == nil {
				err = errors.New("rollback")
			}
			return err
		})
		if errors.As(err, &bad) {
			errs = messages(bad, errs)
		}
		return h.renderForm(c, fiber.StatusUnprocessableEntity, id, vals, lines, errs)
	}
	var t queries.RecurringInvoice
	err := live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		t, err = fn(ctx, tx, in)
		return err
	})
	var bad invoices.Invalid
	if errors.As(err, &bad) {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, id, vals, lines, messages(bad, errs))
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", "recurring.saved")
	return web.Redirect(c, fmt.Sprintf("/recurring-invoices/%d", t.ID))
}

// Create stores a new template.
func (h *Handler) Create(c *fiber.Ctx) error {
	return h.save(c, 0, recurring.Create)
}

// Edit is the form of a template.
func (h *Handler) Edit(c *fiber.Ctx) error {
	t, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	vals := map[string]string{"name": t.Name, "customer_id": itoa(t.CustomerID), "frequency": t.Frequency, "day": strconv.Itoa(int(t.Day)),
		"start": t.StartOn.Time.Format(dateForm), "mode": t.Mode, "notes": t.Notes}
	if t.EndOn.Valid {
		vals["end"] = t.EndOn.Time.Format(dateForm)
	}
	lines, err := h.lineForms(c.UserContext(), p, t.ID)
	if err != nil {
		return err
	}
	return h.renderForm(c, fiber.StatusOK, t.ID, vals, lines, nil)
}

func (h *Handler) lineForms(ctx context.Context, p *web.Principal, id int64) ([]view.LineForm, error) {
	ls, err := recurring.Lines(ctx, h.Q, p.OrgID, id)
	if err != nil {
		return nil, err
	}
	out := make([]view.LineForm, len(ls))
	for i, l := range ls {
		out[i] = view.LineForm{Description: l.Description, Quantity: money.Number(l.Quantity, p.Currency), Unit: l.Unit,
			UnitPrice: money.Input(l.UnitPrice, p.OrgCountry), TaxRateID: itoa(l.TaxRateID)}
	}
	return out, nil
}

// Update saves the form of a template.
func (h *Handler) Update(c *fiber.Ctx) error {
	t, err := h.load(c)
	if err != nil {
		return err
	}
	return h.save(c, t.ID, func(ctx context.Context, tx pgx.Tx, in recurring.TemplateInput) (queries.RecurringInvoice, error) {
		return recurring.Update(ctx, tx, t.ID, in)
	})
}

// Show is a template's page: its schedule, lines and the periods invoiced.
func (h *Handler) Show(c *fiber.Ctx) error {
	t, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	v := view.ShowPage{ID: t.ID, Name: t.Name, Customer: t.CustomerName, Frequency: t.Frequency, Day: strconv.Itoa(int(t.Day)),
		Start: shown(t.StartOn.Time), Mode: t.Mode, Active: t.Active, LastError: t.LastError}
	if v.LastErrorParams, err = i18n.Data(t.LastErrorParams); err != nil {
		return err
	}
	if t.EndOn.Valid {
		v.End = shown(t.EndOn.Time)
	}
	if t.NextPeriod.Valid && t.Active {
		v.Next = shown(t.NextPeriod.Time)
	}
	if v.Lines, err = h.lineForms(ctx, p, t.ID); err != nil {
		return err
	}
	for i := range v.Lines {
		pr, _ := money.ParseAmount(v.Lines[i].UnitPrice, p.OrgCountry)
		v.Lines[i].UnitPrice = money.Format(pr, p.Currency)
	}
	runs, err := h.Q.ListRecurringInvoiceRuns(ctx, queries.ListRecurringInvoiceRunsParams{OrgID: p.OrgID, TemplateID: t.ID, PageSize: 100})
	if err != nil {
		return err
	}
	for _, r := range runs {
		row := view.RunRow{Period: shown(r.PeriodStart.Time), InvoiceID: r.InvoiceID, Total: money.Format(r.Total, r.Currency), State: r.State, Send: r.Send}
		if r.FullNumber != nil {
			row.Number = *r.FullNumber
		}
		v.Runs = append(v.Runs, row)
	}
	return web.Render(c, fiber.StatusOK, showPage, view.Show(v))
}

// Pause stops a template.
func (h *Handler) Pause(c *fiber.Ctx) error {
	return h.toggle(c, func(ctx context.Context, tx pgx.Tx, org, id int64) error {
		_, err := recurring.Pause(ctx, tx, org, id)
		return err
	}, "recurring.paused_flash")
}

// Resume turns a template on again from today.
func (h *Handler) Resume(c *fiber.Ctx) error {
	return h.toggle(c, func(ctx context.Context, tx pgx.Tx, org, id int64) error {
		_, err := recurring.Resume(ctx, tx, org, id, time.Now())
		return err
	}, "recurring.resumed_flash")
}

func (h *Handler) toggle(c *fiber.Ctx, fn func(ctx context.Context, tx pgx.Tx, org, id int64) error, flash string) error {
	t, err := h.load(c)
	if err != nil {
		return err
	}
	if err := live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		return fn(ctx, tx, t.OrgID, t.ID)
	}); err != nil {
		return err
	}
	web.Flash(c, "success", flash)
	return web.Redirect(c, fmt.Sprintf("/recurring-invoices/%d", t.ID))
}
