// Package live is the writing side of live updates: a change publishes a
// small Event in its own transaction (a row in the live_events outbox,
// visible only on commit), through BeginFunc, the one way Pulso runs a
// transaction that publishes. Reading the outbox and fanning events out to
// sockets is live/hub's job; this package needs neither HTTP nor sockets,
// so background workers publish without them.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// maxPayload keeps events small: they carry ids, and renderers load what
// they show.
const maxPayload = 2000

// Event is one change, as published and as received.
type Event struct {
	OrgID    int64  `json:"org_id"`
	ID       int64  `json:"id"`
	Topic    string `json:"topic"`
	Entity   string `json:"entity"`
	EntityID *int64 `json:"entity_id"`
	Kind     string `json:"kind"`
	// SubjectUserID is the user the entity concerns (owner, assignee,
	// recipient). It decides the audience: that user, their managers and
	// admins. Nil means everyone in the org.
	SubjectUserID *int64          `json:"subject_user_id"`
	Payload       json.RawMessage `json:"payload"`
	CreatedAt     time.Time       `json:"created_at"`
}

// ErrPayloadTooLarge is returned for events that carry documents, not ids.
var ErrPayloadTooLarge = errors.New("live event payload too large")

// ErrNoTransaction is returned by Publish outside BeginFunc: an event
// belongs to a change and is written with its commit, never on its own.
var ErrNoTransaction = errors.New("live: Publish outside live.BeginFunc")

// Publish records ev for the transaction BeginFunc is running (ctx is the
// one it passed to fn). The event is written with the COMMIT, so nothing is
// delivered unless the change commits; outside BeginFunc it is refused.
func Publish(ctx context.Context, ev Event) error {
	held, ok := ctx.Value(heldKey{}).(*heldEvents)
	if !ok {
		return ErrNoTransaction
	}
	if len(ev.Payload) == 0 {
		ev.Payload = json.RawMessage(`{}`)
	}
	if len(ev.Payload) > maxPayload {
		return ErrPayloadTooLarge
	}
	held.events = append(held.events, ev)
	return nil
}

// Topics published so far. Each area adds its own here, so the list of what
// travels over the sockets is in one place.
const (
	TopicNotification = "notification"
	// TopicLead carries lead changes (created, updated, merged).
	TopicLead = "lead"
	// TopicPrincipal says a user's session principal may have changed
	// (their user, org or session rows); database triggers publish it
	// (migration 0012) and nothing is rendered for it.
	TopicPrincipal = "principal"
	// TopicCustomer carries customer changes (created, updated, converted).
	TopicCustomer = "customer"
	// TopicOpportunity carries pipeline changes (created, updated, moved,
	// deleted, reassigned) with the deal's state before and after.
	TopicOpportunity = "opportunity"
	// TopicTask says a user's tasks changed (created, done, rescheduled,
	// breached): open task lists and My day reload their own view.
	TopicTask = "task"
	// TopicQuote says a quote changed (sent, opened, signed, rejected):
	// open quote pages and lists reload their own view.
	TopicQuote = "quote"
	// TopicInvoice says an invoice changed (issued, voided, paid, sent,
	// opened, send scheduled): its owner rep and the managers get a toast,
	// and open invoice pages, lists and customer pages reload their view.
	TopicInvoice = "invoice"
	// TopicStore says a store sync made progress: the open sync page
	// reloads its numbers.
	TopicStore = "store"
)
