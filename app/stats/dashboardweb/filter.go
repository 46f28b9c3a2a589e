package dashboardweb

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/leads/leadsweb"
	"pulso/app/stats"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	dashboardview "pulso/views/dashboard"
	"pulso/views/i18n"
)

// Periods are the period chips, in order; "month" (this month) is the
// default. A chosen month (?month=2006-01) replaces the chip.
var Periods = []string{"month", "last_month", "quarter", "year"}

// period is the span the numbers cover and the spans they are compared
// with, all whole months in the org's time zone.
type period struct {
	Span     stats.Span
	Prev     stats.Span // the span just before, as long
	LastYear stats.Span // the same span a year earlier
	// YTD runs from January of the span's last month's year to that month
	// (never past this month); YTDLastYear is the same months a year
	// earlier.
	YTD, YTDLastYear stats.Span
}

// periodOf computes the spans of chip key (or of month m when key is "")
// with this month being now.
func periodOf(key string, m, now stats.Month) period {
	var s stats.Span
	switch key {
	case "last_month":
		s = stats.Span{From: now.Add(-1), To: now}
	case "quarter":
		q := stats.Month{Year: now.Year, Month: (now.Month-1)/3*3 + 1}
		s = stats.Span{From: q, To: q.Add(3)}
	case "year":
		y := stats.Month{Year: now.Year, Month: time.January}
		s = stats.Span{From: y, To: y.Add(12)}
	case "month":
		s = stats.Span{From: now, To: now.Add(1)}
	default:
		s = stats.Span{From: m, To: m.Add(1)}
	}
	n := s.Months()
	p := period{Span: s, Prev: stats.Span{From: s.From.Add(-n), To: s.From}, LastYear: shift(s, -12)}
	end := s.To
	if now.Add(1).Before(end) {
		end = now.Add(1)
	}
	last := end.Add(-1)
	p.YTD = stats.Span{From: stats.Month{Year: last.Year, Month: time.January}, To: end}
	p.YTDLastYear = shift(p.YTD, -12)
	return p
}

func shift(s stats.Span, n int) stats.Span { return stats.Span{From: s.From.Add(n), To: s.To.Add(n)} }

// spanLabel names a span as people say it: "diciembre 2026", "T4 2026",
// "2026", or "ene 2026 – mar 2026".
func spanLabel(locale string, s stats.Span) string {
	n := s.Months()
	year := strconv.Itoa(s.From.Year)
	switch {
	case n == 1:
		return i18n.In(locale, "dashboard.month_name."+strconv.Itoa(int(s.From.Month)), nil) + " " + year
	case n == 3 && (s.From.Month-1)%3 == 0:
		return i18n.In(locale, "dashboard.quarter_prefix", nil) + strconv.Itoa(int(s.From.Month-1)/3+1) + " " + year
	case n == 12 && s.From.Month == time.January:
		return year
	}
	last := s.To.Add(-1)
	return i18n.In(locale, "dashboard.month_short."+strconv.Itoa(int(s.From.Month)), nil) + " " + year + " – " +
		i18n.In(locale, "dashboard.month_short."+strconv.Itoa(int(last.Month)), nil) + " " + strconv.Itoa(last.Year)
}

// choice is what the viewer asked for, checked against what they may see:
// the filters as given (for links back), the period, and the stats.Filter
// the tiles read with.
type choice struct {
	Period, Month, Team, Rep, Source, Group string
	per                                     period
	f                                       stats.Filter
	// scope is the viewer's own (web.Scope), before the team and rep
	// filters narrow it.
	scope []int64
}

func badFilter(id string) error { return web.NewError(fiber.StatusBadRequest, id, nil) }

// errOutOfScope answers a team or rep the viewer may not see: refused
// outright, so nobody mistakes an empty tile for someone else's zero.
var errOutOfScope = web.NewError(fiber.StatusForbidden, "dashboard.out_of_scope", nil)

// parse reads the filters of the request. Bad values are a 400 with a
// message naming the filter; a team or rep outside the viewer's scope is
// a 403.
func (h *Handler) parse(ctx context.Context, get func(string, ...string) string, p *web.Principal, now time.Time) (choice, error) {
	ch := choice{Period: get("period"), Month: get("month"), Team: get("team"), Rep: get("rep"),
		Source: get("source"), Group: get("group")}
	this := stats.MonthOf(now, p.Location())
	var m stats.Month
	if ch.Month != "" {
		t, err := time.Parse("2006-01", ch.Month)
		if err != nil || t.Year() < 2000 || t.Year() > this.Year+1 {
			return ch, badFilter("dashboard.bad.month")
		}
		m = stats.Month{Year: t.Year(), Month: t.Month()}
		ch.Period = ""
	} else {
		if ch.Period == "" {
			ch.Period = Periods[0]
		}
		if !slices.Contains(Periods, ch.Period) {
			return ch, badFilter("dashboard.bad.period")
		}
	}
	ch.per = periodOf(ch.Period, m, this)
	ch.f = stats.Filter{OrgID: p.OrgID}
	if ch.Source != "" {
		if !slices.Contains(leadsweb.Sources, ch.Source) {
			return ch, badFilter("dashboard.bad.source")
		}
		ch.f.Source = ch.Source
	}
	if ch.Group != "" {
		id, err := strconv.ParseInt(ch.Group, 10, 64)
		if err != nil || id <= 0 {
			return ch, badFilter("dashboard.bad.group")
		}
		groups, err := h.Q.ListArticleGroups(ctx, p.OrgID)
		if err != nil {
			return ch, err
		}
		if !slices.ContainsFunc(groups, func(g queries.ListArticleGroupsRow) bool { return g.ID == id }) {
			return ch, badFilter("dashboard.bad.group")
		}
		ch.f.GroupID = id
	}
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return ch, err
	}
	ch.scope = sc
	owners := sc
	if ch.Team != "" {
		id, err := strconv.ParseInt(ch.Team, 10, 64)
		if err != nil || id <= 0 {
			return ch, badFilter("dashboard.bad.team")
		}
		if sc != nil && !slices.Contains(sc, id) {
			return ch, errOutOfScope
		}
		if sc == nil {
			ms, err := h.Q.ListManagers(ctx, p.OrgID)
			if err != nil {
				return ch, err
			}
			if !slices.ContainsFunc(ms, func(m queries.ListManagersRow) bool { return m.ID == id }) {
				return ch, badFilter("dashboard.bad.team")
			}
		}
		team, err := h.Q.ListTeamIDs(ctx, queries.ListTeamIDsParams{OrgID: p.OrgID, ManagerID: &id})
		if err != nil {
			return ch, err
		}
		owners = []int64{}
		for _, u := range append(team, id) {
			if web.InScope(sc, &u) {
				owners = append(owners, u)
			}
		}
	}
	if ch.Rep != "" {
		id, err := strconv.ParseInt(ch.Rep, 10, 64)
		if err != nil || id <= 0 {
			return ch, badFilter("dashboard.bad.rep")
		}
		if sc != nil && !slices.Contains(sc, id) {
			return ch, errOutOfScope
		}
		if sc == nil {
			opts, err := web.Owners(ctx, h.Q, p, sc, "")
			if err != nil {
				return ch, err
			}
			if !web.OwnerAllowed(opts, &id) {
				return ch, badFilter("dashboard.bad.rep")
			}
		}
		if owners != nil && !slices.Contains(owners, id) {
			return ch, badFilter("dashboard.bad.rep_team")
		}
		owners = []int64{id}
	}
	ch.f.Owners = owners
	return ch, nil
}

// query writes the filters back as a query string ("" when all are the
// defaults), with the period replaced when period is not "".
func (ch choice) query(period string) string {
	v := url.Values{}
	switch {
	case period != "":
		if period != Periods[0] {
			v.Set("period", period)
		}
	case ch.Month != "":
		v.Set("month", ch.Month)
	case ch.Period != Periods[0]:
		v.Set("period", ch.Period)
	}
	for _, kv := range [][2]string{{"team", ch.Team}, {"rep", ch.Rep}, {"source", ch.Source}, {"group", ch.Group}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// filtersView is the filter form as the viewer may use it: teams for who
// sees everyone, reps within their scope (none for a rep: it is them).
func (h *Handler) filtersView(ctx context.Context, p *web.Principal, ch choice, sales bool) (dashboardview.Filters, error) {
	locale := i18n.Locale(ctx)
	fv := dashboardview.Filters{Period: ch.Period, Month: ch.Month, Team: ch.Team, Rep: ch.Rep, Source: ch.Source, Group: ch.Group,
		Label: spanLabel(locale, ch.per.Span)}
	for _, k := range Periods {
		fv.Periods = append(fv.Periods, dashboardview.Chip{Key: k, Href: "/dashboard" + ch.query(k), Active: ch.Month == "" && ch.Period == k})
	}
	if !sales {
		// Billing is the whole org's: no sales filters apply to it.
		return fv, nil
	}
	anyOne := components.SelectOption{Value: "", Label: "dashboard.any"}
	if ch.scope == nil {
		ms, err := h.Q.ListManagers(ctx, p.OrgID)
		if err != nil {
			return fv, err
		}
		fv.Teams = []components.SelectOption{anyOne}
		for _, m := range ms {
			fv.Teams = append(fv.Teams, components.SelectOption{Value: strconv.FormatInt(m.ID, 10), Label: m.Name, Raw: true})
		}
	}
	if len(ch.scope) != 1 {
		reps, err := web.Owners(ctx, h.Q, p, ch.scope, "")
		if err != nil {
			return fv, err
		}
		fv.Reps = append([]components.SelectOption{anyOne}, reps...)
	}
	fv.Sources = []components.SelectOption{anyOne}
	for _, s := range leadsweb.Sources {
		fv.Sources = append(fv.Sources, components.SelectOption{Value: s, Label: "lead_source." + s})
	}
	groups, err := h.Q.ListArticleGroups(ctx, p.OrgID)
	if err != nil {
		return fv, err
	}
	if len(groups) > 0 {
		fv.Groups = []components.SelectOption{anyOne}
		for _, g := range groups {
			label := g.Name
			if g.ParentName != "" {
				label = g.ParentName + " › " + g.Name
			}
			fv.Groups = append(fv.Groups, components.SelectOption{Value: strconv.FormatInt(g.ID, 10), Label: label, Raw: true})
		}
	}
	return fv, nil
}
