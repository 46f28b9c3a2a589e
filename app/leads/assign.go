package leads

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/queries"
	"pulso/workers"
)

// LeadFacts is what assignment rules look at.
type LeadFacts struct {
	Source, Country, Province string
	Tags                      []string
}

// AssignOwner returns the owner for a lead that arrived without one (web
// capture, import). Until assignment rules exist it leaves the lead
// unassigned, so admins pick it up from the list.
func AssignOwner(ctx context.Context, q *queries.Queries, orgID int64, f LeadFacts) (*int64, error) {
	return nil, nil
}

// NotifyAssigned tells a lead's owner, in the transaction that assigned it,
// that a lead is theirs: a notify job, keyed so a retry notifies once.
func NotifyAssigned(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], l queries.Lead) error {
	if l.OwnerID == nil {
		return nil
	}
	_, err := jobs.InsertTx(ctx, tx, workers.NotifyArgs{
		OrgID: l.OrgID, UserID: *l.OwnerID, Severity: "info", TitleID: "leads.assigned_title",
		Params: map[string]any{"Name": l.Name}, Link: fmt.Sprintf("/leads/%d", l.ID),
		Key: fmt.Sprintf("lead-assigned:%d:%d", l.ID, *l.OwnerID),
	}, nil)
	return err
}
