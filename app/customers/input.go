// Package customers is where reps keep their customers (clientes): the
// one-screen form with tax id and IBAN checks, contacts, the filtered list
// and its CSV/XLSX export, the customer 360 page, the activity timeline, and
// turning a lead into a customer (and an opportunity).
package customers

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"pulso/app/ident"
	"pulso/app/money"
	"pulso/app/tax"
)

var countries = []string{"ES", "MX", "AR"}

// Address is one postal address; empty when all its fields are.
type Address struct{ Street, PostalCode, City, Province string }

func (a Address) empty() bool { return a == Address{} }

// Input is a validated customer form.
type Input struct {
	LegalName, TradeName, TaxID, Country, Email, Phone, IBAN string
	SepaMandateRef                                           string
	SepaMandateDate                                          *time.Time
	PaymentTermsDays                                         int32
	OwnerID                                                  *int64
	Tags                                                     []string
	Notes                                                    string
	Billing, Shipping                                        Address
	Tax                                                      tax.CustomerTax
	// First contact, on create only.
	Contact ContactInput
	Version int32
}

// Form holds what the user typed, for re-rendering with errors.
type Form map[string]string

var customerFields = []string{"legal_name", "trade_name", "tax_id", "country", "email", "phone", "iban",
	"sepa_mandate_ref", "sepa_mandate_date", "payment_terms_days", "owner_id", "tags", "notes",
	"tax_regime", "exempt_cause", "irpf_rate",
	"billing_street", "billing_postal_code", "billing_city", "billing_province",
	"shipping_street", "shipping_postal_code", "shipping_city", "shipping_province",
	"contact_name", "contact_job_title", "contact_email", "contact_phone", "version"}

func formFrom(c *fiber.Ctx, fields []string) Form {
	f := Form{}
	for _, k := range fields {
		f[k] = strings.TrimSpace(c.FormValue(k))
	}
	return f
}

// errs maps a field name to a catalog message id shown next to it.
type errs map[string]string

func (e errs) text(field, v string, max int, required bool) {
	switch {
	case required && v == "":
		e[field] = "validation.required"
	case utf8.RuneCountInString(v) > max:
		e[field] = "validation.too_long"
	case !ident.CleanText(v):
		e[field] = "validation.bad_chars"
	}
}

func (e errs) ident(field string, err error) {
	if m := ident.MessageOf(err); m != "" {
		e[field] = m
	}
}

// parse validates a customer form. The tax id is checked for the
// customer's country (ES NIF/NIE/CIF, MX RFC, AR CUIT) and the IBAN with
// mod-97, both through app/ident.
func parse(f Form) (Input, map[string]string) {
	e := errs{}
	in := Input{
		LegalName: f["legal_name"], TradeName: f["trade_name"], Country: f["country"],
		SepaMandateRef: f["sepa_mandate_ref"], Notes: f["notes"],
	}
	e.text("legal_name", in.LegalName, 200, true)
	e.text("trade_name", in.TradeName, 200, false)
	e.text("notes", in.Notes, 10000, false)
	e.text("sepa_mandate_ref", in.SepaMandateRef, 35, false)
	if !slices.Contains(countries, in.Country) {
		e["country"] = "validation.choice"
	}
	var err error
	if f["email"] != "" {
		in.Email, err = ident.NormalizeEmail(f["email"])
		e.ident("email", err)
	}
	if f["phone"] != "" && e["country"] == "" {
		in.Phone, err = ident.NormalizePhone(f["phone"], in.Country)
		e.ident("phone", err)
	}
	if f["tax_id"] != "" && e["country"] == "" {
		in.TaxID, err = ident.NormalizeTaxID(f["tax_id"], in.Country)
		e.ident("tax_id", err)
	}
	if f["iban"] != "" {
		in.IBAN, err = ident.NormalizeIBAN(f["iban"])
		e.ident("iban", err)
	}
	if v := f["sepa_mandate_date"]; v != "" {
		d, err := time.Parse("2006-01-02", v)
		if err != nil || d.Year() < 2000 || d.Year() > 2100 {
			e["sepa_mandate_date"] = "customers.date_invalid"
		} else {
			in.SepaMandateDate = &d
		}
	}
	if in.SepaMandateRef != "" && in.SepaMandateDate == nil && e["sepa_mandate_date"] == "" {
		e["sepa_mandate_date"] = "customers.mandate_date_required"
	}
	if in.SepaMandateRef != "" && in.IBAN == "" && e["iban"] == "" {
		e["iban"] = "customers.mandate_needs_iban"
	}
	in.PaymentTermsDays = 30
	if v := f["payment_terms_days"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 365 {
			e["payment_terms_days"] = "customers.terms_invalid"
		} else {
			in.PaymentTermsDays = int32(n)
		}
	}
	if f["owner_id"] != "" {
		id, err := strconv.ParseInt(f["owner_id"], 10, 64)
		if err != nil || id <= 0 {
			e["owner_id"] = "validation.choice"
		} else {
			in.OwnerID = &id
		}
	}
	in.Tax = tax.CustomerTax{Regime: tax.Regime(f["tax_regime"]), ExemptCause: f["exempt_cause"]}
	if in.Tax.Regime == "" {
		in.Tax.Regime = tax.General
	}
	if in.Tax.Regime != tax.Exempt {
		in.Tax.ExemptCause = "" // the form keeps the select; only an exempt customer has a cause
	}
	if v := f["irpf_rate"]; v != "" && v != "0" {
		if r, ok := money.ParseDecimal(v); ok {
			in.Tax.IRPF = r
		} else {
			e["irpf_rate"] = "validation.choice"
		}
	}
	if field, id := in.Tax.Validate(in.Country); field != "" && e[field] == "" && e["country"] == "" {
		e[field] = id
	}
	in.Tags, err = parseTags(f["tags"])
	if err != nil {
		e["tags"] = err.Error()
	}
	for _, kind := range []string{"billing", "shipping"} {
		a := Address{Street: f[kind+"_street"], PostalCode: f[kind+"_postal_code"], City: f[kind+"_city"], Province: f[kind+"_province"]}
		e.text(kind+"_street", a.Street, 300, false)
		e.text(kind+"_postal_code", a.PostalCode, 20, false)
		e.text(kind+"_city", a.City, 100, false)
		e.text(kind+"_province", a.Province, 100, false)
		if kind == "billing" {
			in.Billing = a
		} else {
			in.Shipping = a
		}
	}
	if f["contact_name"] != "" || f["contact_email"] != "" || f["contact_phone"] != "" || f["contact_job_title"] != "" {
		c, ce := parseContact(Form{"name": f["contact_name"], "job_title": f["contact_job_title"], "email": f["contact_email"], "phone": f["contact_phone"]}, in.Country)
		for k, v := range ce {
			e["contact_"+k] = v
		}
		c.Primary = true
		in.Contact = c
	}
	if v := f["version"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			e["version"] = "validation.choice"
		}
		in.Version = int32(n)
	}
	return in, e
}

// ContactInput is a validated contact.
type ContactInput struct {
	Name, JobTitle, Email, Phone string
	Primary                      bool
}

// parseContact validates a contact; the phone is read for the customer's
// country (a number without prefix is taken as local).
func parseContact(f Form, country string) (ContactInput, map[string]string) {
	e := errs{}
	c := ContactInput{Name: f["name"], JobTitle: f["job_title"], Primary: f["is_primary"] == "1"}
	e.text("name", c.Name, 200, true)
	e.text("job_title", c.JobTitle, 100, false)
	var err error
	if f["email"] != "" {
		c.Email, err = ident.NormalizeEmail(f["email"])
		e.ident("email", err)
	}
	if f["phone"] != "" {
		c.Phone, err = ident.NormalizePhone(f["phone"], country)
		e.ident("phone", err)
	}
	return c, e
}

// tagError carries a message id out of parseTags.
type tagError string

func (t tagError) Error() string { return string(t) }

// parseTags reads "a, B ,a" as [a b]: lower case, no repeats, at most 20
// tags of at most 40 characters.
func parseTags(s string) ([]string, error) {
	var tags []string
	for _, t := range strings.Split(s, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || slices.Contains(tags, t) {
			continue
		}
		if utf8.RuneCountInString(t) > 40 || !ident.CleanText(t) || strings.ContainsAny(t, "\n\r\t") {
			return nil, tagError("customers.tag_invalid")
		}
		tags = append(tags, t)
	}
	if len(tags) > 20 {
		return nil, tagError("customers.too_many_tags")
	}
	return tags, nil
}
