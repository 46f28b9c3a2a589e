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
// capture, import, a form left unassigned): the org's active rules are tried
// in position order, and the first matching rule whose action yields an
// active user wins. A matching rule whose user or team has nobody active is
// skipped, so a rep leaving never strands leads. With no rule left, the org's
// default owner gets the lead if still active; otherwise it stays unassigned
// (nil) and admins pick it up from the list.
//
// It runs in the caller's transaction (q from WithTx): round robin locks its
// rule row until that transaction ends, so concurrent captures rotate fairly.
func AssignOwner(ctx context.Context, q *queries.Queries, orgID int64, f LeadFacts) (*int64, error) {
	rules, err := q.ListActiveLeadRules(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if !matches(r, f) {
			continue
		}
		owner, err := applyRule(ctx, q, r)
		if err != nil {
			return nil, err
		}
		if owner != nil {
			return owner, nil
		}
	}
	def, err := q.GetDefaultLeadOwner(ctx, orgID)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && def == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return activeOwner(ctx, q, orgID, *def)
}

// matches reports whether every condition the rule sets holds; an empty
// condition matches anything. Provinces and tags are typed by hand, so they
// compare case-insensitively.
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

// applyRule returns who the rule gives the lead to, or nil when nobody it
// names is active.
func applyRule(ctx context.Context, q *queries.Queries, r queries.LeadRule) (*int64, error) {
	switch r.Action {
	case "user":
		if r.UserID == nil {
			return nil, nil
		}
		return activeOwner(ctx, q, r.OrgID, *r.UserID)
	case "fewest_open":
		// Two leads arriving at the same instant may both go to the same rep:
		// counts are read without a lock, which is fair enough over a day.
		id, err := q.FewestOpenRep(ctx, queries.FewestOpenRepParams{OrgID: r.OrgID, ManagerID: r.TeamManagerID})
		return found(id, err)
	case "round_robin":
		cursor, err := q.LockLeadRuleCursor(ctx, queries.LockLeadRuleCursorParams{OrgID: r.OrgID, ID: r.ID})
		if err != nil {
			return nil, err
		}
		after := int64(0)
		if cursor != nil {
			after = *cursor
		}
		id, err := q.NextRoundRobinRep(ctx, queries.NextRoundRobinRepParams{OrgID: r.OrgID, ManagerID: r.TeamManagerID, AfterID: after})
		owner, err := found(id, err)
		if owner == nil || err != nil {
			return nil, err
		}
		return owner, q.SetLeadRuleCursor(ctx, queries.SetLeadRuleCursorParams{OrgID: r.OrgID, ID: r.ID, RrCursor: owner})
	}
	return nil, fmt.Errorf("lead rule %d: unknown action %q", r.ID, r.Action)
}

func activeOwner(ctx context.Context, q *queries.Queries, orgID, id int64) (*int64, error) {
	ok, err := q.IsActiveLeadOwner(ctx, queries.IsActiveLeadOwnerParams{OrgID: orgID, ID: id})
	if err != nil || !ok {
		return nil, err
	}
	return &id, nil
}

// found turns a one-row lookup into an owner, with no row meaning nobody.
func found(id int64, err error) (*int64, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &id, nil
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
