package catalog

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"pulso/app/web"
	"pulso/queries"
	catalogview "pulso/views/catalog"
)

// logoSide bounds the org's logo: it prints 16 mm high on documents, so
// 600 px is sharp on paper and keeps every PDF small.
const logoSide = 600

var logoPage = web.Page{Title: "logo.title", Nav: "logo"}

// Logo is the admin's page for the org's logo (the letterhead of quotes,
// orders, delivery notes and price lists).
func (h *Handler) Logo(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	org, err := h.Q.GetOrgForDocuments(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, logoPage, catalogview.Logo(len(org.Logo) > 0))
}

// LogoImage serves the logo to the admin's page (not cached: it changes
// in place).
func (h *Handler) LogoImage(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	org, err := h.Q.GetOrgForDocuments(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	if len(org.Logo) == 0 {
		return web.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return c.Send(org.Logo)
}

// SaveLogo stores an uploaded PNG or JPEG, re-encoded at a bounded size.
func (h *Handler) SaveLogo(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	part, err := web.FilePart(c, "logo")
	if errors.Is(err, web.ErrNotMultipart) && c.FormValue("remove") != "" {
		// The remove button's own small form.
		if err := h.Q.SetOrgLogo(c.UserContext(), queries.SetOrgLogoParams{ID: p.OrgID}); err != nil {
			return err
		}
		return web.Redirect(c, "/admin/logo")
	}
	if err != nil || part.FileName() == "" {
		web.Flash(c, "error", "catalog.image_choose")
		return web.Redirect(c, "/admin/logo")
	}
	logo, _, _, err := Fit(part, logoSide)
	if errors.Is(err, ErrImage) {
		web.Flash(c, "error", "catalog.image_invalid")
		return web.Redirect(c, "/admin/logo")
	}
	if err != nil {
		return err
	}
	if err := h.Q.SetOrgLogo(c.UserContext(), queries.SetOrgLogoParams{ID: p.OrgID, Logo: logo}); err != nil {
		return err
	}
	web.Flash(c, "success", "logo.saved")
	return web.Redirect(c, "/admin/logo")
}
