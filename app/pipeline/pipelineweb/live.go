package pipelineweb

import (
	"bytes"
	"context"
	"encoding/json"

	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/money"
	"pulso/app/pipeline"
	"pulso/queries"
	pipelineview "pulso/views/pipeline"
)

// RegisterLive renders opportunity events for open boards: the card as the
// audience sees it and the before/after state board.js applies. Deals are
// owned: an unowned deal's events go only to who sees unowned deals.
func RegisterLive(h *hub.Hub, q *queries.Queries) {
	h.Handle(live.TopicOpportunity, hub.Topic{Owned: true, Render: func(ctx context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		if ev.EntityID == nil {
			return nil, nil
		}
		var pl pipeline.Payload
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
