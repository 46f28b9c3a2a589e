// Package reports renders /reports: the picker and each report's page
// (its filters, its table and its downloads).
package reports

import "pulso/views/components"

// Link is one report in the picker; Title and Help are message ids.
type Link struct {
	Href, Title, Help string
	Active            bool
}

// Form is the filters as typed (or as defaulted).
type Form struct {
	Measure, By, From, To, Team, Rep, Source, Group string
}

// Column heads a column; Num columns hold figures (right-aligned).
type Column struct {
	Label string
	Num   bool
}

// Row is one line of the table, already formatted; Total rows are bold.
type Row struct {
	Cells []string
	Total bool
}

// Download is one export of the report as shown.
type Download struct {
	Label, Href, TestID string
}

// Page is one report.
type Page struct {
	Action  string // the report's URL, where the filter form goes
	Title   string // already translated
	Lines   []string
	Reports []Link
	Form    Form
	// Table: the measure and by filters apply; Spans: from and to do.
	Table, Spans                                       bool
	Measures, Dimensions, Teams, Reps, Sources, Groups []components.SelectOption
	Errors                                             map[string]string
	Columns                                            []Column
	Rows                                               []Row
	Downloads                                          []Download
}

// Index is the picker.
type Index struct {
	Reports []Link
}
