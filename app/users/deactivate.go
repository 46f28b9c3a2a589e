package users

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	usersview "pulso/views/users"
)

var listFragment = web.Page{Title: "users.title", Nav: "users", Fragment: "users-list"}

// Deactivate cuts a user off at once: their sessions and open invites go in
// the same transaction.
func (h *Handler) Deactivate(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	u, err := h.userFromPath(c)
	if err != nil {
		return err
	}
	if u.ID == p.UserID {
		return web.NewError(fiber.StatusUnprocessableEntity, "users.cannot_deactivate_self", nil)
	}
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		if _, err := q.SetUserActive(ctx, queries.SetUserActiveParams{OrgID: p.OrgID, ID: u.ID, Active: false}); err != nil {
			return err
		}
		if err := q.DeleteUserSessions(ctx, queries.DeleteUserSessionsParams{OrgID: p.OrgID, UserID: u.ID}); err != nil {
			return err
		}
		return q.RevokeUserInvites(ctx, queries.RevokeUserInvitesParams{OrgID: p.OrgID, UserID: u.ID})
	})
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "user deactivated", web.RequestAttrs(c, "target_user_id", u.ID)...)
	web.Flash(c, "success", "users.deactivated")
	return h.afterChange(c)
}

// Activate restores a deactivated user who had set a password.
func (h *Handler) Activate(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	u, err := h.userFromPath(c)
	if err != nil {
		return err
	}
	if u.PasswordHash == nil {
		// Never set a password: they need a new invite, not activation.
		return web.NewError(fiber.StatusConflict, "error.bad_request", nil)
	}
	if _, err := h.Q.SetUserActive(c.UserContext(), queries.SetUserActiveParams{OrgID: p.OrgID, ID: u.ID, Active: true}); err != nil {
		return err
	}
	web.Flash(c, "success", "users.activated")
	return h.afterChange(c)
}

// afterChange re-renders the list for htmx, or redirects a plain form post.
func (h *Handler) afterChange(c *fiber.Ctx) error {
	if !web.IsPartial(c) {
		return web.Redirect(c, "/admin/users")
	}
	page, err := h.page(c, usersview.InviteForm{Role: "rep"})
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, listFragment, usersview.List(page))
}
