package tax

import (
	"slices"

	"github.com/shopspring/decimal"
)

// Regime is how a customer is taxed, chosen on the customer and applied by
// default to what is sold to them.
type Regime string

const (
	// General: each line's IVA rate as sold.
	General Regime = "general"
	// Recargo: a retailer under the recargo de equivalencia (Ley 37/1992,
	// arts. 154–163): each line carries the surcharge of its IVA rate.
	Recargo Regime = "recargo"
	// Exempt: exempt from IVA for a stated cause (ExemptCauses).
	Exempt Regime = "exempt"
	// ReverseCharge: a business in another EU state buying services; the
	// buyer accounts for the tax (inversión del sujeto pasivo, Ley 37/1992,
	// arts. 69 and 84.Uno.2º), so the invoice carries none.
	ReverseCharge Regime = "reverse_charge"
	// Export: goods shipped outside the EU, exempt (Ley 37/1992, art. 21).
	Export Regime = "export"
)

// Regimes in the order the customer form offers them.
var Regimes = []Regime{General, Recargo, Exempt, ReverseCharge, Export}

// ExemptCauses are the causes of an exempt operation as VERI*FACTU codes
// them (OperacionExentaType, SuministroInformacion.xsd; E7 and E8 are left
// out until a customer needs them), each with the article of Ley 37/1992 it
// stands for, which the document prints.
var ExemptCauses = []struct{ Code, Article string }{
	{"E1", "art. 20"},       // exempt operations inside the country
	{"E2", "art. 21"},       // exports
	{"E3", "art. 22"},       // operations treated as exports
	{"E4", "arts. 23 y 24"}, // free zones, customs and tax warehouses
	{"E5", "art. 25"},       // intra-EU supplies of goods
	{"E6", "otros"},         // other causes
}

// withholdingRates are the IRPF retentions a customer may apply (Ley
// 35/2006, art. 101.5: 15 %, 7 % for a professional's first three years).
var withholdingRates = []decimal.Decimal{decimal.NewFromInt(15), decimal.NewFromInt(7)}

// CustomerTax is a customer's tax treatment.
type CustomerTax struct {
	Regime      Regime          `json:"regime,omitempty"`
	ExemptCause string          `json:"exempt_cause,omitempty"` // with Exempt only
	IRPF        decimal.Decimal `json:"irpf,omitempty"`         // retention %, zero for none
}

// Same says whether c and o tax an operation alike (no regime is the
// general one).
func (c CustomerTax) Same(o CustomerTax) bool {
	regime := func(r Regime) Regime {
		if r == "" {
			return General
		}
		return r
	}
	return regime(c.Regime) == regime(o.Regime) && c.ExemptCause == o.ExemptCause && c.IRPF.Equal(o.IRPF)
}

// Validate names the first field that cannot stand for an org of country
// (its i18n id, "" when fine): recargo, the intra-EU reverse charge, IRPF
// and the exemption causes (VERI*FACTU's codes) are Spanish; a Spanish
// exempt customer needs a known cause, and only an exempt one has a cause.
func (c CustomerTax) Validate(country string) (field, id string) {
	switch {
	case !slices.Contains(Regimes, c.Regime):
		return "tax_regime", "validation.choice"
	case (c.Regime == Recargo || c.Regime == ReverseCharge) && country != "ES":
		return "tax_regime", "tax.only_es"
	case c.ExemptCause != "" && country != "ES":
		return "exempt_cause", "tax.only_es"
	case c.Regime == Exempt && country == "ES" && Article(c.ExemptCause) == "":
		return "exempt_cause", "tax.exempt_cause_required"
	case c.Regime != Exempt && c.ExemptCause != "":
		return "exempt_cause", "tax.exempt_cause_only_exempt"
	case !c.IRPF.IsZero() && country != "ES":
		return "irpf_rate", "tax.only_es"
	case !c.IRPF.IsZero() && !c.IRPF.Equal(withholdingRates[0]) && !c.IRPF.Equal(withholdingRates[1]):
		return "irpf_rate", "validation.choice"
	}
	return "", ""
}

// Article is the law an exempt cause stands for ("" for an unknown code).
func Article(code string) string {
	for _, c := range ExemptCauses {
		if c.Code == code {
			return c.Article
		}
	}
	return ""
}

// ZeroRated reports whether lines sold under the regime carry no IVA.
func (c CustomerTax) ZeroRated() bool {
	return c.Regime == Exempt || c.Regime == ReverseCharge || c.Regime == Export
}

// Defaults are what a new document for the customer starts with: the
// recargo when the customer is under it, and the customer's IRPF
// retention. The person drafting it may change both (a one-off sale
// outside the retailer's trade, say); Apply is what the lines then get.
func (c CustomerTax) Defaults() (recargo bool, irpf decimal.Decimal) {
	return c.Regime == Recargo, c.IRPF
}

// Apply is a line as sold to the customer: no IVA under a zero-rated
// regime, the recargo of its IVA rate under Recargo, and the customer's
// IRPF retention.
func (c CustomerTax) Apply(l Line) Line {
	if c.ZeroRated() {
		l.TaxRate = decimal.Zero
	}
	l.Surcharge = decimal.Zero
	if c.Regime == Recargo {
		l.Surcharge = RecargoFor(l.TaxRate)
	}
	l.Withholding = c.IRPF
	return l
}

// Legend is the statement a document sold under the regime must carry, as
// an i18n id and its parameters ("" when none is needed). In Spain, RD
// 1619/2012 art. 6.1.j asks for the exemption's legal basis or that the
// buyer accounts for the tax; elsewhere the document says only that the
// operation is exempt (Mexico's and Argentina's own references are not
// modelled yet).
func (c CustomerTax) Legend(country string) (id string, params map[string]any) {
	if country != "ES" {
		switch c.Regime {
		case Exempt:
			return "tax.legend.exempt_plain", nil
		case Export:
			return "tax.legend.export_plain", nil
		}
		return "", nil
	}
	switch c.Regime {
	case Exempt:
		return "tax.legend.exempt", map[string]any{"Article": Article(c.ExemptCause)}
	case ReverseCharge:
		return "tax.legend.reverse_charge", nil
	case Export:
		return "tax.legend.export", nil
	}
	return "", nil
}
