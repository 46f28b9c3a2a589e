package notifications

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	notifview "pulso/views/notifications"
	"pulso/workers/jobargs"
)

var sendPage = web.Page{Title: "notify.title", Nav: "notify"}

var severities = []string{"info", "warning", "urgent"}

func (h *Handler) recipients(c *fiber.Ctx) ([]components.SelectOption, error) {
	p := web.MustPrincipal(c)
	users, err := h.Q.ListUsers(c.UserContext(), p.OrgID)
	if err != nil {
		return nil, err
	}
	opts := []components.SelectOption{{Value: "", Label: "notify.everyone"}}
	for _, u := range users {
		if u.Active {
			opts = append(opts, components.SelectOption{Value: strconv.FormatInt(u.ID, 10), Label: u.Name + " · " + u.Email, Raw: true})
		}
	}
	return opts, nil
}

// SendForm shows the admin's notify form.
func (h *Handler) SendForm(c *fiber.Ctx) error {
	opts, err := h.recipients(c)
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, sendPage, notifview.Send(notifview.SendForm{Severity: "info"}, opts))
}

// Send notifies one user or every active user of the org. The notify jobs
// are inserted in one transaction: all recipients or none.
func (h *Handler) Send(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	f := notifview.SendForm{
		UserID: c.FormValue("user_id"), Severity: c.FormValue("severity"),
		Title: strings.TrimSpace(c.FormValue("title")), Body: strings.TrimSpace(c.FormValue("body")),
		Errors: map[string]string{},
	}
	if !slices.Contains(severities, f.Severity) {
		f.Errors["severity"] = "validation.choice"
	}
	switch {
	case f.Title == "":
		f.Errors["title"] = "validation.required"
	case utf8.RuneCountInString(f.Title) > 140:
		f.Errors["title"] = "validation.too_long"
	}
	if utf8.RuneCountInString(f.Body) > 1000 {
		f.Errors["body"] = "validation.too_long"
	}
	var to []int64
	if f.UserID == "" {
		users, err := h.Q.ListActiveUserIDs(ctx, p.OrgID)
		if err != nil {
			return err
		}
		for _, u := range users {
			to = append(to, u.ID)
		}
	} else if id, err := strconv.ParseInt(f.UserID, 10, 64); err != nil {
		f.Errors["user_id"] = "validation.choice"
	} else if u, err := h.Q.GetUser(ctx, queries.GetUserParams{OrgID: p.OrgID, ID: id}); errors.Is(err, pgx.ErrNoRows) || (err == nil && !u.Active) {
		f.Errors["user_id"] = "validation.choice"
	} else if err != nil {
		return err
	} else {
		to = []int64{u.ID}
	}
	if len(f.Errors) > 0 {
		opts, err := h.recipients(c)
		if err != nil {
			return err
		}
		return web.Render(c, fiber.StatusUnprocessableEntity, sendPage, notifview.Send(f, opts))
	}

	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	key := "admin:" + strconv.FormatInt(p.UserID, 10) + ":" + hex.EncodeToString(raw)
	jobs := make([]river.InsertManyParams, 0, len(to))
	for _, id := range to {
		jobs = append(jobs, river.InsertManyParams{Args: jobargs.Notify{
			OrgID: p.OrgID, UserID: id, Severity: f.Severity, Title: f.Title, Body: f.Body, Key: key,
		}})
	}
	err := live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := h.Jobs.InsertManyTx(ctx, tx, jobs)
		return err
	})
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "notification sent", web.RequestAttrs(c, "recipients", len(to), "severity", f.Severity)...)
	opts, err := h.recipients(c)
	if err != nil {
		return err
	}
	return web.Render(c, fiber.StatusOK, sendPage, notifview.Send(notifview.SendForm{Severity: "info", Sent: len(to)}, opts))
}
