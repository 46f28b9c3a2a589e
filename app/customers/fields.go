package customers

import (
	"slices"

	"pulso/app/web"
)

// mandateFields are a customer's direct-debit details: the IBAN that is
// charged and the SEPA mandate that allows it.
var mandateFields = []string{"iban", "sepa_mandate_ref", "sepa_mandate_date"}

// editing is which of a customer's fields a role may change. It is the one
// place that decides it (a route guard cannot: sales and billing share the
// customer form): sales roles change the customer's data, billing roles its
// direct-debit details, an admin both.
type editing struct{ data, mandate bool }

func editingFor(r web.Role) editing {
	return editing{data: r.In(web.Sales), mandate: r.In(web.Billing)}
}

func (e editing) mayEdit(field string) bool {
	if slices.Contains(mandateFields, field) {
		return e.mandate
	}
	return e.data
}

// keep puts the stored value (stored: the customer as its form shows it,
// or an empty form for a new one) back over every posted field the role
// may not change. A crafted form cannot change them, and a form that shows
// them read-only (disabled inputs are not posted) still saves the rest.
func (e editing) keep(posted, stored Form) {
	for _, k := range customerFields {
		if k != "version" && !e.mayEdit(k) {
			posted[k] = stored[k]
		}
	}
}
