// Package targets renders the sales targets page, its inline editor and
// the progress fragment other pages include (#target-progress).
package targets

import "strconv"

// Bar is one progress bar: a person's (or a team's) month against its
// target, with every figure already formatted for the org.
type Bar struct {
	UserID int64
	Name   string
	// HasTarget: false shows "no target" instead of a bar.
	HasTarget bool
	Won       string
	Target    string
	Pace      string
	// Percent is won ÷ target (may pass 100); PacePercent where the pace
	// marker sits (0–100).
	Percent     int
	PacePercent int
	// Status is targets.Status: on_track, behind, reached (words under
	// the bar, not colour alone).
	Status string
	// Deals and Visits are "done / target" when a target for them is set.
	Deals  string
	Visits string
}

// Row is one person on the targets page; Form is set while it is edited.
type Row struct {
	Bar
	Month    string // 2006-01
	Editable bool
	Form     *Form
}

// Form is the inline editor's values and field errors (message ids).
type Form struct {
	Values map[string]string
	Errors map[string]string
}

// Page is GET /targets.
type Page struct {
	Month      string // 2006-01, the month picker's value
	MonthLabel string
	MonthError string
	// Total sums the listed targets (managers' and admins' view).
	Total  *Bar
	Rows   []Row
	CanSet bool
}

// Progress is the #target-progress fragment: a rep's own bar, or a
// manager's team total and each member's bar; empty for everyone else.
type Progress struct {
	MonthLabel string
	Own        *Bar
	Total      *Bar
	Team       []Bar
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// barValue is the <progress> value: full at the target and beyond.
func barValue(pct int) string { return strconv.Itoa(min(max(pct, 0), 100)) }

// paceClass places the pace marker in 5 % steps: the page's CSP allows no
// inline styles, so the position is one of the stylesheet's classes.
func paceClass(pct int) string {
	return "pace-mark pace-" + strconv.Itoa((min(max(pct, 0), 100)+2)/5*5)
}

func (r Row) id() string { return "target-" + itoa(r.UserID) }

func (r Row) editURL() string { return "/targets/edit?user=" + itoa(r.UserID) + "&month=" + r.Month }
