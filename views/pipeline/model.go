// Package pipeline renders the opportunities board (kanban), the list view,
// the opportunity form and page, and the pipeline's admin settings.
package pipeline

import (
	"strconv"

	"pulso/views/components"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Stages in board order.
var Stages = []string{"en_analisis", "oferta_presentada", "en_negociacion", "ganada", "cancelada"}

// Card is one opportunity on the board or in the list; money is formatted.
// The data the board's script needs to place a live update (owner, close
// month, amount in cents) rides on the card as data attributes.
type Card struct {
	ID          int64
	Version     int32
	Stage       string
	Title       string
	Customer    string
	Owner       string
	OwnerID     int64
	Amount      string
	AmountMinor int64
	Close       string // formatted date, empty when unknown
	CloseMonth  string // 2026-12, empty when unknown
	Probability int32
	// Alert marks a deal idle past its stage's limit.
	Alert bool
	// Quote is the state of the deal's latest quote: sent, opened, signed,
	// rejected; empty without one.
	Quote string
}

// Column is one stage of the board.
type Column struct {
	Stage      string
	Count      int64
	Total      string
	TotalMinor int64
	Cards      []Card
	More       bool // more cards than shown; the list view has them all
}

// Filters are the board's and the list's query parameters, as typed.
type Filters struct {
	Owner, Team, Month, Min, Max, Stage string
}

// BoardPage is the kanban.
type BoardPage struct {
	Columns []Column
	Filters Filters
	Owners  []components.SelectOption
	Teams   []components.SelectOption
	// TeamMembers lists the owners of the chosen team (comma-separated),
	// for board.js to test live updates against.
	TeamMembers string
	Currency    string
	Query       string // the filters as a query string, for the list link
	// MinCents and MaxCents are the amount filters in cents ("" when
	// unset), for board.js to test live updates against.
	MinCents, MaxCents string
	Errors             map[string]string
}

// ListPage is the list view.
type ListPage struct {
	Cards   []Card
	Filters Filters
	Owners  []components.SelectOption
	Teams   []components.SelectOption
	MoreURL string
	Query   string
	Errors  map[string]string
}

// HistoryRow is one stage change.
type HistoryRow struct {
	From, To, By, At string
}

// ShowPage is one opportunity.
type ShowPage struct {
	Card
	CustomerID   int64
	Notes        string
	CancelReason string
	SourceLeadID int64
	SourceLead   string
	// MoveTo preselects the move form's stage (a drop on "cancelada" on
	// the board lands here to pick the reason).
	MoveTo  string
	History []HistoryRow
	Reasons []components.SelectOption
	Errors  map[string]string
	Delete  bool // the viewer may delete deals
	// Invoices billing the deal (through its quotes' orders).
	Invoices []DealInvoice
}

// DealInvoice is an invoice on the deal page. Number is empty for drafts
// and proformas (Kind and State say which).
type DealInvoice struct {
	ID                               int64
	Kind, State, Number, Date, Total string
}

// FormPage is the create/edit form.
type FormPage struct {
	ID        int64
	Values    map[string]string
	Errors    map[string]string
	Customers []components.SelectOption
	Owners    []components.SelectOption
	// Groups are the product lines (article groups) a deal may be of.
	Groups []components.SelectOption
	// ConflictBy names who saved in between, when the save was refused.
	ConflictBy string
	Conflict   bool
}

func (f FormPage) action() string {
	if f.ID == 0 {
		return "/opportunities"
	}
	return "/opportunities/" + itoa(f.ID)
}

// StageSetting is one row of the admin's stage settings.
type StageSetting struct {
	Stage       string
	Probability string
	IdleDays    string
}

// SettingsPage is /admin/pipeline: stage settings and cancel reasons.
type SettingsPage struct {
	Stages  []StageSetting
	Reasons []Reason
	Errors  map[string]string
	Saved   bool
}

// Reason is one cancel reason.
type Reason struct {
	ID     int64
	Name   string
	Active bool
}
