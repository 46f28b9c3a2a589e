package leadsweb

import (
	"net/url"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/ident"
	"pulso/app/web"
	"pulso/queries"
	leadsview "pulso/views/leads"
)

const pageSize = 25

var listPage = web.Page{Title: "leads.title", Nav: "leads", Fragment: "leads-results"}

// List shows a keyset page of the leads the user may see, filtered.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	sc, err := web.Scope(c.UserContext(), h.Q, p)
	if err != nil {
		return err
	}
	f := leadsview.Filters{
		Q: c.Query("q"), Status: c.Query("status"), Source: c.Query("source"), Tag: c.Query("tag"),
		Owner: c.Query("owner"), From: c.Query("from"), To: c.Query("to"),
	}
	params := queries.ListLeadsParams{OrgID: p.OrgID, OwnerScope: sc, PageSize: pageSize + 1, Search: web.SearchPattern(f.Q)}
	opt := func(v string, allowed []string) *string {
		if v == "" || !slices.Contains(allowed, v) {
			return nil
		}
		return &v
	}
	params.Status = opt(f.Status, Statuses)
	params.Source = opt(f.Source, Sources)
	if f.Tag != "" && ident.CleanText(f.Tag) {
		params.Tag = &f.Tag
	}
	if id := c.QueryInt("owner"); id > 0 {
		o := int64(id)
		params.OwnerID = &o
	}
	loc := p.Location()
	if t, err := time.ParseInLocation("2006-01-02", f.From, loc); err == nil {
		params.CreatedFrom = &t
	}
	if t, err := time.ParseInLocation("2006-01-02", f.To, loc); err == nil {
		end := t.AddDate(0, 0, 1) // the "to" day is included
		params.CreatedTo = &end
	}
	if b := c.QueryInt("before"); b > 0 {
		before := int64(b)
		params.BeforeID = &before
	}
	rows, err := h.Q.ListLeads(c.UserContext(), params)
	if err != nil {
		return err
	}
	owners, err := h.owners(c, sc)
	if err != nil {
		return err
	}
	page := leadsview.ListPage{Filters: f, Owners: owners, Statuses: Statuses, Sources: Sources}
	if len(rows) > pageSize {
		rows = rows[:pageSize]
		page.NextID = rows[len(rows)-1].ID
	}
	names := map[string]string{}
	for _, o := range owners {
		names[o.Value] = o.Label
	}
	for _, l := range rows {
		v := viewLead(l)
		if l.OwnerID != nil {
			v.OwnerName = names[itoa(*l.OwnerID)]
		}
		v.CreatedText = l.CreatedAt.In(loc).Format("02/01/2006")
		page.Leads = append(page.Leads, v)
	}
	if page.NextID > 0 {
		q := url.Values{}
		for k, v := range map[string]string{"q": f.Q, "status": f.Status, "source": f.Source, "tag": f.Tag, "owner": f.Owner, "from": f.From, "to": f.To} {
			if v != "" {
				q.Set(k, v)
			}
		}
		q.Set("before", itoa(page.NextID))
		page.MoreURL = "/leads?" + q.Encode()
	}
	return web.Render(c, fiber.StatusOK, listPage, leadsview.List(page))
}
