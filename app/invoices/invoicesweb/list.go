package invoicesweb

import (
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	invoicesview "pulso/views/invoices"
)

const pageSize = 25

// badge is what an issued invoice's money says: paid, overdue (unpaid and
// past its due date in the org's today) or due; nothing for drafts, voided
// invoices, proformas and credits (a total of zero or less is owed by no one).
func badge(state, kind string, total, allocated int64, due pgtype.Date, today time.Time) string {
	if state != "issued" || kind == "proforma" || total <= 0 {
		return ""
	}
	switch {
	case allocated >= total:
		return "paid"
	case due.Valid && due.Time.Before(today):
		return "overdue"
	}
	return "due"
}

// List is /invoices: newest first, one keyset page at a time, filtered by
// kind, state, customer, rep (the customer's owner) and issue period,
// within the viewer's scope.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	now := p.Today(time.Now())
	f := invoicesview.Filters{Kind: c.Query("kind"), State: c.Query("state"), CustomerID: c.Query("customer"), RepID: c.Query("rep"),
		From: c.Query("from"), To: c.Query("to")}
	v := invoicesview.ListPage{Errors: invoicesview.Errors{}}
	params := queries.ListInvoicesParams{OrgID: p.OrgID, OwnerScope: sc, PageSize: pageSize + 1, Today: pgtype.Date{Time: now, Valid: true}}
	qs := url.Values{}
	if f.Kind != "" {
		if slices.Contains(invoicesview.Kinds, f.Kind) {
			params.Kind = &f.Kind
			qs.Set("kind", f.Kind)
		} else {
			v.Errors["kind"] = invoicesview.Msg{ID: "validation.choice"}
		}
	}
	if f.State != "" {
		if slices.Contains(invoicesview.States, f.State) {
			params.State = &f.State
			qs.Set("state", f.State)
		} else {
			v.Errors["state"] = invoicesview.Msg{ID: "validation.choice"}
		}
	}
	for _, idf := range []struct {
		name, value string
		dst         **int64
	}{{"customer", f.CustomerID, &params.CustomerID}, {"rep", f.RepID, &params.RepID}} {
		if idf.value == "" {
			continue
		}
		id, err := strconv.ParseInt(idf.value, 10, 64)
		if err != nil || id <= 0 {
			v.Errors[idf.name] = invoicesview.Msg{ID: "validation.choice"}
			continue
		}
		*idf.dst = &id
		qs.Set(idf.name, idf.value)
	}
	for _, df := range []struct {
		name, value string
		dst         *pgtype.Date
	}{{"from", f.From, &params.FromDay}, {"to", f.To, &params.ToDay}} {
		d, ok := parseDay(df.value)
		switch {
		case !ok:
			v.Errors[df.name] = invoicesview.Msg{ID: "validation.date"}
		case !d.IsZero():
			*df.dst = pgtype.Date{Time: d, Valid: true}
			qs.Set(df.name, df.value)
		}
	}
	if params.FromDay.Valid && params.ToDay.Valid && params.ToDay.Time.Before(params.FromDay.Time) {
		v.Errors["to"] = invoicesview.Msg{ID: "invoices.period_backwards"}
	}
	v.BaseURL = "/invoices"
	if len(qs) > 0 {
		v.BaseURL += "?" + qs.Encode()
	}
	if b, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && b > 0 {
		params.BeforeID = &b
	}
	v.Filters = f
	if err := h.filterOptions(c, p, sc, &v); err != nil {
		return err
	}
	status := fiber.StatusOK
	if len(v.Errors) > 0 {
		// A filter that cannot be read lists nothing rather than more than
		// was asked for.
		return web.Render(c, fiber.StatusUnprocessableEntity, listPage, invoicesview.List(v))
	}
	rows, err := h.Q.ListInvoices(ctx, params)
	if err != nil {
		return err
	}
	for i, r := range rows {
		if i == pageSize {
			qs.Set("before", itoa(rows[pageSize-1].ID))
			v.MoreURL = "/invoices?" + qs.Encode()
			break
		}
		row := invoicesview.Row{ID: r.ID, Kind: r.Kind, State: r.State, Total: money.Format(r.Total, r.Currency),
			Badge: badge(r.State, r.Kind, r.Total, r.Allocated, r.DueDate, now)}
		if r.FullNumber != nil {
			row.Number = *r.FullNumber
		}
		if r.IssueDate.Valid {
			row.Date = r.IssueDate.Time.Format("02/01/2006")
		}
		if r.DueDate.Valid {
			row.DueDate = r.DueDate.Time.Format("02/01/2006")
		}
		if r.CustomerName != nil {
			row.Customer = *r.CustomerName
		}
		if r.OwnerName != nil {
			row.Owner = *r.OwnerName
		}
		v.Rows = append(v.Rows, row)
	}
	return web.Render(c, status, listPage, invoicesview.List(v))
}

// filterOptions fills the customer and rep menus with what the viewer may see.
func (h *Handler) filterOptions(c *fiber.Ctx, p *web.Principal, sc []int64, v *invoicesview.ListPage) error {
	ctx := c.UserContext()
	cs, err := h.Q.ListCustomerChoices(ctx, queries.ListCustomerChoicesParams{OrgID: p.OrgID, OwnerScope: sc})
	if err != nil {
		return err
	}
	v.Customers = []components.SelectOption{{Value: "", Label: "invoices.all_customers"}}
	for _, cu := range cs {
		v.Customers = append(v.Customers, components.SelectOption{Value: itoa(cu.ID), Label: cu.LegalName, Raw: true})
	}
	reps, err := web.Owners(ctx, h.Q, p, sc, "")
	if err != nil {
		return err
	}
	v.Reps = append([]components.SelectOption{{Value: "", Label: "invoices.all_reps"}}, reps...)
	return nil
}
