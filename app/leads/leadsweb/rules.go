package leadsweb

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/ident"
	"pulso/app/leads"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	leadsview "pulso/views/leads"
)

var rulesPage = web.Page{Title: "rules.title", Nav: "lead_rules"}

var ruleActions = []string{"user", "round_robin", "fewest_open"}

// renderRules shows the rules page with the add form and default-owner form
// in the given state.
func (h *Handler) renderRules(c *fiber.Ctx, status int, form leadsview.RuleForm, defaultErr string) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	rules, err := h.Q.ListLeadRules(ctx, p.OrgID)
	if err != nil {
		return err
	}
	owners, managers, err := h.ruleChoices(c)
	if err != nil {
		return err
	}
	// Rules may name users since deactivated: name them from everyone.
	users, err := h.Q.ListUsers(ctx, p.OrgID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	def, err := h.Q.GetDefaultLeadOwner(ctx, p.OrgID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	v := leadsview.RulesPage{New: form, Sources: Sources, Fields: leads.RuleFields, Owners: owners, Managers: managers, DefaultError: defaultErr}
	if def != nil {
		v.DefaultOwner = itoa(*def)
	}
	if v.New.Values == nil {
		v.New.Values = map[string]string{}
	}
	if v.New.Errors == nil {
		v.New.Errors = map[string]string{}
	}
	for i, r := range rules {
		target := r.UserID
		if r.Action != "user" {
			target = r.TeamManagerID
		}
		rv := leadsview.Rule{
			ID: r.ID, Name: r.Name, Source: r.Source, Country: r.Country, Province: r.Province, Tag: r.Tag,
			Field: r.Field, FieldOp: r.FieldOp, FieldValue: r.FieldValue,
			Action: r.Action, Active: r.Active, First: i == 0, Last: i == len(rules)-1,
		}
		if target != nil {
			rv.Target = names[*target]
		}
		v.Rules = append(v.Rules, rv)
	}
	return web.Render(c, status, rulesPage, leadsview.Rules(v))
}

// ruleChoices lists who a rule or the default may name: active lead owners,
// and active managers (or admins) for team actions; each starts with "none".
func (h *Handler) ruleChoices(c *fiber.Ctx) (owners, managers []components.SelectOption, err error) {
	p := web.MustPrincipal(c)
	all, err := h.Q.ListLeadOwners(c.UserContext(), p.OrgID)
	if err != nil {
		return nil, nil, err
	}
	owners = []components.SelectOption{{Value: "", Label: "leads.unassigned"}}
	for _, u := range all {
		owners = append(owners, components.SelectOption{Value: itoa(u.ID), Label: u.Name, Raw: true})
	}
	ms, err := h.Q.ListManagers(c.UserContext(), p.OrgID)
	if err != nil {
		return nil, nil, err
	}
	managers = []components.SelectOption{{Value: "", Label: "rules.no_team"}}
	for _, m := range ms {
		managers = append(managers, components.SelectOption{Value: itoa(m.ID), Label: m.Name, Raw: true})
	}
	return owners, managers, nil
}

// pick parses a chosen id that must be one of opts (and not the empty one).
func pick(opts []components.SelectOption, v string) (*int64, string) {
	if v == "" {
		return nil, "validation.required"
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || !slices.ContainsFunc(opts, func(o components.SelectOption) bool { return o.Value == v }) {
		return nil, "validation.choice"
	}
	return &id, ""
}

// Rules is the admin page of lead assignment rules.
func (h *Handler) Rules(c *fiber.Ctx) error {
	return h.renderRules(c, fiber.StatusOK, leadsview.RuleForm{Values: map[string]string{"action": "user"}}, "")
}

// CreateRule appends a rule at the end of the order.
func (h *Handler) CreateRule(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	f := map[string]string{}
	for _, k := range []string{"name", "source", "country", "province", "tag", "field", "field_op", "field_value", "action", "user_id", "team_manager_id"} {
		f[k] = strings.TrimSpace(c.FormValue(k))
	}
	f["tag"] = strings.ToLower(f["tag"]) // as lead tags are stored
	errs := map[string]string{}
	switch n := utf8.RuneCountInString(f["name"]); {
	case n == 0:
		errs["name"] = "validation.required"
	case n > 100:
		errs["name"] = "validation.too_long"
	case !ident.CleanText(f["name"]):
		errs["name"] = "validation.bad_chars"
	}
	if f["source"] != "" && !slices.Contains(Sources, f["source"]) {
		errs["source"] = "validation.choice"
	}
	if f["country"] != "" && !slices.Contains([]string{"ES", "MX", "AR"}, f["country"]) {
		errs["country"] = "validation.choice"
	}
	if utf8.RuneCountInString(f["province"]) > 100 || !ident.CleanText(f["province"]) {
		errs["province"] = "validation.too_long"
	}
	if utf8.RuneCountInString(f["tag"]) > 40 || strings.Contains(f["tag"], ",") || !ident.CleanText(f["tag"]) {
		errs["tag"] = "leads.tag_invalid"
	}
	switch {
	case f["field"] == "":
		// No field condition: whatever else came with it is ignored.
		f["field_op"], f["field_value"] = "", ""
	case !slices.Contains(leads.RuleFields, f["field"]):
		errs["field"] = "validation.choice"
	case f["field_op"] != "equals" && f["field_op"] != "contains":
		errs["field_op"] = "validation.choice"
	case f["field_value"] == "":
		errs["field_value"] = "validation.required"
	case utf8.RuneCountInString(f["field_value"]) > 200:
		errs["field_value"] = "validation.too_long"
	case !ident.CleanText(f["field_value"]):
		errs["field_value"] = "validation.bad_chars"
	}
	owners, managers, err := h.ruleChoices(c)
	if err != nil {
		return err
	}
	params := queries.CreateLeadRuleParams{
		OrgID: p.OrgID, Name: f["name"], Source: f["source"], Country: f["country"], Province: f["province"], Tag: f["tag"], Action: f["action"],
		Field: f["field"], FieldOp: f["field_op"], FieldValue: f["field_value"],
	}
	switch f["action"] {
	case "user":
		var e string
		if params.UserID, e = pick(owners, f["user_id"]); e != "" {
			errs["user_id"] = e
		}
	case "round_robin", "fewest_open":
		var e string
		if params.TeamManagerID, e = pick(managers, f["team_manager_id"]); e != "" {
			errs["team_manager_id"] = e
		}
	default:
		errs["action"] = "validation.choice"
	}
	if len(errs) > 0 {
		return h.renderRules(c, fiber.StatusUnprocessableEntity, leadsview.RuleForm{Values: f, Errors: errs}, "")
	}
	if _, err := h.Q.CreateLeadRule(c.UserContext(), params); err != nil {
		return err
	}
	web.Flash(c, "success", "rules.created")
	return web.Redirect(c, "/admin/lead-rules")
}

func (h *Handler) ruleFromPath(c *fiber.Ctx) (queries.LeadRule, error) {
	r, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.LeadRule, error) {
		return h.Q.GetLeadRule(ctx, queries.GetLeadRuleParams{OrgID: org, ID: id})
	}, nil)
	return r, err
}

// DeleteRule removes a rule; the others keep their order.
func (h *Handler) DeleteRule(c *fiber.Ctx) error {
	r, err := h.ruleFromPath(c)
	if err != nil {
		return err
	}
	if _, err := h.Q.DeleteLeadRule(c.UserContext(), queries.DeleteLeadRuleParams{OrgID: r.OrgID, ID: r.ID}); err != nil {
		return err
	}
	web.Flash(c, "success", "rules.deleted")
	return web.Redirect(c, "/admin/lead-rules")
}

// ToggleRule switches a rule on or off without losing its place.
func (h *Handler) ToggleRule(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	r, err := h.ruleFromPath(c)
	if err != nil {
		return err
	}
	if _, err := h.Q.SetLeadRuleActive(c.UserContext(), queries.SetLeadRuleActiveParams{OrgID: p.OrgID, ID: r.ID, Active: !r.Active}); err != nil {
		return err
	}
	if r.Active {
		web.Flash(c, "success", "rules.paused")
	} else {
		web.Flash(c, "success", "rules.resumed")
	}
	return web.Redirect(c, "/admin/lead-rules")
}

// MoveRuleUp swaps a rule with the one before it.
func (h *Handler) MoveRuleUp(c *fiber.Ctx) error { return h.moveRule(c, true) }

// MoveRuleDown swaps a rule with the one after it.
func (h *Handler) MoveRuleDown(c *fiber.Ctx) error { return h.moveRule(c, false) }

func (h *Handler) moveRule(c *fiber.Ctx, up bool) error {
	ctx := c.UserContext()
	r, err := h.ruleFromPath(c)
	if err != nil {
		return err
	}
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		n, err := q.LeadRuleNeighbour(ctx, queries.LeadRuleNeighbourParams{OrgID: r.OrgID, Up: up, Position: r.Position, ID: r.ID})
		if isNoRows(err) {
			return nil // already first or last
		}
		if err != nil {
			return err
		}
		mine, theirs := n.Position, r.Position
		if mine == theirs { // equal positions (concurrent adds): break the tie
			if up {
				mine--
			} else {
				mine++
			}
		}
		if err := q.SetLeadRulePosition(ctx, queries.SetLeadRulePositionParams{OrgID: r.OrgID, ID: r.ID, Position: mine}); err != nil {
			return err
		}
		return q.SetLeadRulePosition(ctx, queries.SetLeadRulePositionParams{OrgID: n.OrgID, ID: n.ID, Position: theirs})
	})
	if err != nil {
		return err
	}
	return web.Redirect(c, "/admin/lead-rules")
}

// SetDefaultOwner names who gets leads no rule assigns ("" for nobody).
func (h *Handler) SetDefaultOwner(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	v := strings.TrimSpace(c.FormValue("default_owner_id"))
	var owner *int64
	if v != "" {
		owners, _, err := h.ruleChoices(c)
		if err != nil {
			return err
		}
		var e string
		if owner, e = pick(owners, v); e != "" {
			return h.renderRules(c, fiber.StatusUnprocessableEntity, leadsview.RuleForm{Values: map[string]string{"action": "user"}}, e)
		}
	}
	if err := h.Q.SetDefaultLeadOwner(c.UserContext(), queries.SetDefaultLeadOwnerParams{OrgID: p.OrgID, DefaultOwnerID: owner}); err != nil {
		return err
	}
	web.Flash(c, "success", "rules.default_saved")
	return web.Redirect(c, "/admin/lead-rules")
}
