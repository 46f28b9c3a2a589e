// Package dashboard renders the numbers pages: the manager's and admin's
// dashboard, the accountant's billing tiles and a rep's compact tiles on
// their home. Every tile is a fragment that re-fetches itself (its own URL,
// the page's filters) when a live event says its numbers may have moved.
package dashboard

import "pulso/views/components"

// Page is the dashboard: its filters and the tiles the viewer may see.
type Page struct {
	Filters Filters
	Tiles   []Tile
	// Targets shows the sales-target progress placeholder (sales roles).
	Targets bool
	// LiveQuery is the filters' query string the page's socket follows the
	// tiles with (app/live/hub/views.go; static/js/pulso.js sends it).
	LiveQuery string
}

// Filters are the dashboard's filters as chosen and as offered.
type Filters struct {
	// Period is the chosen period chip ("" when a month is chosen instead);
	// Month the chosen month ("2006-01"), if any.
	Period, Month     string
	Team, Rep, Source string
	Group             string
	Periods           []Chip
	Teams, Reps       []components.SelectOption
	Sources, Groups   []components.SelectOption
	// Label names the period the numbers cover ("diciembre 2026").
	Label string
}

// Chip is one period choice: a link to the same filters with that period.
type Chip struct {
	Key, Href string
	Active    bool
}

// Tile is one box of numbers. URL re-renders it alone with the same
// filters; Trigger names the body events that make it do so.
type Tile struct {
	Name, URL, Trigger string
	// Title is a message id; Sub an already translated line under it (the
	// period the numbers cover).
	Title, Sub string
	Figures    []Figure
	Table      *Table
	// Chart draws the table ("bars" or "lines"); "" for none.
	Chart   string
	Compact bool
	// Empty is a message id shown instead of the table when it has no rows.
	Empty string
	// OOB marks a tile pushed over the socket, swapped out of band.
	OOB bool
}

// Figure is one number with its comparisons.
type Figure struct {
	Label  string // message id
	Value  string
	TestID string
	Deltas []Delta
	// Small figures sit in a row under the main ones.
	Small bool
}

// Delta compares a figure with another period: an arrow and a signed
// change, and the value it is compared with, so the direction never rests
// on colour.
type Delta struct {
	Against string // the period compared with, translated ("noviembre 2026")
	// Dir is up, down, same or new (nothing to compare with); Good says
	// whether that direction is good news, which only sets the colour.
	Dir    string
	Good   bool
	Change string // "+12 %", "−3,5 pp"
	Prev   string
	TestID string
}

// Table is the data under a tile, readable as is and the source of its
// chart.
type Table struct {
	Caption string // already translated
	// Cols are the column heads (message ids); the first is the row label's.
	Cols []string
	Rows []Row
	// ChartCols is how many value columns, from the first, the chart
	// draws (the others, such as counts, are in the table only).
	ChartCols int
}

// Row is one line of a Table.
type Row struct {
	Label string
	Cells []Cell
}

// Cell is a value as shown and as a number for the chart (minor units for
// money).
type Cell struct {
	Text  string
	Value int64
}
