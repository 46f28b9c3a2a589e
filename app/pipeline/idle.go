package pipeline

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

// AlertIdle alerts the owner and the owner's manager of every open deal
// idle in its stage past the stage's limit as of now, once per stay in the
// stage (the alert's key names the deal and when it entered the stage),
// each deal in its own transaction. It returns how many alerts are new;
// the minute sweep runs it, and re-runs add nothing.
func AlertIdle(ctx context.Context, db *pgxpool.Pool, jobs *river.Client[pgx.Tx], now time.Time) (int, error) {
	q := queries.New(db)
	total := 0
	idle, err := q.ListIdleOpportunities(ctx, now)
	if err != nil {
		return total, err
	}
	for _, o := range idle {
		err := live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
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
