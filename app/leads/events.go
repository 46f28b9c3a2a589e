package leads

import (
	"context"
	"encoding/json"

	"pulso/app/live"
	"pulso/queries"
)

// PublishCreated tells the screens of the owner, their managers and admins
// about a lead created outside the form (web capture, import), inside the
// transaction that created it.
func PublishCreated(ctx context.Context, q *queries.Queries, l queries.Lead) error {
	return Publish(ctx, q, l, "created")
}

// Publish tells the screens of the lead's owner, their managers and admins.
func Publish(ctx context.Context, q *queries.Queries, l queries.Lead, kind string) error {
	payload, _ := json.Marshal(map[string]string{"status": l.Status})
	err := live.Publish(ctx, live.Event{
		OrgID: l.OrgID, Topic: live.TopicLead, Entity: "lead", EntityID: &l.ID, Kind: kind,
		SubjectUserID: l.OwnerID, Payload: payload,
	})
	return err
}
