// Package invoices drafts, issues and voids invoices: from an order, from
// delivery notes, from a signed quote (through its order), from a proforma
// or by hand; summary invoices (recapitulativas) of a customer's period;
// correctives (rectificativas) naming what they correct. Issuing takes the
// next gapless number of the series, freezes the parties, lines, totals and
// PDF, and the database keeps them frozen (migration 0034). Totals come
// from app/tax, numbers from app/series, the PDF from app/printing.
//
// The rules of RD 1619/2012 (Reglamento de facturación) are checked here
// with a field message each; VERI*FACTU records are written in the same
// transactions by app/verifactu (see writeRegistroAlta and
// writeRegistroAnulacion). Mexican and Argentinian orgs issue internal
// invoices with the same flow, printed as not yet fiscal.
//
// Functions that change anything take the caller's transaction: run them
// inside live.BeginFunc, so a refusal rolls everything back, numbers
// included.
package invoices

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"pulso/app/series"
	"pulso/app/tax"
)

// Kind is what an invoice is to the people who read it.
type Kind string

const (
	// Ordinary is a complete invoice (AEAT F1).
	Ordinary Kind = "ordinary"
	// Simplified is a factura simplificada (F2): no recipient data, and a
	// limit (RD 1619/2012 art. 4).
	Simplified Kind = "simplified"
	// Replacement is a complete invoice issued in place of simplified ones
	// already issued (F3, "canje").
	Replacement Kind = "replacement"
	// Corrective is a rectificativa (R1–R5), by difference or substitution.
	Corrective Kind = "corrective"
	// Summary is a recapitulativa: several deliveries of a period to one
	// customer on one complete invoice (F1 with its period).
	Summary Kind = "summary"
	// Proforma is an offer shaped like an invoice: never numbered, no fiscal
	// effect, and it can become an ordinary invoice.
	Proforma Kind = "proforma"
)

// Kinds in the order forms offer them.
var Kinds = []Kind{Ordinary, Simplified, Corrective, Summary, Replacement, Proforma}

// States an invoice moves through: draft → issued → voided.
const (
	Draft  = "draft"
	Issued = "issued"
	Voided = "voided"
)

// Methods of a corrective: by difference its lines are what changes (they
// may be negative); by substitution they are the whole corrected content.
const (
	ByDifference   = "difference"
	BySubstitution = "substitution"
)

// CorrectiveTypes are the AEAT's rectificativa types: R1 error fundado en
// derecho and LIVA art. 80.Uno/Dos, R2 art. 80.Tres (concurso), R3 art.
// 80.Cuatro (bad debts), R4 other causes, R5 correcting simplified invoices.
var CorrectiveTypes = []string{"R1", "R2", "R3", "R4", "R5"}

// MaxLines bounds an invoice (a summary of many deliveries included).
const MaxLines = 500

// fiscalType is the AEAT TipoFactura of a kind ("" for a proforma); a
// corrective's comes from its type.
func fiscalType(k Kind, correctiveType string) string {
	switch k {
	case Ordinary, Summary:
		return "F1"
	case Simplified:
		return "F2"
	case Replacement:
		return "F3"
	case Corrective:
		return correctiveType
	}
	return ""
}

// seriesKind is the number_series kind that numbers an invoice kind.
func seriesKind(k Kind) string {
	switch k {
	case Simplified:
		return series.Simplified
	case Corrective:
		return series.Corrective
	}
	return series.Invoice
}

// DefaultSeries is the series code a draft gets when none is chosen: F for
// complete invoices, FS for simplified, R for correctives (which must have
// their own, RD 1619/2012 art. 6.1.a); proformas none.
func DefaultSeries(k Kind) string {
	switch k {
	case Simplified:
		return "FS"
	case Corrective:
		return "R"
	case Proforma:
		return ""
	}
	return "F"
}

// namesRecipient says whether an invoice of this fiscal type carries the
// recipient's data: F2 and R5 never do (AEAT error 1190), the others must.
func namesRecipient(fiscalType string) bool {
	return fiscalType != "F2" && fiscalType != "R5"
}

// Errors for states an action does not apply to.
var (
	ErrNotDraft        = errors.New("invoices: the invoice is not a draft")
	ErrNotIssued       = errors.New("invoices: the invoice is not issued")
	ErrAlreadyInvoiced = errors.New("invoices: already on another invoice")
)

// Problem is one field's message: an i18n id and its parameters.
type Problem struct {
	ID     string
	Params map[string]any
}

// ParamsJSON is p's parameters as a row keeps them beside its id (a
// refusal stored for a page to show later, read back with i18n.Data): a
// JSON object, {} when there are none.
func (p Problem) ParamsJSON() ([]byte, error) {
	if len(p.Params) == 0 {
		return []byte("{}"), nil
	}
	return json.Marshal(p.Params)
}

// Invalid is returned when input cannot stand: each field (as forms name
// them: "customer_tax_id", "lines.2.quantity", ...) with its message.
type Invalid map[string]Problem

func (e Invalid) Error() string {
	fields := make([]string, 0, len(e))
	for f, p := range e {
		fields = append(fields, f+": "+p.ID)
	}
	slices.Sort(fields)
	return "invoices: " + strings.Join(fields, ", ")
}

// First is the one message to show where there is room for one (a
// month-end run's item, a store order's row): the customer's tax id when
// it is among them, as what the office fixes most often, else the first
// by field name, so the same refusal always shows the same message.
func (e Invalid) First() Problem {
	if p, ok := e["customer_tax_id"]; ok {
		return p
	}
	fields := slices.Sorted(maps.Keys(e))
	if len(fields) == 0 {
		return Problem{}
	}
	return e[fields[0]]
}

func (e Invalid) add(field, id string, params map[string]any) {
	if _, ok := e[field]; !ok {
		e[field] = Problem{ID: id, Params: params}
	}
}

// orNil is e as an error, nil when it holds nothing.
func (e Invalid) orNil() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Party is one side of an invoice as frozen at issue.
type Party struct {
	Name    string `json:"name"`
	TaxID   string `json:"tax_id,omitempty"`
	Address string `json:"address,omitempty"`
	Country string `json:"country,omitempty"`
}

// Parties is what issuing freezes of who an invoice is between (the
// invoices.parties column): later changes to the org or the customer never
// reach an issued invoice.
type Parties struct {
	Issuer Party `json:"issuer"`
	// Customer is nil on invoices that name no recipient (F2, R5).
	Customer *Party `json:"customer,omitempty"`
	// Tax is the customer's tax treatment the invoice was issued under.
	Tax    tax.CustomerTax `json:"tax"`
	Locale string          `json:"locale"`
	Zone   string          `json:"zone"`
}

// Fiscal says whether the invoice is a Spanish fiscal invoice. Mexican and
// Argentinian ones are internal until CFDI stamping and ARCA's CAE arrive.
func (p Parties) Fiscal() bool { return p.Issuer.Country == "ES" }
