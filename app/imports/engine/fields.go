// Package engine is the import engine the import job runs: rows stream
// from the file (app/imports/sheet), are normalised in Go with app/ident
// and COPied into import_rows, checked and deduplicated in SQL, and written
// to leads (or customers, for a portfolio) in one transaction.
package engine

import (
	"strings"

	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Field is a target column of an import, with the header names (es/en)
// that pick it on the preview screen.
type Field struct {
	Name     string
	Label    string // catalog id
	Synonyms []string
}

// LeadFields are what a lead file maps to.
var LeadFields = []Field{
	{"name", "imports.field_name", []string{"nombre", "empresa", "razon social", "nombre empresa", "compania", "company", "name", "company name", "organization"}},
	{"contact_name", "imports.field_contact_name", []string{"contacto", "persona de contacto", "nombre contacto", "contact", "contact name", "contact person"}},
	{"email", "imports.field_email", []string{"email", "e mail", "correo", "correo electronico", "mail", "email address"}},
	{"phone", "imports.field_phone", []string{"telefono", "tel", "movil", "celular", "phone", "mobile", "telephone", "phone number"}},
	{"tax_id", "imports.field_tax_id", []string{"nif", "cif", "nie", "rfc", "cuit", "identificacion fiscal", "tax id", "vat", "vat number", "taxid"}},
	{"country", "imports.field_country", []string{"pais", "country"}},
	{"province", "imports.field_province", []string{"provincia", "estado", "region", "province", "state"}},
	{"city", "imports.field_city", []string{"ciudad", "localidad", "municipio", "poblacion", "city", "town"}},
	{"tags", "imports.field_tags", []string{"etiquetas", "etiqueta", "tags", "tag", "labels"}},
	{"notes", "imports.field_notes", []string{"notas", "observaciones", "comentarios", "notes", "comments"}},
	{"owner_email", "imports.field_owner_email", []string{"propietario", "responsable", "comercial", "email propietario", "owner", "owner email", "sales rep"}},
}

// PortfolioFields are the cartera inteligente template's columns.
var PortfolioFields = []Field{
	{"tax_id", "imports.pf_customer", []string{"cliente", "customer", "nif", "cif", "rfc", "cuit", "tax id"}},
	{"agent", "imports.pf_agent", []string{"agente", "agent", "comercial"}},
	{"custom_agent", "imports.pf_custom_agent", []string{"agente personalizado", "custom agent"}},
	{"billing_initial", "imports.pf_initial", []string{"billing inicial", "initial billing"}},
	{"billing_recommended", "imports.pf_recommended", []string{"valor recomendado", "recommended value", "billing recomendado"}},
	{"billing_final", "imports.pf_final", []string{"billing final", "final billing"}},
	{"billing_diff", "imports.pf_diff", []string{"billing diferencia", "billing difference", "diferencia"}},
}

// PortfolioHeaders is the template's header row, in order.
var PortfolioHeaders = []string{"Cliente", "Agente", "Agente personalizado", "Billing inicial", "Valor recomendado", "Billing final", "Billing diferencia"}

// ProductFields are what a catalog file maps to.
var ProductFields = []Field{
	{"code", "imports.prod_code", []string{"codigo", "referencia", "ref", "sku", "code", "reference", "item code"}},
	{"name", "imports.prod_name", []string{"nombre", "articulo", "producto", "denominacion", "name", "product", "item"}},
	{"description", "imports.prod_description", []string{"descripcion", "detalle", "description", "details"}},
	{"group", "imports.prod_group", []string{"grupo", "familia", "grupo de articulos", "categoria", "group", "family", "category"}},
	{"unit", "imports.prod_unit", []string{"unidad", "ud", "unit", "uom"}},
	{"price", "imports.prod_price", []string{"precio", "pvp", "precio base", "importe", "price", "unit price", "base price"}},
	{"tax_rate", "imports.prod_tax_rate", []string{"iva", "tipo iva", "iva %", "impuesto", "vat", "tax", "tax rate"}},
}

// FieldsOf returns the fields of an import kind.
func FieldsOf(kind string) []Field {
	switch kind {
	case "portfolio":
		return PortfolioFields
	case "products":
		return ProductFields
	}
	return LeadFields
}

// Mapping is field name → 0-based column of the file.
type Mapping map[string]int

// AutoMap matches headers to fields by name, ignoring case, accents and
// punctuation; each column goes to at most one field, exact synonyms first.
func AutoMap(fields []Field, headers []string) Mapping {
	m := Mapping{}
	used := map[int]bool{}
	keys := make([]string, len(headers))
	for i, h := range headers {
		keys[i] = headerKey(h)
	}
	for _, f := range fields {
		for _, syn := range f.Synonyms {
			for i, k := range keys {
				if !used[i] && k == syn {
					m[f.Name] = i
					used[i] = true
					goto next
				}
			}
		}
	next:
	}
	return m
}

var stripMarks = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)

// headerKey is a header as compared: lower case, no accents, punctuation
// as single spaces ("E-mail" → "e mail", "Teléfono" → "telefono").
func headerKey(h string) string {
	s, _, err := transform.String(stripMarks, strings.ToLower(h))
	if err != nil {
		s = strings.ToLower(h)
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ")
}
