package inboundweb

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"pulso/app/inbound"
	"pulso/app/web"
	"pulso/queries"
	inboundview "pulso/views/inbound"
)

// Handler serves the admin's inbox page.
type Handler struct {
	web.Deps
	proc *inbound.Processor
}

// New builds the handlers.
func New(d web.Deps) *Handler {
	return &Handler{Deps: d, proc: inbound.NewProcessor(d.DB, d.Cfg.InboundMaxBytes, d.Cfg.DocumentMaxBytes, d.Log)}
}

var inboxPage = web.Page{Title: "inbound.title", Nav: "inbox"}

// newToken is 128 random bits in lower-case base32: unguessable, and safe
// from mail systems that change the case of the local part.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// recent is how many messages the page lists.
const recent = 50

func (h *Handler) render(c *fiber.Ctx, status int, results []inboundview.Result) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	inbox, err := h.Q.EnsureInbox(ctx, queries.EnsureInboxParams{OrgID: p.OrgID, Token: newToken()})
	if err != nil {
		return err
	}
	rows, err := h.Q.ListInboundMessages(ctx, queries.ListInboundMessagesParams{OrgID: p.OrgID, PageSize: recent})
	if err != nil {
		return err
	}
	page := inboundview.Page{
		Address: inbound.Address(inbox.Token, h.Cfg.InboundDomain), SMTPOn: h.Cfg.InboundSMTPAddr != "",
		MaxMB: h.Cfg.InboundMaxBytes >> 20, Results: results,
	}
	loc := p.Location()
	for _, r := range rows {
		v := inboundview.Row{
			ID: r.ID, When: r.ReceivedAt.In(loc).Format("02/01/2006 15:04"), Via: r.Via, Status: r.Status, Reason: r.Reason,
			From: r.FromAddr, FromName: r.FromName, Subject: r.Subject,
		}
		switch {
		case r.LeadID != nil:
			v.Target, v.TargetURL = r.LeadName, "/leads/"+strconv.FormatInt(*r.LeadID, 10)
		case r.CustomerID != nil:
			v.Target, v.TargetURL = r.CustomerName, "/customers/"+strconv.FormatInt(*r.CustomerID, 10)
		}
		page.Rows = append(page.Rows, v)
	}
	return web.Render(c, status, inboxPage, inboundview.Inbox(page))
}

// Show is the inbox page: the address, rotation, .eml upload and what the
// last messages became.
func (h *Handler) Show(c *fiber.Ctx) error { return h.render(c, fiber.StatusOK, nil) }

// Rotate gives the org a new address; mail to the old one is refused.
func (h *Handler) Rotate(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	if _, err := h.Q.EnsureInbox(c.UserContext(), queries.EnsureInboxParams{OrgID: p.OrgID, Token: newToken()}); err != nil {
		return err
	}
	if _, err := h.Q.RotateInbox(c.UserContext(), queries.RotateInboxParams{OrgID: p.OrgID, Token: newToken()}); err != nil {
		return err
	}
	web.Flash(c, "success", "inbound.rotated")
	return web.Redirect(c, "/admin/inbox")
}

// Upload takes one or more .eml files. Each is received exactly as if it
// had arrived by SMTP (stored, job queued), then processed at once so the
// admin sees the outcome; the queued job finds it done.
func (h *Handler) Upload(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	// Each file streams off the connection in turn (web.Bodies left the
	// body there) and is held only while it is received.
	var results []inboundview.Result
	for {
		part, err := web.NextPart(c)
		if err != nil {
			if !errors.Is(err, io.EOF) && len(results) > 0 {
				return web.NewError(fiber.StatusBadRequest, "error.bad_request", err)
			}
			break
		}
		if part.FormName() != "eml" || part.FileName() == "" {
			continue // a file input left empty sends a part without a name
		}
		res := inboundview.Result{Filename: part.FileName()}
		raw, err := io.ReadAll(io.LimitReader(part, h.Cfg.InboundMaxBytes+1))
		if err != nil {
			return web.NewError(fiber.StatusBadRequest, "error.bad_request", err)
		}
		if int64(len(raw)) > h.Cfg.InboundMaxBytes {
			res.Outcome = "inbound.reason.too_large"
			results = append(results, res)
			continue
		}
		rc, err := inbound.Receive(ctx, h.DB, h.Jobs, p.OrgID, raw, "upload", "", &p.UserID)
		if err != nil {
			return err
		}
		res.Outcome = "inbound.upload.received"
		if rc.Duplicate {
			res.Outcome = "inbound.upload.duplicate"
		} else if err := h.proc.Process(ctx, h.Jobs, p.OrgID, rc.ID); err != nil {
			// Stored and queued: the job retries it.
			h.Log.WarnContext(ctx, "inbound upload processing deferred to the job", web.RequestAttrs(c, slog.Int64("inbound_id", rc.ID), slog.String("error", err.Error()))...)
		}
		results = append(results, res)
	}
	if len(results) == 0 {
		return h.render(c, fiber.StatusUnprocessableEntity, []inboundview.Result{{Outcome: "inbound.upload.choose"}})
	}
	return h.render(c, fiber.StatusOK, results)
}
