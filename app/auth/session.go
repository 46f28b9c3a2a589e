package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/web"
	"pulso/queries"
)

const sessionCookie = "pulso_session"

// Sessions last 14 days from last use; the expiry slides at most once per
// touchEvery so a busy page does not write on every request.
const (
	sessionTTL = 14 * 24 * time.Hour
	touchEvery = 10 * time.Minute
	// settleWait bounds how long a changing request waits for the live
	// poller (normally one poll query).
	settleWait = 250 * time.Millisecond
)

// LoadSession attaches the signed-in user, if any, to the request, and sets
// the response locale (the user's choice, else Spanish). Principals come
// from d.Sessions when it can vouch for them (see web.SessionCache), else
// from one query.
func LoadSession(d web.Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		token := c.Cookies(sessionCookie)
		if token == "" {
			return c.Next()
		}
		hash := HashToken(token)
		now := time.Now()
		s, ok := d.Sessions.Get(hash, now)
		if !ok {
			gen := d.Sessions.Gen()
			row, err := d.Q.GetSessionUser(c.UserContext(), hash)
			if errors.Is(err, pgx.ErrNoRows) {
				clearSessionCookie(c, d.Cfg.SecureCookies())
				return c.Next()
			}
			if err != nil {
				return err
			}
			u, o := row.User, row.Org
			s = web.CachedSession{
				Principal: web.Principal{
					OrgID: u.OrgID, UserID: u.ID, Role: web.Role(u.Role), Name: u.Name, Email: u.Email, Locale: u.Locale,
					OrgName: o.Name, OrgCountry: o.Country, Currency: o.Currency, TimeZone: o.TimeZone,
					UnreadNotifications: row.UnreadNotifications,
				},
				LastSeen: row.SessionLastSeenAt, ExpiresAt: row.SessionExpiresAt,
			}
			d.Sessions.Put(hash, s, gen, now)
		}
		if now.Sub(s.LastSeen) > touchEvery {
			expires := now.Add(sessionTTL)
			if err := d.Q.TouchSession(c.UserContext(), queries.TouchSessionParams{TokenHash: hash, ExpiresAt: expires}); err != nil {
				return err
			}
			d.Sessions.Touched(hash, now, expires)
		}
		p := s.Principal // each request gets its own copy
		web.SetPrincipal(c, &p)
		web.SetLocale(c, p.Locale)
		err := c.Next()
		if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
			// Whatever this request changed (a role, a deactivation, a read
			// notification) is in this process's cache before the response
			// goes out, so the next page shows it, whoever it concerns. The
			// request's own user is forgotten too, in case settling times out.
			sctx, cancel := context.WithTimeout(c.UserContext(), settleWait)
			if serr := d.Sessions.Settle(sctx); serr != nil {
				d.Log.WarnContext(c.UserContext(), "session cache not settled", "error", serr)
			}
			cancel()
			d.Sessions.ForgetUser(p.OrgID, p.UserID)
		}
		return err
	}
}

// WatchSessions keeps c honest: it trusts cached sessions only while the
// hub is polling, and forgets a user's sessions when an event says their
// principal changed (users, orgs and sessions rows, by trigger) or their
// unread count did (notification events).
func WatchSessions(h *hub.Hub, c *web.SessionCache) {
	c.Watch(h.Polling, h.Sync)
	h.Observe(func(ev live.Event) {
		switch {
		case ev.Topic == live.TopicPrincipal && ev.Entity == "org":
			c.ForgetOrg(ev.OrgID)
		case ev.Topic == live.TopicPrincipal || ev.Topic == live.TopicNotification:
			if ev.SubjectUserID != nil {
				c.ForgetUser(ev.OrgID, *ev.SubjectUserID)
			} else {
				c.ForgetOrg(ev.OrgID)
			}
		}
	})
}

// Require admits signed-in users with one of roles (any role when none are
// given). It is the only place routes are guarded: the route table shows the
// guard on each line.
func Require(roles ...web.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := web.CurrentPrincipal(c)
		if p == nil {
			if c.Method() == fiber.MethodGet && c.Get(web.HXRequest) != "true" {
				return c.Redirect("/login?next="+urlQueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
			}
			if c.Get(web.HXRequest) == "true" {
				c.Set(web.HXRedirect, "/login")
			}
			return web.NewError(fiber.StatusUnauthorized, "error.unauthorized", nil)
		}
		if len(roles) > 0 && !slices.Contains(roles, p.Role) {
			return web.ErrForbidden
		}
		return c.Next()
	}
}

func startSession(c *fiber.Ctx, d web.Deps, u queries.User) error {
	token, hash := NewToken()
	err := d.Q.CreateSession(c.UserContext(), queries.CreateSessionParams{
		TokenHash: hash, OrgID: u.OrgID, UserID: u.ID, ExpiresAt: time.Now().Add(sessionTTL),
		IP: web.ClientIP(c).String(), UserAgent: truncate(c.Get(fiber.HeaderUserAgent), 300),
	})
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HTTPOnly: true, Secure: d.Cfg.SecureCookies(),
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(sessionTTL),
	})
	RenewCSRF(c, d.Cfg.Secret, d.Cfg.SecureCookies())
	return nil
}

func clearSessionCookie(c *fiber.Ctx, secure bool) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", HTTPOnly: true, Secure: secure,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Unix(0, 0)})
}

// truncate cuts s to at most n bytes without splitting a character, and
// drops what PostgreSQL text rejects (invalid UTF-8, NUL): headers are
// whatever the client sent.
func truncate(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
