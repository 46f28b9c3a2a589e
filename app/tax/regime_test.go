package tax

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestRegimeValidate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		c         CustomerTax
		country   string
		field, id string
	}{
		{"general", CustomerTax{Regime: General}, "ES", "", ""},
		{"recargo in Spain", CustomerTax{Regime: Recargo}, "ES", "", ""},
		{"recargo in Mexico", CustomerTax{Regime: Recargo}, "MX", "tax_regime", "tax.only_es"},
		{"unknown regime", CustomerTax{Regime: "pirate"}, "ES", "tax_regime", "validation.choice"},
		{"empty regime", CustomerTax{}, "ES", "tax_regime", "validation.choice"},
		{"exempt with cause", CustomerTax{Regime: Exempt, ExemptCause: "E1"}, "ES", "", ""},
		{"exempt without cause", CustomerTax{Regime: Exempt}, "ES", "exempt_cause", "tax.exempt_cause_required"},
		{"exempt, unknown cause", CustomerTax{Regime: Exempt, ExemptCause: "E9"}, "ES", "exempt_cause", "tax.exempt_cause_required"},
		{"cause without exemption", CustomerTax{Regime: General, ExemptCause: "E2"}, "ES", "exempt_cause", "tax.exempt_cause_only_exempt"},
		{"IRPF 15", CustomerTax{Regime: General, IRPF: d("15")}, "ES", "", ""},
		{"IRPF 7", CustomerTax{Regime: Recargo, IRPF: d("7")}, "ES", "", ""},
		{"IRPF 10", CustomerTax{Regime: General, IRPF: d("10")}, "ES", "irpf_rate", "validation.choice"},
		{"IRPF in Argentina", CustomerTax{Regime: General, IRPF: d("15")}, "AR", "irpf_rate", "tax.only_es"},
		{"export from Mexico", CustomerTax{Regime: Export}, "MX", "", ""},
		{"reverse charge in Mexico", CustomerTax{Regime: ReverseCharge}, "MX", "tax_regime", "tax.only_es"},
		{"exempt in Argentina, no cause", CustomerTax{Regime: Exempt}, "AR", "", ""},
		{"exempt in Argentina with a Spanish cause", CustomerTax{Regime: Exempt, ExemptCause: "E1"}, "AR", "exempt_cause", "tax.only_es"},
	} {
		if f, id := tc.c.Validate(tc.country); f != tc.field || id != tc.id {
			t.Errorf("%s: %q %q, want %q %q", tc.name, f, id, tc.field, tc.id)
		}
	}
}

// The regime decides the tax of what is sold to the customer; Compute then
// totals as for anyone.
func TestRegimeApply(t *testing.T) {
	lines := []Line{line("2", 10000, "0", "21", "0", "0"), line("1", 5000, "10", "10", "0", "0"), line("3", 333, "0", "4", "0", "0")}
	for _, tc := range []struct {
		c                                       CustomerTax
		base, taxes, surcharge, withheld, total int64
		legend                                  string
	}{
		// 20000 + 4500 + 999 = 25499; IVA 4200 + 450 + 39.96→40.
		{CustomerTax{Regime: General}, 25499, 4690, 0, 0, 30189, ""},
		// Recargo 5,2 % of 20000 = 1040, 1,4 % of 4500 = 63, 0,5 % of 999 = 4.995 → 5.
		{CustomerTax{Regime: Recargo}, 25499, 4690, 1108, 0, 31297, ""},
		// IRPF 15 % of 25499 = 3824.85 → 3825.
		{CustomerTax{Regime: General, IRPF: d("15")}, 25499, 4690, 0, 3825, 26364, ""},
		{CustomerTax{Regime: Exempt, ExemptCause: "E1"}, 25499, 0, 0, 0, 25499, "tax.legend.exempt"},
		{CustomerTax{Regime: ReverseCharge}, 25499, 0, 0, 0, 25499, "tax.legend.reverse_charge"},
		{CustomerTax{Regime: Export}, 25499, 0, 0, 0, 25499, "tax.legend.export"},
	} {
		var applied []Line
		for _, l := range lines {
			applied = append(applied, tc.c.Apply(l))
		}
		tot, err := Compute(applied)
		if err != nil {
			t.Fatal(err)
		}
		if tot.Base != tc.base || tot.Tax != tc.taxes || tot.Surcharge != tc.surcharge || tot.Withheld != tc.withheld || tot.Total != tc.total {
			t.Errorf("%+v: base %d tax %d re %d irpf %d total %d", tc.c, tot.Base, tot.Tax, tot.Surcharge, tot.Withheld, tot.Total)
		}
		if id, _ := tc.c.Legend("ES"); id != tc.legend {
			t.Errorf("%+v: legend %q", tc.c, id)
		}
	}
	if _, p := (CustomerTax{Regime: Exempt, ExemptCause: "E2"}).Legend("ES"); p["Article"] != "art. 21" {
		t.Errorf("E2 stands for %v", p["Article"])
	}
	// Outside Spain no Spanish law is cited.
	for c, want := range map[Regime]string{Exempt: "tax.legend.exempt_plain", Export: "tax.legend.export_plain", General: "", Recargo: ""} {
		if id, p := (CustomerTax{Regime: c}).Legend("MX"); id != want || p != nil {
			t.Errorf("%s in Mexico: %q %v", c, id, p)
		}
	}
}

func TestCustomerTaxSame(t *testing.T) {
	seven, sevenAgain := decimal.RequireFromString("7"), decimal.RequireFromString("7.00")
	for _, c := range []struct {
		a, b CustomerTax
		same bool
	}{
		{CustomerTax{}, CustomerTax{Regime: General}, true},
		{CustomerTax{Regime: General, IRPF: seven}, CustomerTax{Regime: General, IRPF: sevenAgain}, true},
		{CustomerTax{Regime: General, IRPF: seven}, CustomerTax{Regime: General}, false},
		{CustomerTax{Regime: General}, CustomerTax{Regime: ReverseCharge}, false},
		{CustomerTax{Regime: Exempt, ExemptCause: "E1"}, CustomerTax{Regime: Exempt, ExemptCause: "E5"}, false},
	} {
		if got := c.a.Same(c.b); got != c.same || c.b.Same(c.a) != got {
			t.Errorf("%+v same as %+v: %v, want %v both ways", c.a, c.b, got, c.same)
		}
	}
}
