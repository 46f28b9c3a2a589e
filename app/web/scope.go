package web

import (
	"context"
	"slices"
	"strconv"

	"pulso/queries"
	"pulso/views/components"
)

// Scope is the owners (or assignees) whose records p may see — leads,
// customers, deals, tasks and what hangs off them: nil for everyone
// (admins and accountants), the team plus themselves for managers,
// themselves for reps.
func Scope(ctx context.Context, q *queries.Queries, p *Principal) ([]int64, error) {
	switch {
	case p.Role.SeesAll():
		return nil, nil
	case p.Role == RoleManager:
		team, err := q.ListTeamIDs(ctx, queries.ListTeamIDsParams{OrgID: p.OrgID, ManagerID: &p.UserID})
		if err != nil {
			return nil, err
		}
		return append(team, p.UserID), nil
	}
	return []int64{p.UserID}, nil
}

// SeesAll reports whether r sees every record whatever its owner, unowned
// ones included: admins and accountants. Live events follow the same rule.
func (r Role) SeesAll() bool { return r == RoleAdmin || r == RoleAccountant }

// InScope reports whether a record owned by owner is within scope (nil: all);
// an unowned record is for the unrestricted roles only.
func InScope(scope []int64, owner *int64) bool {
	return scope == nil || (owner != nil && slices.Contains(scope, *owner))
}

// Owners are the people the viewer may give a record to (sc is their
// Scope), as form options: themselves for a rep, their team for a manager,
// anyone for admins and accountants, who may also leave it unassigned when
// unassigned (the option's label) is not "".
func Owners(ctx context.Context, q *queries.Queries, p *Principal, sc []int64, unassigned string) ([]components.SelectOption, error) {
	all, err := q.ListLeadOwners(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	opts := []components.SelectOption{}
	if sc == nil && unassigned != "" {
		opts = append(opts, components.SelectOption{Value: "", Label: unassigned})
	}
	for _, u := range all {
		if sc == nil || slices.Contains(sc, u.ID) {
			opts = append(opts, components.SelectOption{Value: strconv.FormatInt(u.ID, 10), Label: u.Name, Raw: true})
		}
	}
	return opts, nil
}

// OwnerAllowed reports whether id (nil: unassigned) is one of the Owners
// offered, so a form cannot give a record to someone it did not list.
func OwnerAllowed(opts []components.SelectOption, id *int64) bool {
	want := ""
	if id != nil {
		want = strconv.FormatInt(*id, 10)
	}
	return slices.ContainsFunc(opts, func(o components.SelectOption) bool { return o.Value == want })
}
