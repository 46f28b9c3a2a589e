package invoices

import (
	"context"
	"fmt"

	"pulso/app/live"
	"pulso/queries"
)

// What happened to an invoice, as its live events name it.
const (
	EventIssued    = "issued"
	EventVoided    = "voided"
	EventPaid      = "paid"
	EventScheduled = "scheduled"
	EventSent      = "sent"
	EventOpened    = "opened"
)

// Announce publishes kind for inv inside the caller's live.BeginFunc
// transaction. The audience is the customer's owner (and so their managers
// and the admins), or everyone billing sees when the invoice has no owner
// to tell: the rep who sold is the one the customer calls about it.
func Announce(ctx context.Context, q *queries.Queries, inv queries.Invoice, kind string) error {
	var owner *int64
	if inv.CustomerID != nil {
		var err error
		if owner, err = q.CustomerOwner(ctx, queries.CustomerOwnerParams{OrgID: inv.OrgID, ID: *inv.CustomerID}); err != nil {
			return err
		}
	}
	return announce(ctx, inv, owner, kind)
}

// announce is Announce with the customer's owner already read (nil: none,
// or no customer).
func announce(ctx context.Context, inv queries.Invoice, owner *int64, kind string) error {
	subject := owner
	if subject == nil {
		subject = inv.CreatedBy
	}
	// The customer travels with the event, so the customer's open page
	// knows the change is theirs.
	payload := []byte(`{}`)
	if inv.CustomerID != nil {
		payload = fmt.Appendf(nil, `{"customer_id":%d}`, *inv.CustomerID)
	}
	return live.Publish(ctx, live.Event{OrgID: inv.OrgID, Topic: live.TopicInvoice, Entity: "invoice",
		EntityID: &inv.ID, Kind: kind, SubjectUserID: subject, Payload: payload})
}
