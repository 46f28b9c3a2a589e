package web

import (
	"context"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"pulso/views"
	"pulso/views/i18n"
)

const (
	csrfKey   = "pulso.csrf"
	localeKey = "pulso.locale"
)

// SetCSRFToken records the token forms on this response must carry.
func SetCSRFToken(c *fiber.Ctx, token string) { c.Locals(csrfKey, token) }

// CSRFToken is the token for forms on this response.
func CSRFToken(c *fiber.Ctx) string {
	s, _ := c.Locals(csrfKey).(string)
	return s
}

// SetLocale fixes the language of this response.
func SetLocale(c *fiber.Ctx, locale string) { c.Locals(localeKey, i18n.Normalize(locale)) }

// Locale is the language of this response.
func Locale(c *fiber.Ctx) string {
	if l, ok := c.Locals(localeKey).(string); ok {
		return l
	}
	return i18n.Default
}

// Context is the context views render with: the locale and the shell.
func Context(c *fiber.Ctx, shell *views.Shell) context.Context {
	ctx := i18n.WithLocale(c.UserContext(), Locale(c))
	return views.WithShell(ctx, shell)
}

// Page describes a rendered page: its title (a message id), the active nav
// item, and the fragment an htmx request swaps.
type Page struct {
	Title    string
	Nav      string
	Fragment string // empty: htmx requests get the whole page body
}

// Render is the one place that decides full page vs fragment: a non-boosted
// htmx request gets the named fragment alone, anything else the layout.
func Render(c *fiber.Ctx, status int, p Page, body templ.Component) error {
	shell := &views.Shell{Title: p.Title, Nav: p.Nav, CSRF: CSRFToken(c)}
	if pr := CurrentPrincipal(c); pr != nil {
		shell.User = &views.User{ID: pr.UserID, Name: pr.Name, Email: pr.Email, Role: string(pr.Role), OrgName: pr.OrgName, Unread: pr.UnreadNotifications,
			Sells: pr.Role.In(Sales), Billing: pr.Role.In(Billing), Operator: pr.Operator}
	}
	ctx := Context(c, shell)
	shell.Flashes = takeFlashes(c, ctx)
	c.Status(status).Type("html", "utf-8")
	w := c.Response().BodyWriter()
	if IsPartial(c) {
		// Flashes ride along out of band so the fragment's target stays small.
		if len(shell.Flashes) > 0 {
			if err := oobFlashes(shell.Flashes).Render(ctx, w); err != nil {
				return err
			}
		}
		if p.Fragment != "" {
			return templ.RenderFragments(ctx, w, body, p.Fragment)
		}
		return body.Render(ctx, w)
	}
	return views.Layout(body).Render(ctx, w)
}

// Translate is a message in this response's language (for JSON bodies and
// headers; pages use i18n.T in templates).
func Translate(c *fiber.Ctx, id string) string { return i18n.In(Locale(c), id, nil) }

// SendPDF answers with a generated PDF shown in the browser (inline, so a
// phone opens its viewer) and never cached: documents carry customer data.
func SendPDF(c *fiber.Ctx, pdf []byte, filename string) error {
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+filename+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(pdf)
}
