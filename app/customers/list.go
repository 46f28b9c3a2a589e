package customers

import (
	"net/url"
	"slices"

	"github.com/gofiber/fiber/v2"

	"pulso/app/ident"
	"pulso/app/web"
	"pulso/queries"
	customersview "pulso/views/customers"
)

const pageSize = 25

var listPage = web.Page{Title: "customers.title", Nav: "customers", Fragment: "customers-results"}

// listParams reads the list's filters (shared by the list and the export,
// so both show exactly the same customers) within the viewer's scope.
func listParams(c *fiber.Ctx, p *web.Principal, sc []int64) (customersview.Filters, queries.ListCustomersParams) {
	f := customersview.Filters{Q: c.Query("q"), Owner: c.Query("owner"), Tag: c.Query("tag"), Country: c.Query("country")}
	params := queries.ListCustomersParams{OrgID: p.OrgID, OwnerScope: sc, Search: web.SearchPattern(f.Q)}
	if f.Tag != "" && ident.CleanText(f.Tag) {
		params.Tag = &f.Tag
	}
	if slices.Contains(countries, f.Country) {
		params.Country = &f.Country
	}
	if id := c.QueryInt("owner"); id > 0 {
		o := int64(id)
		params.OwnerID = &o
	}
	return f, params
}

func (f filters) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"q": f.Q, "owner": f.Owner, "tag": f.Tag, "country": f.Country} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

type filters customersview.Filters

// List shows a keyset page of the customers the user may see, filtered.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	sc, err := web.Scope(c.UserContext(), h.Q, p)
	if err != nil {
		return err
	}
	f, params := listParams(c, p, sc)
	params.PageSize = pageSize + 1
	if b := c.QueryInt("before"); b > 0 {
		before := int64(b)
		params.BeforeID = &before
	}
	rows, err := h.Q.ListCustomers(c.UserContext(), params)
	if err != nil {
		return err
	}
	owners, err := h.owners(c, sc)
	if err != nil {
		return err
	}
	page := customersview.ListPage{Filters: f, Owners: owners, Export: p.Role.In(web.Exporters)}
	q := filters(f).query()
	if len(q) > 0 {
		page.ExportQuery = "?" + q.Encode()
	}
	if len(rows) > pageSize {
		rows = rows[:pageSize]
		q.Set("before", itoa(rows[len(rows)-1].Customer.ID))
		page.MoreURL = "/customers?" + q.Encode()
	}
	for _, r := range rows {
		cu := r.Customer
		page.Rows = append(page.Rows, customersview.Row{
			ID: cu.ID, LegalName: cu.LegalName, TradeName: cu.TradeName, TaxID: cu.TaxID, Country: cu.Country,
			Email: cu.Email, Phone: cu.Phone, OwnerName: r.OwnerName, Tags: cu.Tags,
		})
	}
	return web.Render(c, fiber.StatusOK, listPage, customersview.List(page))
}
