package auth

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	authview "pulso/views/auth"
)

// InviteTTL is how long an invite link works.
const InviteTTL = 7 * 24 * time.Hour

// CreateInvite issues a one-time link for user inside tx and returns its
// token, to show the admin once and to e-mail. Earlier open links for the
// same user stop working.
//
// Only the token's hash is stored with the invite. The token is derived
// (linktoken.Invite) rather than random so its e-mail can be stored with
// the link redacted and only the nonce beside it: the send_email job
// derives the link again on its way to the SMTP server (mail.SecretLink).
func CreateInvite(c *fiber.Ctx, q *queries.Queries, p *web.Principal, keys linktoken.Keys, userID int64) (linktoken.Minted, error) {
	ctx := c.UserContext()
	if err := q.RevokeUserInvites(ctx, queries.RevokeUserInvitesParams{OrgID: p.OrgID, UserID: userID}); err != nil {
		return linktoken.Minted{}, err
	}
	token, err := keys.Mint(linktoken.Invite)
	if err != nil {
		return token, err
	}
	err = q.CreateInvite(ctx, queries.CreateInviteParams{
		TokenHash: token.Hash, OrgID: p.OrgID, UserID: userID, CreatedBy: p.UserID, ExpiresAt: time.Now().Add(InviteTTL),
	})
	return token, err
}

var invitePage = web.Page{Title: "invite.submit", Fragment: "invite-form"}

func (h *Handler) openInvite(c *fiber.Ctx) (queries.GetInviteRow, error) {
	inv, err := h.Q.GetInvite(c.UserContext(), linktoken.Hash(c.Params("token")))
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, web.NewError(fiber.StatusNotFound, "invite.gone_title", err)
	}
	if err != nil {
		return inv, err
	}
	if inv.UsedAt != nil || time.Now().After(inv.ExpiresAt) {
		return inv, web.NewError(fiber.StatusGone, "invite.gone_title", nil)
	}
	return inv, nil
}

func (h *Handler) renderGone(c *fiber.Ctx, err error) error {
	var ue *web.Error
	if errors.As(err, &ue) && ue.MessageID == "invite.gone_title" {
		return web.Render(c, ue.Status, web.Page{Title: "invite.gone_title"}, authview.InviteGone())
	}
	return err
}

// InviteForm shows the set-password form of a valid invite link.
func (h *Handler) InviteForm(c *fiber.Ctx) error {
	inv, err := h.openInvite(c)
	if err != nil {
		return h.renderGone(c, err)
	}
	web.SetLocale(c, inv.Locale)
	return web.Render(c, fiber.StatusOK, invitePage, authview.InvitePage(inviteView(c, inv)))
}

func inviteView(c *fiber.Ctx, inv queries.GetInviteRow) authview.InviteForm {
	return authview.InviteForm{Token: c.Params("token"), Name: inv.Name, Email: inv.Email, OrgName: inv.OrgName, Errors: map[string]string{}}
}

// AcceptInvite sets the password, spends the link and signs the user in.
func (h *Handler) AcceptInvite(c *fiber.Ctx) error {
	inv, err := h.openInvite(c)
	if err != nil {
		return h.renderGone(c, err)
	}
	web.SetLocale(c, inv.Locale)
	form := inviteView(c, inv)
	password, confirm := c.FormValue("password"), c.FormValue("password_confirm")
	switch {
	case len([]rune(password)) < MinPasswordLen:
		form.Errors["password"] = "validation.password_short"
	case len(password) > MaxPasswordLen:
		form.Errors["password"] = "validation.password_long"
	case password != confirm:
		form.Errors["password_confirm"] = "validation.password_mismatch"
	}
	if len(form.Errors) > 0 {
		return web.Render(c, fiber.StatusUnprocessableEntity, invitePage, authview.InvitePage(form))
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	var user queries.User
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		n, err := q.UseInvite(ctx, linktoken.Hash(c.Params("token")))
		if err != nil {
			return err
		}
		if n != 1 {
			// Lost a race with another submit of the same link.
			return web.NewError(fiber.StatusGone, "invite.gone_title", nil)
		}
		// Every earlier session of the user ends with the new password; the
		// one this request holds (if any) is replaced by startSession below.
		if err := q.SetUserPassword(ctx, queries.SetUserPasswordParams{OrgID: inv.OrgID, ID: inv.UserID, PasswordHash: &hash}); err != nil {
			return err
		}
		user, err = q.GetUser(ctx, queries.GetUserParams{OrgID: inv.OrgID, ID: inv.UserID})
		return err
	})
	if err != nil {
		return h.renderGone(c, err)
	}
	if err := startSession(c, h.Deps, user); err != nil {
		return err
	}
	web.Flash(c, "success", "invite.welcome")
	return web.Redirect(c, "/")
}
