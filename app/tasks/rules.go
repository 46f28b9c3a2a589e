package tasks

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/queries"
)

// Events automatic-task rules fire on.
const (
	EventStageEntered = "stage_entered"
	EventLeadAssigned = "lead_assigned"
	EventQuoteSent    = "quote_sent"
	EventQuoteSigned  = "quote_signed"
	// EventQuoteUnanswered is fired by the sweep, not by a change
	// (app/quotes.FollowUps).
	EventQuoteUnanswered = "quote_unanswered"
)

// Subject is what an event happened to.
type Subject struct {
	OrgID         int64
	OwnerID       *int64
	LeadID        *int64
	CustomerID    *int64
	OpportunityID *int64
	QuoteID       *int64
	// Key names this occurrence of the event (the stage-history row, the
	// lead and its new owner): a rule makes one task per key, so a retried
	// transaction or a repeated event adds nothing.
	Key string
}

// ApplyRules creates, in tx, the task of every active rule for event (and
// stage, for stage_entered) on subject, for the subject's owner, due the
// rule's hours from now. It returns the tasks created.
func ApplyRules(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], event string, stage *string, s Subject, now time.Time) ([]queries.Task, error) {
	if s.OwnerID == nil {
		return nil, nil // nobody to give the task to
	}
	q := queries.New(tx)
	rules, err := q.MatchingTaskRules(ctx, queries.MatchingTaskRulesParams{OrgID: s.OrgID, Event: event, Stage: stage})
	if err != nil {
		return nil, err
	}
	var made []queries.Task
	for _, r := range rules {
		key := fmt.Sprintf("%s:%s", event, s.Key)
		t, err := Create(ctx, tx, jobs, New{OrgID: s.OrgID, Title: r.Title, Type: r.TaskType,
			DueAt: now.Add(time.Duration(r.DueHours) * time.Hour), ReasonID: &r.ReasonID, LeadID: s.LeadID,
			CustomerID: s.CustomerID, OpportunityID: s.OpportunityID, QuoteID: s.QuoteID, AssigneeID: *s.OwnerID, RuleID: &r.ID, RuleKey: &key}, now)
		if err == ErrRuleDuplicate {
			continue
		}
		if err != nil {
			return made, err
		}
		made = append(made, t)
	}
	return made, nil
}
