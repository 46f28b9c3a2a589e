// Package plans renders Autogestión › Suscripción: the org's plan, the
// month's vouchers against it, its history, the plans it may change to,
// and the change area (a refusal, or the upgrade's payment dialog).
package plans

import "strconv"

// Page is GET /autogestion/suscripcion, every figure already formatted for
// the org.
type Page struct {
	// Subscribed is false for an org without a plan (nothing limits it).
	Subscribed bool
	Plan       string
	// Frequency is a subscription frequency: monthly, quarterly...
	Frequency   string
	Monthly     string
	NextInvoice string
	// PendingPlan and PendingFrom name a scheduled downgrade.
	PendingPlan string
	PendingFrom string

	Physical, Ecommerce, Used int
	// Limit is the month's vouchers; 0 is unlimited (then Remaining and
	// Percent mean nothing).
	Limit, Remaining, Percent, Overage int
	StoreUsers, StoreLimit             int
	// Text is the same figures written for the org (digits grouped).
	Text Figures

	History []Event
	// Charges are Pulso's invoices of the plan, newest month first.
	Charges []Charge
	Plans   []PlanRow
	Change  Change
}

// Figures are a Page's counts as the org reads them.
type Figures struct {
	Physical, Ecommerce, Used, Limit, Remaining, Overage string
}

// Event is one line of the subscription's history.
type Event struct {
	At     string
	Kind   string
	From   string
	To     string
	Reason string
	Amount string
}

// Charge is one month's charge of the plan: the operator's invoice, or
// why there is none.
type Charge struct {
	Month  string
	Plan   string
	Amount string
	// Number and Total are the invoice's once issued; Draft says it waits
	// for Pulso (then Reason says why).
	Number, Total string
	Draft         bool
	Reason        string
}

// PlanRow is one plan of the table.
type PlanRow struct {
	ID         int64
	Name       string
	Vouchers   string // "" when unlimited
	StoreUsers int
	Price      string // "" when the plan has no price in the org's currency
	AtLimit    string // block | overage
	Overage    string // the price of a voucher over the limit
	Current    bool
}

// Change is the #plan-change area: empty, a message, or the upgrade
// dialog.
type Change struct {
	// Message is a catalog id with its Params; Kind is the flash kind it
	// is shown as (error, warning, info).
	Message string
	Params  map[string]any
	Kind    string
	Dialog  *Dialog
}

// Dialog offers an upgrade for payment.
type Dialog struct {
	PlanID   int64
	Plan     string
	From, To string // the prorated period, dd/mm
	Prorated string // net, for the rest of the month
	Monthly  string // the new plan's monthly price from the 1st
	// Tax and Total are what is charged today: the operator's invoice
	// (Tax is "" when no VAT is added).
	Tax     string
	Total   string
	Methods []Method
	// Error is a catalog id shown above the methods (none chosen).
	Error string
}

// Method is a way to pay offered by the provider.
type Method struct{ ID, Name string }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// barValue is the <progress> value: full at the limit and beyond.
func barValue(pct int) string { return strconv.Itoa(min(max(pct, 0), 100)) }

// barStatus colours the bar as the targets' bars (a warning from the
// first alert threshold on); the words beside it say the same.
func (p Page) barStatus() string {
	if p.Percent >= 80 {
		return "behind"
	}
	return "on_track"
}
