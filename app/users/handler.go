// Package users is the admin's team page: list, invite, deactivate.
package users

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	usersview "pulso/views/users"
)

// Handler serves /admin/users.
type Handler struct{ web.Deps }

// New builds the users handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

var listPage = web.Page{Title: "users.title", Nav: "users"}

// page loads everything the users page shows for the admin's org.
func (h *Handler) page(c *fiber.Ctx, form usersview.InviteForm) (usersview.Page, error) {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	rows, err := h.Q.ListUsers(ctx, p.OrgID)
	if err != nil {
		return usersview.Page{}, err
	}
	managers, err := h.Q.ListManagers(ctx, p.OrgID)
	if err != nil {
		return usersview.Page{}, err
	}
	page := usersview.Page{Form: form, Managers: []components.SelectOption{{Value: "", Label: "users.no_manager"}}}
	if page.Form.Errors == nil {
		page.Form.Errors = map[string]string{}
	}
	for _, r := range rows {
		row := usersview.Row{
			ID: r.ID, Name: r.Name, Email: r.Email, Role: r.Role, Active: r.Active,
			Pending: !r.Active && r.PasswordHash == nil, Self: r.ID == p.UserID,
		}
		if r.ManagerName != nil {
			row.ManagerName = *r.ManagerName
		}
		page.Rows = append(page.Rows, row)
	}
	for _, m := range managers {
		page.Managers = append(page.Managers, components.SelectOption{Value: itoa(m.ID), Label: m.Name, Raw: true})
	}
	return page, nil
}

// List shows the org's users and the invite form.
func (h *Handler) List(c *fiber.Ctx) error {
	page, err := h.page(c, usersview.InviteForm{Role: "rep"})
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, listPage, usersview.List(page))
}

// userFromPath loads the :id user of the caller's org; anything else,
// including a malformed id or another org's user, is 404.
func (h *Handler) userFromPath(c *fiber.Ctx) (queries.User, error) {
	u, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.User, error) {
		return h.Q.GetUser(ctx, queries.GetUserParams{OrgID: org, ID: id})
	}, nil)
	return u, err
}
