package users

import (
	"errors"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pulso/app/auth"
	"pulso/app/web"
	"pulso/queries"
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
	} else if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || !strings.Contains(in.Email[strings.IndexByte(in.Email, '@'):], ".") || len(in.Email) > 254 {
		errs["email"] = "validation.email"
	}
	switch {
	case in.Name == "":
		errs["name"] = "validation.required"
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

	var token string
	err := pgx.BeginFunc(ctx, h.DB, func(tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		u, err := q.CreateUser(ctx, queries.CreateUserParams{
			OrgID: p.OrgID, Email: in.Email, Name: in.Name, Role: string(in.Role), ManagerID: in.ManagerID,
			Locale: p.Locale, Active: false,
		})
		if err != nil {
			return err
		}
		token, err = auth.CreateInvite(c, q, p, u.ID)
		return err
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
	return render(fiber.StatusOK, h.Cfg.BaseURL.String()+"/invite/"+token)
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
	var token string
	err = pgx.BeginFunc(c.UserContext(), h.DB, func(tx pgx.Tx) error {
		var err error
		token, err = auth.CreateInvite(c, h.Q.WithTx(tx), p, u.ID)
		return err
	})
	if err != nil {
		return err
	}
	page, err := h.page(c, usersview.InviteForm{Role: "rep"})
	if err != nil {
		return err
	}
	page.InviteLink, page.InviteFor = h.Cfg.BaseURL.String()+"/invite/"+token, u.Email
	return web.Render(c, fiber.StatusOK, listPage, usersview.List(page))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
