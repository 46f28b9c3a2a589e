package auth

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/web"
	"pulso/queries"
)

const sessionCookie = "pulso_session"

// Sessions last 14 days from last use; the expiry slides at most once per
// touchEvery so a busy page does not write on every request.
const (
	sessionTTL = 14 * 24 * time.Hour
	touchEvery = 10 * time.Minute
)

// LoadSession attaches the signed-in user, if any, to the request, and sets
// the response locale (the user's choice, else Spanish).
func LoadSession(d web.Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		token := c.Cookies(sessionCookie)
		if token == "" {
			return c.Next()
		}
		hash := HashToken(token)
		row, err := d.Q.GetSessionUser(c.UserContext(), hash)
		if errors.Is(err, pgx.ErrNoRows) {
			clearSessionCookie(c, d.Cfg.SecureCookies())
			return c.Next()
		}
		if err != nil {
			return err
		}
		if time.Since(row.SessionLastSeenAt) > touchEvery {
			if err := d.Q.TouchSession(c.UserContext(), queries.TouchSessionParams{TokenHash: hash, ExpiresAt: time.Now().Add(sessionTTL)}); err != nil {
				return err
			}
		}
		u, o := row.User, row.Org
		web.SetPrincipal(c, &web.Principal{
			OrgID: u.OrgID, UserID: u.ID, Role: web.Role(u.Role), Name: u.Name, Email: u.Email, Locale: u.Locale,
			OrgName: o.Name, OrgCountry: o.Country, Currency: o.Currency, TimeZone: o.TimeZone,
			UnreadNotifications: row.UnreadNotifications,
		})
		web.SetLocale(c, u.Locale)
		return c.Next()
	}
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
		IP: c.IP(), UserAgent: truncate(c.Get(fiber.HeaderUserAgent), 300),
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
