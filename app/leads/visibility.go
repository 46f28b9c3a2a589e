package leads

import (
	"context"
	"slices"

	"pulso/app/web"
	"pulso/queries"
)

// Scope is the owners whose leads (and the things hanging off them, such as
// documents) p may see: nil for everyone (admins and accountants), the team
// plus themselves for managers, themselves for reps.
func Scope(ctx context.Context, q *queries.Queries, p *web.Principal) ([]int64, error) {
	switch p.Role {
	case web.RoleAdmin, web.RoleAccountant:
		return nil, nil
	case web.RoleManager:
		team, err := q.ListTeamIDs(ctx, teamParams(p))
		if err != nil {
			return nil, err
		}
		return append(team, p.UserID), nil
	}
	return []int64{p.UserID}, nil
}

// InScope reports whether a record owned by owner is within scope (nil: all);
// an unowned record is for the unrestricted roles only.
func InScope(scope []int64, owner *int64) bool {
	return scope == nil || (owner != nil && slices.Contains(scope, *owner))
}
