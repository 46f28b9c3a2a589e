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
	csrfField  = web.CSRFField
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
			got = formToken(c)
		}
		if !hmac.Equal([]byte(got), []byte(token)) {
			return web.NewError(fiber.StatusForbidden, "error.csrf", nil)
		}
		return c.Next()
	}
}

// formToken is the token a form posted. A streamed upload (web.Bodies) is
// read only as far as its first part, which every upload form makes the
// token: the file is not read before the token, the session and the role
// are checked.
func formToken(c *fiber.Ctx) string {
	if !c.Request().IsBodyStream() {
		return c.FormValue(csrfField)
	}
	mr, err := web.Multipart(c)
	if err != nil {
		return ""
	}
	p, err := mr.NextPart()
	if err != nil || p.FormName() != csrfField {
		return ""
	}
	return web.PartValue(p, 256)
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
