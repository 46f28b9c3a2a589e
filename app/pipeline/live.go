package pipeline

import (
	"bytes"
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
	"pulso/app/live/hub"
	"pulso/app/money"
	"pulso/app/tasks"
	"pulso/queries"
	pipelineview "pulso/views/pipeline"
)

// state is what a board needs to know of a deal to count it under its own
// filters: the same fields the filters test.
type state struct {
	Stage  string `json:"stage"`
	Amount int64  `json:"amount"`
	Owner  int64  `json:"owner"`
	Month  string `json:"month"`
}

func before(stage string, amount int64, owner *int64, close pgtype.Date) *state {
	s := &state{Stage: stage, Amount: amount}
	if owner != nil {
		s.Owner = *owner
	}
	if close.Valid {
		s.Month = close.Time.Format("2006-01")
	}
	return s
}

type eventPayload struct {
	Before *state `json:"before,omitempty"`
	After  *state `json:"after,omitempty"`
}

// publish records a change for the screens of the deal's owner, their
// managers and admins. A change of owner is published as "reassigned" to
// both owners' audiences: those boards reload rather than apply a delta,
// since a viewer who sees both owners would otherwise count it twice.
func publish(ctx context.Context, q *queries.Queries, kind string, prev *state, o queries.Opportunity) error {
	var after *state
	if kind != "deleted" {
		after = before(o.Stage, o.Amount, o.OwnerID, o.ExpectedClose)
	}
	ev := live.Event{OrgID: o.OrgID, Topic: live.TopicOpportunity, Entity: "opportunity", EntityID: &o.ID, Kind: kind,
		SubjectUserID: o.OwnerID}
	if prev != nil && after != nil && prev.Owner != after.Owner {
		ev.Kind, ev.Payload = "reassigned", json.RawMessage(`{}`)
		if _, err := live.Publish(ctx, q, ev); err != nil {
			return err
		}
		if prev.Owner == 0 {
			return nil
		}
		old := prev.Owner
		ev.SubjectUserID = &old
		_, err := live.Publish(ctx, q, ev)
		return err
	}
	payload, err := json.Marshal(eventPayload{Before: prev, After: after})
	if err != nil {
		return err
	}
	ev.Payload = payload
	_, err = live.Publish(ctx, q, ev)
	return err
}

// RegisterLive renders opportunity events for open boards: the card as the
// audience sees it and the before/after state board.js applies.
func RegisterLive(h *hub.Hub, q *queries.Queries) {
	h.Handle(live.TopicOpportunity, hub.Topic{Render: func(ctx context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		if ev.EntityID == nil {
			return nil, nil
		}
		var pl eventPayload
		if err := json.Unmarshal(ev.Payload, &pl); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(pl.Before)
		a, _ := json.Marshal(pl.After)
		if pl.Before == nil {
			b = nil
		}
		if pl.After == nil {
			a = nil
		}
		var c *pipelineview.Card
		if ev.Kind != "deleted" && ev.Kind != "reassigned" {
			o, err := q.GetOpportunity(ctx, queries.GetOpportunityParams{OrgID: ev.OrgID, ID: *ev.EntityID})
			if err != nil {
				// Deleted or moved on since: a later event says so.
				return nil, nil
			}
			org, err := q.GetOrg(ctx, ev.OrgID)
			if err != nil {
				return nil, err
			}
			cc := pipelineview.Card{ID: o.ID, Version: o.Version, Stage: o.Stage, Title: o.Title, Customer: o.CustomerName, Owner: o.OwnerName,
				Amount: money.Format(o.Amount, org.Currency), AmountMinor: o.Amount, Probability: o.Probability, Quote: o.QuoteBadge}
			if o.OwnerID != nil {
				cc.OwnerID = *o.OwnerID
			}
			if o.ExpectedClose.Valid {
				cc.Close = o.ExpectedClose.Time.Format("02/01/2006")
				cc.CloseMonth = o.ExpectedClose.Time.Format("2006-01")
			}
			// The card shows the deal as it is now; the counts follow the
			// event's own before and after, so that events applied in
			// order add up even when the deal has moved on since.
			c = &cc
		}
		var buf bytes.Buffer
		if err := pipelineview.Live(ev.Kind, *ev.EntityID, string(b), string(a), c).Render(hub.RenderContext(ctx, aud), &buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}})
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
	err = move(ctx, tx, jobs, before(o.Stage, o.Amount, o.OwnerID, o.ExpectedClose), queries.MoveOpportunityParams{
		OrgID: orgID, ID: id, Version: o.Version, Stage: stage, UpdatedBy: by})
	return err == nil, err
}

// move is every stage change, from a board or from a quote: the move (only
// from the version in p; pgx.ErrNoRows when the deal has changed since),
// the automatic tasks for entering the stage, once per move (the version
// names it), and the event boards apply.
func move(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], prev *state, p queries.MoveOpportunityParams) error {
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
	return publish(ctx, q, "moved", prev, moved)
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
	return publish(ctx, q, "updated", before(o.Stage, o.Amount, o.OwnerID, o.ExpectedClose), o)
}
