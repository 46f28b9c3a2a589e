package tax

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// line builds a line from text: quantity, unit price in cents, discount %,
// IVA %, recargo %, IRPF %.
func line(qty string, price int64, disc, iva, re, irpf string) Line {
	return Line{Quantity: d(qty), UnitPrice: price, DiscountPct: d(disc), TaxRate: d(iva), Surcharge: d(re), Withholding: d(irpf)}
}

func TestCompute(t *testing.T) {
	type group struct {
		rate      string
		base, tax int64
		re        int64
	}
	cases := []struct {
		name                           string
		lines                          []Line
		lineAmounts                    []int64
		groups                         []group
		base, tax, re, withheld, total int64
	}{
		{
			name:        "one line, 21 %",
			lines:       []Line{line("1", 10000, "0", "21", "0", "0")},
			lineAmounts: []int64{10000}, groups: []group{{"21", 10000, 2100, 0}},
			base: 10000, tax: 2100, total: 12100,
		},
		{
			// Ten lines of 0,05 €: per-line tax would be 10 × 0,01 (0,0105
			// rounds down each time); the rule taxes the 0,50 € base once:
			// 0,105 → 0,11.
			name:        "tax on the group's base, not summed per line",
			lines:       repeat(line("1", 5, "0", "21", "0", "0"), 10),
			lineAmounts: []int64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, groups: []group{{"21", 50, 11, 0}},
			base: 50, tax: 11, total: 61,
		},
		{
			// 3 × 9,99 = 29,97 less 15 % = 25,4745 → 25,47 on the line.
			name:        "discount rounded once on the line",
			lines:       []Line{line("3", 999, "15", "21", "0", "0")},
			lineAmounts: []int64{2547}, groups: []group{{"21", 2547, 535, 0}},
			base: 2547, tax: 535, total: 3082, // 534,87 → 535
		},
		{
			// 0,333 h × 1,00 € = 0,333 → 0,33; 2,5 × 0,05 = 0,125 → 0,13 (half away from zero).
			name:        "fractional quantities and the half cent",
			lines:       []Line{line("0.333", 100, "0", "10", "0", "0"), line("2.5", 5, "0", "10", "0", "0")},
			lineAmounts: []int64{33, 13}, groups: []group{{"10", 46, 5, 0}}, // 4,6 → 5
			base: 46, tax: 5, total: 51,
		},
		{
			// A retailer in recargo de equivalencia buying at 21 % and 10 %:
			// recargo 5,2 % and 1,4 % per group; ordered highest rate first.
			name: "recargo de equivalencia per group",
			lines: []Line{
				line("2", 1250, "0", "10", "1.4", "0"),
				line("1", 19999, "0", "21", "5.2", "0"),
				line("1", 1, "0", "21", "5.2", "0"),
			},
			lineAmounts: []int64{2500, 19999, 1},
			groups:      []group{{"21", 20000, 4200, 1040}, {"10", 2500, 250, 35}},
			base:        22500, tax: 4450, re: 1075, total: 28025,
		},
		{
			// A professional's invoice: IVA 21 % and IRPF 15 % on the same base.
			name:        "IRPF withholding",
			lines:       []Line{line("1", 123457, "0", "21", "0", "15")},
			lineAmounts: []int64{123457}, groups: []group{{"21", 123457, 25926, 0}}, // 25925,97 → 25926
			base: 123457, tax: 25926, withheld: 18519, total: 123457 + 25926 - 18519, // 18518,55 → 18519
		},
		{
			// Argentina's 10,5 % and Mexico-style 8 % rates are data like any other.
			name:        "non-integer rates",
			lines:       []Line{line("7", 333, "0", "10.5", "0", "0"), line("1", 100, "0", "27", "0", "0")},
			lineAmounts: []int64{2331, 100}, groups: []group{{"27", 100, 27, 0}, {"10.5", 2331, 245, 0}}, // 244,755 → 245
			base: 2431, tax: 272, total: 2703,
		},
		{
			name:        "exempt lines at 0 % have a group too",
			lines:       []Line{line("1", 5000, "0", "0", "0", "0"), line("1", 1000, "0", "4", "0", "0")},
			lineAmounts: []int64{5000, 1000}, groups: []group{{"4", 1000, 40, 0}, {"0", 5000, 0, 0}},
			base: 6000, tax: 40, total: 6040,
		},
		{name: "no lines", lines: nil, lineAmounts: []int64{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Compute(c.lines)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Lines) != len(c.lineAmounts) {
				t.Fatalf("lines %v, want %v", got.Lines, c.lineAmounts)
			}
			for i := range got.Lines {
				if got.Lines[i] != c.lineAmounts[i] {
					t.Errorf("line %d = %d, want %d", i, got.Lines[i], c.lineAmounts[i])
				}
			}
			if len(got.Taxes) != len(c.groups) {
				t.Fatalf("tax groups %+v, want %+v", got.Taxes, c.groups)
			}
			for i, g := range c.groups {
				h := got.Taxes[i]
				if !h.Rate.Equal(d(g.rate)) || h.Base != g.base || h.Tax != g.tax || h.SurchargeAmount != g.re {
					t.Errorf("group %d = %s %d %d %d, want %+v", i, h.Rate, h.Base, h.Tax, h.SurchargeAmount, g)
				}
			}
			if got.Base != c.base || got.Tax != c.tax || got.Surcharge != c.re || got.Withheld != c.withheld || got.Total != c.total {
				t.Errorf("totals base %d tax %d re %d withheld %d total %d; want %d %d %d %d %d",
					got.Base, got.Tax, got.Surcharge, got.Withheld, got.Total, c.base, c.tax, c.re, c.withheld, c.total)
			}
			if got.Total != got.Base+got.Tax+got.Surcharge-got.Withheld {
				t.Error("total is not base + tax + recargo − withheld")
			}
		})
	}
}

func repeat(l Line, n int) []Line {
	out := make([]Line, n)
	for i := range out {
		out[i] = l
	}
	return out
}

func TestValidateNamesTheBadField(t *testing.T) {
	ok := line("1", 100, "0", "21", "0", "0")
	cases := []struct {
		field string
		edit  func(*Line)
	}{
		{"", func(*Line) {}},
		{"", func(l *Line) { l.Quantity = d("2.0000") }}, // trailing zeros are not extra decimals
		{"quantity", func(l *Line) { l.Quantity = d("0") }},
		{"quantity", func(l *Line) { l.Quantity = d("-1") }},
		{"quantity", func(l *Line) { l.Quantity = d("1.0005") }},
		{"quantity", func(l *Line) { l.Quantity = d("1000000001") }},
		{"unit_price", func(l *Line) { l.UnitPrice = 0 }},
		{"unit_price", func(l *Line) { l.UnitPrice = -5 }},
		{"discount", func(l *Line) { l.DiscountPct = d("-1") }},
		{"discount", func(l *Line) { l.DiscountPct = d("100") }},
		{"discount", func(l *Line) { l.DiscountPct = d("12.345") }},
		{"tax_rate", func(l *Line) { l.TaxRate = d("-21") }},
		{"surcharge", func(l *Line) { l.Surcharge = d("-1") }},
		{"withholding", func(l *Line) { l.Withholding = d("100") }},
	}
	for _, c := range cases {
		l := ok
		c.edit(&l)
		if got := Validate(l); got != c.field {
			t.Errorf("%+v: Validate = %q, want %q", l, got, c.field)
		}
		if _, err := Compute([]Line{ok, l}); (err != nil) != (c.field != "") {
			t.Errorf("%+v: Compute error %v", l, err)
		}
	}
}

func TestComputeRefusesAmountsBeyondRange(t *testing.T) {
	if _, err := Compute([]Line{line("1000000", maxLineAmount, "0", "21", "0", "0")}); err == nil {
		t.Fatal("a line of 10^18 cents was accepted")
	}
}

// The order of lines never changes the totals.
func FuzzComputeOrderIndependent(f *testing.F) {
	f.Add(int64(999), int64(5), uint8(15), uint8(3))
	f.Fuzz(func(t *testing.T, p1, p2 int64, disc, qty uint8) {
		if p1 <= 0 || p2 <= 0 || p1 > 1e9 || p2 > 1e9 || disc >= 100 || qty == 0 {
			return
		}
		a := Line{Quantity: decimal.NewFromInt(int64(qty)), UnitPrice: p1, DiscountPct: decimal.NewFromInt(int64(disc)), TaxRate: d("21")}
		b := Line{Quantity: d("0.5"), UnitPrice: p2, TaxRate: d("21"), Surcharge: d("5.2"), Withholding: d("15")}
		x, err1 := Compute([]Line{a, b, a})
		y, err2 := Compute([]Line{b, a, a})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if x.Total != y.Total || x.Tax != y.Tax || x.Withheld != y.Withheld {
			t.Fatalf("order changed totals: %+v vs %+v", x, y)
		}
	})
}

// A corrective by difference takes back what a charge gave: its negative
// lines total to the exact negative of the same positive lines (rounding
// half away from zero both ways), while ordinary documents still refuse
// them.
func TestComputeSignedMirrorsTheCharge(t *testing.T) {
	charge := []Line{line("2.5", 5, "0", "10", "0", "0"), line("3", 999, "15", "21", "5.2", "15")}
	credit := []Line{line("-2.5", 5, "0", "10", "0", "0"), line("-3", 999, "15", "21", "5.2", "15")}
	c, err := Compute(charge)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ComputeSigned(credit)
	if err != nil {
		t.Fatal(err)
	}
	if r.Base != -c.Base || r.Tax != -c.Tax || r.Surcharge != -c.Surcharge || r.Withheld != -c.Withheld || r.Total != -c.Total {
		t.Fatalf("credit %+v is not the mirror of charge %+v", r, c)
	}
	if r.Lines[0] != -13 {
		t.Errorf("−2,5 × 0,05 = −0,125 → %d cents, want −13", r.Lines[0])
	}
	if _, err := Compute(credit); err == nil {
		t.Error("Compute accepted a negative quantity")
	}
	for _, bad := range []Line{line("0", 100, "0", "21", "0", "0"), line("-1", -100, "0", "21", "0", "0"), line("-1", 100, "0", "-21", "0", "0")} {
		if f := ValidateSigned(bad); f == "" {
			t.Errorf("ValidateSigned accepted %+v", bad)
		}
	}
}

// A document priced tax included totals exactly what was charged, for
// every amount: per rate the base is taken out of the sum and the tax is
// the rest, and the tax is within a cent of the rate on that base (what
// the AEAT recomputes). Net pricing cannot do this for about one total in
// six at 21 %.
func TestComputeIncludedChargesWhatWasPaid(t *testing.T) {
	for _, r := range []int64{21, 10, 5, 4, 0} {
		rate := decimal.NewFromInt(r)
		for gross := int64(1); gross <= 30_000; gross++ {
			// Two lines: gross−1 in one unit and a 1-cent line, so the
			// group's sum, not each line, is what the base comes from.
			lines := []Line{{Quantity: decimal.NewFromInt(1), UnitPrice: gross, TaxRate: rate}}
			if gross > 1 {
				lines = []Line{{Quantity: decimal.NewFromInt(1), UnitPrice: gross - 1, TaxRate: rate}, {Quantity: decimal.NewFromInt(1), UnitPrice: 1, TaxRate: rate}}
			}
			tot, err := ComputeIncluded(lines)
			if err != nil {
				t.Fatal(err)
			}
			if tot.Total != gross || tot.Base+tot.Tax != gross || len(tot.Taxes) != 1 {
				t.Fatalf("rate %d, %d charged: %+v", r, gross, tot)
			}
			onBase := decimal.NewFromInt(tot.Base).Mul(rate).Div(hundred).Round(0).IntPart()
			if d := tot.Tax - onBase; d < -1 || d > 1 {
				t.Fatalf("rate %d, %d charged: base %d, tax %d, the rate on the base %d", r, gross, tot.Base, tot.Tax, onBase)
			}
		}
	}
	// Two rates, a discount and a quantity: each rate's group apart.
	tot, err := ComputeIncluded([]Line{
		{Quantity: decimal.NewFromInt(3), UnitPrice: 1210, DiscountPct: decimal.NewFromInt(10), TaxRate: decimal.NewFromInt(21)}, // 32,67
		{Quantity: decimal.NewFromInt(1), UnitPrice: 550, TaxRate: decimal.NewFromInt(10)},                                       // 5,50
	})
	if err != nil {
		t.Fatal(err)
	}
	if tot.Total != 3817 || tot.Lines[0] != 3267 || tot.Lines[1] != 550 || tot.Taxes[0].Base != 2700 || tot.Taxes[0].Tax != 567 ||
		tot.Taxes[1].Base != 500 || tot.Taxes[1].Tax != 50 {
		t.Errorf("two rates: %+v", tot)
	}
	// A refund mirrors a charge of the same amount, to the cent.
	for _, g := range []int64{1201, 1998, 10000, 3, 4500000} {
		charge, _ := ComputeIncluded([]Line{{Quantity: decimal.NewFromInt(1), UnitPrice: g, TaxRate: decimal.NewFromInt(21)}})
		refund, err := ComputeIncludedSigned([]Line{{Quantity: decimal.NewFromInt(-1), UnitPrice: g, TaxRate: decimal.NewFromInt(21)}})
		if err != nil || refund.Total != -g || refund.Base != -charge.Base || refund.Tax != -charge.Tax {
			t.Errorf("refund of %d: %+v against %+v (%v)", g, refund, charge, err)
		}
	}
	// Recargo and IRPF are for net-priced invoices.
	for _, l := range []Line{
		{Quantity: decimal.NewFromInt(1), UnitPrice: 100, TaxRate: decimal.NewFromInt(21), Surcharge: decimal.NewFromFloat(5.2)},
		{Quantity: decimal.NewFromInt(1), UnitPrice: 100, TaxRate: decimal.NewFromInt(21), Withholding: decimal.NewFromInt(15)},
		{Quantity: decimal.NewFromInt(-1), UnitPrice: 100, TaxRate: decimal.NewFromInt(21)},
	} {
		if _, err := ComputeIncluded([]Line{l}); !errors.Is(err, ErrLine) {
			t.Errorf("%+v: %v", l, err)
		}
	}
}
