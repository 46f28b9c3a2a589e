package capture

import (
	"context"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"pulso/app/linktoken"
	"pulso/app/web"
	"pulso/queries"
	captureview "pulso/views/capture"
)

var formsPage = web.Page{Title: "capture.title", Nav: "lead_forms"}

// A form's token is public once pasted into a website, but a leaked backup
// must not let anyone post as any form (or switch to a form the org keeps
// private): it is derived (linktoken.Form), so the admin sees the snippet
// again on every visit while the row keeps only the nonce and the digest.

func (h *Handler) render(c *fiber.Ctx, status int, f captureview.NewForm) error {
	p := web.MustPrincipal(c)
	rows, err := h.Q.ListLeadForms(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	page := captureview.Page{New: f}
	if page.New.Errors == nil {
		page.New.Errors = map[string]string{}
	}
	keys := h.Cfg.LinkKeys()
	for _, r := range rows {
		f := captureview.Form{ID: r.ID, Name: r.Name, Active: r.Active, ThankYou: r.ThankYouUrl}
		// A token made before migration 0031 (no nonce) works but cannot
		// be shown.
		if r.TokenNonce != nil {
			token, err := keys.Token(linktoken.Form, r.TokenNonce)
			if err != nil {
				return err
			}
			f.Action = h.Cfg.BaseURL.String() + "/f/" + token
		}
		page.Forms = append(page.Forms, f)
	}
	return web.Render(c, status, formsPage, captureview.Forms(page))
}

// List shows the org's web forms with the snippet for each.
func (h *Handler) List(c *fiber.Ctx) error { return h.render(c, fiber.StatusOK, captureview.NewForm{}) }

// Create adds a web form.
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	f := captureview.NewForm{Name: strings.TrimSpace(c.FormValue("name")), ThankYou: strings.TrimSpace(c.FormValue("thank_you_url")), Errors: map[string]string{}}
	switch {
	case f.Name == "":
		f.Errors["name"] = "validation.required"
	case utf8.RuneCountInString(f.Name) > 100:
		f.Errors["name"] = "validation.too_long"
	}
	if f.ThankYou != "" {
		u, err := url.Parse(f.ThankYou)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(f.ThankYou) > 500 {
			f.Errors["thank_you_url"] = "capture.url_invalid"
		}
	}
	if len(f.Errors) > 0 {
		return h.render(c, fiber.StatusUnprocessableEntity, f)
	}
	token, err := h.Cfg.LinkKeys().Mint(linktoken.Form)
	if err != nil {
		return err
	}
	if _, err := h.Q.CreateLeadForm(c.UserContext(), queries.CreateLeadFormParams{OrgID: p.OrgID, Name: f.Name,
		TokenHash: token.Hash, TokenNonce: token.Nonce, ThankYouUrl: f.ThankYou}); err != nil {
		return err
	}
	web.Flash(c, "success", "capture.created")
	return web.Redirect(c, "/admin/forms")
}

func (h *Handler) formFromPath(c *fiber.Ctx) (queries.LeadForm, error) {
	f, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.LeadForm, error) {
		return h.Q.GetLeadForm(ctx, queries.GetLeadFormParams{OrgID: org, ID: id})
	}, nil)
	return f, err
}

// Rotate gives a form a new token; the old snippet stops working at once.
func (h *Handler) Rotate(c *fiber.Ctx) error {
	f, err := h.formFromPath(c)
	if err != nil {
		return err
	}
	token, err := h.Cfg.LinkKeys().Mint(linktoken.Form)
	if err != nil {
		return err
	}
	if _, err := h.Q.RotateLeadFormToken(c.UserContext(), queries.RotateLeadFormTokenParams{OrgID: f.OrgID, ID: f.ID,
		TokenHash: token.Hash, TokenNonce: token.Nonce}); err != nil {
		return err
	}
	web.Flash(c, "success", "capture.rotated")
	return web.Redirect(c, "/admin/forms")
}

// Toggle switches a form off (submissions get 404) or back on.
func (h *Handler) Toggle(c *fiber.Ctx) error {
	f, err := h.formFromPath(c)
	if err != nil {
		return err
	}
	if _, err := h.Q.SetLeadFormActive(c.UserContext(), queries.SetLeadFormActiveParams{OrgID: f.OrgID, ID: f.ID, Active: !f.Active}); err != nil {
		return err
	}
	return web.Redirect(c, "/admin/forms")
}
