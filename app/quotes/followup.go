package quotes

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

// FollowUps gives the rep a task for every sent quote still unanswered
// after an active "quote unanswered" rule's days: once per rule and quote
// version (the rule key), each in its own transaction. The SLA sweep runs
// it every minute (workers/sla_sweep.go). It returns how many
// tasks it created.
func FollowUps(ctx context.Context, db *pgxpool.Pool, jobs *river.Client[pgx.Tx], now time.Time) (int, error) {
	due, err := queries.New(db).DueUnansweredQuotes(ctx, now)
	if err != nil {
		return 0, err
	}
	made := 0
	for _, d := range due {
		err := live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
			key := fmt.Sprintf("%s:%d:%d", tasks.EventQuoteUnanswered, d.QuoteID, d.N)
			customer, quote, reason, rule := d.CustomerID, d.QuoteID, d.ReasonID, d.RuleID
			_, err := tasks.Create(ctx, tx, jobs, tasks.New{OrgID: d.OrgID, Title: d.Title, Type: d.TaskType,
				DueAt: now.Add(time.Duration(d.DueHours) * time.Hour), ReasonID: &reason, CustomerID: &customer,
				OpportunityID: d.OpportunityID, QuoteID: &quote, AssigneeID: d.OwnerID, RuleID: &rule, RuleKey: &key}, now)
			if err == tasks.ErrRuleDuplicate {
				return nil
			}
			if err == nil {
				made++
			}
			return err
		})
		if err != nil {
			return made, err
		}
	}
	return made, nil
}
