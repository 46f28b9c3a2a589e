package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/app/tasks"
	"pulso/queries"
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
			key := fmt.Sprintf("opp:%d:%d", o.ID, o.StageEnteredAt.Unix())
			n, err := tasks.RaiseAlert(ctx, tx, jobs, tasks.Alert{OrgID: o.OrgID, Kind: "opportunity_idle", Severity: "warning",
				ObjectType: "opportunity", ObjectID: o.ID, Key: key, Title: o.Title, SubjectUserID: o.OwnerID,
				TitleID: "alerts.opportunity_idle_title", Params: map[string]any{"Title": o.Title, "Days": *o.IdleDays},
				Link: fmt.Sprintf("/opportunities/%d", o.ID)}, tasks.Recipients(*o.OwnerID, o.OwnerManagerID))
			total += n
			return err
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
