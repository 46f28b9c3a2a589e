package web

import (
	"pulso/app/money"
	"pulso/app/tax"
	"pulso/views/components"
)

// TotalsView is a document's totals as its page shows them: the base, the
// IVA of each rate with its recargo, the IRPF withheld, the total.
func TotalsView(t tax.Totals, currency string) components.Totals {
	m := func(v int64) string { return money.Format(v, currency) }
	out := components.Totals{Base: m(t.Base), Total: m(t.Total)}
	for _, g := range t.Taxes {
		out.Rows = append(out.Rows, components.TotalRow{Label: "IVA " + money.Number(g.Rate, currency) + " %", Value: m(g.Tax)})
		if g.SurchargeAmount != 0 {
			out.Rows = append(out.Rows, components.TotalRow{Label: "RE " + money.Number(g.SurchargeRate, currency) + " %", Value: m(g.SurchargeAmount)})
		}
	}
	for _, w := range t.Withholdings {
		out.Rows = append(out.Rows, components.TotalRow{Label: "IRPF " + money.Number(w.Rate, currency) + " %", Value: "-" + m(w.Amount)})
	}
	return out
}
