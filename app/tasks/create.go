// Package tasks is commercial tasks (acciones comerciales): creating them by
// hand or by rule, the SLA each reason sets on the org's business calendar,
// "¿Cumple SLA?", My day, the alert centre, the agenda and its ICS feed, and
// the admin pages for the calendar, reasons and rules. Breaches themselves
// are raised by the jobs in workers/task_sla.go and workers/sla_sweep.go.
package tasks

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/calendar"
	"pulso/app/live"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// Types of task, in form order.
var Types = []string{"llamada", "visita", "email", "reunion", "otra"}

// New is a task to create. The reason, when given, decides the SLA and who
// manages the task.
type New struct {
	OrgID         int64
	Title, Type   string
	DueAt         time.Time
	ReasonID      *int64
	LeadID        *int64
	CustomerID    *int64
	OpportunityID *int64
	QuoteID       *int64
	AssigneeID    int64
	// ManagedByID is the form's "Gestionado por usuario" when the reason
	// leaves it open; nil means the assignee.
	ManagedByID *int64
	CreatedBy   *int64
	RuleID      *int64
	RuleKey     *string
}

// LoadCalendar is the org's business calendar: its hours (the default when
// an admin has set none), its holidays from yesterday on, its time zone.
func LoadCalendar(ctx context.Context, q *queries.Queries, orgID int64) (calendar.Calendar, error) {
	org, err := q.GetOrg(ctx, orgID)
	if err != nil {
		return calendar.Calendar{}, err
	}
	loc := calendar.ZoneOrUTC(org.TimeZone)
	hours := calendar.DefaultHours
	if bc, err := q.GetBusinessCalendar(ctx, orgID); err == nil {
		hours = bc.Hours
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return calendar.Calendar{}, err
	}
	week, err := calendar.Parse(hours)
	if err != nil {
		// Saved hours always parse (the admin page checks); fall back
		// rather than leave tasks without a deadline.
		week, _ = calendar.Parse(calendar.DefaultHours)
	}
	cal := calendar.Calendar{Loc: loc, Week: week, Holidays: map[calendar.Day]bool{}}
	from := time.Now().In(loc).AddDate(0, 0, -1)
	hs, err := q.ListHolidays(ctx, queries.ListHolidaysParams{OrgID: orgID, FromDay: calendar.Date(from)})
	if err != nil {
		return cal, err
	}
	for _, h := range hs {
		cal.Holidays[calendar.Day{Year: h.Day.Time.Year(), Month: h.Day.Time.Month(), Day: h.Day.Time.Day()}] = true
	}
	return cal, nil
}

// ErrRuleDuplicate is returned when a rule already made this task (the
// rule_key matched): a retried transaction, or the same event twice.
var ErrRuleDuplicate = errors.New("tasks: the rule already created this task")

// Create saves a task in tx: the reason's manager fills "Gestionado por", its
// SLA becomes a deadline on the business calendar counted from now, a job is
// scheduled at that deadline to raise the breach if the task is still open,
// and the assignee's screens hear of it.
func Create(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], n New, now time.Time) (queries.Task, error) {
	q := queries.New(tx)
	p := queries.CreateTaskParams{OrgID: n.OrgID, Title: n.Title, Type: n.Type, DueAt: n.DueAt, ReasonID: n.ReasonID,
		LeadID: n.LeadID, CustomerID: n.CustomerID, OpportunityID: n.OpportunityID, QuoteID: n.QuoteID, AssigneeID: n.AssigneeID,
		ManagedByID: n.ManagedByID, CreatedBy: n.CreatedBy, CreatedByRuleID: n.RuleID, RuleKey: n.RuleKey}
	if p.ManagedByID == nil {
		p.ManagedByID = &n.AssigneeID
	}
	if n.ReasonID != nil {
		r, err := q.GetTaskReason(ctx, queries.GetTaskReasonParams{OrgID: n.OrgID, ID: *n.ReasonID})
		if err != nil {
			return queries.Task{}, err
		}
		switch r.ManagerKind {
		case "user":
			p.ManagedByID = r.ManagerUserID
		case "role":
			p.ManagedByID, p.ManagedByRole = nil, r.ManagerRole
		}
		if r.SlaMinutes != nil {
			cal, err := LoadCalendar(ctx, q, n.OrgID)
			if err != nil {
				return queries.Task{}, err
			}
			d, err := cal.Deadline(now, int(*r.SlaMinutes), r.SlaBusiness)
			if err != nil {
				return queries.Task{}, err
			}
			d = d.Truncate(time.Second) // what the breach key and the job agree on
			p.SlaDeadline = &d
		}
	}
	t, err := q.CreateTask(ctx, p)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrRuleDuplicate
	}
	if err != nil {
		return t, err
	}
	if t.SlaDeadline != nil {
		if _, err := jobs.InsertTx(ctx, tx, jobargs.TaskSLA{OrgID: t.OrgID, TaskID: t.ID, Deadline: *t.SlaDeadline},
			&river.InsertOpts{ScheduledAt: *t.SlaDeadline}); err != nil {
			return t, err
		}
	}
	return t, Publish(ctx, q, t, "created")
}

// Publish tells the assignee's screens (and their managers' and admins')
// that their tasks changed.
func Publish(ctx context.Context, q *queries.Queries, t queries.Task, kind string) error {
	err := live.Publish(ctx, live.Event{OrgID: t.OrgID, Topic: live.TopicTask, Entity: "task", EntityID: &t.ID,
		Kind: kind, SubjectUserID: &t.AssigneeID})
	return err
}
