// Package leads is where reps capture and work leads (clientes
// potenciales): a one-screen form that warns about duplicates, a list with
// filters and search, and the lead's page.
package leadsweb

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"pulso/app/ident"
)

// Statuses in pipeline order; descartado needs a reason.
var Statuses = []string{"nuevo", "contactado", "cualificado", "descartado", "convertido"}

// Sources a lead can come from.
var Sources = []string{"manual", "import", "web_form", "email", "api"}

var countries = []string{"ES", "MX", "AR"}

// Input is a validated lead form.
type Input struct {
	Name, ContactName, Email, Phone, TaxID string
	Country, Province, City                string
	OwnerID                                *int64
	Status, DiscardReason, Notes           string
	Tags                                   []string
	Version                                int32
}

// Form holds what the user typed, for re-rendering with errors.
type Form map[string]string

func formFrom(c *fiber.Ctx) Form {
	f := Form{}
	for _, k := range []string{"name", "contact_name", "email", "phone", "tax_id", "country", "province", "city",
		"owner_id", "status", "discard_reason", "notes", "tags", "version"} {
		f[k] = strings.TrimSpace(c.FormValue(k))
	}
	return f
}

// parse validates a form; errs maps a field to a message id.
func parse(f Form) (Input, map[string]string) {
	errs := map[string]string{}
	in := Input{
		Name: f["name"], ContactName: f["contact_name"], Country: f["country"], Province: f["province"],
		City: f["city"], Status: f["status"], DiscardReason: f["discard_reason"], Notes: f["notes"],
	}
	text := func(field, v string, max int, required bool) {
		switch {
		case required && v == "":
			errs[field] = "validation.required"
		case utf8.RuneCountInString(v) > max:
			errs[field] = "validation.too_long"
		case !ident.CleanText(v):
			errs[field] = "validation.bad_chars"
		}
	}
	text("name", in.Name, 200, true)
	text("contact_name", in.ContactName, 200, false)
	text("province", in.Province, 100, false)
	text("city", in.City, 100, false)
	text("notes", in.Notes, 10000, false)
	text("discard_reason", in.DiscardReason, 500, false)
	if !slices.Contains(countries, in.Country) {
		errs["country"] = "validation.choice"
	}
	if in.Status == "" {
		in.Status = "nuevo"
	}
	if !slices.Contains(Statuses, in.Status) || in.Status == "convertido" {
		errs["status"] = "validation.choice"
	}
	if in.Status == "descartado" && in.DiscardReason == "" {
		errs["discard_reason"] = "leads.discard_reason_required"
	}
	if in.Status != "descartado" {
		in.DiscardReason = ""
	}
	field := func(name string, err error) {
		if m := ident.MessageOf(err); m != "" {
			errs[name] = m
		}
	}
	var err error
	if f["email"] != "" {
		in.Email, err = ident.NormalizeEmail(f["email"])
		field("email", err)
	}
	if f["phone"] != "" && errs["country"] == "" {
		in.Phone, err = ident.NormalizePhone(f["phone"], in.Country)
		field("phone", err)
	}
	if f["tax_id"] != "" && errs["country"] == "" {
		in.TaxID, err = ident.NormalizeTaxID(f["tax_id"], in.Country)
		field("tax_id", err)
	}
	if f["owner_id"] != "" {
		id, err := strconv.ParseInt(f["owner_id"], 10, 64)
		if err != nil || id <= 0 {
			errs["owner_id"] = "validation.choice"
		} else {
			in.OwnerID = &id
		}
	}
	for _, t := range strings.Split(f["tags"], ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || slices.Contains(in.Tags, t) {
			continue
		}
		if utf8.RuneCountInString(t) > 40 || !ident.CleanText(t) {
			errs["tags"] = "leads.tag_invalid"
			break
		}
		in.Tags = append(in.Tags, t)
	}
	if len(in.Tags) > 20 {
		errs["tags"] = "leads.too_many_tags"
	}
	if v := f["version"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			errs["version"] = "validation.choice"
		}
		in.Version = int32(n)
	}
	return in, errs
}
