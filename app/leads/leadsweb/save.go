package leadsweb

import (
	"context"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/customers"
	"pulso/app/leads"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	leadsview "pulso/views/leads"
)

var formPage = web.Page{Title: "leads.new", Nav: "leads", Fragment: "lead-form"}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// renderForm shows the one-screen form, with errors and duplicates if any.
func (h *Handler) renderForm(c *fiber.Ctx, status int, sc []int64, v leadsview.FormPage) error {
	owners, err := h.owners(c, sc)
	if err != nil {
		return err
	}
	v.Owners, v.Statuses = owners, Statuses
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	if status == fiber.StatusConflict {
		// The duplicates or conflict notice is at the top of a long form;
		// on a phone the user is at its bottom, by the save button.
		c.Set(web.HXReswap, "outerHTML show:window:top")
	}
	page := formPage
	if v.ID != 0 {
		page.Title = "leads.edit"
	}
	return web.Render(c, status, page, leadsview.FormView(v))
}

// NewForm shows an empty form, owned by the rep who fills it.
func (h *Handler) NewForm(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	sc, err := web.Scope(c.UserContext(), h.Q, p)
	if err != nil {
		return err
	}
	f := Form{"country": p.OrgCountry, "status": "nuevo"}
	if p.Role != web.RoleAdmin {
		f["owner_id"] = itoa(p.UserID)
	}
	return h.renderForm(c, fiber.StatusOK, sc, leadsview.FormPage{Values: f})
}

// Create saves a new lead. When its e-mail, phone or tax id matches existing
// leads, the form comes back listing them so the user chooses: merge into
// one of them, or keep both (keep_both=1).
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	sc, err := web.Scope(c.UserContext(), h.Q, p)
	if err != nil {
		return err
	}
	f := formFrom(c)
	in, errs := parse(f)
	if in.OwnerID == nil && p.Role != web.RoleAdmin {
		in.OwnerID = &p.UserID
	}
	owners, err := h.owners(c, sc)
	if err != nil {
		return err
	}
	if errs["owner_id"] == "" && !web.OwnerAllowed(owners, in.OwnerID) {
		errs["owner_id"] = "validation.choice"
	}
	if len(errs) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, sc, leadsview.FormPage{Values: f, Errors: errs})
	}
	if mergeID, _ := strconv.ParseInt(c.FormValue("merge_into"), 10, 64); mergeID > 0 {
		return h.merge(c, sc, mergeID, in)
	}
	if c.FormValue("keep_both") != "1" {
		dups, err := h.Q.FindLeadDuplicates(ctx, queries.FindLeadDuplicatesParams{OrgID: p.OrgID, Email: in.Email, Phone: in.Phone, TaxID: in.TaxID})
		if err != nil {
			return err
		}
		if len(dups) > 0 {
			v := leadsview.FormPage{Values: f, Errors: map[string]string{}}
			for _, d := range dups {
				dv := viewLead(d)
				dv.Hidden = !web.InScope(sc, d.OwnerID) // shown as "exists", without its details
				v.Duplicates = append(v.Duplicates, dv)
			}
			return h.renderForm(c, fiber.StatusConflict, sc, v)
		}
	}
	var lead queries.Lead
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		owner, byRule := in.OwnerID, false
		if owner == nil {
			// Only admins may leave the owner out; the rules decide then.
			var err error
			if owner, err = leads.AssignOwner(ctx, q, p.OrgID, leads.LeadFacts{Source: "manual", Country: in.Country, Province: in.Province, Tags: in.Tags,
				Name: in.Name, ContactName: in.ContactName, Email: in.Email, Phone: in.Phone, TaxID: in.TaxID, City: in.City, Notes: in.Notes}); err != nil {
				return err
			}
			byRule = owner != nil
		}
		var err error
		lead, err = q.CreateLead(ctx, queries.CreateLeadParams{
			OrgID: p.OrgID, Name: in.Name, ContactName: in.ContactName, Email: in.Email, Phone: in.Phone, TaxID: in.TaxID,
			Country: in.Country, Province: in.Province, City: in.City, Source: "manual", OwnerID: owner,
			Status: in.Status, DiscardReason: in.DiscardReason, Notes: in.Notes, Tags: tagsOrEmpty(in.Tags), CreatedBy: &p.UserID,
		})
		if err != nil {
			return err
		}
		if err := leads.Publish(ctx, q, lead, "created"); err != nil {
			return err
		}
		if err := recordActivity(ctx, q, lead, &p.UserID, "created", nil); err != nil {
			return err
		}
		if byRule {
			// The rules chose the owner: the system acted, not the user.
			if err := recordActivity(ctx, q, lead, nil, "assigned", map[string][2]string{"owner": {"", leadValues(lead, ownerNames(owners))["owner"]}}); err != nil {
				return err
			}
		}
		if byRule && *owner != p.UserID {
			// Nobody needs telling about a lead they just gave themselves.
			return leads.NotifyAssigned(ctx, tx, h.Jobs, lead)
		}
		return nil
	})
	if err != nil {
		return err
	}
	web.Flash(c, "success", "leads.created")
	return web.Redirect(c, "/leads/"+itoa(lead.ID))
}

// merge folds the new data into an existing lead the user may see: empty
// fields are filled, notes appended, tags united; nothing is overwritten.
func (h *Handler) merge(c *fiber.Ctx, sc []int64, id int64, in Input) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	owners, err := h.owners(c, nil)
	if err != nil {
		return err
	}
	names := ownerNames(owners)
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		l, err := q.GetLead(ctx, queries.GetLeadParams{OrgID: p.OrgID, ID: id})
		if err != nil {
			return err
		}
		if !web.InScope(sc, l.OwnerID) {
			return web.ErrNotFound
		}
		before := leadValues(l, names)
		fill := func(dst *string, v string) {
			if *dst == "" {
				*dst = v
			}
		}
		fill(&l.ContactName, in.ContactName)
		fill(&l.Email, in.Email)
		fill(&l.Phone, in.Phone)
		fill(&l.TaxID, in.TaxID)
		fill(&l.Province, in.Province)
		fill(&l.City, in.City)
		if in.Notes != "" {
			if l.Notes != "" {
				l.Notes += "\n\n"
			}
			l.Notes += in.Notes
		}
		for _, t := range in.Tags {
			if !slices.Contains(l.Tags, t) {
				l.Tags = append(l.Tags, t)
			}
		}
		updated, err := q.UpdateLead(ctx, updateParams(l, l.Version))
		if err != nil {
			return err
		}
		if err := recordActivity(ctx, q, updated, &p.UserID, "merged", changed(before, leadValues(updated, names))); err != nil {
			return err
		}
		return leads.Publish(ctx, q, updated, "merged")
	})
	if err != nil {
		return err
	}
	web.Flash(c, "success", "leads.merged")
	return web.Redirect(c, "/leads/"+itoa(id))
}

func tagsOrEmpty(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

func updateParams(l queries.Lead, version int32) queries.UpdateLeadParams {
	return queries.UpdateLeadParams{
		OrgID: l.OrgID, ID: l.ID, Version: version, Name: l.Name, ContactName: l.ContactName, Email: l.Email,
		Phone: l.Phone, TaxID: l.TaxID, Country: l.Country, Province: l.Province, City: l.City, OwnerID: l.OwnerID,
		Status: l.Status, DiscardReason: l.DiscardReason, Notes: l.Notes, Tags: tagsOrEmpty(l.Tags),
	}
}

// Show is the lead's page.
func (h *Handler) Show(c *fiber.Ctx) error {
	l, sc, err := h.load(c)
	if err != nil {
		return err
	}
	owners, err := h.owners(c, sc)
	if err != nil {
		return err
	}
	v := viewLead(l)
	for _, o := range owners {
		if o.Value == itoa(v.OwnerID) {
			v.OwnerName = o.Label
		}
	}
	loc := web.MustPrincipal(c).Location()
	v.CreatedText = l.CreatedAt.In(loc).Format("02/01/2006 15:04")
	if v.Timeline, err = customers.LeadTimeline(c.UserContext(), h.Q, l.OrgID, l.ID, loc); err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, web.Page{Title: "leads.title", Nav: "leads"}, leadsview.Show(v))
}

// EditForm shows the form filled with the lead.
func (h *Handler) EditForm(c *fiber.Ctx) error {
	l, sc, err := h.load(c)
	if err != nil {
		return err
	}
	return h.renderForm(c, fiber.StatusOK, sc, leadsview.FormPage{ID: l.ID, Values: formOf(l), Converted: l.Status == "convertido"})
}

// Update saves an edit made from the version the form was loaded with; if
// someone saved in between, the user is told and nothing is overwritten.
func (h *Handler) Update(c *fiber.Ctx) error {
	l, sc, err := h.load(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := formFrom(c)
	in, errs := parse(f)
	owners, err := h.owners(c, sc)
	if err != nil {
		return err
	}
	if errs["owner_id"] == "" && !web.OwnerAllowed(owners, in.OwnerID) {
		errs["owner_id"] = "validation.choice"
	}
	if in.Version == 0 {
		errs["version"] = "validation.required"
	}
	if l.Status == "convertido" {
		in.Status = "convertido" // conversion is one-way, not a form choice
		delete(errs, "status")
	}
	if len(errs) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, sc, leadsview.FormPage{ID: l.ID, Values: f, Errors: errs, Converted: l.Status == "convertido"})
	}
	next := l
	next.Name, next.ContactName, next.Email, next.Phone, next.TaxID = in.Name, in.ContactName, in.Email, in.Phone, in.TaxID
	next.Country, next.Province, next.City, next.OwnerID = in.Country, in.Province, in.City, in.OwnerID
	next.Status, next.DiscardReason, next.Notes, next.Tags = in.Status, in.DiscardReason, in.Notes, in.Tags
	p := web.MustPrincipal(c)
	names := ownerNames(owners)
	if sc != nil {
		// The previous owner may be outside the editor's team.
		all, err := h.owners(c, nil)
		if err != nil {
			return err
		}
		names = ownerNames(all)
	}
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		updated, err := q.UpdateLead(ctx, updateParams(next, in.Version))
		if isNoRows(err) {
			return errConflict
		}
		if err != nil {
			return err
		}
		// The timeline: field changes as "updated", a new owner as "assigned".
		changes := changed(leadValues(l, names), leadValues(updated, names))
		if ch, ok := changes["owner"]; ok {
			delete(changes, "owner")
			if err := recordActivity(ctx, q, updated, &p.UserID, "assigned", map[string][2]string{"owner": ch}); err != nil {
				return err
			}
		}
		if len(changes) > 0 {
			if err := recordActivity(ctx, q, updated, &p.UserID, "updated", changes); err != nil {
				return err
			}
		}
		return leads.Publish(ctx, q, updated, "updated")
	})
	if err == errConflict {
		return h.renderForm(c, fiber.StatusConflict, sc, leadsview.FormPage{ID: l.ID, Values: f, Errors: map[string]string{}, Conflict: true, Converted: l.Status == "convertido"})
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", "leads.saved")
	return web.Redirect(c, "/leads/"+itoa(l.ID))
}
