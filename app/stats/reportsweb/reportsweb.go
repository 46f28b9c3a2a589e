// Package reportsweb serves /reports: the monthly, cumulative and
// year-on-year tables, stage conversion, lost reasons, quotes by outcome
// and the forecast, each on a page with its filters and as XLSX, CSV and
// PDF. The numbers come from app/stats; this package only picks whose
// numbers (the viewer's scope narrowed by the filters) and lays them out.
package reportsweb

import (
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/leads/leadsweb"
	"pulso/app/stats"
	"pulso/app/web"
	"pulso/views/components"
	reportsview "pulso/views/reports"
)

// Handler serves /reports.
type Handler struct{ web.Deps }

// New builds the report handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

var page = web.Page{Title: "reports.title", Nav: "reports"}

// links are the reports p may read, for the picker and the tabs.
func links(p *web.Principal, active string) []reportsview.Link {
	var out []reportsview.Link
	for _, r := range reports {
		if r.readable(p) {
			out = append(out, reportsview.Link{Href: "/reports/" + r.slug, Title: r.title, Help: r.help, Active: r.slug == active})
		}
	}
	return out
}

// Index is the report picker.
func (h *Handler) Index(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	return web.Render(c, fiber.StatusOK, page, reportsview.Show(reportsview.Index{Reports: links(p, "")}))
}

// Show is one report (/reports/:report): its page, or with ?format= its
// XLSX, CSV or PDF.
func (h *Handler) Show(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	i := slices.IndexFunc(reports, func(r *report) bool { return r.slug == c.Params("report") })
	if i < 0 {
		return web.ErrNotFound
	}
	r := reports[i]
	if !r.readable(p) {
		return web.ErrForbidden
	}
	// Downloads are bulk exports: a rep reads their numbers on the page.
	if c.Query("format") != "" && !p.Role.In(web.Exporters) {
		return web.ErrForbidden
	}
	ch, err := h.choices(c, p)
	if err != nil {
		return err
	}
	now := time.Now()
	in, err := h.parse(c, p, r, ch, now)
	if err != nil {
		return err
	}
	view := h.view(c, p, r, ch, in)
	if len(in.errors) > 0 {
		return web.Render(c, fiber.StatusBadRequest, page, reportsview.Report(view))
	}
	b := &builder{h: h, c: c, p: p, in: in, now: now}
	sh, err := r.build(b)
	if errors.Is(err, stats.ErrInput) {
		// parse refuses what the engine would; should the two ever
		// disagree, bad input is still a 400, never a 500.
		return web.NewError(fiber.StatusBadRequest, "reports.fix_filters", err)
	}
	if err != nil {
		return err
	}
	sh.title = b.title(r)
	sh.lines = b.lines(r, ch)
	switch in.format {
	case "xlsx":
		return h.sendXLSX(c, p, r, in, sh)
	case "csv":
		return h.sendCSV(c, p, r, in, sh)
	case "pdf":
		return h.sendPDF(c, p, r, in, sh, now)
	}
	view.Title, view.Lines = sh.title, sh.lines
	for _, col := range sh.cols {
		view.Columns = append(view.Columns, reportsview.Column{Label: col.label, Num: col.kind.numeric()})
	}
	for _, row := range sh.rows {
		cells := make([]string, len(row.cells))
		for i, v := range row.cells {
			cells[i] = v.display(p.Currency)
		}
		view.Rows = append(view.Rows, reportsview.Row{Cells: cells, Total: row.total})
	}
	if p.Role.In(web.Exporters) {
		for _, f := range formats {
			view.Downloads = append(view.Downloads, reportsview.Download{Label: "reports.download." + f,
				Href: "/reports/" + r.slug + "?" + query(in.form, f), TestID: "download-" + f})
		}
	}
	return web.Render(c, fiber.StatusOK, page, reportsview.Report(view))
}

// query is the report's filters (and format) as a query string.
func query(f formValues, format string) string {
	v := url.Values{}
	for k, s := range map[string]string{"measure": f.Measure, "by": f.By, "from": f.From, "to": f.To, "team": f.Team,
		"rep": f.Rep, "source": f.Source, "group": f.Group, "format": format} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// view is the page without numbers: the form and its choices.
func (h *Handler) view(c *fiber.Ctx, p *web.Principal, r *report, ch choices, in request) reportsview.Page {
	v := reportsview.Page{Action: "/reports/" + r.slug, Title: web.Translate(c, r.title), Reports: links(p, r.slug),
		Table: r.table, Spans: r.spans, Errors: in.errors,
		Form: reportsview.Form(in.form)}
	for _, m := range measuresFor(p) {
		v.Measures = append(v.Measures, components.SelectOption{Value: string(m), Label: "reports.measure." + string(m)})
	}
	for _, d := range stats.Dimensions {
		v.Dimensions = append(v.Dimensions, components.SelectOption{Value: string(d), Label: "reports.by." + string(d)})
	}
	all := components.SelectOption{Value: "", Label: "reports.all"}
	v.Teams = append([]components.SelectOption{all}, ch.teams...)
	v.Reps = append([]components.SelectOption{all}, ch.reps...)
	v.Groups = append([]components.SelectOption{all}, ch.groups...)
	v.Sources = []components.SelectOption{all}
	for _, s := range leadsweb.Sources {
		v.Sources = append(v.Sources, components.SelectOption{Value: s, Label: "lead_source." + s})
	}
	return v
}

// title names the report as the page, the PDF and the files head it.
func (b *builder) title(r *report) string {
	t := b.t(r.title)
	if r.table {
		t += ": " + b.t("reports.measure."+string(b.in.measure))
	}
	return t
}

// lines say what the numbers cover: the org, the months, how rows are
// grouped and the filters, and when the report was made.
func (b *builder) lines(r *report, ch choices) []string {
	out := []string{b.p.OrgName}
	span := monthLabel(b.in.span.From) + " – " + monthLabel(b.in.span.To.Add(-1))
	out = append(out, b.t("reports.period")+": "+span)
	if r.table {
		out = append(out, b.t("reports.group_by")+": "+b.dimensionLabel())
	}
	label := func(opts []components.SelectOption, v string) string {
		for _, o := range opts {
			if o.Value == v {
				return o.Label
			}
		}
		return v
	}
	f := b.in.form
	if f.Team != "" {
		out = append(out, b.t("reports.team")+": "+label(ch.teams, f.Team))
	}
	if f.Rep != "" {
		out = append(out, b.t("reports.rep")+": "+label(ch.reps, f.Rep))
	}
	if f.Source != "" {
		out = append(out, b.t("reports.source")+": "+b.t("lead_source."+f.Source))
	}
	if f.Group != "" {
		out = append(out, b.t("reports.group")+": "+label(ch.groups, f.Group))
	}
	out = append(out, b.t("reports.generated")+": "+b.now.In(b.p.Location()).Format("02/01/2006 15:04"))
	return out
}
