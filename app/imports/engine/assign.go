package engine

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"pulso/queries"
)

// assigner applies the org's lead assignment rules to many new leads at
// once, with the same outcome as calling leads.AssignOwner for each lead in
// file order inside one transaction (TestAssignerMatchesAssignOwner checks
// that): the rules, teams and open-lead counts are read once, and round
// robin cursors are locked once and written back at the end, instead of
// three queries per row.
type assigner struct {
	q        *queries.Queries
	orgID    int64
	rules    []queries.LeadRule
	active   map[int64]bool    // users who may hold leads
	teams    map[int64][]int64 // manager → active reps, id order
	open     map[int64]int     // rep → open leads
	cursors  map[int64]*int64  // round-robin rule → cursor
	moved    map[int64]bool
	fallback *int64
}

func newAssigner(ctx context.Context, q *queries.Queries, orgID int64) (*assigner, error) {
	a := &assigner{q: q, orgID: orgID, active: map[int64]bool{}, teams: map[int64][]int64{}, open: map[int64]int{},
		cursors: map[int64]*int64{}, moved: map[int64]bool{}}
	var err error
	if a.rules, err = q.ListActiveLeadRules(ctx, orgID); err != nil {
		return nil, err
	}
	ids, err := q.ActiveLeadOwners(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		a.active[id] = true
	}
	def, err := q.GetDefaultLeadOwner(ctx, orgID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	if def != nil && a.active[*def] {
		a.fallback = def
	}
	for _, r := range a.rules {
		if r.TeamManagerID == nil {
			continue
		}
		if _, ok := a.teams[*r.TeamManagerID]; !ok {
			reps, err := q.ListTeamReps(ctx, queries.ListTeamRepsParams{OrgID: orgID, ManagerID: r.TeamManagerID})
			if err != nil {
				return nil, err
			}
			a.teams[*r.TeamManagerID] = reps
			counts, err := q.CountOpenLeadsByOwner(ctx, queries.CountOpenLeadsByOwnerParams{OrgID: orgID, OwnerIds: reps})
			if err != nil {
				return nil, err
			}
			for _, c := range counts {
				a.open[c.OwnerID] = int(c.N)
			}
		}
		if r.Action == "round_robin" {
			cur, err := q.LockLeadRuleCursor(ctx, queries.LockLeadRuleCursorParams{OrgID: orgID, ID: r.ID})
			if err != nil {
				return nil, err
			}
			a.cursors[r.ID] = cur
		}
	}
	return a, nil
}

// idle reports that no rule and no default owner exist: every lead stays
// unassigned, and the per-row pass can be skipped.
func (a *assigner) idle() bool { return len(a.rules) == 0 && a.fallback == nil }

// owner picks the owner of the next lead and counts it as open.
func (a *assigner) owner(source, country, province string, tags []string) *int64 {
	for _, r := range a.rules {
		if !ruleMatches(r, source, country, province, tags) {
			continue
		}
		var got *int64
		switch r.Action {
		case "user":
			if r.UserID != nil && a.active[*r.UserID] {
				got = r.UserID
			}
		case "fewest_open":
			team := a.teams[*r.TeamManagerID]
			for _, id := range team {
				if got == nil || a.open[id] < a.open[*got] {
					got = &id
				}
			}
		case "round_robin":
			team := a.teams[*r.TeamManagerID]
			if len(team) > 0 {
				after := int64(0)
				if c := a.cursors[r.ID]; c != nil {
					after = *c
				}
				next := team[0]
				if i := slices.IndexFunc(team, func(id int64) bool { return id > after }); i >= 0 {
					next = team[i]
				}
				got = &next
				a.cursors[r.ID] = &next
				a.moved[r.ID] = true
			}
		}
		if got != nil {
			id := *got
			a.open[id]++
			return &id
		}
	}
	if a.fallback != nil {
		a.open[*a.fallback]++
	}
	return a.fallback
}

// save writes the round robin cursors that moved.
func (a *assigner) save(ctx context.Context) error {
	for id := range a.moved {
		if err := a.q.SetLeadRuleCursor(ctx, queries.SetLeadRuleCursorParams{OrgID: a.orgID, ID: id, RrCursor: a.cursors[id]}); err != nil {
			return err
		}
	}
	return nil
}

// ruleMatches is leads' rule matching: an empty condition matches anything;
// country, province and tag compare case-insensitively.
func ruleMatches(r queries.LeadRule, source, country, province string, tags []string) bool {
	if r.Source != "" && r.Source != source {
		return false
	}
	if r.Country != "" && !strings.EqualFold(r.Country, country) {
		return false
	}
	if r.Province != "" && !strings.EqualFold(strings.TrimSpace(r.Province), strings.TrimSpace(province)) {
		return false
	}
	if r.Tag != "" && !slices.ContainsFunc(tags, func(t string) bool { return strings.EqualFold(t, r.Tag) }) {
		return false
	}
	return true
}
