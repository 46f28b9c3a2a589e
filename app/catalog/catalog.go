// Package catalog is the org's products and services: article groups
// (nested one level), products with an exact price and a tax rate from the
// reference data, the searchable catalog list. Images, price lists and the
// product import come next.
package catalog

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pulso/app/ident"
	"pulso/app/money"
	"pulso/app/tax"
	"pulso/app/web"
	"pulso/queries"
	catalogview "pulso/views/catalog"
	"pulso/views/components"
)

// Handler serves /catalog.
type Handler struct{ web.Deps }

// New builds the catalog handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const pageSize = 25

var (
	listPage   = web.Page{Title: "catalog.title", Nav: "catalog", Fragment: "catalog-results"}
	formPage   = web.Page{Title: "catalog.title", Nav: "catalog", Fragment: "product-form"}
	groupsPage = web.Page{Title: "catalog.groups", Nav: "catalog"}
	codeRe     = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,40}$`)
)

func (h *Handler) groupOptions(ctx context.Context, orgID int64, topOnly bool) ([]components.SelectOption, error) {
	gs, err := h.Q.ListArticleGroups(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []components.SelectOption
	for _, g := range gs {
		if topOnly && g.ParentID != nil {
			continue
		}
		label := g.Name
		if g.ParentName != "" {
			label = g.ParentName + " › " + g.Name
		}
		out = append(out, components.SelectOption{Value: itoa(g.ID), Label: label, Raw: true})
	}
	return out, nil
}

// List is the catalog: search (code, name, description) and a group filter
// that includes its subgroups; everyone may look, admins edit.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	v := catalogview.ListPage{Q: c.Query("q"), Group: c.Query("group"), CanEdit: p.Role == web.RoleAdmin}
	params := queries.ListProductsParams{OrgID: p.OrgID, Search: web.SearchPattern(v.Q), PageSize: pageSize + 1}
	q := url.Values{}
	if v.Q != "" {
		q.Set("q", v.Q)
	}
	if id, err := strconv.ParseInt(v.Group, 10, 64); err == nil && id > 0 {
		params.GroupID = &id
		q.Set("group", v.Group)
	}
	if b, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && b > 0 {
		params.BeforeID = &b
	}
	rows, err := h.Q.ListProducts(ctx, params)
	if err != nil {
		return err
	}
	if v.Groups, err = h.groupOptions(ctx, p.OrgID, false); err != nil {
		return err
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	hashes, err := h.Q.ProductImageHashes(ctx, queries.ProductImageHashesParams{OrgID: p.OrgID, ProductIds: ids})
	if err != nil {
		return err
	}
	thumbs := map[int64]string{}
	for _, x := range hashes {
		thumbs[x.ProductID] = ImageURL(x.ProductID, x.Sha256, "thumb")
	}
	for i, r := range rows {
		if i == pageSize {
			q.Set("before", itoa(rows[pageSize-1].ID))
			v.MoreURL = "/catalog?" + q.Encode()
			break
		}
		v.Rows = append(v.Rows, catalogview.Row{ID: r.ID, Code: r.Code, Name: r.Name, Group: r.GroupName, Unit: r.Unit,
			Price: money.Format(r.Price, p.Currency), TaxRate: money.Number(money.Decimal(r.TaxRate), p.Currency), Active: r.Active, Thumb: thumbs[r.ID]})
	}
	return web.Render(c, fiber.StatusOK, listPage, catalogview.List(v))
}

func (h *Handler) renderForm(c *fiber.Ctx, status int, f catalogview.FormPage) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	var err error
	if f.Groups, err = h.groupOptions(ctx, p.OrgID, false); err != nil {
		return err
	}
	rates, err := tax.IVAOn(ctx, h.Q, p.OrgCountry, p.Today(time.Now()))
	if err != nil {
		return err
	}
	for _, r := range rates {
		f.Rates = append(f.Rates, components.SelectOption{Value: itoa(r.ID), Label: r.Label, Raw: true})
	}
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	return web.Render(c, status, formPage, catalogview.Form(f))
}

// NewForm is an empty product form (the country's general rate first).
func (h *Handler) NewForm(c *fiber.Ctx) error {
	return h.renderForm(c, fiber.StatusOK, catalogview.FormPage{Values: map[string]string{"unit": "ud", "active": "1"}})
}

type input struct {
	queries.CreateProductParams
	Version int32
}

// parse validates the form; every error is a message id next to its field.
func (h *Handler) parse(c *fiber.Ctx, p *web.Principal) (map[string]string, input, map[string]string, error) {
	ctx := c.UserContext()
	v := map[string]string{}
	for _, k := range []string{"code", "name", "description", "group_id", "unit", "price", "tax_rate_id", "active", "version"} {
		v[k] = strings.TrimSpace(c.FormValue(k))
	}
	errs := map[string]string{}
	in := input{CreateProductParams: queries.CreateProductParams{OrgID: p.OrgID, Code: v["code"], Name: v["name"], Description: v["description"],
		Unit: v["unit"], Active: v["active"] == "1"}}
	if !codeRe.MatchString(in.Code) {
		errs["code"] = "catalog.code_invalid"
	}
	switch {
	case in.Name == "":
		errs["name"] = "validation.required"
	case len([]rune(in.Name)) > 200 || !ident.CleanText(in.Name) || strings.ContainsAny(in.Name, "\n\t"):
		errs["name"] = "validation.bad_chars"
	}
	if len(in.Description) > 5000 || !ident.CleanText(in.Description) {
		errs["description"] = "validation.bad_chars"
	}
	valid := false
	for _, u := range catalogview.Units {
		valid = valid || u == in.Unit
	}
	if !valid {
		errs["unit"] = "validation.choice"
	}
	if n, err := money.ParseAmount(v["price"], p.OrgCountry); err != nil {
		errs["price"] = "customers.amount_invalid"
	} else if n == 0 {
		errs["price"] = "catalog.price_zero"
	} else {
		in.Price = n
	}
	rates, err := tax.IVAOn(ctx, h.Q, p.OrgCountry, p.Today(time.Now()))
	if err != nil {
		return v, in, errs, err
	}
	errs["tax_rate_id"] = "catalog.tax_rate_unknown"
	for _, r := range rates {
		if itoa(r.ID) == v["tax_rate_id"] {
			in.TaxRateID = r.ID
			delete(errs, "tax_rate_id")
		}
	}
	if v["group_id"] != "" {
		id, err := strconv.ParseInt(v["group_id"], 10, 64)
		if err != nil {
			errs["group_id"] = "validation.choice"
		} else if _, err := h.Q.GetArticleGroup(ctx, queries.GetArticleGroupParams{OrgID: p.OrgID, ID: id}); err != nil {
			if !errors.Is(err, pgx.ErrNoRows) {
				return v, in, errs, err
			}
			errs["group_id"] = "validation.choice"
		} else {
			in.GroupID = &id
		}
	}
	if n, err := strconv.ParseInt(v["version"], 10, 32); err == nil {
		in.Version = int32(n)
	}
	return v, in, errs, nil
}

// Create adds a product; a code used by another product is an error next
// to the field.
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	v, in, errs, err := h.parse(c, p)
	if err != nil {
		return err
	}
	if len(errs) == 0 {
		pr, err := h.Q.CreateProduct(c.UserContext(), in.CreateProductParams)
		if errors.Is(err, pgx.ErrNoRows) {
			errs["code"] = "catalog.code_taken"
		} else if err != nil {
			return err
		} else {
			web.Flash(c, "success", "catalog.saved")
			return web.Redirect(c, "/catalog/"+itoa(pr.ID))
		}
	}
	return h.renderForm(c, fiber.StatusUnprocessableEntity, catalogview.FormPage{Values: v, Errors: errs})
}

func (h *Handler) load(c *fiber.Ctx) (queries.Product, error) {
	pr, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.Product, error) {
		return h.Q.GetProduct(ctx, queries.GetProductParams{OrgID: org, ID: id})
	}, nil)
	return pr, err
}

// Show is the product form filled in (read by everyone, saved by admins).
func (h *Handler) Show(c *fiber.Ctx) error {
	pr, err := h.load(c)
	if err != nil {
		return err
	}
	v := map[string]string{"code": pr.Code, "name": pr.Name, "description": pr.Description, "unit": pr.Unit,
		"price":       money.Input(pr.Price, web.MustPrincipal(c).OrgCountry),
		"tax_rate_id": itoa(pr.TaxRateID), "version": strconv.Itoa(int(pr.Version))}
	if pr.GroupID != nil {
		v["group_id"] = itoa(*pr.GroupID)
	}
	if pr.Active {
		v["active"] = "1"
	}
	f := catalogview.FormPage{ID: pr.ID, Values: v}
	if img, err := h.Q.GetProductImage(c.UserContext(), queries.GetProductImageParams{OrgID: pr.OrgID, ProductID: pr.ID}); err == nil {
		f.Image = ImageURL(pr.ID, img.Sha256, "large")
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	f.CanEdit = web.MustPrincipal(c).Role == web.RoleAdmin
	return h.renderForm(c, fiber.StatusOK, f)
}

// Update saves an edit from the version the form was loaded with.
func (h *Handler) Update(c *fiber.Ctx) error {
	pr, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	v, in, errs, err := h.parse(c, p)
	if err != nil {
		return err
	}
	if in.Version <= 0 {
		errs["code"] = "validation.required"
	}
	if len(errs) == 0 {
		taken, err := h.Q.ProductCodeTaken(c.UserContext(), queries.ProductCodeTakenParams{OrgID: p.OrgID, Code: in.Code, ID: pr.ID})
		if err != nil {
			return err
		}
		if taken {
			errs["code"] = "catalog.code_taken"
		}
	}
	if len(errs) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, catalogview.FormPage{ID: pr.ID, Values: v, Errors: errs})
	}
	_, err = h.Q.UpdateProduct(c.UserContext(), queries.UpdateProductParams{OrgID: p.OrgID, ID: pr.ID, Version: in.Version, Code: in.Code,
		Name: in.Name, Description: in.Description, GroupID: in.GroupID, Unit: in.Unit, Price: in.Price, TaxRateID: in.TaxRateID, Active: in.Active})
	if errors.Is(err, pgx.ErrNoRows) {
		return h.renderForm(c, fiber.StatusConflict, catalogview.FormPage{ID: pr.ID, Values: v, Conflict: true})
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", "catalog.saved")
	return web.Redirect(c, "/catalog/"+itoa(pr.ID))
}

// Groups lists the article groups and adds one (a subgroup of a top-level
// group at most).
func (h *Handler) Groups(c *fiber.Ctx) error { return h.renderGroups(c, fiber.StatusOK, nil, nil) }

func (h *Handler) renderGroups(c *fiber.Ctx, status int, values, errs map[string]string) error {
	p := web.MustPrincipal(c)
	gs, err := h.Q.ListArticleGroups(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	v := catalogview.GroupsPage{Values: values, Errors: errs}
	if v.Values == nil {
		v.Values = map[string]string{}
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	for _, g := range gs {
		v.Groups = append(v.Groups, catalogview.Group{ID: g.ID, Name: g.Name, Parent: g.ParentName})
	}
	if v.Parents, err = h.groupOptions(c.UserContext(), p.OrgID, true); err != nil {
		return err
	}
	return web.Render(c, status, groupsPage, catalogview.Groups(v))
}

// AddGroup creates a group.
func (h *Handler) AddGroup(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	values := map[string]string{"name": strings.TrimSpace(c.FormValue("name")), "parent_id": c.FormValue("parent_id")}
	errs := map[string]string{}
	params := queries.CreateArticleGroupParams{OrgID: p.OrgID, Name: values["name"]}
	switch {
	case params.Name == "":
		errs["name"] = "validation.required"
	case len([]rune(params.Name)) > 120 || !ident.CleanText(params.Name) || strings.ContainsAny(params.Name, "\n\t"):
		errs["name"] = "validation.bad_chars"
	}
	if values["parent_id"] != "" {
		id, err := strconv.ParseInt(values["parent_id"], 10, 64)
		if err != nil {
			errs["parent_id"] = "validation.choice"
		} else {
			params.ParentID = &id
		}
	}
	if len(errs) == 0 {
		_, err := h.Q.CreateArticleGroup(c.UserContext(), params)
		var pgErr *pgconn.PgError
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			errs["name"] = "catalog.group_exists"
		case errors.As(err, &pgErr) && (pgErr.Code == "23514" || pgErr.Code == "23503"):
			// A subgroup's subgroup, or a parent that is not the org's.
			errs["parent_id"] = "catalog.parent_invalid"
		case err != nil:
			return err
		}
	}
	if len(errs) > 0 {
		return h.renderGroups(c, fiber.StatusUnprocessableEntity, values, errs)
	}
	return web.Redirect(c, "/catalog/groups")
}
