package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/web"
	"pulso/queries"
)

// SessionCookie and CSRFCookie name the two cookies. Served over https they
// carry the __Host- prefix: browsers then keep them only if Secure, for
// Path=/ and with no Domain, so neither a sibling subdomain nor a response
// over plain http can plant or overwrite them (cookie tossing would
// otherwise fix a victim's CSRF seed or sign them into the attacker's
// account). Browsers refuse such cookies over http, so `make run` on
// localhost keeps the plain names. The plain name is not read in secure
// mode: accepting it would reopen what the prefix closes, at the cost of
// one more sign-in for whoever was signed in when https was turned on.
func SessionCookie(secure bool) string { return cookieName("pulso_session", secure) }

// CSRFCookie names the CSRF seed cookie; see SessionCookie.
func CSRFCookie(secure bool) string { return cookieName("pulso_csrf", secure) }

func cookieName(name string, secure bool) string {
	if secure {
		return "__Host-" + name
	}
	return name
}

// Sessions last 14 days from last use, and never more than 30 days from
// sign-in (sessions.absolute_expires_at, migration 0030). The expiry slides
// at most once per touchEvery so a busy page does not write on every request.
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
	secure := d.Cfg.SecureCookies()
	return func(c *fiber.Ctx) error {
		token := c.Cookies(SessionCookie(secure))
		if token == "" {
			return c.Next()
		}
		hash := linktoken.Hash(token)
		now := time.Now()
		s, ok, err := session(c.UserContext(), d, hash, now)
		if err != nil {
			return err
		}
		if !ok {
			clearSessionCookie(c, secure)
			return c.Next()
		}
		if now.Sub(s.LastSeen) > touchEvery {
			expires, err := d.Q.TouchSession(c.UserContext(), queries.TouchSessionParams{TokenHash: hash, ExpiresAt: now.Add(sessionTTL)})
			if errors.Is(err, pgx.ErrNoRows) {
				// Ended since it was cached (its event is on the way).
				d.Sessions.ForgetUser(s.Principal.OrgID, s.Principal.UserID)
				clearSessionCookie(c, secure)
				return c.Next()
			}
			if err != nil {
				return err
			}
			d.Sessions.Touched(hash, now, expires)
		}
		p := s.Principal // each request gets its own copy
		p.SessionHash = hash
		web.SetPrincipal(c, &p)
		web.SetLocale(c, p.Locale)
		err = c.Next()
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

// session is the open session of hash: from d.Sessions when it can vouch
// for it, else from one query (and then cached); false when it has ended.
func session(ctx context.Context, d web.Deps, hash []byte, now time.Time) (web.CachedSession, bool, error) {
	if s, ok := d.Sessions.Get(hash, now); ok {
		return s, true, nil
	}
	gen := d.Sessions.Gen()
	row, err := d.Q.GetSessionUser(ctx, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return web.CachedSession{}, false, nil
	}
	if err != nil {
		return web.CachedSession{}, false, err
	}
	u, o := row.User, row.Org
	s := web.CachedSession{
		Principal: web.Principal{
			OrgID: u.OrgID, UserID: u.ID, Role: web.Role(u.Role), Name: u.Name, Email: u.Email, Locale: u.Locale,
			OrgName: o.Name, OrgCountry: o.Country, Currency: o.Currency, TimeZone: o.TimeZone, Operator: o.Operator,
			UnreadNotifications: row.UnreadNotifications,
		},
		LastSeen: row.SessionLastSeenAt, ExpiresAt: row.SessionExpiresAt,
	}
	d.Sessions.Put(hash, s, gen, now)
	return s, true, nil
}

// WatchSessions keeps d.Sessions and h's sockets honest. The cache is
// trusted only while the hub is polling, and forgets a user's sessions when
// an event says their principal changed (users, orgs and sessions rows, by
// trigger) or their unread count did (notification events). The same
// principal events make h check that user's sockets at once (logout,
// deactivation, a role change, an expiry cut short); sessions that simply
// run out are found by h's periodic check. Both checks apply the sign-in
// rule (open_sessions).
func WatchSessions(h *hub.Hub, d web.Deps) {
	c := d.Sessions
	c.Watch(h.Polling, h.Sync)
	// A page that follows a view (hub/views.go) is rendered for its
	// session's user as a request of that session would be.
	h.ResolvePrincipals(func(ctx context.Context, hash []byte) (*web.Principal, error) {
		s, ok, err := session(ctx, d, hash, time.Now())
		if !ok || err != nil {
			return nil, err
		}
		p := s.Principal
		p.SessionHash = hash
		return &p, nil
	})
	h.CheckSessions(func(ctx context.Context, hashes [][]byte) (map[string]hub.SessionState, error) {
		rows, err := d.Q.CheckSessions(ctx, hashes)
		if err != nil {
			return nil, err
		}
		open := make(map[string]hub.SessionState, len(rows))
		for _, r := range rows {
			open[string(r.TokenHash)] = hub.SessionState{Role: web.Role(r.Role), EndsAt: r.EndsAt}
		}
		return open, nil
	})
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
		if ev.Topic == live.TopicPrincipal && ev.Entity == "user" && ev.SubjectUserID != nil {
			h.Recheck(ev.OrgID, *ev.SubjectUserID)
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

// RequireOperatorAdmin admits the admins of the operator's org (the
// plans' pages). Anyone else signed in gets 404, as for a page that does
// not exist: orgs' users are not told the operator's tools are there.
// Signed-out visitors are sent to sign in, as on every page.
func RequireOperatorAdmin() fiber.Handler {
	signedIn := Require()
	return func(c *fiber.Ctx) error {
		p := web.CurrentPrincipal(c)
		if p == nil {
			return signedIn(c)
		}
		if p.Role != web.RoleAdmin || !p.Operator {
			return web.ErrNotFound
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
	secure := d.Cfg.SecureCookies()
	// No Domain, Path=/ and Secure over https: what __Host- requires.
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie(secure), Value: token, Path: "/", HTTPOnly: true, Secure: secure,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(sessionTTL),
	})
	RenewCSRF(c, d.Cfg.Secret, secure, hash)
	return nil
}

// sessionClearedKey marks a request whose session cookie this response
// clears (its session is gone): pages it renders carry a CSRF token for no
// session, since the browser will present none.
const sessionClearedKey = "pulso.auth.session_cleared"

func clearSessionCookie(c *fiber.Ctx, secure bool) {
	c.Cookie(&fiber.Cookie{Name: SessionCookie(secure), Value: "", Path: "/", HTTPOnly: true, Secure: secure,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Unix(0, 0)})
	c.Locals(sessionClearedKey, true)
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
