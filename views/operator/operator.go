// Package operator renders the pages of Pulso's operator: the plans every
// org subscribes to, which the operator's admins edit.
package operator

import "strconv"

// Path is the plan list; a plan's form is Path/:id, a new one's Path/nuevo.
const Path = "/operador/planes"

// PlansPage is the plan list.
type PlansPage struct {
	Plans []PlanRow
}

// PlanRow is one plan as the list shows it; Vouchers is "" when unlimited.
type PlanRow struct {
	ID          int64
	Code, Name  string
	Vouchers    string
	StoreUsers  int
	AtLimit     string
	Active      bool
	Subscribers int
	Prices      []PriceCell
}

// PriceCell is a plan's price in one currency, formatted; Overage is ""
// for a plan that blocks.
type PriceCell struct {
	Currency, Monthly, Overage string
}

// FormPage is a plan's form (ID 0: a new plan). Values and Errors are by
// field name; the prices are monthly_<currency> and overage_<currency>.
type FormPage struct {
	ID          int64
	Values      map[string]string
	Errors      map[string]string
	Currencies  []string
	Subscribers int
	// Conflict: someone saved the plan after this form was loaded.
	Conflict bool
}

func (f FormPage) action() string {
	if f.ID == 0 {
		return Path
	}
	return Path + "/" + itoa(f.ID)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
