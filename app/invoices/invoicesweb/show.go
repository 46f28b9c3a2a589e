package invoicesweb

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/invoices"
	"pulso/app/money"
	"pulso/app/printing"
	"pulso/app/web"
	"pulso/queries"
	invoicesview "pulso/views/invoices"
)

// Show is an invoice's page.
func (h *Handler) Show(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	return h.renderShow(c, fiber.StatusOK, inv, nil, nil)
}

// showForm is what a failed form on the page posted, to show it again.
type showForm struct {
	issueDate, operationDate, amount, paidOn, voidReason string
}

func number(inv queries.Invoice) string {
	if inv.FullNumber != nil {
		return *inv.FullNumber
	}
	return ""
}

func date(d interface{ Format(string) string }) string { return d.Format("02/01/2006") }

func (h *Handler) renderShow(c *fiber.Ctx, status int, inv queries.Invoice, errs invoicesview.Errors, form *showForm) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	s := invoicesview.ShowPage{ID: inv.ID, Number: number(inv), Kind: inv.Kind, State: inv.State, Reason: inv.CorrectiveReason,
		VoidReason: inv.VoidReason, Notes: inv.Notes, Errors: errs}
	if s.Errors == nil {
		s.Errors = invoicesview.Errors{}
	}
	if inv.FiscalType != nil {
		s.FiscalType = *inv.FiscalType
		if inv.Kind == string(invoices.Corrective) {
			s.CorrectiveType = *inv.FiscalType
		}
	}
	if inv.CorrectiveMethod != nil {
		s.Method = *inv.CorrectiveMethod
	} else {
		s.CorrectiveType = "" // a draft corrective without its method yet
	}
	if inv.IssueDate.Valid {
		s.IssueDate = date(inv.IssueDate.Time)
	}
	if inv.DueDate.Valid {
		s.DueDate = date(inv.DueDate.Time)
	}
	if inv.OperationDate.Valid {
		s.OperationDate = date(inv.OperationDate.Time)
	}
	if inv.PeriodStart.Valid && inv.PeriodEnd.Valid {
		s.Period = date(inv.PeriodStart.Time) + " – " + date(inv.PeriodEnd.Time)
	}
	if inv.VoidedAt != nil {
		s.VoidedAt = inv.VoidedAt.In(p.Location()).Format("02/01/2006 15:04")
	}

	// The parties: as frozen once issued, as they are now while a draft.
	if len(inv.Parties) > 0 {
		var pt invoices.Parties
		if err := json.Unmarshal(inv.Parties, &pt); err != nil {
			return err
		}
		s.Issuer = invoicesview.Party{Name: pt.Issuer.Name, TaxID: pt.Issuer.TaxID, Address: pt.Issuer.Address}
		s.Fiscal = pt.Fiscal()
		if pt.Customer != nil {
			s.Customer = invoicesview.Party{Name: pt.Customer.Name, TaxID: pt.Customer.TaxID, Address: pt.Customer.Address}
		}
	} else {
		org, err := h.Q.GetOrgForInvoicing(ctx, p.OrgID)
		if err != nil {
			return err
		}
		s.Issuer = invoicesview.Party{Name: org.Name, TaxID: org.TaxID, Address: org.Address}
		s.Fiscal = org.Country == "ES"
		if inv.CustomerID != nil {
			cu, err := h.Q.GetCustomer(ctx, queries.GetCustomerParams{OrgID: p.OrgID, ID: *inv.CustomerID})
			if err != nil {
				return err
			}
			s.Customer = invoicesview.Party{Name: cu.LegalName, TaxID: cu.TaxID}
			addrs, err := h.Q.ListCustomerAddresses(ctx, queries.ListCustomerAddressesParams{OrgID: p.OrgID, CustomerID: cu.ID})
			if err != nil {
				return err
			}
			for _, a := range addrs {
				if a.Kind == "billing" {
					s.Customer.Address = printing.AddressLine(a.Street, a.PostalCode, a.City, a.Province)
				}
			}
		}
	}
	if inv.CustomerID != nil {
		s.CustomerID = *inv.CustomerID
	}

	lines, err := h.Q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: p.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	s.Lines = reviewLines(lines, inv.Currency)
	s.PricesIncludeTax = inv.PricesIncludeTax
	s.Totals = totalsOf(inv, lines)

	// Money received.
	allocated, err := h.Q.InvoiceAllocated(ctx, queries.InvoiceAllocatedParams{OrgID: p.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	owed := invoices.Outstanding(inv, allocated)
	s.Total, s.Allocated, s.Outstanding = money.Format(inv.Total, inv.Currency), money.Format(allocated, inv.Currency), money.Format(owed, inv.Currency)
	s.Badge = badge(inv.State, inv.Kind, inv.Total, allocated, inv.DueDate, p.Today(time.Now()))
	allocs, err := h.Q.ListInvoiceAllocations(ctx, queries.ListInvoiceAllocationsParams{OrgID: p.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	for _, a := range allocs {
		pay := invoicesview.Payment{Date: a.AppliedAt.In(p.Location()).Format("02/01/2006"), Amount: money.Format(a.Amount, inv.Currency), Kind: a.Kind}
		if a.CreatedByName != nil {
			pay.By = *a.CreatedByName
		}
		s.Payments = append(s.Payments, pay)
	}

	// Where it came from and what corrects it.
	if inv.OrderID != nil {
		if o, err := h.Q.GetOrder(ctx, queries.GetOrderParams{OrgID: p.OrgID, ID: *inv.OrderID}); err == nil {
			s.Sources = append(s.Sources, invoicesview.Link{Key: "orders.order", Href: "/orders/" + itoa(o.ID), Label: o.Number})
		} else {
			return err
		}
	}
	if inv.QuoteID != nil {
		if qt, err := h.Q.GetQuote(ctx, queries.GetQuoteParams{OrgID: p.OrgID, ID: *inv.QuoteID}); err == nil {
			label := ""
			if qt.Number != nil {
				label = *qt.Number
			}
			s.Sources = append(s.Sources, invoicesview.Link{Key: "invoices.quote", Href: "/quotes/" + itoa(qt.ID), Label: label})
		} else {
			return err
		}
	}
	notes, err := h.Q.ListInvoiceDeliveryNotes(ctx, queries.ListInvoiceDeliveryNotesParams{OrgID: p.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	for _, n := range notes {
		s.Sources = append(s.Sources, invoicesview.Link{Key: "invoices.delivery_note", Href: "/delivery-notes/" + itoa(n.ID) + "/pdf", Label: n.Number})
	}
	if inv.FromProformaID != nil {
		s.Sources = append(s.Sources, invoicesview.Link{Key: "invoices.kind.proforma", Href: "/invoices/" + itoa(*inv.FromProformaID)})
	}
	made := false
	if inv.Kind == string(invoices.Proforma) {
		if m, err := h.Q.InvoiceMadeFromProforma(ctx, queries.InvoiceMadeFromProformaParams{OrgID: p.OrgID, ProformaID: &inv.ID}); err == nil {
			made = true
			s.CorrectedBy = append(s.CorrectedBy, invoicesview.Link{Key: "invoices.became", Href: "/invoices/" + itoa(m.ID), Label: deref(m.FullNumber), State: m.State})
		}
	}
	corrected, err := h.Q.ListCorrectedInvoices(ctx, queries.ListCorrectedInvoicesParams{OrgID: p.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	for _, ci := range corrected {
		s.Corrects = append(s.Corrects, invoicesview.Link{Href: "/invoices/" + itoa(ci.ID), Label: number(ci), State: ci.State})
	}
	by, err := h.Q.ListCorrectionsOf(ctx, queries.ListCorrectionsOfParams{OrgID: p.OrgID, CorrectedID: inv.ID})
	if err != nil {
		return err
	}
	for _, ci := range by {
		label := deref(ci.FullNumber)
		if label == "" {
			label = "#" + itoa(ci.ID)
		}
		s.CorrectedBy = append(s.CorrectedBy, invoicesview.Link{Key: "invoices.kind." + ci.Kind, Href: "/invoices/" + itoa(ci.ID), Label: label, State: ci.State})
	}

	records, err := h.Q.ListInvoiceVerifactuRecords(ctx, queries.ListInvoiceVerifactuRecordsParams{OrgID: p.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	for _, r := range records {
		rec := invoicesview.Record{ID: r.ID, Kind: r.Kind, Status: r.Status, Seq: strconv.FormatInt(r.Seq, 10), Text: r.AnswerText,
			At: r.CreatedAt.In(p.Location()).Format("02/01/2006 15:04")}
		if r.AnswerCode != nil {
			rec.Code = strconv.Itoa(int(*r.AnswerCode))
		}
		s.Records = append(s.Records, rec)
	}

	issued := inv.State == invoices.Issued
	s.Billing = billing(p)
	s.CanIssue = inv.State == invoices.Draft
	s.CanDelete = inv.State == invoices.Draft
	if s.CanEdit, err = h.editable(ctx, inv); err != nil {
		return err
	}
	s.CanPay = issued && inv.Kind != string(invoices.Proforma) && owed > 0
	s.CanVoid = issued && billing(p)
	s.CanCorrect = issued && billing(p) && inv.Kind != string(invoices.Proforma)
	s.CanReplace = issued && inv.FiscalType != nil && *inv.FiscalType == "F2"
	s.CanConvert = inv.Kind == string(invoices.Proforma) && inv.State != invoices.Voided && !made
	s.PaidOn = p.Today(time.Now()).Format("2006-01-02")
	if owed > 0 {
		s.Amount = money.Input(owed, p.OrgCountry)
	}
	if form != nil {
		s.IssueDateValue, s.OperationDateValue, s.VoidReasonValue = form.issueDate, form.operationDate, form.voidReason
		if form.amount != "" || form.paidOn != "" {
			s.Amount, s.PaidOn = form.amount, form.paidOn
		}
	}
	return web.Render(c, status, showPage, invoicesview.Show(s))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// PDF is the invoice's PDF as issued, shown inline.
func (h *Handler) PDF(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	if inv.State == invoices.Draft {
		return web.ErrNotFound
	}
	pdf, name, err := invoices.PDF(c.UserContext(), h.Q, inv.OrgID, inv.ID)
	if err != nil {
		return err
	}
	return web.SendPDF(c, pdf, name)
}
