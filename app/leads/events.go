package leads

import (
	"context"

	"pulso/queries"
)

// PublishCreated tells the screens of the owner, their managers and admins
// about a lead created outside the form (web capture, import), inside the
// transaction that created it.
func PublishCreated(ctx context.Context, q *queries.Queries, l queries.Lead) error {
	return publish(ctx, q, l, "created")
}
