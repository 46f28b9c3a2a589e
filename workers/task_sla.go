package workers

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
	"pulso/workers/jobargs"
)

// TaskSLAWorker works jobargs.TaskSLA.
type TaskSLAWorker struct {
	river.WorkerDefaults[jobargs.TaskSLA]
	DB *pgxpool.Pool
}

func (w *TaskSLAWorker) Work(ctx context.Context, job *river.Job[jobargs.TaskSLA]) error {
	a := job.Args
	if wait := time.Until(a.Deadline); wait > 0 {
		// Scheduled early by a clock difference: come back at the deadline.
		return river.JobSnooze(wait)
	}
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, w.DB, func(tx pgx.Tx) error {
		_, err := RaiseTaskBreach(ctx, tx, jobs, a.OrgID, a.TaskID, time.Now())
		return err
	})
}

// freshBreach is how late a breach may be found and still be urgent.
const freshBreach = 10 * time.Minute

// breachKey names one breach: the task and the deadline it missed (a task
// rescheduled with a new SLA would breach anew).
func breachKey(taskID int64, deadline time.Time) string {
	return fmt.Sprintf("task:%d:%d", taskID, deadline.Unix())
}

// RaiseTaskBreach records, in tx, the alert of a task that is still open
// past its SLA, for its assignee and the assignee's manager, and queues an
// urgent notification (bell and toast) for each new alert, and a live
// event that turns the task red on open lists. It returns how many alerts
// were new; a task done in time, cancelled, or already alerted gives 0, so
// the job and the sweep may both run, and run again, safely.
func RaiseTaskBreach(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], orgID, taskID int64, now time.Time) (int, error) {
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
	recipients := []int64{t.AssigneeID}
	if t.AssigneeManagerID != nil && *t.AssigneeManagerID != t.AssigneeID {
		recipients = append(recipients, *t.AssigneeManagerID)
	}
	key := breachKey(t.ID, *t.SlaDeadline)
	// A breach caught as it happens is urgent (a toast on open screens); one
	// found long after (a backlog after downtime, a restored database) goes
	// to the bell and the alert centre without a storm of toasts.
	severity := "urgent"
	if now.Sub(*t.SlaDeadline) > freshBreach {
		severity = "warning"
	}
	n := 0
	for _, uid := range recipients {
		al, err := q.InsertAlert(ctx, queries.InsertAlertParams{OrgID: orgID, Kind: "task_sla", Severity: severity, UserID: uid,
			ObjectType: "task", ObjectID: t.ID, BreachKey: key, Title: t.Title, SubjectUserID: &t.AssigneeID})
		if errors.Is(err, pgx.ErrNoRows) {
			continue // this recipient has it already
		}
		if err != nil {
			return n, err
		}
		n++
		if _, err := jobs.InsertTx(ctx, tx, jobargs.Notify{OrgID: orgID, UserID: uid, Severity: severity, TitleID: "alerts.task_sla_title",
			Params: map[string]any{"Title": t.Title, "Assignee": t.AssigneeName}, Link: fmt.Sprintf("/tasks/%d", t.ID),
			Key: fmt.Sprintf("alert:%d", al.ID)}, nil); err != nil {
			return n, err
		}
	}
	if n > 0 {
		if _, err := live.Publish(ctx, q, live.Event{OrgID: orgID, Topic: live.TopicTask, Entity: "task", EntityID: &t.ID,
			Kind: "breached", SubjectUserID: &t.AssigneeID}); err != nil {
			return n, err
		}
	}
	return n, nil
}
