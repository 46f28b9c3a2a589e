package workers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/queries"
	"pulso/workers/jobargs"
)

// FollowUps creates the tasks that are due because nothing happened (a
// quote left unanswered); the area that owns the rule provides it, since
// creating a task needs the tasks area, which imports this package.
type FollowUps func(ctx context.Context, db *pgxpool.Pool, jobs *river.Client[pgx.Tx], now time.Time) (int, error)

// SLASweepWorker works jobargs.SLASweep.
type SLASweepWorker struct {
	river.WorkerDefaults[jobargs.SLASweep]
	DB        *pgxpool.Pool
	FollowUps FollowUps
}

func (w *SLASweepWorker) Work(ctx context.Context, job *river.Job[jobargs.SLASweep]) error {
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if _, err = Sweep(ctx, w.DB, jobs, now); err != nil {
		return err
	}
	if w.FollowUps != nil {
		_, err = w.FollowUps(ctx, w.DB, jobs, now)
	}
	return err
}

// Sweep raises what is due as of now and returns how many alerts are new.
// Each breach commits on its own, so one bad row does not hold back the rest
// and a retry redoes only what is missing.
func Sweep(ctx context.Context, db *pgxpool.Pool, jobs *river.Client[pgx.Tx], now time.Time) (int, error) {
	q := queries.New(db)
	total := 0
	tasks, err := q.ListBreachedTasks(ctx, &now)
	if err != nil {
		return 0, err
	}
	for _, t := range tasks {
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			n, err := RaiseTaskBreach(ctx, tx, jobs, t.OrgID, t.ID, now)
			total += n
			return err
		})
		if err != nil {
			return total, err
		}
	}
	idle, err := q.ListIdleOpportunities(ctx, now)
	if err != nil {
		return total, err
	}
	for _, o := range idle {
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			qt := queries.New(tx)
			key := fmt.Sprintf("opp:%d:%d", o.ID, o.StageEnteredAt.Unix())
			recipients := []int64{*o.OwnerID}
			if o.OwnerManagerID != nil && *o.OwnerManagerID != *o.OwnerID {
				recipients = append(recipients, *o.OwnerManagerID)
			}
			for _, uid := range recipients {
				al, err := qt.InsertAlert(ctx, queries.InsertAlertParams{OrgID: o.OrgID, Kind: "opportunity_idle", Severity: "warning",
					UserID: uid, ObjectType: "opportunity", ObjectID: o.ID, BreachKey: key, Title: o.Title, SubjectUserID: o.OwnerID})
				if errors.Is(err, pgx.ErrNoRows) {
					continue
				}
				if err != nil {
					return err
				}
				total++
				if _, err := jobs.InsertTx(ctx, tx, jobargs.Notify{OrgID: o.OrgID, UserID: uid, Severity: "warning", TitleID: "alerts.opportunity_idle_title",
					Params: map[string]any{"Title": o.Title, "Days": *o.IdleDays}, Link: fmt.Sprintf("/opportunities/%d", o.ID),
					Key: fmt.Sprintf("alert:%d", al.ID)}, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
