package customers

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/ident"
	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
	customersview "pulso/views/customers"
)

// Show is the customer 360: one page, phone first, with tabs that swap as
// htmx fragments (and work as plain links without it).
func (h *Handler) Show(c *fiber.Ctx) error {
	cu, _, err := h.load(c)
	if err != nil {
		return err
	}
	tab := c.Query("tab", "summary")
	if !slices.Contains(customersview.Tabs, tab) {
		tab = "summary"
	}
	v, err := h.showPage(c, cu, tab)
	if err != nil {
		return err
	}
	return h.renderShow(c, fiber.StatusOK, v)
}

func (h *Handler) renderShow(c *fiber.Ctx, status int, v customersview.ShowPage) error {
	return web.Render(c, status, web.Page{Title: "customers.title", Nav: "customers", Fragment: "customer-tab"}, customersview.Show(v))
}

// showPage loads what the tab shows, and only that.
func (h *Handler) showPage(c *fiber.Ctx, cu queries.Customer, tab string) (customersview.ShowPage, error) {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	loc := p.Location()
	e := editingFor(p.Role)
	v := customersview.ShowPage{Tab: tab, Edit: e.data || e.mandate, Customer: customersview.Customer{
		ID: cu.ID, LegalName: cu.LegalName, TradeName: cu.TradeName, TaxID: cu.TaxID, Country: cu.Country,
		Email: cu.Email, Phone: cu.Phone, IBAN: ident.FormatIBAN(cu.Iban), SepaMandateRef: cu.SepaMandateRef,
		PaymentTermsDays: cu.PaymentTermsDays, Tags: cu.Tags, Notes: cu.Notes,
		TaxRegime: cu.TaxRegime, ExemptCause: cu.ExemptCause,
	}}
	if r := money.Decimal(cu.IrpfRate); !r.IsZero() {
		v.Customer.IRPF = money.Number(r, p.Currency)
	}
	if cu.SepaMandateDate.Valid {
		v.Customer.SepaMandateDate = cu.SepaMandateDate.Time.Format("02/01/2006")
	}
	optional := func(m *int64) string {
		if m == nil {
			return ""
		}
		return money.Format(*m, p.Currency)
	}
	v.Customer.BillingInitial, v.Customer.BillingRecommended, v.Customer.BillingFinal = optional(cu.BillingInitial), optional(cu.BillingRecommended), optional(cu.BillingFinal)
	key := struct{ OrgID, ID int64 }{cu.OrgID, cu.ID}
	switch tab {
	case "summary":
		owners, err := h.Q.ListLeadOwners(ctx, p.OrgID)
		if err != nil {
			return v, err
		}
		for _, o := range owners {
			if cu.OwnerID != nil && o.ID == *cu.OwnerID {
				v.Customer.OwnerName = o.Name
			}
		}
		addrs, err := h.Q.ListCustomerAddresses(ctx, queries.ListCustomerAddressesParams{OrgID: key.OrgID, CustomerID: key.ID})
		if err != nil {
			return v, err
		}
		for _, a := range addrs {
			va := &customersview.Address{Street: a.Street, PostalCode: a.PostalCode, City: a.City, Province: a.Province, Country: a.Country}
			if a.Kind == "billing" {
				v.Customer.Billing = va
			} else {
				v.Customer.Shipping = va
			}
		}
	case "contacts":
		rows, err := h.Q.ListCustomerContacts(ctx, queries.ListCustomerContactsParams{OrgID: key.OrgID, CustomerID: key.ID})
		if err != nil {
			return v, err
		}
		for _, r := range rows {
			v.Contacts = append(v.Contacts, customersview.Contact{ID: r.ID, Name: r.Name, JobTitle: r.JobTitle, Email: r.Email, Phone: r.Phone, Primary: r.IsPrimary})
		}
	case "opportunities":
		rows, err := h.Q.ListCustomerOpportunities(ctx, queries.ListCustomerOpportunitiesParams{OrgID: key.OrgID, CustomerID: key.ID})
		if err != nil {
			return v, err
		}
		for _, o := range rows {
			v.Opportunities = append(v.Opportunities, customersview.Opportunity{
				ID: o.ID, Title: o.Title, Stage: o.Stage, Amount: money.Format(o.Amount, p.Currency),
				Created: o.CreatedAt.In(loc).Format("02/01/2006"),
			})
		}
	case "activity":
		rows, err := h.Q.ListCustomerActivities(ctx, queries.ListCustomerActivitiesParams{OrgID: key.OrgID, CustomerID: key.ID})
		if err != nil {
			return v, err
		}
		for _, a := range rows {
			e := timelineEntry(a.Kind, a.Summary, a.ActorName, a.Data, a.LeadID != nil, a.CreatedAt.In(loc).Format("02/01/2006 15:04"))
			e.SenderUnverified = a.SenderUnverified
			v.Activities = append(v.Activities, e)
		}
	case "sales":
		if err := h.salesTab(ctx, &v, key.OrgID, key.ID, p.Currency, loc); err != nil {
			return v, err
		}
	}
	return v, nil
}

// LeadTimeline is a lead's activity, newest first, as the lead page shows it.
func LeadTimeline(ctx context.Context, q *queries.Queries, org, leadID int64, loc *time.Location) ([]customersview.Activity, error) {
	rows, err := q.ListLeadActivities(ctx, queries.ListLeadActivitiesParams{OrgID: org, LeadID: &leadID})
	if err != nil {
		return nil, err
	}
	out := make([]customersview.Activity, 0, len(rows))
	for _, a := range rows {
		e := timelineEntry(a.Kind, a.Summary, a.ActorName, a.Data, true, a.CreatedAt.In(loc).Format("02/01/2006 15:04"))
		e.SenderUnverified = a.SenderUnverified
		out = append(out, e)
	}
	return out, nil
}

// timelineEntry turns a stored activity into what the timeline shows. Field
// labels come from the catalog of the entity the entry is about (a lead's
// entries use the lead form's labels).
func timelineEntry(kind, summary, actor string, data []byte, aboutLead bool, when string) customersview.Activity {
	a := customersview.Activity{Kind: kind, Summary: summary, Actor: actor, When: when}
	var d struct {
		Changes map[string][2]string `json:"changes"`
	}
	if json.Unmarshal(data, &d) == nil {
		prefix := "customers."
		switch {
		case aboutLead:
			prefix = "leads."
		case len(kind) > 8 && kind[:8] == "contact_":
			prefix = "contact_field."
		}
		keys := make([]string, 0, len(d.Changes))
		for k := range d.Changes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ch := d.Changes[k]
			c := customersview.Change{Label: prefix + k, Old: ch[0], New: ch[1]}
			if aboutLead && k == "status" {
				c.ValuePrefix = "lead_status."
			}
			if k == "country" {
				c.ValuePrefix = "country."
			}
			a.Changes = append(a.Changes, c)
		}
	}
	return a
}

// salesTab fills the Ventas tab: issued and voided invoices, correctives in
// their own section, drafts and proformas apart (they bill nothing yet),
// the balance from the allocations, and orders and quotes as the purchase
// history.
func (h *Handler) salesTab(ctx context.Context, v *customersview.ShowPage, orgID, customerID int64, currency string, loc *time.Location) error {
	rows, err := h.Q.ListCustomerSales(ctx, queries.ListCustomerSalesParams{OrgID: orgID, CustomerID: &customerID})
	if err != nil {
		return err
	}
	for _, r := range rows {
		inv := customersview.Invoice{ID: r.ID, Kind: r.Kind, State: r.State, Number: r.FullNumber, Corrects: r.Corrects,
			Total: money.Format(r.Total, currency), Used: money.Format(r.Used, currency)}
		if r.IssueDate.Valid {
			inv.Date = r.IssueDate.Time.Format("02/01/2006")
		} else {
			inv.Date = r.CreatedAt.In(loc).Format("02/01/2006")
		}
		switch {
		case r.State == "draft" || r.Kind == "proforma":
			v.Drafts = append(v.Drafts, inv)
		case r.Kind == "corrective":
			v.Correctives = append(v.Correctives, inv)
		default:
			v.Invoices = append(v.Invoices, inv)
		}
	}
	bal, err := h.Q.CustomerBalance(ctx, queries.CustomerBalanceParams{OrgID: orgID, CustomerID: &customerID})
	if err != nil {
		return err
	}
	v.Balance = customersview.Balance{Invoiced: money.Format(bal.Invoiced, currency), Used: money.Format(bal.Used, currency),
		Outstanding: money.Format(bal.Invoiced-bal.Used, currency)}
	orders, err := h.Q.ListCustomerOrders(ctx, queries.ListCustomerOrdersParams{OrgID: orgID, CustomerID: customerID})
	if err != nil {
		return err
	}
	for _, o := range orders {
		v.Orders = append(v.Orders, customersview.Purchase{ID: o.ID, Number: o.Number, Date: o.CreatedAt.In(loc).Format("02/01/2006"),
			Total: money.Format(o.Total, o.Currency)})
	}
	quotes, err := h.Q.ListCustomerQuotes(ctx, queries.ListCustomerQuotesParams{OrgID: orgID, CustomerID: customerID})
	if err != nil {
		return err
	}
	for _, q := range quotes {
		v.Quotes = append(v.Quotes, customersview.Purchase{ID: q.ID, Number: q.Number, Status: q.Status,
			Date: q.CreatedAt.In(loc).Format("02/01/2006"), Total: money.Format(q.Total, q.Currency)})
	}
	return nil
}
