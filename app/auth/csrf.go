package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/web"
)

// CSRF protection is a signed double-submit cookie: every browser holds a
// random HttpOnly cookie, and forms and htmx requests must present
// HMAC(secret, cookie). A cross-site page can make the browser send the
// cookie but can neither read it nor compute the HMAC. The cookie is renewed
// at sign-in, so a value planted before login is useless after it.
const (
	csrfCookie = "pulso_csrf"
	csrfHeader = "X-CSRF-Token"
	csrfField  = "_csrf"
)

// CSRF returns the middleware; it runs on every route.
func CSRF(secret []byte, secure bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		seed := c.Cookies(csrfCookie)
		if len(seed) < 32 {
			seed = setCSRFCookie(c, secure)
			if !safeMethod(c.Method()) {
				// A state change from a browser with no cookie cannot be ours.
				return web.NewError(fiber.StatusForbidden, "error.csrf", nil)
			}
		}
		token := csrfToken(secret, seed)
		web.SetCSRFToken(c, token)
		if safeMethod(c.Method()) {
			return c.Next()
		}
		got := c.Get(csrfHeader)
		if got == "" {
			got = c.FormValue(csrfField)
		}
		if !hmac.Equal([]byte(got), []byte(token)) {
			return web.NewError(fiber.StatusForbidden, "error.csrf", nil)
		}
		return c.Next()
	}
}

// RenewCSRF gives the browser a new CSRF seed (after sign-in and sign-out)
// and makes the rest of this request use it.
func RenewCSRF(c *fiber.Ctx, secret []byte, secure bool) {
	web.SetCSRFToken(c, csrfToken(secret, setCSRFCookie(c, secure)))
}

func setCSRFCookie(c *fiber.Ctx, secure bool) string {
	seed, _ := NewToken()
	c.Cookie(&fiber.Cookie{
		Name: csrfCookie, Value: seed, Path: "/", HTTPOnly: true, Secure: secure,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(365 * 24 * time.Hour),
	})
	return seed
}

func csrfToken(secret []byte, seed string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("csrf:" + seed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}
