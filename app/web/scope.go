package web

import (
	"context"
	"slices"

	"pulso/queries"
)

// Scope is the owners (or assignees) whose records p may see — leads,
// customers, deals, tasks and what hangs off them: nil for everyone
// (admins and accountants), the team plus themselves for managers,
// themselves for reps.
func Scope(ctx context.Context, q *queries.Queries, p *Principal) ([]int64, error) {
	switch p.Role {
	case RoleAdmin, RoleAccountant:
		return nil, nil
	case RoleManager:
		team, err := q.ListTeamIDs(ctx, queries.ListTeamIDsParams{OrgID: p.OrgID, ManagerID: &p.UserID})
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
