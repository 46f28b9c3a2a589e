package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/app/tasks"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// State is what a board needs to know of a deal to count it under its own
// filters: the same fields the filters test.
type State struct {
	Stage  string `json:"stage"`
	Amount int64  `json:"amount"`
	Owner  int64  `json:"owner"`
	Month  string `json:"month"`
}

// StateOf is a deal's State as the filters see it.
func StateOf(stage string, amount int64, owner *int64, close pgtype.Date) *State {
	s := &State{Stage: stage, Amount: amount}
	if owner != nil {
		s.Owner = *owner
	}
	if close.Valid {
		s.Month = close.Time.Format("2006-01")
	}
	return s
}

// Payload is what an opportunity event carries: the deal before and after.
type Payload struct {
	Before *State `json:"before,omitempty"`
	After  *State `json:"after,omitempty"`
}

// Publish records a change for the screens of the deal's owner, their
// managers and admins. A change of owner is published as "reassigned" to
// both owners' audiences: those boards reload rather than apply a delta,
// since a viewer who sees both owners would otherwise count it twice.
func Publish(ctx context.Context, q *queries.Queries, kind string, prev *State, o queries.Opportunity) error {
	var after *State
	if kind != "deleted" {
		after = StateOf(o.Stage, o.Amount, o.OwnerID, o.ExpectedClose)
	}
	ev := live.Event{OrgID: o.OrgID, Topic: live.TopicOpportunity, Entity: "opportunity", EntityID: &o.ID, Kind: kind,
		SubjectUserID: o.OwnerID}
	if prev != nil && after != nil && prev.Owner != after.Owner {
		ev.Kind, ev.Payload = "reassigned", json.RawMessage(`{}`)
		if err := live.Publish(ctx, ev); err != nil {
			return err
		}
		if prev.Owner == 0 {
			return nil
		}
		old := prev.Owner
		ev.SubjectUserID = &old
		err := live.Publish(ctx, ev)
		return err
	}
	payload, err := json.Marshal(Payload{Before: prev, After: after})
	if err != nil {
		return err
	}
	ev.Payload = payload
	err = live.Publish(ctx, ev)
	return err
}

// Advance moves a deal to stage on behalf of something other than a board:
// a client signing or rejecting a quote, a quote being sent. It locks the
// deal and moves it from wherever it is now (no version check: the event is
// the authority), only when its current stage is one of from (any, when
// from is empty) and differs from stage. The history trigger records it
// with by (nil: the client, through the quote link); stage rules fire once
// per move and the boards update live. Reports whether it moved.
func Advance(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], orgID, id int64, stage string, by *int64, from ...string) (bool, error) {
	q := queries.New(tx)
	o, err := q.LockOpportunity(ctx, queries.LockOpportunityParams{OrgID: orgID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if o.Stage == stage || (len(from) > 0 && !slices.Contains(from, o.Stage)) {
		return false, nil
	}
	err = Move(ctx, tx, jobs, StateOf(o.Stage, o.Amount, o.OwnerID, o.ExpectedClose), queries.MoveOpportunityParams{
		OrgID: orgID, ID: id, Version: o.Version, Stage: stage, UpdatedBy: by})
	return err == nil, err
}

// Move is every stage change, from a board or from a quote: the move (only
// from the version in p; pgx.ErrNoRows when the deal has changed since),
// the automatic tasks for entering the stage, once per move (the version
// names it), and the event boards apply.
func Move(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], prev *State, p queries.MoveOpportunityParams) error {
	q := queries.New(tx)
	moved, err := q.MoveOpportunity(ctx, p)
	if err != nil {
		return err
	}
	if _, err := tasks.ApplyRules(ctx, tx, jobs, tasks.EventStageEntered, &p.Stage, tasks.Subject{OrgID: p.OrgID,
		OwnerID: moved.OwnerID, CustomerID: &moved.CustomerID, OpportunityID: &moved.ID,
		Key: fmt.Sprintf("%d:%d", moved.ID, moved.Version)}, time.Now()); err != nil {
		return err
	}
	if p.Stage == "ganada" && moved.OwnerID != nil {
		// The win may reach the owner's target of the month: checked at
		// once by its own job (app/targets), committed with the win.
		m, err := q.OrgMonth(ctx, queries.OrgMonthParams{OrgID: p.OrgID, At: moved.StageEnteredAt})
		if err != nil {
			return err
		}
		if _, err := jobs.InsertTx(ctx, tx, jobargs.TargetCheck{OrgID: p.OrgID, UserID: *moved.OwnerID,
			Month: m.Month.Time.Format("2006-01"), Cause: fmt.Sprintf("won:%d:%d", moved.ID, moved.Version)}, nil); err != nil {
			return err
		}
	}
	return Publish(ctx, q, "moved", prev, moved)
}

// Touch re-renders a deal's card on open boards without moving it (its
// quote was sent, opened, signed or rejected: the card's badge changes).
func Touch(ctx context.Context, q *queries.Queries, orgID, id int64) error {
	o, err := q.LockOpportunity(ctx, queries.LockOpportunityParams{OrgID: orgID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return Publish(ctx, q, "updated", StateOf(o.Stage, o.Amount, o.OwnerID, o.ExpectedClose), o)
}
