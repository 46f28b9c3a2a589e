// Package notifications is the notification centre: each user's list, the
// bell kept live over the socket, and the admin's form to notify people.
package notifications

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views"
	notifview "pulso/views/notifications"
)

// Handler serves /notifications and /admin/notify.
type Handler struct{ web.Deps }

// New builds the handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

const pageSize = 30

var listPage = web.Page{Title: "notifications.title", Nav: "notifications", Fragment: "notifications"}

// List shows the user's notifications, newest first, a keyset page at a time.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	params := queries.ListNotificationsParams{OrgID: p.OrgID, UserID: p.UserID, PageSize: pageSize + 1}
	if before := c.QueryInt("before"); before > 0 {
		b := int64(before)
		params.BeforeID = &b
	}
	rows, err := h.Q.ListNotifications(ctx, params)
	if err != nil {
		return err
	}
	loc := p.Location()
	page := notifview.Page{Unread: p.UnreadNotifications}
	if len(rows) > pageSize {
		rows = rows[:pageSize]
		page.NextID = rows[len(rows)-1].ID
	}
	for _, n := range rows {
		page.Items = append(page.Items, notifview.Item{
			ID: n.ID, Severity: n.Severity, Title: n.Title, Body: n.Body, Link: n.Link, Read: n.ReadAt != nil,
			At: n.CreatedAt, AtText: n.CreatedAt.In(loc).Format("02/01/2006 15:04"),
		})
	}
	return web.Render(c, fiber.StatusOK, listPage, notifview.List(page))
}

// Bell renders the bell alone (pages re-fetch it after a reconnect).
func (h *Handler) Bell(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	n, err := h.Q.CountUnreadNotifications(c.UserContext(), queries.CountUnreadNotificationsParams{OrgID: p.OrgID, UserID: p.UserID})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, fiber.StatusOK, web.Page{}, views.Bell(n))
}

// MarkRead marks one of the user's notifications read.
func (h *Handler) MarkRead(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	id, err := web.ID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		n, err := q.GetNotification(ctx, queries.GetNotificationParams{OrgID: p.OrgID, UserID: p.UserID, ID: id})
		if err != nil {
			return err // ErrNoRows → 404: another user's or org's id is not confirmed
		}
		changed, err := q.MarkNotificationRead(ctx, queries.MarkNotificationReadParams{OrgID: p.OrgID, UserID: p.UserID, ID: n.ID})
		if err != nil || changed == 0 {
			return err
		}
		return publishRead(ctx, q, p)
	})
	if err != nil {
		return err
	}
	return web.Redirect(c, "/notifications")
}

// MarkAllRead empties the user's bell.
func (h *Handler) MarkAllRead(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	err := live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		changed, err := q.MarkAllNotificationsRead(ctx, queries.MarkAllNotificationsReadParams{OrgID: p.OrgID, UserID: p.UserID})
		if err != nil || changed == 0 {
			return err
		}
		return publishRead(ctx, q, p)
	})
	if err != nil {
		return err
	}
	return web.Redirect(c, "/notifications")
}

// publishRead updates the bell on the user's other tabs and devices.
func publishRead(ctx context.Context, q *queries.Queries, p *web.Principal) error {
	err := live.Publish(ctx, live.Event{
		OrgID: p.OrgID, Topic: live.TopicNotification, Entity: "notification", Kind: "read", SubjectUserID: &p.UserID,
	})
	return err
}

// RegisterLive renders notification events: the recipient's bell count and,
// for urgent ones, a toast. Only the recipient is sent anything, although
// managers and admins are in the event's audience.
func RegisterLive(h *hub.Hub, q *queries.Queries) {
	h.Handle(live.TopicNotification, hub.Topic{PerUser: true, Render: func(ctx context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		if ev.SubjectUserID == nil || *ev.SubjectUserID != aud.UserID {
			return nil, nil
		}
		count, err := q.CountUnreadNotifications(ctx, queries.CountUnreadNotificationsParams{OrgID: ev.OrgID, UserID: aud.UserID})
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		rctx := hub.RenderContext(ctx, aud)
		if err := views.BellOOB(count).Render(rctx, &buf); err != nil {
			return nil, err
		}
		var meta struct {
			Severity string `json:"severity"`
			Toast    bool   `json:"toast"`
		}
		_ = json.Unmarshal(ev.Payload, &meta)
		if ev.Kind == "created" && ev.EntityID != nil && (meta.Severity == "urgent" || meta.Toast) {
			n, err := q.GetNotification(ctx, queries.GetNotificationParams{OrgID: ev.OrgID, UserID: aud.UserID, ID: *ev.EntityID})
			if err != nil {
				return nil, err
			}
			if err := views.Toast(n.Severity, n.Title, n.Body, n.Link).Render(rctx, &buf); err != nil {
				return nil, err
			}
		}
		return buf.Bytes(), nil
	}})
}
