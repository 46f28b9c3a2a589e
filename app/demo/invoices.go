package demo

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/calendar"
	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/money"
	"pulso/app/orders"
	"pulso/app/tax"
	"pulso/queries"
)

// seedBilling issues, in the weeks before today, an invoice of every kind
// the ES org's chain of VERI*FACTU records should show: a simplified ticket
// and the complete invoice that replaces it (F2, F3), a recapitulativa of a
// delivered order, one issued in error and voided, a paid one and a
// proforma; with the customers' payment terms, the recapitulativa is
// overdue; and a recurring template that bills a monthly fee. The org's first signed order stays uninvoiced, for whoever tries
// the demo to invoice it. Mexican orgs get one internal invoice.
func seedBilling(ctx context.Context, tx pgx.Tx, org queries.Org, users map[string]int64, log *slog.Logger) error {
	q := queries.New(tx)
	if done, err := q.DemoBillingSeeded(ctx, queries.DemoBillingSeededParams{OrgID: org.ID, AnyKind: org.Country != "ES"}); err != nil || done {
		return err
	}
	loc := calendar.ZoneOrUTC(org.TimeZone)
	now := time.Now()
	y, m, d := now.In(loc).Date()
	day := func(back int) time.Time { return time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC) }
	rep := users["rep@demo.test"]
	if rep == 0 {
		rep = users["rep@otra.test"]
	}
	cs, err := q.ListCustomers(ctx, queries.ListCustomersParams{OrgID: org.ID, OwnerID: &rep, PageSize: 50})
	if err != nil {
		return err
	}
	var buyers []queries.Customer
	for _, c := range cs {
		if c.Customer.TaxID != "" && c.Customer.TaxRegime == "general" {
			buyers = append(buyers, c.Customer)
		}
	}
	if len(buyers) < 3 {
		return nil
	}
	rates, err := tax.IVAOn(ctx, q, org.Country, now)
	if err != nil || len(rates) == 0 {
		return err
	}
	rate := rates[0].ID // the general rate
	line := func(desc string, qty int64, price int64) invoices.LineInput {
		return invoices.LineInput{Description: desc, Unit: "ud", Quantity: decimal.NewFromInt(qty), UnitPrice: price, TaxRateID: rate}
	}
	issue := func(in invoices.DraftInput, date time.Time) (queries.Invoice, error) {
		in.OrgID, in.By, in.Now = org.ID, &rep, now
		return invoices.DraftAndIssue(ctx, tx, in, invoices.IssueInput{OrgID: org.ID, UserID: &rep, Locale: "es", IssueDate: date, Now: now})
	}
	if org.Country != "ES" {
		_, err := issue(invoices.DraftInput{Kind: invoices.Ordinary, CustomerID: &buyers[0].ID,
			Lines: []invoices.LineInput{line("Implantación y formación", 1, 1_250_000)}}, day(20))
		return err
	}

	ticket, err := issue(invoices.DraftInput{Kind: invoices.Simplified,
		Lines: []invoices.LineInput{line("Venta en mostrador: cartuchos de tinta", 3, 2_990)}}, day(45))
	if err != nil {
		return err
	}
	// The customer came back for a complete invoice of that ticket (canje).
	if _, err := issue(invoices.DraftInput{Kind: invoices.Replacement, CustomerID: &buyers[0].ID, Corrects: []int64{ticket.ID},
		Lines: []invoices.LineInput{line("Venta en mostrador: cartuchos de tinta", 3, 2_990)}}, day(44)); err != nil {
		return err
	}
	if err := seedSummary(ctx, tx, org, rep, day(32), day(31), now); err != nil {
		return err
	}
	wrong, err := issue(invoices.DraftInput{Kind: invoices.Ordinary, CustomerID: &buyers[1].ID,
		Lines: []invoices.LineInput{line("Mantenimiento trimestral", 1, 45_000)}}, day(20))
	if err != nil {
		return err
	}
	if _, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: org.ID, InvoiceID: wrong.ID, UserID: &rep,
		Reason: "Emitida por error: el mantenimiento ya estaba facturado en el pedido", Now: now}); err != nil {
		return err
	}
	paid, err := issue(invoices.DraftInput{Kind: invoices.Ordinary, CustomerID: &buyers[2].ID,
		Lines: []invoices.LineInput{line("Consultoría de implantación", 6, 65_000), line("Licencia anual", 1, 120_000)}}, day(15))
	if err != nil {
		return err
	}
	if _, err := q.SeedInvoiceAllocation(ctx, queries.SeedInvoiceAllocationParams{OrgID: org.ID, InvoiceID: paid.ID, Amount: paid.Total, Kind: "payment"}); err != nil {
		return err
	}
	if _, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: org.ID, Kind: invoices.Proforma, CustomerID: &buyers[1].ID, By: &rep, Now: now,
		Notes: "Proforma para el anticipo de la renovación anual", Lines: []invoices.LineInput{line("Renovación anual de licencias", 10, 18_000)}}); err != nil {
		return err
	}
	// The monthly maintenance fee, issued and sent on the 1st from next
	// month on by the recurring run.
	first := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	accountant := users["accountant@demo.test"]
	if _, err := recurring.Create(ctx, tx, recurring.TemplateInput{OrgID: org.ID, CustomerID: buyers[2].ID, Name: "Cuota mensual de mantenimiento",
		Frequency: recurring.Monthly, Day: 1, Start: first, Mode: recurring.ModeIssueAndSend, By: &accountant, Now: now,
		Lines: []invoices.LineInput{line("Mantenimiento mensual del software", 1, 15_000)}}); err != nil {
		return err
	}
	log.Info("seeded invoices", "org", org.Name)
	return nil
}

// issueDraft issues a draft on date as the rep.
func issueDraft(ctx context.Context, tx pgx.Tx, org queries.Org, dr queries.Invoice, rep int64, date, now time.Time) (queries.Invoice, error) {
	return invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: org.ID, InvoiceID: dr.ID, UserID: &rep, Locale: "es", IssueDate: date, Now: now})
}

// seedSummary delivers the org's second signed order in full on delivered
// and bills its delivery note on a recapitulativa of that month up to
// issued, its issue date. Nothing happens when there is no second order.
func seedSummary(ctx context.Context, tx pgx.Tx, org queries.Org, rep int64, delivered, issued, now time.Time) error {
	q := queries.New(tx)
	os, err := q.ListOrders(ctx, queries.ListOrdersParams{OrgID: org.ID, PageSize: 50})
	if err != nil || len(os) < 2 {
		return err
	}
	// Newest first: the oldest signed order stays uninvoiced. The rep's
	// own, as the rep issues it.
	var o queries.ListOrdersRow
	for _, c := range os[:len(os)-1] {
		if c.OwnerID == rep {
			o = c
			break
		}
	}
	if o.ID == 0 {
		return nil
	}
	lines, err := q.ListOrderLines(ctx, queries.ListOrderLinesParams{OrgID: org.ID, OrderID: o.ID})
	if err != nil {
		return err
	}
	var takes []orders.Take
	for _, l := range lines {
		takes = append(takes, orders.Take{Position: l.Position, Quantity: money.Decimal(l.Quantity)})
	}
	if _, err := orders.Deliver(ctx, tx, orders.DeliverInput{OrgID: org.ID, OrderID: o.ID, Day: delivered, Takes: takes, By: &rep}); err != nil {
		return err
	}
	ord, err := q.GetOrder(ctx, queries.GetOrderParams{OrgID: org.ID, ID: o.ID})
	if err != nil {
		return err
	}
	first := time.Date(delivered.Year(), delivered.Month(), 1, 0, 0, 0, 0, time.UTC)
	dr, err := invoices.SummaryDraft(ctx, tx, invoices.SummaryInput{OrgID: org.ID, CustomerID: ord.CustomerID,
		From: first, To: issued, By: &rep, Now: now})
	if err != nil {
		return err
	}
	_, err = issueDraft(ctx, tx, org, dr, rep, issued, now)
	return err
}
