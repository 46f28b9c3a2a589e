package invoicesweb

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"pulso/app/ident"
	"pulso/app/invoices"
	"pulso/app/web"
	"pulso/queries"
	invoicesview "pulso/views/invoices"
)

// FiscalPath is the admin's Datos fiscales page.
const FiscalPath = "/admin/fiscal"

var fiscalPage = web.Page{Title: "invoices.fiscal.title", Nav: "fiscal"}

// maxAddress is orgs.address's limit (migration 0034).
const maxAddress = 300

// Fiscal shows what invoices say of the org as issuer: its tax id, its
// address (RD 1619/2012 art. 6.1.d–e) and, in Spain, the art. 4.2 activity
// that lets a simplified invoice reach 3,000 € instead of 400 €.
func (h *Handler) Fiscal(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	org, err := h.Q.GetOrgForInvoicing(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	v := invoicesview.FiscalForm{TaxID: org.TaxID, Address: org.Address, Activity: org.SimplifiedActivity,
		Saved: c.Query("saved") == "1"}
	return h.renderFiscal(c, fiber.StatusOK, org.Country, v)
}

// SaveFiscal stores the org's fiscal data; every bad field gets its
// message. Issued invoices keep the issuer data they froze.
func (h *Handler) SaveFiscal(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	org, err := h.Q.GetOrgForInvoicing(ctx, p.OrgID)
	if err != nil {
		return err
	}
	v := invoicesview.FiscalForm{TaxID: strings.TrimSpace(c.FormValue("tax_id")), Address: strings.TrimSpace(c.FormValue("address")),
		Activity: c.FormValue("activity"), Errors: map[string]string{}}
	taxID, err := ident.NormalizeTaxID(v.TaxID, org.Country)
	switch {
	case v.TaxID == "":
		v.Errors["tax_id"] = "validation.required"
	case err != nil:
		v.Errors["tax_id"] = ident.MessageOf(err)
	}
	switch {
	case v.Address == "":
		v.Errors["address"] = "validation.required"
	case utf8.RuneCountInString(v.Address) > maxAddress:
		v.Errors["address"] = "validation.too_long"
	case !ident.CleanText(v.Address):
		v.Errors["address"] = "validation.bad_chars"
	}
	// The art. 4.2 activities are Spain's: elsewhere there is none to choose.
	if v.Activity != "" && (org.Country != "ES" || !slices.Contains(invoices.SimplifiedActivities, v.Activity)) {
		v.Errors["activity"] = "validation.choice"
	}
	if len(v.Errors) > 0 {
		return h.renderFiscal(c, fiber.StatusUnprocessableEntity, org.Country, v)
	}
	if err := h.Q.UpdateOrgFiscal(ctx, queries.UpdateOrgFiscalParams{ID: p.OrgID, TaxID: taxID, Address: v.Address,
		SimplifiedActivity: v.Activity}); err != nil {
		return err
	}
	return web.Redirect(c, FiscalPath+"?saved=1")
}

func (h *Handler) renderFiscal(c *fiber.Ctx, status int, country string, v invoicesview.FiscalForm) error {
	if country == "ES" {
		v.Activities = append([]string{""}, invoices.SimplifiedActivities...)
	}
	return web.Render(c, status, fiscalPage, invoicesview.Fiscal(v))
}
