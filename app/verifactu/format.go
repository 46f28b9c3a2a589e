package verifactu

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// maxAmountCents is the largest amount ImporteSgn12.2Type can carry: 12
// integer digits and 2 decimals.
const maxAmountCents = 99_999_999_999_999

// Amount writes cents as the record's amounts are written: a decimal point,
// no grouping, always two decimals, a minus sign when negative ("176.00",
// "-0.50"). The huella hashes the text of the XML element, so "2.1" and
// "2.10" give different huellas (RULES.md, vector
// trap-alta-f2-first-1-decimal): every amount in a record, its huella and
// its QR goes through this one function so that the three always agree.
func Amount(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	frac := cents % 100
	return sign + strconv.FormatInt(cents/100, 10) + "." + strconv.FormatInt(frac/10, 10) + strconv.FormatInt(frac%10, 10)
}

// Rate writes a tax or surcharge rate (a percentage, 21 for 21 %) as
// Tipo2.2Type wants it: up to three integer digits and two decimals,
// written with both decimals like the AEAT samples ("21.00", "5.20").
// Rates are exact: one with more decimals is refused by Validate, never
// rounded here.
func Rate(d decimal.Decimal) string { return d.StringFixed(2) }

// rateOK says whether Rate can write d without changing it.
func rateOK(d decimal.Decimal) bool {
	return !d.IsNegative() && d.LessThan(decimal.NewFromInt(1000)) && d.Equal(d.Round(2))
}

// dateLayout is the XSD type sf:fecha, DD-MM-AAAA.
const dateLayout = "02-01-2006"

// Date writes a calendar date as the record does (DD-MM-AAAA). Only the
// date's own year, month and day count: pass the invoice date as it is
// stored (a date at midnight), not an instant converted to another zone.
func Date(t time.Time) string { return t.Format(dateLayout) }

// timestampLayout is FechaHoraHusoGenRegistro as the AEAT examples write
// it: seconds, no fraction, and the offset always numeric ("+01:00", and
// "+00:00" rather than "Z").
const timestampLayout = "2006-01-02T15:04:05-07:00"

// Timestamp writes the generation time of a record with its zone's offset,
// e.g. 2024-01-01T19:20:30+01:00. Fractions of a second are dropped (not
// rounded), so the text never names a second that had not yet begun.
func Timestamp(t time.Time) string { return t.Format(timestampLayout) }
