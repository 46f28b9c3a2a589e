package tax

import (
	"testing"

	"github.com/shopspring/decimal"
)

// Every gross total from 0,01 to 200,00 at the rates of the three
// countries: the base found adds up to it exactly, or — only where no base
// does — to a cent below it; and the share of totals that cannot be met
// is the rounding's (about rate/(100+rate)), not more.
func TestBaseForGross(t *testing.T) {
	for _, r := range []string{"21", "10", "4", "16", "10.5", "27", "0"} {
		rate := decimal.RequireFromString(r)
		missed := 0
		for g := int64(1); g <= 20000; g++ {
			b, ok := BaseForGross(g, rate)
			got := b + decimal.NewFromInt(b).Mul(rate).Div(hundred).Round(0).IntPart()
			switch {
			case ok && got != g:
				t.Fatalf("rate %s, gross %d: base %d totals %d", r, g, b, got)
			case !ok && got != g-1:
				t.Fatalf("rate %s, gross %d: no exact base, and base %d totals %d, not a cent below", r, g, b, got)
			case !ok:
				missed++
				// No base meets it: totals only grow with the base, so the
				// next base must already be past it.
				if next := b + 1 + decimal.NewFromInt(b+1).Mul(rate).Div(hundred).Round(0).IntPart(); next <= g {
					t.Fatalf("rate %s, gross %d: base %d totals %d, BaseForGross said none", r, g, b+1, next)
				}
			}
		}
		share := rate.InexactFloat64() / (100 + rate.InexactFloat64())
		if got := float64(missed) / 20000; got > share+0.01 {
			t.Errorf("rate %s: %.3f of totals missed, the rounding explains %.3f", r, got, share)
		}
	}
}
