// Package web holds what every handler shares: the request's principal,
// rendering (full page vs htmx fragment), htmx headers, flashes and the
// error handler.
package web

import "github.com/gofiber/fiber/v2"

// htmx request and response headers, named once.
const (
	HXRequest  = "HX-Request"
	HXBoosted  = "HX-Boosted"
	HXRedirect = "HX-Redirect"
	HXTrigger  = "HX-Trigger"
	HXRetarget = "HX-Retarget"
	HXReswap   = "HX-Reswap"
)

// IsPartial reports whether the response should be a fragment: an htmx
// request that is not a boosted navigation (boosted ones swap the body and
// need the whole page).
func IsPartial(c *fiber.Ctx) bool {
	return c.Get(HXRequest) == "true" && c.Get(HXBoosted) != "true"
}

// Redirect sends the browser to url after a successful action. htmx follows
// a 3xx transparently and would swap the target page into a fragment, so htmx
// requests get HX-Redirect instead.
func Redirect(c *fiber.Ctx, url string) error {
	if c.Get(HXRequest) == "true" {
		c.Set(HXRedirect, url)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(url, fiber.StatusSeeOther)
}
