package pipelineweb

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/ident"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/pipeline"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	pipelineview "pulso/views/pipeline"
)

var formPage = web.Page{Title: "pipeline.title", Nav: "pipeline", Fragment: "opportunity-form"}

func strconvAtoi32(s string) (int32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	return int32(n), err
}

func strconvParse64(s string) (int64, error) { return strconv.ParseInt(strings.TrimSpace(s), 10, 64) }

// input is the form, validated.
type input struct {
	CustomerID  int64
	Title       string
	Amount      int64
	Probability int32
	Close       pgtype.Date
	OwnerID     *int64
	// GroupID is the product line (article_groups), nil for none.
	GroupID *int64
	Notes   string
	Version int32
}

func formValues(c *fiber.Ctx) map[string]string {
	v := map[string]string{}
	for _, k := range []string{"customer_id", "title", "amount", "probability", "expected_close", "owner_id", "article_group_id", "notes", "version"} {
		v[k] = c.FormValue(k)
	}
	return v
}

// parse validates the form: every error is a message id next to its field.
func parse(v map[string]string, country string) (input, map[string]string) {
	var in input
	errs := map[string]string{}
	if id, err := strconvParse64(v["customer_id"]); err != nil || id <= 0 {
		errs["customer_id"] = "validation.required"
	} else {
		in.CustomerID = id
	}
	in.Title = strings.TrimSpace(v["title"])
	switch {
	case in.Title == "":
		errs["title"] = "validation.required"
	case len([]rune(in.Title)) > 200 || !ident.CleanText(in.Title):
		errs["title"] = "validation.bad_chars"
	}
	if strings.TrimSpace(v["amount"]) == "" {
		in.Amount = 0
	} else if n, err := money.ParseAmount(v["amount"], country); err != nil {
		errs["amount"] = "customers.amount_invalid"
	} else {
		in.Amount = n
	}
	if p, err := strconvAtoi32(v["probability"]); err != nil || p < 0 || p > 100 {
		errs["probability"] = "pipeline.probability_invalid"
	} else {
		in.Probability = p
	}
	if s := strings.TrimSpace(v["expected_close"]); s != "" {
		d, err := time.Parse("2006-01-02", s)
		if err != nil || d.Year() < 2000 || d.Year() > 2100 {
			errs["expected_close"] = "pipeline.date_invalid"
		} else {
			in.Close = pgtype.Date{Time: d, Valid: true}
		}
	}
	if s := v["owner_id"]; s != "" {
		if id, err := strconvParse64(s); err == nil && id > 0 {
			in.OwnerID = &id
		} else {
			errs["owner_id"] = "validation.choice"
		}
	} else {
		errs["owner_id"] = "validation.required"
	}
	if s := v["article_group_id"]; s != "" {
		if id, err := strconvParse64(s); err == nil && id > 0 {
			in.GroupID = &id
		} else {
			errs["article_group_id"] = "validation.choice"
		}
	}
	in.Notes = v["notes"]
	if len(in.Notes) > 10000 || !ident.CleanText(in.Notes) {
		errs["notes"] = "validation.bad_chars"
	}
	if v["version"] != "" {
		if n, err := strconvAtoi32(v["version"]); err == nil && n > 0 {
			in.Version = n
		} else {
			errs["version"] = "validation.required"
		}
	}
	return in, errs
}

func (h *Handler) formPage(ctx context.Context, p *web.Principal, sc []int64, f pipelineview.FormPage) (pipelineview.FormPage, error) {
	owners, err := web.Owners(ctx, h.Q, p, sc, "")
	if err != nil {
		return f, err
	}
	f.Owners = owners
	cs, err := h.Q.ListCustomerChoices(ctx, queries.ListCustomerChoicesParams{OrgID: p.OrgID, OwnerScope: sc})
	if err != nil {
		return f, err
	}
	f.Customers = []components.SelectOption{{Value: "", Label: "pipeline.choose_customer"}}
	for _, c := range cs {
		f.Customers = append(f.Customers, components.SelectOption{Value: itoa(c.ID), Label: c.LegalName, Raw: true})
	}
	groups, err := h.Q.ListArticleGroups(ctx, p.OrgID)
	if err != nil {
		return f, err
	}
	f.Groups = []components.SelectOption{{Value: "", Label: "pipeline.no_product_line"}}
	for _, g := range groups {
		label := g.Name
		if g.ParentName != "" {
			label = g.ParentName + " › " + g.Name
		}
		f.Groups = append(f.Groups, components.SelectOption{Value: itoa(g.ID), Label: label, Raw: true})
	}
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	return f, nil
}

func (h *Handler) renderForm(c *fiber.Ctx, status int, sc []int64, f pipelineview.FormPage) error {
	f, err := h.formPage(c.UserContext(), web.MustPrincipal(c), sc, f)
	if err != nil {
		return err
	}
	return web.Render(c, status, formPage, pipelineview.Form(f))
}

// NewForm is an empty form; ?customer_id= preselects the customer (the
// customer page links here).
func (h *Handler) NewForm(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	sc, err := web.Scope(c.UserContext(), h.Q, p)
	if err != nil {
		return err
	}
	stages, err := h.Q.ListPipelineStages(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	prob := "10"
	if len(stages) > 0 {
		prob = strconv.Itoa(int(stages[0].Probability))
	}
	return h.renderForm(c, fiber.StatusOK, sc, pipelineview.FormPage{Values: map[string]string{
		"customer_id": c.Query("customer_id"), "probability": prob, "owner_id": itoa(p.UserID)}})
}

// customerAllowed checks the chosen customer is one the viewer may see.
func (h *Handler) customerAllowed(ctx context.Context, p *web.Principal, sc []int64, id int64) (bool, error) {
	cu, err := h.Q.GetCustomer(ctx, queries.GetCustomerParams{OrgID: p.OrgID, ID: id})
	if isNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return web.InScope(sc, cu.OwnerID), nil
}

func (h *Handler) check(c *fiber.Ctx, p *web.Principal, sc []int64, in input, errs map[string]string) error {
	ctx := c.UserContext()
	if errs["customer_id"] == "" {
		ok, err := h.customerAllowed(ctx, p, sc, in.CustomerID)
		if err != nil {
			return err
		}
		if !ok {
			errs["customer_id"] = "validation.choice"
		}
	}
	if in.GroupID != nil && errs["article_group_id"] == "" {
		// Only the org's own groups: an id from another org is refused here
		// (and by the foreign key, which includes org_id).
		if _, err := h.Q.GetArticleGroup(ctx, queries.GetArticleGroupParams{OrgID: p.OrgID, ID: *in.GroupID}); isNoRows(err) {
			errs["article_group_id"] = "validation.choice"
		} else if err != nil {
			return err
		}
	}
	if errs["owner_id"] == "" {
		owners, err := web.Owners(ctx, h.Q, p, sc, "")
		if err != nil {
			return err
		}
		if !web.OwnerAllowed(owners, in.OwnerID) {
			errs["owner_id"] = "validation.choice"
		}
	}
	return nil
}

// Create saves a new deal in the first stage.
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	v := formValues(c)
	in, errs := parse(v, p.OrgCountry)
	delete(errs, "version")
	if err := h.check(c, p, sc, in, errs); err != nil {
		return err
	}
	if len(errs) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, sc, pipelineview.FormPage{Values: v, Errors: errs})
	}
	var id int64
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		o, err := q.CreateOpportunityFull(ctx, queries.CreateOpportunityFullParams{OrgID: p.OrgID, CustomerID: in.CustomerID,
			Title: in.Title, Amount: in.Amount, Probability: in.Probability, ExpectedClose: in.Close, OwnerID: in.OwnerID,
			Notes: in.Notes, CreatedBy: &p.UserID, ArticleGroupID: in.GroupID})
		if err != nil {
			return err
		}
		id = o.ID
		if _, err := q.InsertActivity(ctx, queries.InsertActivityParams{OrgID: p.OrgID, CustomerID: &o.CustomerID, OpportunityID: &o.ID,
			ActorID: &p.UserID, Kind: "opportunity_created", Summary: o.Title, Data: []byte(`{}`)}); err != nil {
			return err
		}
		return pipeline.Publish(ctx, q, "created", nil, o)
	})
	if err != nil {
		return err
	}
	web.Flash(c, "success", "pipeline.created")
	return web.Redirect(c, "/opportunities/"+itoa(id))
}

// EditForm shows the form filled with the deal.
func (h *Handler) EditForm(c *fiber.Ctx) error {
	o, sc, err := h.load(c)
	if err != nil {
		return err
	}
	return h.renderForm(c, fiber.StatusOK, sc, pipelineview.FormPage{ID: o.ID, Values: valuesOf(o)})
}

func valuesOf(o queries.GetOpportunityRow) map[string]string {
	v := map[string]string{"customer_id": itoa(o.CustomerID), "title": o.Title, "amount": amountInput(o.Amount),
		"probability": strconv.Itoa(int(o.Probability)), "notes": o.Notes, "version": strconv.Itoa(int(o.Version))}
	if o.ExpectedClose.Valid {
		v["expected_close"] = o.ExpectedClose.Time.Format("2006-01-02")
	}
	if o.OwnerID != nil {
		v["owner_id"] = itoa(*o.OwnerID)
	}
	if o.ArticleGroupID != nil {
		v["article_group_id"] = itoa(*o.ArticleGroupID)
	}
	return v
}

// amountInput writes cents for the form as every country's parser reads
// them back: ES and AR take the comma as the decimal mark, and MX takes a
// lone comma followed by two digits as one too (money.ParseAmount).
func amountInput(minor int64) string {
	return strconv.FormatInt(minor/100, 10) + "," + strconv.FormatInt(minor%100/10, 10) + strconv.FormatInt(minor%10, 10)
}

// Update saves an edit made from the version the form was loaded with.
func (h *Handler) Update(c *fiber.Ctx) error {
	o, sc, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	v := formValues(c)
	in, errs := parse(v, p.OrgCountry)
	if in.Version == 0 && errs["version"] == "" {
		errs["version"] = "validation.required"
	}
	if err := h.check(c, p, sc, in, errs); err != nil {
		return err
	}
	if len(errs) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, sc, pipelineview.FormPage{ID: o.ID, Values: v, Errors: errs})
	}
	ctx := c.UserContext()
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		saved, err := q.UpdateOpportunity(ctx, queries.UpdateOpportunityParams{OrgID: p.OrgID, ID: o.ID, Version: in.Version,
			CustomerID: in.CustomerID, Title: in.Title, Amount: in.Amount, Probability: in.Probability, ExpectedClose: in.Close,
			OwnerID: in.OwnerID, Notes: in.Notes, UpdatedBy: &p.UserID, ArticleGroupID: in.GroupID})
		if isNoRows(err) {
			return errConflict
		}
		if err != nil {
			return err
		}
		return pipeline.Publish(ctx, q, "updated", pipeline.StateOf(o.Stage, o.Amount, o.OwnerID, o.ExpectedClose), saved)
	})
	if err == errConflict {
		cur, err := h.Q.GetOpportunity(c.UserContext(), queries.GetOpportunityParams{OrgID: p.OrgID, ID: o.ID})
		if err != nil {
			return err
		}
		return h.renderForm(c, fiber.StatusConflict, sc, pipelineview.FormPage{ID: o.ID, Values: v, Conflict: true, ConflictBy: cur.EditorName})
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", "pipeline.saved")
	return web.Redirect(c, "/opportunities/"+itoa(o.ID))
}

// Delete hides a deal from every list, count and lookup, from the version
// the viewer saw (the route lets managers and admins only). The row, its
// stage history and timeline stay, for reports and for the record.
func (h *Handler) Delete(c *fiber.Ctx) error {
	o, _, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	version, err := strconvAtoi32(c.FormValue("version"))
	if err != nil || version <= 0 {
		return h.renderShow(c, fiber.StatusUnprocessableEntity, o, map[string]string{"stage": "validation.required"})
	}
	ctx := c.UserContext()
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		if _, err := q.DeleteOpportunity(ctx, queries.DeleteOpportunityParams{OrgID: p.OrgID, ID: o.ID, Version: version, DeletedBy: &p.UserID}); isNoRows(err) {
			return errConflict
		} else if err != nil {
			return err
		}
		gone := queries.Opportunity{OrgID: o.OrgID, ID: o.ID, OwnerID: o.OwnerID}
		return pipeline.Publish(ctx, q, "deleted", pipeline.StateOf(o.Stage, o.Amount, o.OwnerID, o.ExpectedClose), gone)
	})
	if err == errConflict {
		return h.conflict(c, o.ID)
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", "pipeline.deleted")
	return web.Redirect(c, "/opportunities/board")
}
