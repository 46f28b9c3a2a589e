// Package account lets users change their own settings.
package account

import (
	"github.com/gofiber/fiber/v2"

	"pulso/app/web"
	"pulso/queries"
	accountview "pulso/views/account"
	"pulso/views/i18n"
)

// Handler serves /account.
type Handler struct{ web.Deps }

// New builds the account handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

// Show renders the settings page.
func (h *Handler) Show(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	return web.Render(c, fiber.StatusOK, web.Page{Title: "account.title", Nav: "account"},
		accountview.Settings(accountview.Page{Name: p.Name, Email: p.Email, Locale: p.Locale}))
}

// SetLocale saves the UI language.
func (h *Handler) SetLocale(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	locale := c.FormValue("locale")
	if i18n.Normalize(locale) != locale {
		return web.NewError(fiber.StatusUnprocessableEntity, "validation.choice", nil)
	}
	if err := h.Q.SetUserLocale(c.UserContext(), queries.SetUserLocaleParams{OrgID: p.OrgID, ID: p.UserID, Locale: locale}); err != nil {
		return err
	}
	web.Flash(c, "success", "account.saved")
	return web.Redirect(c, "/account")
}
