package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/linktoken"
	"pulso/app/web"
)

// CSRF protection is a signed double-submit cookie: every browser holds a
// random HttpOnly seed cookie, and forms and htmx requests must present
// HMAC(secret, seed, session). A cross-site page can make the browser send
// the cookies but can neither read them nor compute the HMAC. The session
// part (the stored hash of the session cookie, empty when signed out) makes
// a token good for one session only: one lifted from another session, or
// from the same browser before sign-in, is refused. The seed is also
// renewed at sign-in and sign-out.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = web.CSRFField
)

// CSRF returns the middleware; it runs on every route, after LoadSession.
func CSRF(secret []byte, secure bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		// The token is checked against the session cookie the request
		// presents, even one whose session has ended: that request then
		// meets "sign in again" (auth.Require), not "page expired".
		var session []byte
		if token := c.Cookies(SessionCookie(secure)); token != "" {
			session = linktoken.Hash(token)
		}
		seed := c.Cookies(CSRFCookie(secure))
		if len(seed) < 32 {
			seed = setCSRFCookie(c, secure)
			if !safeMethod(c.Method()) {
				// A state change from a browser with no cookie cannot be ours.
				web.SetCSRFToken(c, csrfToken(secret, seed, nextSession(c, session)))
				return web.NewError(fiber.StatusForbidden, "error.csrf", nil)
			}
		}
		want := csrfToken(secret, seed, session)
		web.SetCSRFToken(c, csrfToken(secret, seed, nextSession(c, session)))
		if safeMethod(c.Method()) {
			return c.Next()
		}
		got := c.Get(csrfHeader)
		if got == "" {
			got = formToken(c)
		}
		if !hmac.Equal([]byte(got), []byte(want)) {
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
	mr, err := web.FirstPart(c)
	if err != nil {
		return ""
	}
	p, err := mr.NextPart()
	if err != nil || p.FormName() != csrfField {
		return ""
	}
	return web.PartValue(p, 256)
}

// nextSession is the session the browser will present after this response:
// none if LoadSession is clearing its cookie.
func nextSession(c *fiber.Ctx, presented []byte) []byte {
	if cleared, _ := c.Locals(sessionClearedKey).(bool); cleared {
		return nil
	}
	return presented
}

// RenewCSRF gives the browser a new CSRF seed (after sign-in and sign-out)
// and makes the rest of this request use it with session, the hash of the
// session cookie the response sets (nil when it signs out).
func RenewCSRF(c *fiber.Ctx, secret []byte, secure bool, session []byte) {
	web.SetCSRFToken(c, csrfToken(secret, setCSRFCookie(c, secure), session))
}

func setCSRFCookie(c *fiber.Ctx, secure bool) string {
	seed, _ := NewToken()
	c.Cookie(&fiber.Cookie{
		Name: CSRFCookie(secure), Value: seed, Path: "/", HTTPOnly: true, Secure: secure,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(365 * 24 * time.Hour),
	})
	return seed
}

// csrfToken is HMAC(secret, "csrf", seed, session). The seed is base64url
// and the session a fixed-length hash (or empty), so the NUL-separated
// message reads one way only.
func csrfToken(secret []byte, seed string, session []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("csrf\x00" + seed + "\x00"))
	m.Write(session)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}
