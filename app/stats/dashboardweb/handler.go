// Package dashboardweb serves the dashboard: tiles of numbers from package
// stats, each with its comparison, filtered by period, team, rep, source
// and product group within the viewer's scope. Every tile also renders
// alone (GET /dashboard/tiles/:name, same filters), which is how it
// reloads itself when a live event says its numbers may have moved.
package dashboardweb

import (
	"context"
	"fmt"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/singleflight"

	"pulso/app/web"
	dashboardview "pulso/views/dashboard"
	"pulso/views/i18n"
)

// Handler serves /dashboard and the home page's tiles.
type Handler struct {
	web.Deps
	// burst shares one computation among identical tile requests in
	// flight: a change reloads the same tile on every open dashboard that
	// shows it at once, and dashboards with the same filters and scope
	// (an org's admins, a team's manager on two screens) need the numbers
	// once, not once each.
	burst singleflight.Group
}

// New builds the dashboard handlers.
func New(d web.Deps) *Handler { return &Handler{Deps: d} }

var showPage = web.Page{Title: "dashboard.title", Nav: "dashboard"}

// Show is the dashboard page: every tile the viewer's role may see.
func (h *Handler) Show(c *fiber.Ctx) error {
	v, err := h.page(c, false)
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, showPage, dashboardview.Show(v))
}

// Tile renders one tile alone, with the filters of the query string. A
// tile the viewer's role may not see is refused (403) — the accountant
// gets no sales tile, nobody but billing gets the org's invoices.
func (h *Handler) Tile(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	def, ok := tileNamed(c.Params("name"))
	if !ok {
		return web.ErrNotFound
	}
	if !def.may(p.Role) {
		return web.ErrForbidden
	}
	r, err := h.request(c, p)
	if err != nil {
		return err
	}
	v, err, _ := h.burst.Do(r.key()+"|"+def.name, func() (any, error) { return r.tile(def) })
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, showPage, dashboardview.TileView(v.(dashboardview.Tile)))
}

// Home is the dashboard as the home page of managers and admins shows it.
func (h *Handler) Home(c *fiber.Ctx) (templ.Component, error) {
	v, err := h.page(c, false)
	if err != nil {
		return nil, err
	}
	return dashboardview.Dashboard(v), nil
}

// Mine is a rep's own numbers, compact, for the top of their home.
func (h *Handler) Mine(c *fiber.Ctx) (templ.Component, error) {
	v, err := h.page(c, true)
	if err != nil {
		return nil, err
	}
	return dashboardview.Compact(v), nil
}

func (h *Handler) request(c *fiber.Ctx, p *web.Principal) (*req, error) {
	return h.requestOf(c.UserContext(), c.Query, p, web.Locale(c), time.Now())
}

// requestOf is request from its parts: the query string's values (get) and
// the viewer's locale.
func (h *Handler) requestOf(ctx context.Context, get func(string, ...string) string, p *web.Principal, locale string, now time.Time) (*req, error) {
	compact := false
	switch get("compact") {
	case "":
	case "1":
		compact = true
	default:
		return nil, badFilter("dashboard.bad.compact")
	}
	ch, err := h.parse(ctx, get, p, now)
	if err != nil {
		return nil, err
	}
	return &req{ctx: i18n.WithLocale(ctx, locale), h: h, p: p, ch: ch, now: now,
		n: numbers{locale: locale, currency: p.Currency}, compact: compact}, nil
}

// key is everything the request's tiles' numbers and words depend on: the
// viewer's scope is in the filter, so two people share only what both may
// see. Requests with equal keys render equal tiles.
func (r *req) key() string {
	return fmt.Sprintf("%d|%s|%s|%s|%t|%+v|%v|%v", r.p.OrgID, r.p.Role, r.n.locale, r.n.currency, r.compact, r.ch.per, r.ch.f, r.ch.scope)
}

func (h *Handler) page(c *fiber.Ctx, compact bool) (dashboardview.Page, error) {
	p := web.MustPrincipal(c)
	r, err := h.request(c, p)
	if err != nil {
		return dashboardview.Page{}, err
	}
	return r.page(compact)
}

// Figures is the whole dashboard of p with the default filters, read and
// formatted but not rendered: what the page-cost benchmark's baseline
// does for the page's queries.
func (h *Handler) Figures(ctx context.Context, p *web.Principal, locale string, now time.Time) (dashboardview.Page, error) {
	r, err := h.requestOf(ctx, func(string, ...string) string { return "" }, p, locale, now)
	if err != nil {
		return dashboardview.Page{}, err
	}
	return r.page(false)
}

func (r *req) page(compact bool) (dashboardview.Page, error) {
	r.compact = compact
	p := r.p
	sales := p.Role.In(web.Sales)
	v := dashboardview.Page{Targets: sales, LiveQuery: r.query()}
	var err error
	if v.Filters, err = r.h.filtersView(r.ctx, p, r.ch, sales); err != nil {
		return v, err
	}
	for _, def := range tiles {
		if !def.may(p.Role) || (compact && !isCompact(def.name)) {
			continue
		}
		t, err := r.tile(def)
		if err != nil {
			return v, err
		}
		v.Tiles = append(v.Tiles, t)
	}
	return v, nil
}

func isCompact(name string) bool {
	for _, n := range compactTiles {
		if n == name {
			return true
		}
	}
	return false
}
