package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/queries"
)

// freshBreach is how late a breach may be found and still be urgent.
const freshBreach = 10 * time.Minute

// breachKey names one breach: the task and the deadline it missed (a task
// rescheduled with a new SLA would breach anew).
func breachKey(taskID int64, deadline time.Time) string {
	return fmt.Sprintf("task:%d:%d", taskID, deadline.Unix())
}

// RaiseBreach records, in tx, the alert of a task that is still open
// past its SLA, for its assignee and the assignee's manager, and queues an
// urgent notification (bell and toast) for each new alert, and a live
// event that turns the task red on open lists. It returns how many alerts
// were new; a task done in time, cancelled, or already alerted gives 0, so
// the job and the sweep may both run, and run again, safely.
func RaiseBreach(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], orgID, taskID int64, now time.Time) (int, error) {
	q := queries.New(tx)
	t, err := q.GetTask(ctx, queries.GetTaskParams{OrgID: orgID, ID: taskID})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if t.Status != "pendiente" || t.SlaDeadline == nil || t.SlaDeadline.After(now) {
		return 0, nil
	}
	key := breachKey(t.ID, *t.SlaDeadline)
	// A breach caught as it happens is urgent (a toast on open screens); one
	// found long after (a backlog after downtime, a restored database) goes
	// to the bell and the alert centre without a storm of toasts.
	severity := "urgent"
	if now.Sub(*t.SlaDeadline) > freshBreach {
		severity = "warning"
	}
	n, err := RaiseAlert(ctx, tx, jobs, Alert{OrgID: orgID, Kind: "task_sla", Severity: severity, ObjectType: "task", ObjectID: t.ID,
		Key: key, Title: t.Title, SubjectUserID: &t.AssigneeID, TitleID: "alerts.task_sla_title",
		Params: map[string]any{"Title": t.Title, "Assignee": t.AssigneeName}, Link: fmt.Sprintf("/tasks/%d", t.ID)},
		Recipients(t.AssigneeID, t.AssigneeManagerID))
	if err != nil {
		return n, err
	}
	if n > 0 {
		if err := live.Publish(ctx, live.Event{OrgID: orgID, Topic: live.TopicTask, Entity: "task", EntityID: &t.ID,
			Kind: "breached", SubjectUserID: &t.AssigneeID}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// SweepBreaches raises the breach of every task open past its SLA as of
// now, each in its own transaction (one bad row does not hold back the
// rest, and a retry redoes only what is missing), and returns how many
// alerts are new. It is the net under the job scheduled at each deadline.
func SweepBreaches(ctx context.Context, db *pgxpool.Pool, jobs *river.Client[pgx.Tx], now time.Time) (int, error) {
	due, err := queries.New(db).ListBreachedTasks(ctx, &now)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range due {
		err := live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
			n, err := RaiseBreach(ctx, tx, jobs, t.OrgID, t.ID, now)
			total += n
			return err
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
