// Package outbox is the admin's view of outgoing e-mail (/admin/outbox):
// what app/mail stored and its jobs sent, failed or, without SMTP_URL, kept.
package outbox

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/mail"
	"pulso/app/web"
	"pulso/queries"
	mailview "pulso/views/mail"
)

// Handler serves /admin/outbox: every e-mail of the admin's org, whether
// sent, waiting, failed or (with no SMTP_URL) kept here instead of sent.
type Handler struct{ web.Deps }

// New builds the outbox handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

const outboxPageSize = 30

var (
	outboxPage = web.Page{Title: "outbox.title", Nav: "outbox", Fragment: "outbox"}
	emailPage  = web.Page{Title: "outbox.title", Nav: "outbox"}
)

// List shows the org's e-mails, newest first, a keyset page at a time.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	params := queries.ListEmailsParams{OrgID: p.OrgID, PageSize: outboxPageSize + 1}
	if before := c.QueryInt("before"); before > 0 {
		b := int64(before)
		params.BeforeID = &b
	}
	rows, err := h.Q.ListEmails(c.UserContext(), params)
	if err != nil {
		return err
	}
	loc := p.Location()
	var page mailview.Page
	if len(rows) > outboxPageSize {
		rows = rows[:outboxPageSize]
		page.NextID = rows[len(rows)-1].ID
	}
	for _, e := range rows {
		page.Rows = append(page.Rows, mailview.Row{
			ID: e.ID, To: e.ToAddress, Subject: e.Subject, Status: e.Status, AtText: formatTime(e.CreatedAt, loc),
		})
	}
	return web.Render(c, fiber.StatusOK, outboxPage, mailview.List(page))
}

// Show displays one e-mail: its metadata, the text part, and the HTML part
// in a sandboxed frame.
func (h *Handler) Show(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	e, err := h.email(c)
	if err != nil {
		return err
	}
	loc := p.Location()
	d := mailview.Detail{
		ID: e.ID, To: e.ToAddress, Subject: e.Subject, Template: e.Template, Status: e.Status,
		CreatedText: formatTime(e.CreatedAt, loc), Attempts: int(e.Attempts), Error: e.Error,
		Text: e.TextBody, HasHTML: e.HtmlBody != "",
	}
	if e.SentAt != nil {
		d.DeliveredText = formatTime(*e.SentAt, loc)
	}
	// Bodies may hold one-time links: keep them out of shared caches.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, fiber.StatusOK, emailPage, mailview.Show(d))
}

// frameCSP replaces the app's policy for the HTML part, which is the
// e-mail's own document: inline styles (as e-mail needs) but nothing that
// runs or loads, sandboxed even when opened directly, and framed only by
// our own page.
const frameCSP = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; " +
	"img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// HTML serves an e-mail's HTML part for the frame on its page.
func (h *Handler) HTML(c *fiber.Ctx) error {
	e, err := h.email(c)
	if err != nil {
		return err
	}
	if e.HtmlBody == "" {
		return web.ErrNotFound
	}
	c.Set("Content-Security-Policy", frameCSP)
	c.Set(fiber.HeaderXFrameOptions, "SAMEORIGIN")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.SendString(e.HtmlBody)
}

// email loads the :id e-mail of the caller's org; anything else, including
// another org's id, is 404. A message the outbox keeps instead of sending
// (no SMTP_URL) shows its secret link: here the outbox is the delivery, and
// the admin follows an invite from it. Every other message shows the link
// redacted, as it is stored.
func (h *Handler) email(c *fiber.Ctx) (queries.Email, error) {
	e, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.Email, error) {
		return h.Q.GetEmail(ctx, queries.GetEmailParams{OrgID: org, ID: id})
	}, nil)
	if err == nil && e.Status == "outboxed" {
		return mail.Reveal(e, h.Cfg.LinkKeys())
	}
	return e, err
}

func formatTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("02/01/2006 15:04")
}
