// Package tasks renders task lists, the task form and page, My day, the
// alert centre, the agenda and the admin pages for the business calendar,
// task reasons and automatic-task rules.
package tasks

import (
	"strconv"

	"pulso/views/components"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Types and SLA values, in display order.
var (
	Types     = []string{"llamada", "visita", "email", "reunion", "otra"}
	SLAValues = []string{"cumple", "no_cumple", "no_tiene", "en_plazo"}
	Stages    = []string{"en_analisis", "oferta_presentada", "en_negociacion", "ganada", "cancelada"}
)

// Row is one task in a list; times are formatted in the org's zone.
type Row struct {
	ID            int64
	Version       int32
	Title, Type   string
	Due           string
	Status        string
	SLA           string // cumple | no_cumple | no_tiene | en_plazo
	Assignee      string
	Reason        string
	Customer      string
	CustomerID    int64
	OpportunityID int64
	LeadID        int64
	Overdue       bool
}

// Breached is an open task past its SLA: it shows red.
func (r Row) Breached() bool { return r.Status == "pendiente" && r.SLA == "no_cumple" }

// Filters are the list's query parameters.
type Filters struct{ Status, Type, Assignee, SLA string }

// ListPage is /tasks.
type ListPage struct {
	Rows      []Row
	Filters   Filters
	Assignees []components.SelectOption
	MoreURL   string
	SelfURL   string // this view with its filters, for live reloads
}

// DayPage is My day.
type DayPage struct {
	Overdue, Today, Upcoming []Row
	// DoneToday keeps what was finished today on the list, with its
	// follow-up link, when the list reloads.
	DoneToday []Row
}

// ShowPage is one task.
type ShowPage struct {
	Row
	ManagedBy      string
	ResultNote     string
	SLADeadline    string
	OpportunityTtl string
	LeadName       string
	DueInput       string // yyyy-mm-ddThh:mm for the reschedule field
	Errors         map[string]string
	Conflict       bool
}

// FormPage is the new-task form.
type FormPage struct {
	Values    map[string]string
	Errors    map[string]string
	Reasons   []components.SelectOption
	Assignees []components.SelectOption
	// ManagedFixed is who the chosen reason names ("" when the form may
	// choose): the field is then shown, not edited.
	ManagedFixed string
	Related      string // what the task is about, as a label
}

// Alert is one row of the alert centre.
type Alert struct {
	ID       int64
	Kind     string
	Severity string
	Title    string
	Link     string
	At       string
	Read     bool
}

// AlertsPage is /alerts.
type AlertsPage struct {
	Alerts                 []Alert
	Kind, Severity, Unread string
	User                   string // whom the alerts are about
	Users                  []components.SelectOption
	MoreURL                string
	SelfURL                string
}

// AgendaDay is one day column of the agenda.
type AgendaDay struct {
	Date  string // yyyy-mm-dd
	Label string
	Today bool
	// Outside marks the days of the neighbouring months a month view shows.
	Outside bool
	Items   []AgendaItem
}

// AgendaItem is a task on the agenda.
type AgendaItem struct {
	ID       int64
	Version  int32
	Time     string
	Title    string
	Type     string
	Customer string
	Done     bool
}

// AgendaPage is /agenda: a day on phones, a week on desktops.
type AgendaPage struct {
	Days       []AgendaDay
	Week       bool
	Prev, Next string // query strings
	Month      bool
	// The same day in each view, as query strings.
	DayView, WeekView, MonthView string
	UserID                       string
	Users                        []components.SelectOption
	CanMove                      bool // the viewer may reschedule (their own agenda, or their team's)
	FeedURL                      string
	// FeedHidden: the user's feed address predates derived tokens; it
	// works but cannot be shown until rotated.
	FeedHidden bool
	SelfURL    string
}

// CalendarPage is /admin/calendar.
type CalendarPage struct {
	Hours    string
	Holidays []Holiday
	Errors   map[string]string
	Values   map[string]string
	Saved    bool
}

// Holiday is one day off.
type Holiday struct{ Day, Label, Name string }

// Reason is one task reason on the admin page.
type Reason struct {
	ID        int64
	Name      string
	AppliesIn []string
	SLA       string // formatted, "" when none
	Business  bool
	Manager   string // formatted
	Active    bool
}

// ReasonsPage is /admin/task-reasons.
type ReasonsPage struct {
	Reasons []Reason
	Users   []components.SelectOption
	Values  map[string]string
	Checked map[string]bool
	Errors  map[string]string
}

// Rule is one automatic-task rule.
type Rule struct {
	ID                   int64
	Event, Stage, Reason string
	Title, Type          string
	DueHours, WaitDays   string
	Active               bool
}

// RulesPage is /admin/task-rules.
type RulesPage struct {
	Rules   []Rule
	Reasons []components.SelectOption
	Values  map[string]string
	Errors  map[string]string
}
