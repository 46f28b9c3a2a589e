// Package tax holds the tax rules every document shares: the rates in force
// on a date (RatesOn), a document's totals (Compute) and the recargo de
// equivalencia that goes with each IVA rate. Quotes, orders and (next)
// invoices, subscriptions and store vouchers all total through Compute.
package tax

import (
	"errors"
	"slices"

	"github.com/shopspring/decimal"
)

// Line is one quote line as the totals see it. Money is in minor units
// (cents) of the quote's currency; rates and the discount are percentages
// (21 for 21 %, 5.2 for the 5,2 % recargo de equivalencia).
type Line struct {
	Quantity    decimal.Decimal
	UnitPrice   int64 // cents, before tax
	DiscountPct decimal.Decimal
	TaxRate     decimal.Decimal // IVA
	Surcharge   decimal.Decimal // recargo de equivalencia; zero when the customer has none
	Withholding decimal.Decimal // IRPF retention; zero when none applies
}

// TaxGroup is the tax on the lines that share a rate (and surcharge rate).
type TaxGroup struct {
	Rate            decimal.Decimal
	SurchargeRate   decimal.Decimal
	Base            int64
	Tax             int64
	SurchargeAmount int64
}

// WithholdingGroup is the retention on the lines that share an IRPF rate.
type WithholdingGroup struct {
	Rate   decimal.Decimal
	Base   int64
	Amount int64
}

// Totals is everything a document shows below its lines.
type Totals struct {
	Lines        []int64 // each line's amount after its discount, before tax
	Taxes        []TaxGroup
	Withholdings []WithholdingGroup
	Base         int64 // Σ line amounts (TotalGrossAmountBeforeTaxes)
	Tax          int64 // Σ tax groups' IVA
	Surcharge    int64 // Σ tax groups' recargo
	Withheld     int64 // Σ withholdings
	Total        int64 // Base + Tax + Surcharge − Withheld
}

var (
	hundred = decimal.NewFromInt(100)
	// ErrLine is returned for lines the totals cannot be computed for; the
	// form reports which field (see Validate).
	ErrLine = errors.New("tax: invalid line")
)

// maxLineAmount keeps every sum far inside int64 cents.
const maxLineAmount = 1_000_000_000_000_00

// Compute applies the Facturae rules (../shared/conformance/RULES.md,
// InvoiceLineType and InvoiceTotalsType; EN 16931 BR-CO-17):
//   - a line's amount is Quantity × UnitPrice less its discount, rounded to
//     the cent once, on the line;
//   - tax is computed per rate on the sum of the rounded line amounts
//     (never as a sum of per-line taxes), rounded to the cent; recargo per
//     (rate, surcharge) group and IRPF per withholding rate the same way;
//   - Total = Base + Tax + Surcharge − Withheld.
//
// Rounding is half away from zero (0,125 → 0,13; −0,125 → −0,13), the
// commercial rounding Spanish, Mexican and Argentinian tax rules assume.
// Groups are ordered by rate, highest first, as invoices usually print them.
func Compute(lines []Line) (Totals, error) { return compute(lines, Validate) }

// ComputeSigned is Compute for a corrective invoice by difference, whose
// lines may take quantities back (negative quantities; see ValidateSigned).
// The same rounding applies: half away from zero, so −0,125 → −0,13 and a
// credit mirrors the charge it undoes to the cent.
func ComputeSigned(lines []Line) (Totals, error) { return compute(lines, ValidateSigned) }

// ComputeIncluded totals a document whose unit prices include IVA (a
// simplified invoice of a sale made at tax-included prices):
//   - a line's amount is Quantity × UnitPrice less its discount, rounded to
//     the cent once, on the line — tax included;
//   - per rate, the base is the sum of its lines' amounts divided by
//     (1 + rate), rounded half away from zero, and the tax is that sum less
//     the base, so base + tax is exactly what was charged;
//   - Total = Σ amounts. Lines is each line's amount, tax included.
//
// Recargo de equivalencia and IRPF are for complete invoices between
// businesses, priced net: a line with either is ErrLine.
func ComputeIncluded(lines []Line) (Totals, error) { return computeIncluded(lines, Validate) }

// ComputeIncludedSigned is ComputeIncluded for a corrective by difference of
// such a sale (a refund gives part of it back: negative quantities). Half
// away from zero, so a refund's base and tax mirror a charge of the same
// amount to the cent.
func ComputeIncludedSigned(lines []Line) (Totals, error) {
	return computeIncluded(lines, ValidateSigned)
}

func computeIncluded(lines []Line, validate func(Line) string) (Totals, error) {
	var t Totals
	t.Lines = make([]int64, len(lines))
	type group struct {
		rate   decimal.Decimal
		amount int64
	}
	groups := map[string]*group{}
	for i, l := range lines {
		if !l.Surcharge.IsZero() || !l.Withholding.IsZero() {
			return Totals{}, ErrLine
		}
		amount, err := lineAmount(l, validate)
		if err != nil {
			return Totals{}, err
		}
		t.Lines[i] = amount.IntPart()
		k := l.TaxRate.String()
		if groups[k] == nil {
			groups[k] = &group{rate: l.TaxRate}
		}
		groups[k].amount += t.Lines[i]
	}
	for _, g := range groups {
		base := decimal.NewFromInt(g.amount).Mul(hundred).Div(hundred.Add(g.rate)).Round(0).IntPart()
		tg := TaxGroup{Rate: g.rate, Base: base, Tax: g.amount - base}
		t.Taxes = append(t.Taxes, tg)
		t.Base += tg.Base
		t.Tax += tg.Tax
		t.Total += g.amount
	}
	slices.SortFunc(t.Taxes, func(a, b TaxGroup) int { return b.Rate.Cmp(a.Rate) })
	return t, nil
}

// lineAmount is a line's amount: Quantity × UnitPrice less its discount,
// rounded to the cent once, on the line.
func lineAmount(l Line, validate func(Line) string) (decimal.Decimal, error) {
	if validate(l) != "" {
		return decimal.Decimal{}, ErrLine
	}
	gross := l.Quantity.Mul(decimal.NewFromInt(l.UnitPrice))
	amount := gross.Sub(gross.Mul(l.DiscountPct).Div(hundred)).Round(0)
	if amount.Abs().GreaterThan(decimal.NewFromInt(maxLineAmount)) {
		return decimal.Decimal{}, ErrLine
	}
	return amount, nil
}

func compute(lines []Line, validate func(Line) string) (Totals, error) {
	var t Totals
	t.Lines = make([]int64, len(lines))
	type taxKey struct{ rate, surcharge string }
	taxBase := map[taxKey]decimal.Decimal{}
	taxRates := map[taxKey][2]decimal.Decimal{}
	whBase := map[string]decimal.Decimal{}
	whRate := map[string]decimal.Decimal{}
	for i, l := range lines {
		amount, err := lineAmount(l, validate)
		if err != nil {
			return Totals{}, err
		}
		t.Lines[i] = amount.IntPart()
		t.Base += t.Lines[i]
		k := taxKey{l.TaxRate.String(), l.Surcharge.String()}
		taxBase[k] = taxBase[k].Add(amount)
		taxRates[k] = [2]decimal.Decimal{l.TaxRate, l.Surcharge}
		if l.Withholding.IsPositive() {
			w := l.Withholding.String()
			whBase[w] = whBase[w].Add(amount)
			whRate[w] = l.Withholding
		}
	}
	for k, base := range taxBase {
		r := taxRates[k]
		g := TaxGroup{
			Rate: r[0], SurchargeRate: r[1], Base: base.IntPart(),
			Tax:             base.Mul(r[0]).Div(hundred).Round(0).IntPart(),
			SurchargeAmount: base.Mul(r[1]).Div(hundred).Round(0).IntPart(),
		}
		t.Taxes = append(t.Taxes, g)
		t.Tax += g.Tax
		t.Surcharge += g.SurchargeAmount
	}
	for k, base := range whBase {
		g := WithholdingGroup{Rate: whRate[k], Base: base.IntPart(), Amount: base.Mul(whRate[k]).Div(hundred).Round(0).IntPart()}
		t.Withholdings = append(t.Withholdings, g)
		t.Withheld += g.Amount
	}
	slices.SortFunc(t.Taxes, func(a, b TaxGroup) int {
		if c := b.Rate.Cmp(a.Rate); c != 0 {
			return c
		}
		return b.SurchargeRate.Cmp(a.SurchargeRate)
	})
	slices.SortFunc(t.Withholdings, func(a, b WithholdingGroup) int { return b.Rate.Cmp(a.Rate) })
	t.Total = t.Base + t.Tax + t.Surcharge - t.Withheld
	return t, nil
}

// Validate names the first field of l that cannot be quoted, as an i18n key
// suffix the form shows next to it ("" when the line is fine). Quotes never
// carry negative lines: a credit is a corrective invoice, not a quote.
func Validate(l Line) string {
	switch {
	case !l.Quantity.IsPositive() || !l.Quantity.Equal(l.Quantity.Round(3)) || l.Quantity.GreaterThan(decimal.NewFromInt(1_000_000_000)):
		return "quantity"
	case l.UnitPrice <= 0 || l.UnitPrice > maxLineAmount:
		return "unit_price"
	case l.DiscountPct.IsNegative() || l.DiscountPct.GreaterThanOrEqual(hundred) || !l.DiscountPct.Equal(l.DiscountPct.Round(2)):
		return "discount"
	case l.TaxRate.IsNegative() || l.TaxRate.GreaterThanOrEqual(hundred):
		return "tax_rate"
	case l.Surcharge.IsNegative() || l.Surcharge.GreaterThanOrEqual(hundred):
		return "surcharge"
	case l.Withholding.IsNegative() || l.Withholding.GreaterThanOrEqual(hundred):
		return "withholding"
	}
	return ""
}

// ValidateSigned is Validate for the lines of a corrective invoice by
// difference: the quantity may be negative (goods returned, a price
// lowered), never zero; the price stays positive.
func ValidateSigned(l Line) string {
	if l.Quantity.IsNegative() {
		l.Quantity = l.Quantity.Neg()
	}
	return Validate(l)
}

// recargo is the recargo de equivalencia that goes with each IVA rate (Ley
// 37/1992, art. 161: 21 → 5,2; 10 → 1,4; 4 → 0,5; exempt lines none).
var recargo = map[string]decimal.Decimal{
	"21": decimal.RequireFromString("5.2"),
	"10": decimal.RequireFromString("1.4"),
	"4":  decimal.RequireFromString("0.5"),
}

// RecargoFor is the recargo de equivalencia rate for a line taxed at the
// IVA rate iva, for a customer under that regime (zero for exempt lines).
func RecargoFor(iva decimal.Decimal) decimal.Decimal {
	return recargo[iva.String()]
}
