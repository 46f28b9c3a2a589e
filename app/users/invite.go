package users

import (
	"context"
	"encoding/hex"
	"errors"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pulso/app/auth"
	"pulso/app/linktoken"
	"pulso/app/live"
	appmail "pulso/app/mail"
	"pulso/app/web"
	"pulso/queries"
	emailview "pulso/views/email"
	usersview "pulso/views/users"
)

// inviteInput is the validated invite form.
type inviteInput struct {
	Email     string
	Name      string
	Role      web.Role
	ManagerID *int64
}

// parseInvite validates the form; errors map field → message id.
func parseInvite(email, name, role, managerID string) (inviteInput, map[string]string) {
	errs := map[string]string{}
	in := inviteInput{Email: strings.ToLower(strings.TrimSpace(email)), Name: strings.TrimSpace(name), Role: web.Role(role)}
	if in.Email == "" {
		errs["email"] = "validation.required"
	} else if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || !strings.Contains(in.Email[strings.IndexByte(in.Email, '@'):], ".") || len(in.Email) > 254 || appmail.ValidAddress(in.Email) != nil {
		errs["email"] = "validation.email"
	}
	switch {
	case in.Name == "":
		errs["name"] = "validation.required"
	case !utf8.ValidString(in.Name) || strings.ContainsFunc(in.Name, unicode.IsControl):
		// PostgreSQL rejects invalid UTF-8 and NUL; other control characters
		// (line breaks, tabs) have no place in a name shown in lists.
		errs["name"] = "validation.bad_chars"
	case utf8.RuneCountInString(in.Name) > 120:
		errs["name"] = "validation.too_long"
	}
	if !slices.Contains(web.Roles, in.Role) {
		errs["role"] = "validation.choice"
	}
	if managerID != "" {
		id, err := strconv.ParseInt(managerID, 10, 64)
		if err != nil || id <= 0 {
			errs["manager_id"] = "validation.choice"
		} else {
			in.ManagerID = &id
		}
	}
	return in, errs
}

// Invite creates a pending user and shows the one-time link to send them.
func (h *Handler) Invite(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	form := usersview.InviteForm{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role"), ManagerID: c.FormValue("manager_id")}
	in, errs := parseInvite(form.Email, form.Name, form.Role, form.ManagerID)
	if in.ManagerID != nil && errs["manager_id"] == "" {
		// The manager must be a current admin or manager of the same org.
		m, err := h.Q.GetUser(ctx, queries.GetUserParams{OrgID: p.OrgID, ID: *in.ManagerID})
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && (!m.Active || (m.Role != "admin" && m.Role != "manager"))) {
			errs["manager_id"] = "validation.choice"
		} else if err != nil {
			return err
		}
	}
	render := func(status int, link string) error {
		form.Errors = errs
		page, err := h.page(c, form)
		if err != nil {
			return err
		}
		page.InviteLink, page.InviteFor = link, in.Email
		return web.Render(c, status, listPage, usersview.List(page))
	}
	if len(errs) > 0 {
		return render(fiber.StatusUnprocessableEntity, "")
	}

	var token linktoken.Minted
	err := live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		u, err := q.CreateUser(ctx, queries.CreateUserParams{
			OrgID: p.OrgID, Email: in.Email, Name: in.Name, Role: string(in.Role), ManagerID: in.ManagerID,
			Locale: p.Locale, Active: false,
		})
		if err != nil {
			return err
		}
		token, err = auth.CreateInvite(c, q, p, h.Cfg.LinkKeys(), u.ID)
		if err != nil {
			return err
		}
		return h.mailInvite(ctx, tx, p, u, token)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		errs["email"] = "users.email_taken"
		return render(fiber.StatusUnprocessableEntity, "")
	}
	if err != nil {
		return err
	}
	form = usersview.InviteForm{Role: "rep"}
	return render(fiber.StatusOK, h.inviteLink(token.Token))
}

// Reinvite issues a fresh link to a user who has not set a password yet.
func (h *Handler) Reinvite(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	u, err := h.userFromPath(c)
	if err != nil {
		return err
	}
	if u.PasswordHash != nil {
		return web.NewError(fiber.StatusConflict, "error.bad_request", nil)
	}
	var token linktoken.Minted
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		token, err = auth.CreateInvite(c, h.Q.WithTx(tx), p, h.Cfg.LinkKeys(), u.ID)
		if err != nil {
			return err
		}
		return h.mailInvite(ctx, tx, p, u, token)
	})
	if err != nil {
		return err
	}
	page, err := h.page(c, usersview.InviteForm{Role: "rep"})
	if err != nil {
		return err
	}
	page.InviteLink, page.InviteFor = h.inviteLink(token.Token), u.Email
	return web.Render(c, fiber.StatusOK, listPage, usersview.List(page))
}

// mailInvite e-mails the invite link in the invited user's language, in the
// transaction that creates the link; the stored e-mail keeps the link
// redacted (mail.SecretLink). The key names this one link (by its stored
// hash, which is no secret), so a new link is a new e-mail while a retried
// job never sends the same one twice.
func (h *Handler) mailInvite(ctx context.Context, tx pgx.Tx, p *web.Principal, u queries.User, token linktoken.Minted) error {
	link := h.inviteLink(token.Token)
	_, err := appmail.Enqueue(ctx, tx, h.Jobs, appmail.Message{
		OrgID:  p.OrgID,
		Key:    "invite:" + itoa(u.ID) + ":" + hex.EncodeToString(token.Hash[:12]),
		Link:   &appmail.SecretLink{Token: token.Token, Purpose: linktoken.Invite, Nonce: token.Nonce},
		To:     u.Email,
		ToName: u.Name,
		Locale: u.Locale,
		Template: appmail.Invite(emailview.Invite{
			Name: u.Name, OrgName: p.OrgName, InviterName: p.Name, Link: link, Days: int(auth.InviteTTL / (24 * time.Hour)),
		}),
	})
	return err
}

func (h *Handler) inviteLink(token string) string { return h.Cfg.BaseURL.String() + "/invite/" + token }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
