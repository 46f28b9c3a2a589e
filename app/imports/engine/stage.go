package engine

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"pulso/app/ident"
	"pulso/app/money"
	"pulso/queries"
)

// Row is one data row of the file with what the user's mapping and the
// header say about it.
type Row struct {
	Line    int
	Cells   []string
	Mapping Mapping
	Headers []string
}

func (r Row) get(field string) string {
	i, ok := r.Mapping[field]
	if !ok || i < 0 || i >= len(r.Cells) {
		return ""
	}
	return r.Cells[i]
}

// column is the header the user knows a field's column by.
func (r Row) column(field string) string {
	if i, ok := r.Mapping[field]; ok && i >= 0 && i < len(r.Headers) && r.Headers[i] != "" {
		return r.Headers[i]
	}
	return field
}

var countryNames = map[string]string{
	"es": "ES", "espana": "ES", "spain": "ES", "mx": "MX", "mexico": "MX", "ar": "AR", "argentina": "AR",
}

// StageLead validates and normalises one lead row. A bad row keeps its
// line with the column and a message id; the first fault is the reason.
func StageLead(r Row, orgCountry string) queries.StageImportRowsParams {
	p := queries.StageImportRowsParams{
		Line: int32(r.Line), Name: r.get("name"), ContactName: r.get("contact_name"),
		Province: r.get("province"), City: r.get("city"), Notes: r.get("notes"), Tags: []string{},
	}
	fail := func(field, id string) queries.StageImportRowsParams {
		if p.ErrorID == "" {
			p.ErrorColumn, p.ErrorID = r.column(field), id
		}
		return p
	}
	p.Country = orgCountry
	if c := r.get("country"); c != "" {
		code, ok := countryNames[headerKey(c)]
		if !ok {
			return fail("country", "imports.err_country")
		}
		p.Country = code
	}
	if p.Name == "" {
		p.Name = p.ContactName
	}
	if p.Name == "" {
		p.Name = r.get("email")
	}
	if p.Name == "" {
		return fail("name", "validation.required")
	}
	for _, t := range []struct {
		field, v string
		max      int
	}{{"name", p.Name, 200}, {"contact_name", p.ContactName, 200}, {"province", p.Province, 100}, {"city", p.City, 100}, {"notes", p.Notes, 10000}} {
		if utf8.RuneCountInString(t.v) > t.max {
			return fail(t.field, "validation.too_long")
		}
		if strings.IndexFunc(t.v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
			return fail(t.field, "validation.bad_chars")
		}
	}
	var err error
	if v := r.get("email"); v != "" {
		if p.Email, err = ident.NormalizeEmail(v); err != nil {
			return fail("email", ident.MessageOf(err))
		}
	}
	if v := r.get("phone"); v != "" {
		if p.Phone, err = ident.NormalizePhone(v, p.Country); err != nil {
			return fail("phone", ident.MessageOf(err))
		}
	}
	if v := r.get("tax_id"); v != "" {
		if p.TaxID, err = ident.NormalizeTaxID(v, p.Country); err != nil {
			return fail("tax_id", ident.MessageOf(err))
		}
	}
	if v := r.get("owner_email"); v != "" {
		if p.OwnerEmail, err = ident.NormalizeEmail(v); err != nil {
			return fail("owner_email", ident.MessageOf(err))
		}
	}
	// Tags as the lead form takes them: lower case, deduplicated, ≤ 40
	// characters, at most 20; a file may separate them with , ; or |.
	for _, t := range strings.FieldsFunc(r.get("tags"), func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || slices.Contains(p.Tags, t) {
			continue
		}
		if utf8.RuneCountInString(t) > 40 {
			return fail("tags", "leads.tag_invalid")
		}
		p.Tags = append(p.Tags, t)
	}
	if len(p.Tags) > 20 {
		return fail("tags", "leads.too_many_tags")
	}
	return p
}

// StagePortfolio validates one cartera inteligente row: the customer's tax
// id (canonical for the org's country), the agents' e-mails and the
// figures, with Billing diferencia checked against final − inicial.
func StagePortfolio(r Row, orgCountry string) queries.StageImportRowsParams {
	p := queries.StageImportRowsParams{Line: int32(r.Line), Tags: []string{}, Country: orgCountry}
	fail := func(field, id string) queries.StageImportRowsParams {
		if p.ErrorID == "" {
			p.ErrorColumn, p.ErrorID = r.column(field), id
		}
		return p
	}
	var err error
	v := r.get("tax_id")
	if v == "" {
		return fail("tax_id", "validation.required")
	}
	if p.TaxID, err = ident.NormalizeTaxID(v, orgCountry); err != nil {
		return fail("tax_id", ident.MessageOf(err))
	}
	if v = r.get("agent"); v == "" && r.get("custom_agent") == "" {
		return fail("agent", "validation.required")
	}
	if v != "" {
		if p.OwnerEmail, err = ident.NormalizeEmail(v); err != nil {
			return fail("agent", ident.MessageOf(err))
		}
	}
	if v = r.get("custom_agent"); v != "" {
		if p.CustomEmail, err = ident.NormalizeEmail(v); err != nil {
			return fail("custom_agent", ident.MessageOf(err))
		}
	}
	money := func(field string) (*int64, bool) {
		v := r.get(field)
		if v == "" {
			return nil, true
		}
		n, err := money.Parse(v, "")
		if err != nil {
			return nil, false
		}
		return &n, true
	}
	var ok bool
	if p.BillingInitial, ok = money("billing_initial"); !ok {
		return fail("billing_initial", "imports.err_money")
	}
	if p.BillingRecommended, ok = money("billing_recommended"); !ok {
		return fail("billing_recommended", "imports.err_money")
	}
	if p.BillingFinal, ok = money("billing_final"); !ok {
		return fail("billing_final", "imports.err_money")
	}
	diff, ok := money("billing_diff")
	if !ok {
		return fail("billing_diff", "imports.err_money")
	}
	if diff != nil {
		if p.BillingInitial == nil || p.BillingFinal == nil || *p.BillingFinal-*p.BillingInitial != *diff {
			return fail("billing_diff", "imports.err_billing_diff")
		}
	}
	return p
}

// productUnits are the catalog's units, and what files call them.
var productUnits = map[string]string{
	"ud": "ud", "u": "ud", "unidad": "ud", "unidades": "ud", "uds": "ud", "unit": "ud", "pcs": "ud", "pieza": "ud",
	"h": "h", "hora": "h", "horas": "h", "hour": "h", "hours": "h",
	"kg": "kg", "kilo": "kg", "kilos": "kg", "m": "m", "metro": "m", "metros": "m", "m2": "m2", "metro cuadrado": "m2",
	"l": "l", "litro": "l", "litros": "l", "servicio": "servicio", "service": "servicio",
}

var productCode = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,40}$`)

// StageProduct validates one catalog row: code (as the product form takes
// it), name, description, group, unit, price (exact money, above zero) and
// IVA rate (a number; whether it is in force is checked in SQL).
func StageProduct(r Row, orgCountry string) queries.StageImportRowsParams {
	p := queries.StageImportRowsParams{Line: int32(r.Line), Tags: []string{}, Country: orgCountry,
		Code: strings.TrimSpace(r.get("code")), Name: strings.TrimSpace(r.get("name")), Notes: strings.TrimSpace(r.get("description")),
		GroupName: strings.TrimSpace(r.get("group"))}
	fail := func(field, id string) queries.StageImportRowsParams {
		if p.ErrorID == "" {
			p.ErrorColumn, p.ErrorID = r.column(field), id
		}
		return p
	}
	if p.Code == "" {
		return fail("code", "validation.required")
	}
	if !productCode.MatchString(p.Code) {
		return fail("code", "imports.err_code")
	}
	if p.Name == "" {
		return fail("name", "validation.required")
	}
	for _, t := range []struct {
		field, v string
		max      int
	}{{"name", p.Name, 200}, {"description", p.Notes, 5000}, {"group", p.GroupName, 120}} {
		if utf8.RuneCountInString(t.v) > t.max {
			return fail(t.field, "validation.too_long")
		}
		if strings.IndexFunc(t.v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
			return fail(t.field, "validation.bad_chars")
		}
	}
	p.Unit = "ud"
	if v := r.get("unit"); v != "" {
		u, ok := productUnits[headerKey(v)]
		if !ok {
			return fail("unit", "imports.err_unit")
		}
		p.Unit = u
	}
	v := r.get("price")
	if v == "" {
		return fail("price", "validation.required")
	}
	price, err := money.Parse(v, "")
	if err != nil || price <= 0 {
		return fail("price", "imports.err_price")
	}
	p.Price = &price
	if v := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(r.get("tax_rate")), "%")); v != "" {
		d, err := decimal.NewFromString(strings.Replace(v, ",", ".", 1))
		if err != nil || d.IsNegative() || d.GreaterThanOrEqual(decimal.NewFromInt(100)) || d.Exponent() < -2 {
			return fail("tax_rate", "imports.err_rate_unknown")
		}
		p.Rate = pgtype.Numeric{Int: d.Coefficient(), Exp: d.Exponent(), Valid: true}
	}
	return p
}
