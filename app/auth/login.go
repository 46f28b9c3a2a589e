package auth

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/web"
	"pulso/queries"
	authview "pulso/views/auth"
)

// Login throttling: failures are counted per address and per client IP over
// a sliding window. Per-address stops guessing one account; the looser
// per-IP limit stops spraying many accounts from one client without locking
// out an office that shares a NAT.
const (
	failureWindow   = 15 * time.Minute
	maxFailsByEmail = 5
	maxFailsByIP    = 30
)

// Handler serves sign-in, sign-out and invite acceptance.
type Handler struct{ web.Deps }

// New builds the auth handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

var loginPage = web.Page{Title: "auth.login_title", Fragment: "login-form"}

// LoginForm shows the sign-in page (or home, for someone already signed in).
func (h *Handler) LoginForm(c *fiber.Ctx) error {
	if web.CurrentPrincipal(c) != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	return web.Render(c, fiber.StatusOK, loginPage, authview.LoginPage(authview.LoginForm{Next: safeNext(c.Query("next"))}))
}

// Login checks the credentials and starts a session.
func (h *Handler) Login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	form := authview.LoginForm{
		Email: normalizeEmail(c.FormValue("email")),
		Next:  safeNext(c.FormValue("next")),
	}
	password := c.FormValue("password")
	fail := func(status int, msg string) error {
		form.Error = msg
		return web.Render(c, status, loginPage, authview.LoginPage(form))
	}

	// The attempt is recorded as a failure before anything is checked, and
	// counted with itself: parallel guesses then see each other, so a burst
	// cannot all slip under the limit between a count and a record.
	attempt, err := h.Q.RecordLoginAttempt(ctx, queries.RecordLoginAttemptParams{Email: form.Email, IP: c.IP()})
	if err != nil {
		return err
	}
	counts, err := h.Q.CountLoginFailures(ctx, queries.CountLoginFailuresParams{
		Email: form.Email, IP: c.IP(), Since: time.Now().Add(-failureWindow),
	})
	if err != nil {
		return err
	}
	if counts.ByEmail > maxFailsByEmail || counts.ByIP > maxFailsByIP {
		// Being turned away is not a failed guess; it must not prolong the
		// lock-out (or lock out everyone behind the same address).
		if err := h.Q.DeleteLoginFailure(ctx, attempt); err != nil {
			return err
		}
		c.Set(fiber.HeaderRetryAfter, "900")
		h.Log.WarnContext(ctx, "login throttled", web.RequestAttrs(c, "ip", c.IP())...)
		return fail(fiber.StatusTooManyRequests, "auth.rate_limited")
	}

	user, err := h.Q.GetUserByEmail(ctx, form.Email)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	ok := false
	if err == nil && user.PasswordHash != nil && user.Active {
		ok, err = VerifyPassword(*user.PasswordHash, password)
		if err != nil {
			return err
		}
	} else {
		_, _ = VerifyPassword(dummyHash, password)
	}
	if !ok || form.Email == "" || len(password) > MaxPasswordLen {
		// The attempt's row stays as the failure. One message for unknown,
		// inactive and wrong password: the form must not reveal which
		// addresses have accounts.
		return fail(fiber.StatusUnauthorized, "auth.bad_credentials")
	}
	// Success clears the address's failures, this attempt's row included.
	if err := h.Q.ClearLoginFailures(ctx, form.Email); err != nil {
		return err
	}
	if err := startSession(c, h.Deps, user); err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "signed in", "request_id", web.RequestID(c), "org_id", user.OrgID, "user_id", user.ID)
	return web.Redirect(c, form.Next)
}

// Logout ends the session.
func (h *Handler) Logout(c *fiber.Ctx) error {
	secure := h.Cfg.SecureCookies()
	if token := c.Cookies(SessionCookie(secure)); token != "" {
		if err := h.Q.DeleteSession(c.UserContext(), HashToken(token)); err != nil {
			return err
		}
	}
	clearSessionCookie(c, secure)
	RenewCSRF(c, h.Cfg.Secret, secure, nil)
	web.Flash(c, "info", "auth.logged_out")
	return web.Redirect(c, "/login")
}

// normalizeEmail lower-cases the address as users are stored. ToLower also
// replaces invalid UTF-8; NUL is replaced too, since PostgreSQL text cannot
// hold it and the failure must still be recorded.
func normalizeEmail(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "\x00", "\uFFFD")
}

// safeNext keeps post-login redirects on this site: a path, never a scheme
// or a protocol-relative //host.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
