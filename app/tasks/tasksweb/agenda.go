package tasksweb

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/linktoken"
	"pulso/app/web"
	"pulso/queries"
	tasksview "pulso/views/tasks"
)

var agendaPage = web.Page{Title: "agenda.title", Nav: "agenda"}

// Agenda shows a user's tasks by day: one day on phones (?view=day, the
// default there through the CSS), a week on desktops (?view=week). A
// manager or admin may open a team member's (?user=ID); they may also drag
// tasks to another day (desktop).
func (h *Handler) Agenda(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	loc := p.Location()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	userID := p.UserID
	if id, err := strconv.ParseInt(c.Query("user"), 10, 64); err == nil && id > 0 {
		if !web.InScope(sc, &id) {
			return web.ErrNotFound
		}
		userID = id
	}
	now := time.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if s := c.Query("day"); s != "" {
		d, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			return web.ErrNotFound
		}
		day = d
	}
	view := c.Query("view", "week")
	if view != "day" && view != "month" {
		view = "week"
	}
	week := view != "day"
	monday := func(d time.Time) time.Time { return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) }
	from, days := day, 1
	prev, next := day.AddDate(0, 0, -1), day.AddDate(0, 0, 1)
	switch view {
	case "week":
		// Weeks start on Monday in all three countries.
		from, days = monday(day), 7
		prev, next = from.AddDate(0, 0, -7), from.AddDate(0, 0, 7)
	case "month":
		// Whole weeks around the month, as a wall calendar shows it.
		first := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, loc)
		last := first.AddDate(0, 1, -1)
		from = monday(first)
		days = int(monday(last).AddDate(0, 0, 7).Sub(from).Hours()/24 + 0.5)
		prev, next = first.AddDate(0, -1, 0), first.AddDate(0, 1, 0)
	}
	to := from.AddDate(0, 0, days)
	rows, err := h.Q.ListAgenda(ctx, queries.ListAgendaParams{OrgID: p.OrgID, AssigneeID: userID, FromAt: from, ToAt: to})
	if err != nil {
		return err
	}
	users, err := h.assignees(ctx, p, sc)
	if err != nil {
		return err
	}
	q := func(d time.Time, view string) string {
		v := url.Values{"day": {d.Format("2006-01-02")}, "view": {view}}
		if userID != p.UserID {
			v.Set("user", itoa(userID))
		}
		return v.Encode()
	}
	v := tasksview.AgendaPage{Week: week, Month: view == "month", Prev: q(prev, view), Next: q(next, view),
		DayView: q(day, "day"), WeekView: q(day, "week"), MonthView: q(day, "month"),
		UserID: itoa(userID), Users: users, CanMove: p.Role.In(web.Sales), SelfURL: "/agenda?" + q(day, view)}
	for i := 0; i < days; i++ {
		d := from.AddDate(0, 0, i)
		ad := tasksview.AgendaDay{Date: d.Format("2006-01-02"), Label: web.Translate(c, "agenda.weekday."+strconv.Itoa(int(d.Weekday()))) + " " + d.Format("02/01"),
			Today: d.Equal(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)), Outside: view == "month" && d.Month() != day.Month()}
		for _, r := range rows {
			if dd := r.DueAt.In(loc); dd.Year() == d.Year() && dd.YearDay() == d.YearDay() {
				ad.Items = append(ad.Items, tasksview.AgendaItem{ID: r.ID, Version: r.Version, Time: dd.Format("15:04"), Title: r.Title,
					Type: r.Type, Customer: r.CustomerName, Done: r.Status == "hecha"})
			}
		}
		v.Days = append(v.Days, ad)
	}
	if userID == p.UserID {
		feed, err := h.feed(c, p)
		if err != nil {
			return err
		}
		v.FeedURL, v.FeedHidden = feed, feed == ""
	}
	return web.Render(c, fiber.StatusOK, agendaPage, tasksview.Agenda(v))
}

// feed returns the user's ICS address, making its secret on first use; ""
// for an address made before migration 0031, which works but cannot be
// shown again. The secret is derived (linktoken.Feed) so its owner sees it
// on every visit while the row keeps only the nonce and the digest: a
// leaked backup must not become a live feed of everyone's agenda.
func (h *Handler) feed(c *fiber.Ctx, p *web.Principal) (string, error) {
	keys := h.Cfg.LinkKeys()
	f, err := h.Q.GetCalendarFeed(c.UserContext(), queries.GetCalendarFeedParams{OrgID: p.OrgID, UserID: p.UserID})
	if errors.Is(err, pgx.ErrNoRows) {
		if f.TokenNonce, err = h.saveFeed(c, p); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	if f.TokenNonce == nil {
		return "", nil
	}
	token, err := keys.Token(linktoken.Feed, f.TokenNonce)
	if err != nil {
		return "", err
	}
	return h.base() + "/agenda/feed/" + token + ".ics", nil
}

// saveFeed gives the user a new feed secret and returns its nonce.
func (h *Handler) saveFeed(c *fiber.Ctx, p *web.Principal) ([]byte, error) {
	token, err := h.Cfg.LinkKeys().Mint(linktoken.Feed)
	if err != nil {
		return nil, err
	}
	return token.Nonce, h.Q.SaveCalendarFeed(c.UserContext(), queries.SaveCalendarFeedParams{OrgID: p.OrgID, UserID: p.UserID,
		TokenHash: token.Hash, TokenNonce: token.Nonce})
}

// RotateFeed replaces the user's ICS secret: the old address stops working.
func (h *Handler) RotateFeed(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	if _, err := h.saveFeed(c, p); err != nil {
		return err
	}
	web.Flash(c, "success", "agenda.rotated")
	return web.Redirect(c, "/agenda#feed")
}

// Feed serves a user's tasks as iCalendar for their phone's calendar app:
// no session, the secret in the address is the key. Tasks from a month ago
// to three months ahead, each a 30-minute event at its due time. Anything
// but a live secret of an active user is a plain 404.
func (h *Handler) Feed(c *fiber.Ctx) error {
	token := c.Params("token")
	if len(token) < 32 || len(token) > 128 {
		return web.ErrNotFound
	}
	f, err := h.Q.GetCalendarFeedByToken(c.UserContext(), linktoken.Hash(token))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !f.UserActive) {
		return web.ErrNotFound
	}
	if err != nil {
		return err
	}
	now := time.Now()
	rows, err := h.Q.ListAgenda(c.UserContext(), queries.ListAgendaParams{OrgID: f.OrgID, AssigneeID: f.UserID,
		FromAt: now.AddDate(0, -1, 0), ToAt: now.AddDate(0, 3, 0)})
	if err != nil {
		return err
	}
	cal := ics.NewCalendarFor("Pulso")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName("Pulso · " + f.UserName)
	cal.SetRefreshInterval("PT15M")
	for _, r := range rows {
		e := cal.AddEvent(fmt.Sprintf("task-%d@pulso", r.ID))
		e.SetDtStampTime(r.UpdatedAt)
		e.SetModifiedAt(r.UpdatedAt)
		e.SetSequence(int(r.Version))
		e.SetStartAt(r.DueAt)
		e.SetEndAt(r.DueAt.Add(30 * time.Minute))
		summary := r.Title
		if r.CustomerName != "" {
			summary += " · " + r.CustomerName
		}
		e.SetSummary(summary)
		e.SetURL(fmt.Sprintf("%s/tasks/%d", h.base(), r.ID))
		if r.Status == "hecha" {
			e.SetStatus(ics.ObjectStatusCompleted)
		} else {
			e.SetStatus(ics.ObjectStatusConfirmed)
		}
	}
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.SendString(cal.Serialize())
}

// base is PULSO_BASE_URL without a trailing slash, for absolute links.
func (h *Handler) base() string {
	if h.Cfg.BaseURL == nil {
		return ""
	}
	return strings.TrimSuffix(h.Cfg.BaseURL.String(), "/")
}
