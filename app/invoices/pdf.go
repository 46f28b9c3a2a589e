package invoices

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"pulso/app/calendar"
	"pulso/app/money"
	"pulso/app/printing"
	"pulso/app/tax"
	"pulso/queries"
	"pulso/views/i18n"
)

// PDF is an issued (or voided) invoice's PDF as it was issued, and the name
// to save it under. Drafts have none: ErrNotIssued.
func PDF(ctx context.Context, q *queries.Queries, orgID, id int64) ([]byte, string, error) {
	inv, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: orgID, ID: id})
	if err != nil {
		return nil, "", err
	}
	if inv.State == Draft {
		return nil, "", ErrNotIssued
	}
	name := fileName(inv)
	if inv.Pdf != nil {
		return inv.Pdf, name, nil
	}
	// Rows from before invoicing (migration 0034) were never drawn.
	d, err := Document(ctx, q, orgID, id)
	if err != nil {
		return nil, "", err
	}
	pdf, err := printing.Render(d)
	return pdf, name, err
}

func fileName(inv queries.Invoice) string {
	if inv.FullNumber != nil {
		return "factura-" + *inv.FullNumber + ".pdf"
	}
	return "proforma-" + strconv.FormatInt(inv.ID, 10) + ".pdf"
}

// Document is what an issued invoice's PDF prints, rebuilt from what issuing
// froze (and the org's logo as it is now): rendering it gives the stored
// bytes again while the logo is unchanged.
func Document(ctx context.Context, q *queries.Queries, orgID, id int64) (printing.Document, error) {
	inv, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: orgID, ID: id})
	if err != nil {
		return printing.Document{}, err
	}
	if inv.State == Draft {
		return printing.Document{}, ErrNotIssued
	}
	var pt Parties
	if err := json.Unmarshal(inv.Parties, &pt); err != nil {
		return printing.Document{}, err
	}
	lines, err := q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: orgID, InvoiceID: id})
	if err != nil {
		return printing.Document{}, err
	}
	org, err := q.GetOrgForInvoicing(ctx, orgID)
	if err != nil {
		return printing.Document{}, err
	}
	return document(ctx, q, inv, pt, lines, org.Logo)
}

// internalNotes say, on a Mexican or Argentinian invoice, that it is not
// a fiscal document yet (CFDI stamping and ARCA's CAE come later).
var internalNotes = map[string]string{"MX": "invoices.pdf.internal_mx", "AR": "invoices.pdf.internal_ar"}

// pdfKinds are the titles (i18n "pdf.<kind>") of each kind of invoice.
var pdfKinds = map[Kind]string{Ordinary: "invoice", Simplified: "invoice_simplified", Corrective: "invoice_corrective",
	Summary: "invoice_summary", Replacement: "invoice_replacement", Proforma: "proforma"}

// document assembles the mandatory content of RD 1619/2012 art. 6 (art. 7
// for simplified invoices): number and series, issue and operation dates,
// the parties' names, tax ids and addresses, the lines, the base, rate and
// tax of each rate, the total, the legend of the tax treatment, and for a
// corrective what it corrects and why. inv is the invoice as issued.
func document(ctx context.Context, q *queries.Queries, inv queries.Invoice, pt Parties, lines []queries.InvoiceLine, logo []byte) (printing.Document, error) {
	refs, err := documentRefs(ctx, q, inv)
	if err != nil {
		return printing.Document{}, err
	}
	return buildDocument(inv, pt, lines, logo, refs)
}

// refs is what a document names besides its own rows: the invoices a
// corrective corrects (or an F3 replaces), a summary's delivery notes.
type refs struct {
	corrected []queries.Invoice
	notes     []string
}

// documentRefs reads the rows a document of inv's kind names.
func documentRefs(ctx context.Context, q *queries.Queries, inv queries.Invoice) (refs, error) {
	corrected, err := correctedBy(ctx, q, inv)
	if err != nil {
		return refs{}, err
	}
	notes, err := deliveryNotesOf(ctx, q, inv)
	return refs{corrected: corrected, notes: notes}, err
}

// correctedBy reads the invoices a corrective corrects or an F3 replaces
// (none for other kinds).
func correctedBy(ctx context.Context, q *queries.Queries, inv queries.Invoice) ([]queries.Invoice, error) {
	if k := Kind(inv.Kind); k != Corrective && k != Replacement {
		return nil, nil
	}
	return q.ListCorrectedInvoices(ctx, queries.ListCorrectedInvoicesParams{OrgID: inv.OrgID, InvoiceID: inv.ID})
}

// deliveryNotesOf reads the numbers of a summary invoice's delivery notes
// (none for other kinds).
func deliveryNotesOf(ctx context.Context, q *queries.Queries, inv queries.Invoice) ([]string, error) {
	if Kind(inv.Kind) != Summary {
		return nil, nil
	}
	notes, err := q.ListInvoiceDeliveryNotes(ctx, queries.ListInvoiceDeliveryNotesParams{OrgID: inv.OrgID, InvoiceID: inv.ID})
	var numbers []string
	for _, n := range notes {
		numbers = append(numbers, n.Number)
	}
	return numbers, err
}

// buildDocument is document without the database: it only computes, so
// issuing runs it beside the transaction's statements.
func buildDocument(inv queries.Invoice, pt Parties, lines []queries.InvoiceLine, logo []byte, r refs) (printing.Document, error) {
	loc := calendar.ZoneOrUTC(pt.Zone)
	t := func(id string, params map[string]any) string { return i18n.In(pt.Locale, id, params) }
	date := func(d time.Time) string { return d.Format("02/01/2006") }
	kind := Kind(inv.Kind)
	id := inv.IssueDate.Time
	d := printing.Document{Kind: pdfKinds[kind], Number: deref(inv.FullNumber), Issued: time.Date(id.Year(), id.Month(), id.Day(), 0, 0, 0, 0, loc),
		Locale: pt.Locale, Location: loc, Currency: inv.Currency, Logo: logo, Terms: inv.Notes,
		Seller: printing.Party{Name: pt.Issuer.Name, TaxID: pt.Issuer.TaxID, Address: pt.Issuer.Address}}
	if kind == Proforma {
		d.Number = t("invoices.pdf.proforma_ref", map[string]any{"ID": inv.ID})
	}
	if c := pt.Customer; c != nil {
		d.Buyer = printing.Party{Name: c.Name, TaxID: c.TaxID, Address: c.Address}
	}
	if inv.OperationDate.Valid {
		d.HeadLines = append(d.HeadLines, t("invoices.pdf.operation_date", map[string]any{"Date": date(inv.OperationDate.Time)}))
	}
	if inv.PeriodStart.Valid && inv.PeriodEnd.Valid {
		d.HeadLines = append(d.HeadLines, t("invoices.pdf.period", map[string]any{"From": date(inv.PeriodStart.Time), "To": date(inv.PeriodEnd.Time)}))
	}

	params := lineParams(lines)
	totals := tax.Totals{Base: inv.Base, Tax: inv.Tax, Surcharge: inv.Surcharge, Withheld: inv.Withheld, Total: inv.Total}
	if len(params) > 0 {
		var err error
		if totals, err = totalsOf(inv, params); err != nil {
			return d, err
		}
	}
	d.Totals = totals
	if pt.Fiscal() && kind != Proforma && inv.FullNumber != nil {
		// The AEAT's QR, at the top of the first page with its fixed
		// captions (Orden HAC/1177/2024): every such invoice has its
		// RegistroAlta, written when it was issued.
		code, err := qrCode(inv, pt, totals)
		if err != nil {
			return d, err
		}
		d.QR = &printing.QR{Code: code, Size: 35, Above: "QR tributario:", Below: "VERI*FACTU"}
	}
	for i, l := range lines {
		disc := ""
		if dp := money.Decimal(l.DiscountPct); !dp.IsZero() {
			disc = dp.String()
		}
		d.Lines = append(d.Lines, printing.Line{Description: l.Description, Quantity: money.Number(money.Decimal(l.Quantity), inv.Currency),
			Unit: l.Unit, UnitPrice: l.UnitPrice, DiscountPct: disc, TaxRate: money.Decimal(l.TaxRate).String(), Amount: totals.Lines[i]})
	}

	if id, params := pt.Tax.Legend(pt.Issuer.Country); id != "" {
		d.Notes = append(d.Notes, t(id, params))
	}
	if inv.PricesIncludeTax {
		// The lines' prices and amounts are what was charged; the breakdown
		// below them takes each rate's base and tax out of it.
		d.Notes = append(d.Notes, t("invoices.prices_include_tax", nil))
	}
	switch kind {
	case Corrective, Replacement:
		var names []string
		for _, c := range r.corrected {
			names = append(names, t("invoices.pdf.invoice_of", map[string]any{"Number": deref(c.FullNumber), "Date": date(c.IssueDate.Time)}))
		}
		if kind == Replacement {
			d.Notes = append(d.Notes, t("invoices.pdf.replaces", map[string]any{"Invoices": strings.Join(names, ", ")}))
			break
		}
		d.Notes = append(d.Notes, t("invoices.pdf.corrects", map[string]any{"Invoices": strings.Join(names, ", "),
			"Type": deref(inv.FiscalType), "Method": t("invoices.method."+deref(inv.CorrectiveMethod), nil)}),
			t("invoices.pdf.reason", map[string]any{"Reason": inv.CorrectiveReason}))
	case Summary:
		if len(r.notes) > 0 {
			d.Notes = append(d.Notes, t("invoices.pdf.delivery_notes", map[string]any{"Notes": strings.Join(r.notes, ", ")}))
		}
	case Proforma:
		d.Notes = append(d.Notes, t("invoices.pdf.proforma", nil))
	}
	if !pt.Fiscal() {
		d.Notes = append(d.Notes, t(internalNotes[pt.Issuer.Country], nil))
	}
	return d, nil
}
