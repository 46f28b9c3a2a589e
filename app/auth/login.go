package auth

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/linktoken"
	"pulso/app/web"
	"pulso/queries"
	authview "pulso/views/auth"
)

// Login throttling counts failures per address AND client IP together, over
// a day. Per address alone would let anyone lock a known user out; per IP
// alone would lock out everyone behind one balancer or office NAT. The pair
// gets a few free failures; after them each attempt must wait a delay that
// doubles with every further failure, up to a cap: guessing one password
// from one place slows to a few attempts an hour, and a person who mistyped
// waits at most the cap, never a lock.
const (
	failureWindow = 24 * time.Hour
	freeFailures  = 5
	firstDelay    = 30 * time.Second
	maxDelay      = 15 * time.Minute
)

// loginDelay is how long after the pair's latest failure the next attempt
// must wait, given how many failures the pair has.
func loginDelay(failures int64) time.Duration {
	if failures < freeFailures {
		return 0
	}
	if failures-freeFailures >= 10 { // 30 s × 2¹⁰ is far past the cap
		return maxDelay
	}
	return min(maxDelay, firstDelay<<(failures-freeFailures))
}

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
	ip := web.ClientIP(c).String()
	attempt, err := h.Q.RecordLoginAttempt(ctx, queries.RecordLoginAttemptParams{Email: form.Email, IP: ip})
	if err != nil {
		return err
	}
	pair, err := h.Q.LoginPairFailures(ctx, queries.LoginPairFailuresParams{
		Attempt: attempt, Email: form.Email, IP: ip, Since: time.Now().Add(-failureWindow),
	})
	if err != nil {
		return err
	}
	since := time.Duration(pair.SecondsSinceLast * float64(time.Second))
	if wait := loginDelay(pair.Failures-1) - since; wait > 0 {
		// Being turned away is not a failed guess; it must not make the
		// next wait longer.
		if err := h.Q.DeleteLoginFailure(ctx, attempt); err != nil {
			return err
		}
		secs := int((wait + time.Second - 1) / time.Second)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		h.Log.WarnContext(ctx, "login throttled", web.RequestAttrs(c, "ip", ip, "retry_after_s", secs)...)
		form.Error, form.ErrorData = "auth.rate_limited_seconds", map[string]any{"N": secs}
		if secs >= 120 {
			form.Error, form.ErrorData = "auth.rate_limited_minutes", map[string]any{"N": (secs + 59) / 60}
		}
		return web.Render(c, fiber.StatusTooManyRequests, loginPage, authview.LoginPage(form))
	}

	// An over-long password is refused unread: Argon2 over megabytes would
	// burn CPU. The dummy verification still runs so the refusal takes as
	// long as any other.
	tooLong := len(password) > MaxPasswordLen
	user, err := h.Q.GetUserByEmail(ctx, form.Email)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	ok := false
	if err == nil && user.PasswordHash != nil && user.Active && !tooLong {
		ok, err = VerifyPassword(*user.PasswordHash, password)
		if err != nil {
			return err
		}
	} else {
		_, _ = VerifyPassword(dummyHash, dummyPassword)
	}
	if !ok || form.Email == "" {
		// The attempt's row stays as the failure. One message for unknown,
		// inactive and wrong password: the form must not reveal which
		// addresses have accounts.
		return fail(fiber.StatusUnauthorized, "auth.bad_credentials")
	}
	// Success clears this client's failures for the address, this
	// attempt's row included.
	if err := h.Q.ClearLoginFailures(ctx, queries.ClearLoginFailuresParams{Email: form.Email, IP: ip}); err != nil {
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
		if err := h.Q.DeleteSession(c.UserContext(), linktoken.Hash(token)); err != nil {
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
