// Package operatorweb serves the operator's plan pages (/operador/planes):
// the plans every org subscribes to — their voucher and store-user limits,
// what happens at the limit, and their monthly prices in each currency —
// listed with how many orgs are on each, edited, and added. Only the
// admins of the operator's org reach them (auth.RequireOperatorAdmin);
// anyone else is told they do not exist.
//
// A plan edit changes the plan row and nothing else: subscribers meet the
// new limits from their next voucher on, and what already happened (the
// month's counts, crossed thresholds, subscription history) stays as it
// was. There is no audit table for the operator's own data, so who changed
// what is written to the log (one "plan saved" line per save, with the
// changes).
package operatorweb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/plans"
	"pulso/app/web"
	"pulso/queries"
	operatorview "pulso/views/operator"
)

// Path is the plan list; the other routes hang off it.
const Path = operatorview.Path

// Handler serves the operator's plan pages.
type Handler struct{ web.Deps }

// New builds the handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

var (
	listPage = web.Page{Title: "operator.plans_title", Nav: "operator_plans"}
	formPage = web.Page{Title: "operator.plans_title", Nav: "operator_plans", Fragment: "plan-form"}
)

// subscribers is how many orgs are on each plan.
func (h *Handler) subscribers(ctx context.Context) (map[int64]int, error) {
	rows, err := h.Q.CountPlanSubscribers(ctx)
	n := make(map[int64]int, len(rows))
	for _, r := range rows {
		n[r.PlanID] = int(r.Orgs)
	}
	return n, err
}

// List is GET /operador/planes.
func (h *Handler) List(c *fiber.Ctx) error {
	ctx := c.UserContext()
	cat, err := plans.LoadCatalog(ctx, h.Q)
	if err != nil {
		return err
	}
	subs, err := h.subscribers(ctx)
	if err != nil {
		return err
	}
	var v operatorview.PlansPage
	for _, pl := range cat.Plans {
		r := operatorview.PlanRow{ID: pl.ID, Code: pl.Code, Name: pl.Name, StoreUsers: int(pl.StoreUsers), AtLimit: pl.AtLimit,
			Active: pl.Active, Subscribers: subs[pl.ID]}
		if pl.Vouchers != nil {
			r.Vouchers = strconv.Itoa(int(*pl.Vouchers))
		}
		for _, cur := range plans.Currencies {
			pr, ok := cat.Prices[pl.ID][cur]
			if !ok {
				continue
			}
			cell := operatorview.PriceCell{Currency: cur, Monthly: money.Format(pr.Monthly, cur)}
			if pl.AtLimit == plans.Overage {
				cell.Overage = money.Format(pr.Overage, cur)
			}
			r.Prices = append(r.Prices, cell)
		}
		v.Plans = append(v.Plans, r)
	}
	return web.Render(c, fiber.StatusOK, listPage, operatorview.Plans(v))
}

// NewForm is GET /operador/planes/nuevo: an empty plan that blocks at its
// limit and is offered.
func (h *Handler) NewForm(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, operatorview.FormPage{Values: map[string]string{"at_limit": plans.Block, "active": "1"}})
}

func (h *Handler) render(c *fiber.Ctx, status int, f operatorview.FormPage) error {
	f.Currencies = plans.Currencies
	if f.ID != 0 {
		subs, err := h.subscribers(c.UserContext())
		if err != nil {
			return err
		}
		f.Subscribers = subs[f.ID]
	}
	return web.Render(c, status, formPage, operatorview.PlanForm(f))
}

// load is the route's plan: web.Load with the plan as the row (plans are
// the operator's, not any org's, so the org is not part of the key). A
// malformed or unknown id is a 404.
func (h *Handler) load(c *fiber.Ctx) (queries.Plan, plans.Draft, error) {
	pl, _, err := web.Load(c, h.Q, func(ctx context.Context, _, id int64) (queries.Plan, error) {
		return h.Q.GetPlan(ctx, id)
	}, nil)
	if err != nil {
		return pl, plans.Draft{}, err
	}
	cat, err := plans.LoadCatalog(c.UserContext(), h.Q)
	if err != nil {
		return pl, plans.Draft{}, err
	}
	d := plans.Draft{Code: pl.Code, Name: pl.Name, Vouchers: pl.Vouchers, StoreUsers: pl.StoreUsers, AtLimit: pl.AtLimit, Active: pl.Active,
		Prices: map[string]plans.Price{}}
	for cur, pr := range cat.Prices[pl.ID] {
		d.Prices[cur] = plans.Price{Monthly: pr.Monthly, Overage: pr.Overage}
	}
	return pl, d, nil
}

// Edit is GET /operador/planes/:id: the plan's form, filled in.
func (h *Handler) Edit(c *fiber.Ctx) error {
	pl, d, err := h.load(c)
	if err != nil {
		return err
	}
	v := values(d, web.MustPrincipal(c).OrgCountry)
	v["loaded_at"] = strconv.FormatInt(pl.UpdatedAt.UnixMicro(), 10)
	return h.render(c, fiber.StatusOK, operatorview.FormPage{ID: pl.ID, Values: v})
}

// values writes a plan as its form shows it: amounts as the operator's
// country types them; a plan that blocks shows no overage price unless it
// has one.
func values(d plans.Draft, country string) map[string]string {
	v := map[string]string{"code": d.Code, "name": d.Name, "title": d.Name, "store_users": strconv.Itoa(int(d.StoreUsers)), "at_limit": d.AtLimit}
	if d.Vouchers == nil {
		v["unlimited"] = "1"
	} else {
		v["vouchers"] = strconv.Itoa(int(*d.Vouchers))
	}
	if d.Active {
		v["active"] = "1"
	}
	for cur, pr := range d.Prices {
		v["monthly_"+cur] = money.Input(pr.Monthly, country)
		if pr.Overage != 0 || d.AtLimit == plans.Overage {
			v["overage_"+cur] = money.Input(pr.Overage, country)
		}
	}
	return v
}

// parse reads the form into a plan; every error is a catalog id next to
// its field. Text that is not a number is refused here; what a plan may
// not be (a limit of 0, an overage plan without its price) is
// plans.Draft.Problems'.
func parse(c *fiber.Ctx, country string, isNew bool) (map[string]string, plans.Draft, map[string]string) {
	fields := []string{"code", "name", "vouchers", "unlimited", "store_users", "at_limit", "active", "loaded_at"}
	for _, cur := range plans.Currencies {
		fields = append(fields, "monthly_"+cur, "overage_"+cur)
	}
	v := map[string]string{}
	for _, k := range fields {
		v[k] = strings.TrimSpace(c.FormValue(k))
	}
	errs := map[string]string{}
	d := plans.Draft{Code: v["code"], Name: v["name"], AtLimit: v["at_limit"], Active: v["active"] == "1", Prices: map[string]plans.Price{}}
	switch {
	case v["unlimited"] == "1" && v["vouchers"] != "":
		errs["vouchers"] = "operator.vouchers_both"
	case v["unlimited"] == "1":
	case v["vouchers"] == "":
		errs["vouchers"] = "operator.vouchers_required"
	default:
		if n, msg := whole(v["vouchers"], "operator.vouchers_range"); msg != "" {
			errs["vouchers"] = msg
		} else {
			d.Vouchers = &n
		}
	}
	if v["store_users"] == "" {
		errs["store_users"] = "validation.required"
	} else if n, msg := whole(v["store_users"], "operator.store_users_range"); msg != "" {
		errs["store_users"] = msg
	} else {
		d.StoreUsers = n
	}
	for _, cur := range plans.Currencies {
		monthly, overage := v["monthly_"+cur], v["overage_"+cur]
		var pr plans.Price
		var err error
		if monthly == "" {
			continue // Problems: the price is required
		}
		if pr.Monthly, err = money.ParseAmount(monthly, country); err != nil {
			errs["monthly_"+cur] = "operator.price_invalid"
		}
		if overage != "" {
			if pr.Overage, err = money.ParseAmount(overage, country); err != nil {
				errs["overage_"+cur] = "operator.price_invalid"
			}
		}
		if errs["monthly_"+cur] == "" && errs["overage_"+cur] == "" {
			d.Prices[cur] = pr
		}
	}
	for k, msg := range d.Problems(isNew) {
		if _, ok := errs[k]; !ok {
			errs[k] = msg
		}
	}
	// A currency left out for a typing error is not also "missing".
	for _, cur := range plans.Currencies {
		if errs["overage_"+cur] == "operator.price_invalid" && errs["monthly_"+cur] == "operator.price_required" {
			delete(errs, "monthly_"+cur)
		}
	}
	return v, d, errs
}

// whole reads a count typed as plain digits (a sign is read, and its
// value refused by Problems); tooBig is the message for a number past
// int32.
func whole(s, tooBig string) (int32, string) {
	n, err := strconv.ParseInt(s, 10, 32)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, tooBig
	case err != nil:
		return 0, "operator.number_invalid"
	}
	return int32(n), ""
}

// Create is POST /operador/planes: a new plan, ranked above the others.
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	v, d, errs := parse(c, p.OrgCountry, true)
	if len(errs) == 0 {
		var pl queries.Plan
		err := live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) (err error) {
			pl, err = plans.Create(ctx, tx, d)
			return err
		})
		switch {
		case errors.Is(err, plans.ErrCodeTaken):
			errs["code"] = "operator.code_taken"
		case err != nil:
			return err
		default:
			h.Log.InfoContext(ctx, "plan saved", "org_id", p.OrgID, "user_id", p.UserID, "plan_id", pl.ID, "code", pl.Code,
				"changes", changes(plans.Draft{}, d))
			web.Flash(c, "success", "operator.created")
			return web.Redirect(c, Path)
		}
	}
	return h.render(c, fiber.StatusUnprocessableEntity, operatorview.FormPage{Values: v, Errors: errs})
}

// Update is POST /operador/planes/:id: the plan saved over the version
// its form was loaded with.
func (h *Handler) Update(c *fiber.Ctx) error {
	pl, before, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	v, d, errs := parse(c, p.OrgCountry, false)
	v["code"], v["title"] = pl.Code, pl.Name
	if len(errs) > 0 {
		return h.render(c, fiber.StatusUnprocessableEntity, operatorview.FormPage{ID: pl.ID, Values: v, Errors: errs})
	}
	d.Code = pl.Code
	// A missing or forged loaded_at matches no version: a conflict.
	micros, _ := strconv.ParseInt(v["loaded_at"], 10, 64)
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := plans.Update(ctx, tx, pl.ID, time.UnixMicro(micros), d)
		return err
	})
	if errors.Is(err, plans.ErrStale) {
		return h.render(c, fiber.StatusConflict, operatorview.FormPage{ID: pl.ID, Values: v, Conflict: true})
	}
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "plan saved", "org_id", p.OrgID, "user_id", p.UserID, "plan_id", pl.ID, "code", pl.Code,
		"changes", changes(before, d))
	web.Flash(c, "success", "operator.saved")
	return web.Redirect(c, Path)
}

// changes says what a save changed, for the log line that records it.
func changes(before, after plans.Draft) string {
	var out []string
	add := func(field string, was, is any) {
		if fmt.Sprint(was) != fmt.Sprint(is) {
			out = append(out, fmt.Sprintf("%s %v→%v", field, was, is))
		}
	}
	limit := func(n *int32) string {
		if n == nil {
			return "unlimited"
		}
		return strconv.Itoa(int(*n))
	}
	add("name", before.Name, after.Name)
	add("vouchers", limit(before.Vouchers), limit(after.Vouchers))
	add("store_users", before.StoreUsers, after.StoreUsers)
	add("at_limit", before.AtLimit, after.AtLimit)
	add("active", before.Active, after.Active)
	for _, cur := range plans.Currencies {
		add("monthly_"+cur, before.Prices[cur].Monthly, after.Prices[cur].Monthly)
		add("overage_"+cur, before.Prices[cur].Overage, after.Prices[cur].Overage)
	}
	return strings.Join(out, "; ")
}
