package tax

import "github.com/shopspring/decimal"

// BaseForGross is the tax base whose total under Compute's rule (the tax
// of a rate is the rate on the sum of its lines, rounded half away from
// zero) is gross: what a document priced net must add up to for a sale
// made at a price that includes tax (a shop's ticket, a store order).
//
// Not every gross total has one: as the base grows by a cent the total
// grows by one cent or, when the tax's rounding steps up too, by two, so
// at 21 % about one total in six (21/121) is skipped. Then ok is false and
// base is the one whose total is a cent below gross: the document cannot
// say more than the buyer paid.
func BaseForGross(gross int64, rate decimal.Decimal) (base int64, ok bool) {
	total := func(b int64) int64 {
		return b + decimal.NewFromInt(b).Mul(rate).Div(hundred).Round(0).IntPart()
	}
	// gross ÷ (1 + rate), then the few bases around it: the total of a
	// base is within a cent of base × (1 + rate).
	guess := decimal.NewFromInt(gross).Mul(hundred).Div(hundred.Add(rate)).Floor().IntPart()
	best := int64(-1)
	for b := guess - 2; b <= guess+2; b++ {
		t := total(b)
		if t == gross {
			return b, true
		}
		if t < gross {
			best = b
		}
	}
	return best, false
}
