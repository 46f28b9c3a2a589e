package leads

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/tasks"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// LeadFacts is what assignment rules look at.
type LeadFacts struct {
	Source, Country, Province string
	Tags                      []string
	// Fields a rule may test by name (see RuleFields); missing ones are "".
	Name, ContactName, Email, Phone, TaxID, City, Notes string
}

// FactsOf is what rules see of a lead about to be created.
func FactsOf(l queries.CreateLeadParams) LeadFacts {
	return LeadFacts{
		Source: l.Source, Country: l.Country, Province: l.Province, Tags: l.Tags,
		Name: l.Name, ContactName: l.ContactName, Email: l.Email, Phone: l.Phone, TaxID: l.TaxID, City: l.City, Notes: l.Notes,
	}
}

// RuleFields are the lead fields a rule may test, as stored (e-mail lower
// case, phone E.164, tax id canonical).
var RuleFields = []string{"name", "contact_name", "email", "phone", "tax_id", "city", "notes"}

func (f LeadFacts) field(name string) string {
	switch name {
	case "name":
		return f.Name
	case "contact_name":
		return f.ContactName
	case "email":
		return f.Email
	case "phone":
		return f.Phone
	case "tax_id":
		return f.TaxID
	case "city":
		return f.City
	case "notes":
		return f.Notes
	}
	return ""
}

// AssignOwner returns the owner for a lead that arrived without one (web
// capture, a form left unassigned, an e-mail): the Assigner's decision for
// one lead, in the caller's transaction (q from WithTx).
func AssignOwner(ctx context.Context, q *queries.Queries, orgID int64, f LeadFacts) (*int64, error) {
	a, err := NewAssigner(ctx, q, orgID)
	if err != nil {
		return nil, err
	}
	owner, err := a.Owner(ctx, f)
	if err != nil {
		return nil, err
	}
	return owner, a.Save(ctx)
}

// Assigner is the one place lead assignment rules are applied, to one lead
// (AssignOwner) or to a whole import in file order. The org's active rules
// are tried in position order, and the first matching rule whose action
// yields an active user wins. A matching rule whose user or team has nobody
// active is skipped, so a rep leaving never strands leads. With no rule
// left, the org's default owner gets the lead if still active; otherwise it
// stays unassigned (nil) and admins pick it up from the list.
//
// What a rule needs is read once, when first needed (the active users, a
// team and its open-lead counts, which then count the leads this Assigner
// gives out), so an import of a million rows costs a handful of queries.
// Round robin cursors are locked in the caller's transaction and written
// back by Save: concurrent assignments by the same rule queue up and each
// gets the next rep. Cursors are always locked in rule position order (a
// later rule's lock takes the earlier ones' first), so two transactions
// never wait on each other in a cycle.
type Assigner struct {
	q        *queries.Queries
	orgID    int64
	rules    []queries.LeadRule
	active   map[int64]bool    // users who may hold leads; nil until read
	teams    map[int64][]int64 // manager → active reps, id order
	open     map[int64]int     // rep → open leads
	cursors  map[int64]*int64  // round-robin rule → cursor, once locked
	locked   int               // rules[:locked] have had their cursors locked
	moved    map[int64]bool
	fallback *int64
	noDef    bool // the default owner was read and there is none
}

// NewAssigner reads the org's active rules; the rest is read when needed.
func NewAssigner(ctx context.Context, q *queries.Queries, orgID int64) (*Assigner, error) {
	rules, err := q.ListActiveLeadRules(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return &Assigner{q: q, orgID: orgID, rules: rules, teams: map[int64][]int64{}, open: map[int64]int{},
		cursors: map[int64]*int64{}, moved: map[int64]bool{}}, nil
}

// Idle reports that no lead can get an owner (no rule, no active default
// owner), so a caller may skip asking lead by lead.
func (a *Assigner) Idle(ctx context.Context) (bool, error) {
	if len(a.rules) > 0 {
		return false, nil
	}
	def, err := a.defaultOwner(ctx)
	return def == nil, err
}

// Owner picks the owner of the next lead and counts it as open.
func (a *Assigner) Owner(ctx context.Context, f LeadFacts) (*int64, error) {
	for i, r := range a.rules {
		if !matches(r, f) {
			continue
		}
		got, err := a.apply(ctx, i, r)
		if err != nil {
			return nil, err
		}
		if got != nil {
			a.open[*got]++
			return got, nil
		}
	}
	def, err := a.defaultOwner(ctx)
	if def != nil {
		a.open[*def]++
	}
	return def, err
}

// apply returns who rule i gives the lead to, or nil when nobody it names
// is active.
func (a *Assigner) apply(ctx context.Context, i int, r queries.LeadRule) (*int64, error) {
	switch r.Action {
	case "user":
		if r.UserID == nil {
			return nil, nil
		}
		ok, err := a.isActive(ctx, *r.UserID)
		if !ok || err != nil {
			return nil, err
		}
		id := *r.UserID
		return &id, nil
	case "fewest_open":
		// Counts are read without a lock: two leads arriving at the same
		// instant through two transactions may both go to the same rep,
		// which is fair enough over a day. A tie goes to the lowest id.
		team, err := a.team(ctx, r.TeamManagerID)
		if err != nil {
			return nil, err
		}
		var got *int64
		for _, id := range team {
			if got == nil || a.open[id] < a.open[*got] {
				got = &id
			}
		}
		return got, nil
	case "round_robin":
		if err := a.lockThrough(ctx, i); err != nil {
			return nil, err
		}
		team, err := a.team(ctx, r.TeamManagerID)
		if err != nil || len(team) == 0 {
			return nil, err
		}
		after := int64(0)
		if c := a.cursors[r.ID]; c != nil {
			after = *c
		}
		// The next active rep after the cursor in id order, wrapping.
		next := team[0]
		if j := slices.IndexFunc(team, func(id int64) bool { return id > after }); j >= 0 {
			next = team[j]
		}
		a.cursors[r.ID], a.moved[r.ID] = &next, true
		return &next, nil
	}
	return nil, fmt.Errorf("lead rule %d: unknown action %q", r.ID, r.Action)
}

// lockThrough locks the cursors of the round robin rules up to rule i.
func (a *Assigner) lockThrough(ctx context.Context, i int) error {
	for ; a.locked <= i; a.locked++ {
		r := a.rules[a.locked]
		if r.Action != "round_robin" {
			continue
		}
		cur, err := a.q.LockLeadRuleCursor(ctx, queries.LockLeadRuleCursorParams{OrgID: a.orgID, ID: r.ID})
		if err != nil {
			return err
		}
		a.cursors[r.ID] = cur
	}
	return nil
}

// team is a manager's active reps, with their open leads counted.
func (a *Assigner) team(ctx context.Context, manager *int64) ([]int64, error) {
	if manager == nil {
		return nil, nil
	}
	if reps, ok := a.teams[*manager]; ok {
		return reps, nil
	}
	reps, err := a.q.ListTeamReps(ctx, queries.ListTeamRepsParams{OrgID: a.orgID, ManagerID: manager})
	if err != nil {
		return nil, err
	}
	counts, err := a.q.CountOpenLeadsByOwner(ctx, queries.CountOpenLeadsByOwnerParams{OrgID: a.orgID, OwnerIds: reps})
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		a.open[c.OwnerID] = int(c.N)
	}
	a.teams[*manager] = reps
	return reps, nil
}

func (a *Assigner) isActive(ctx context.Context, id int64) (bool, error) {
	if a.active == nil {
		ids, err := a.q.ActiveLeadOwners(ctx, a.orgID)
		if err != nil {
			return false, err
		}
		a.active = make(map[int64]bool, len(ids))
		for _, id := range ids {
			a.active[id] = true
		}
	}
	return a.active[id], nil
}

func (a *Assigner) defaultOwner(ctx context.Context) (*int64, error) {
	if a.fallback != nil || a.noDef {
		return a.fallback, nil
	}
	def, err := a.q.GetDefaultLeadOwner(ctx, a.orgID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	if def != nil {
		ok, err := a.isActive(ctx, *def)
		if err != nil {
			return nil, err
		}
		if ok {
			id := *def
			a.fallback = &id
			return a.fallback, nil
		}
	}
	a.noDef = true
	return nil, nil
}

// Save writes back the round robin cursors that moved.
func (a *Assigner) Save(ctx context.Context) error {
	for id := range a.moved {
		if err := a.q.SetLeadRuleCursor(ctx, queries.SetLeadRuleCursorParams{OrgID: a.orgID, ID: id, RrCursor: a.cursors[id]}); err != nil {
			return err
		}
	}
	clear(a.moved)
	return nil
}

// matches reports whether every condition the rule sets holds; an empty
// condition matches anything. Provinces, tags and field values are typed by
// hand, so they compare case-insensitively.
func matches(r queries.LeadRule, f LeadFacts) bool {
	if r.Source != "" && r.Source != f.Source {
		return false
	}
	if r.Country != "" && !strings.EqualFold(r.Country, f.Country) {
		return false
	}
	if r.Province != "" && !strings.EqualFold(strings.TrimSpace(r.Province), strings.TrimSpace(f.Province)) {
		return false
	}
	if r.Tag != "" && !slices.ContainsFunc(f.Tags, func(t string) bool { return strings.EqualFold(t, r.Tag) }) {
		return false
	}
	if r.Field != "" {
		got, want := strings.ToLower(strings.TrimSpace(f.field(r.Field))), strings.ToLower(strings.TrimSpace(r.FieldValue))
		if r.FieldOp == "contains" && !strings.Contains(got, want) || r.FieldOp != "contains" && got != want {
			return false
		}
	}
	return true
}

// NotifyAssigned tells a lead's owner, in the transaction that assigned it,
// that a lead is theirs: a notify job, keyed so a retry notifies once.
func NotifyAssigned(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], l queries.Lead) error {
	if l.OwnerID == nil {
		return nil
	}
	if _, err := jobs.InsertTx(ctx, tx, jobargs.Notify{
		OrgID: l.OrgID, UserID: *l.OwnerID, Severity: "info", TitleID: "leads.assigned_title",
		Params: map[string]any{"Name": l.Name}, Link: fmt.Sprintf("/leads/%d", l.ID),
		Key: fmt.Sprintf("lead-assigned:%d:%d", l.ID, *l.OwnerID),
	}, nil); err != nil {
		return err
	}
	// Automatic tasks for a lead given to someone, once per lead and owner.
	_, err := tasks.ApplyRules(ctx, tx, jobs, tasks.EventLeadAssigned, nil, tasks.Subject{OrgID: l.OrgID, OwnerID: l.OwnerID,
		LeadID: &l.ID, Key: fmt.Sprintf("%d:%d", l.ID, *l.OwnerID)}, time.Now())
	return err
}
