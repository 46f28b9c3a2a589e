package reportsweb

import (
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/leads/leadsweb"
	"pulso/app/stats"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
)

// maxMonths is the longest span a report covers: five years, what the
// rollups are sized for; a longer one is refused rather than slow.
const maxMonths = 60

// formats a report exports to (?format=).
var formats = []string{"xlsx", "csv", "pdf"}

// request is a report's query string read into typed values. Errors maps
// a field to the message shown next to it; a request with errors gets the
// form back with 400 and no numbers.
type request struct {
	measure stats.Measure
	by      stats.Dimension
	span    stats.Span
	filter  stats.Filter
	format  string
	// form is what the form shows again (the values as typed).
	form   formValues
	errors map[string]string
}

type formValues struct {
	Measure, By, From, To, Team, Rep, Source, Group string
}

// choices are the options the filter form offers the viewer, which are
// also the values the viewer may ask for: a rep or team not offered is
// outside their scope.
type choices struct {
	scope  []int64
	reps   []components.SelectOption
	teams  []components.SelectOption
	groups []components.SelectOption
}

func (h *Handler) choices(c *fiber.Ctx, p *web.Principal) (choices, error) {
	ctx := c.UserContext()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return choices{}, err
	}
	ch := choices{scope: sc}
	if ch.reps, err = web.Owners(ctx, h.Q, p, sc, ""); err != nil {
		return choices{}, err
	}
	switch {
	case sc == nil:
		managers, err := h.Q.ListManagers(ctx, p.OrgID)
		if err != nil {
			return choices{}, err
		}
		for _, m := range managers {
			ch.teams = append(ch.teams, components.SelectOption{Value: itoa(m.ID), Label: m.Name, Raw: true})
		}
	case p.Role == web.RoleManager:
		ch.teams = []components.SelectOption{{Value: itoa(p.UserID), Label: p.Name, Raw: true}}
	}
	groups, err := h.Q.ListArticleGroups(ctx, p.OrgID)
	if err != nil {
		return choices{}, err
	}
	for _, g := range groups {
		label := g.Name
		if g.ParentName != "" {
			label = g.ParentName + " › " + g.Name
		}
		ch.groups = append(ch.groups, components.SelectOption{Value: itoa(g.ID), Label: label, Raw: true})
	}
	return ch, nil
}

func offered(opts []components.SelectOption, v string) bool {
	return slices.ContainsFunc(opts, func(o components.SelectOption) bool { return o.Value == v })
}

// parse reads the query string of report r. It answers 403 (web.ErrForbidden)
// for a rep or team outside the viewer's scope, and fills errors for input
// that is merely wrong.
func (h *Handler) parse(c *fiber.Ctx, p *web.Principal, r *report, ch choices, now time.Time) (request, error) {
	in := request{errors: map[string]string{}}
	f := formValues{Measure: c.Query("measure"), By: c.Query("by"), From: c.Query("from"), To: c.Query("to"),
		Team: c.Query("team"), Rep: c.Query("rep"), Source: c.Query("source"), Group: c.Query("group")}
	in.form = f
	in.filter.OrgID = p.OrgID
	in.format = c.Query("format")
	if in.format != "" && !slices.Contains(formats, in.format) {
		in.errors["format"] = "reports.bad_format"
	}

	if r.table {
		in.measure = r.defaultMeasure(p)
		if f.Measure != "" {
			in.measure = stats.Measure(f.Measure)
		}
		if !slices.Contains(measuresFor(p), in.measure) {
			if slices.Contains(stats.Measures, in.measure) {
				return in, web.ErrForbidden // a measure the role may not read
			}
			in.errors["measure"] = "reports.bad_measure"
		}
		in.by = r.defaultBy
		if f.By != "" {
			in.by = stats.Dimension(f.By)
		}
		if !slices.Contains(stats.Dimensions, in.by) {
			in.errors["by"] = "reports.bad_dimension"
		}
		in.form.Measure, in.form.By = string(in.measure), string(in.by)
	}

	this := stats.MonthOf(now, p.Location())
	in.span = stats.Span{From: this.Add(-11), To: this.Add(1)}
	if r.spans {
		if f.From != "" {
			m, ok := parseMonth(f.From)
			if !ok {
				in.errors["from"] = "reports.bad_month"
			}
			in.span.From = m
		}
		if f.To != "" {
			m, ok := parseMonth(f.To)
			if !ok {
				in.errors["to"] = "reports.bad_month"
			}
			in.span.To = m.Add(1)
		}
		if in.errors["from"] == "" && in.errors["to"] == "" {
			switch n := in.span.Months(); {
			case n < 1:
				in.errors["to"] = "reports.bad_span"
			case n > maxMonths:
				in.errors["to"] = "reports.span_too_long"
			}
		}
		in.form.From, in.form.To = in.span.From.String(), in.span.To.Add(-1).String()
	} else {
		// The forecast looks ahead from this month.
		in.span = stats.Span{From: this, To: this.Add(12)}
	}

	if f.Source != "" {
		if !slices.Contains(leadsweb.Sources, f.Source) {
			in.errors["source"] = "reports.bad_choice"
		}
		in.filter.Source = f.Source
	}
	if f.Group != "" {
		id, err := strconv.ParseInt(f.Group, 10, 64)
		if err != nil || !offered(ch.groups, f.Group) {
			in.errors["group"] = "reports.bad_choice"
		}
		in.filter.GroupID = id
	}

	// Whose numbers: the viewer's scope, narrowed by the team and rep
	// picked, never widened.
	owners := ch.scope
	if f.Team != "" {
		id, err := strconv.ParseInt(f.Team, 10, 64)
		if err != nil {
			in.errors["team"] = "reports.bad_choice"
		} else {
			if !offered(ch.teams, f.Team) {
				return in, web.ErrForbidden
			}
			team, err := h.Q.ListTeamIDs(c.UserContext(), queries.ListTeamIDsParams{OrgID: p.OrgID, ManagerID: &id})
			if err != nil {
				return in, err
			}
			owners = append(team, id)
			if ch.scope != nil && slices.ContainsFunc(owners, func(u int64) bool { return !slices.Contains(ch.scope, u) }) {
				return in, web.ErrForbidden
			}
		}
	}
	if f.Rep != "" {
		id, err := strconv.ParseInt(f.Rep, 10, 64)
		switch {
		case err != nil:
			in.errors["rep"] = "reports.bad_choice"
		case !offered(ch.reps, f.Rep):
			return in, web.ErrForbidden
		case f.Team != "" && in.errors["team"] == "" && !slices.Contains(owners, id):
			in.errors["rep"] = "reports.rep_not_in_team"
		default:
			owners = []int64{id}
		}
	}
	in.filter.Owners = owners
	return in, nil
}

func parseMonth(s string) (stats.Month, bool) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < 2000 || t.Year() > 2999 {
		return stats.Month{}, false
	}
	return stats.Month{Year: t.Year(), Month: t.Month()}, true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
