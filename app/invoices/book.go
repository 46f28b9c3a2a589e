package invoices

import (
	"encoding/json"

	"pulso/app/tax"
	"pulso/app/verifactu"
	"pulso/queries"
)

// Booking is how an issued invoice enters the libro registro de facturas
// expedidas: the parties frozen at issue, its totals, and its VAT broken
// down exactly as its VERI*FACTU record breaks it down (regime key,
// qualification or exemption cause, rate, base, cuota, recargo), so the
// book and the record the AEAT receives cannot disagree.
type Booking struct {
	Parties Parties
	Totals  tax.Totals
	// Recipient is the IDDestinatario; nil when the invoice names none (F2,
	// R5).
	Recipient *verifactu.Persona
	Desglose  []verifactu.Detalle
}

// Book is the Booking of a numbered invoice from what issuing froze and its
// lines (recomputed with the same function that priced them at issue;
// correctives by difference keep their signs). Invoices from before 0034
// have no lines: their Desglose is empty and the caller books their stored
// totals.
func Book(corrective *string, fiscalType string, parties []byte, lines []queries.InvoiceLine) (Booking, error) {
	var b Booking
	if err := json.Unmarshal(parties, &b.Parties); err != nil {
		return b, err
	}
	treat := b.Parties.Tax
	if treat.Regime == "" {
		treat.Regime = tax.General
	}
	var err error
	if b.Totals, err = Totals(queries.Invoice{CorrectiveMethod: corrective}, lines); err != nil {
		return b, err
	}
	if c := b.Parties.Customer; c != nil && namesRecipient(fiscalType) {
		r := recipient(*c, treat)
		b.Recipient = &r
	}
	b.Desglose = desglose(b.Totals, treat)
	return b, nil
}
