package inboundweb

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/inbound"
	"pulso/app/inbound/senderauth"
	"pulso/app/linktoken"
	"pulso/app/web"
	"pulso/queries"
	inboundview "pulso/views/inbound"
)

// Handler serves the admin's inbox page.
type Handler struct {
	web.Deps
	proc *inbound.Processor
	dns  senderauth.Resolver
}

// authTimeout bounds the DNS work of checking one uploaded message.
const authTimeout = 20 * time.Second

// New builds the handlers.
func New(d web.Deps) *Handler {
	h := &Handler{Deps: d, proc: inbound.NewProcessor(d.DB, d.Cfg.InboundMaxBytes, d.Cfg.DocumentMaxBytes, d.Log), dns: d.DNS}
	if h.dns == nil {
		h.dns = senderauth.System
	}
	return h
}

var inboxPage = web.Page{Title: "inbound.title", Nav: "inbox"}

// The inbox token (128 bits in lower-case base32, safe from mail systems
// that change the case of a local part) is derived (linktoken.Inbox): the
// admin sees the address on every visit, the row keeps only the nonce and
// the digest the SMTP listener looks it up by.

// recent is how many messages the page lists.
const recent = 50

func (h *Handler) render(c *fiber.Ctx, status int, results []inboundview.Result) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	keys := h.Cfg.LinkKeys()
	fresh, err := keys.Mint(linktoken.Inbox)
	if err != nil {
		return err
	}
	inbox, err := h.Q.EnsureInbox(ctx, queries.EnsureInboxParams{OrgID: p.OrgID, TokenHash: fresh.Hash, TokenNonce: fresh.Nonce})
	if err != nil {
		return err
	}
	rows, err := h.Q.ListInboundMessages(ctx, queries.ListInboundMessagesParams{OrgID: p.OrgID, PageSize: recent})
	if err != nil {
		return err
	}
	page := inboundview.Page{SMTPOn: h.Cfg.InboundSMTPAddr != "", MaxMB: h.Cfg.InboundMaxBytes >> 20, Results: results}
	// An address made before migration 0031 (no nonce) works but cannot
	// be shown.
	if inbox.TokenNonce != nil {
		token, err := keys.Token(linktoken.Inbox, inbox.TokenNonce)
		if err != nil {
			return err
		}
		page.Address = inbound.Address(token, h.Cfg.InboundDomain)
	}
	loc := p.Location()
	for _, r := range rows {
		v := inboundview.Row{
			ID: r.ID, When: r.ReceivedAt.In(loc).Format("02/01/2006 15:04"), Via: r.Via, Status: r.Status, Reason: r.Reason,
			From: r.FromAddr, FromName: r.FromName, Subject: r.Subject, Auth: r.AuthResults,
			Unverified: (r.Status == inbound.StatusLead || r.Status == inbound.StatusActivity) && !inbound.Verified(r.VerifiedDomain, r.FromAddr),
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
	keys := h.Cfg.LinkKeys()
	first, err := keys.Mint(linktoken.Inbox)
	if err != nil {
		return err
	}
	if _, err := h.Q.EnsureInbox(c.UserContext(), queries.EnsureInboxParams{OrgID: p.OrgID, TokenHash: first.Hash, TokenNonce: first.Nonce}); err != nil {
		return err
	}
	next, err := keys.Mint(linktoken.Inbox)
	if err != nil {
		return err
	}
	if _, err := h.Q.RotateInbox(c.UserContext(), queries.RotateInboxParams{OrgID: p.OrgID, TokenHash: next.Hash, TokenNonce: next.Nonce}); err != nil {
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
		// No SMTP envelope: the message's own DKIM signatures are all that
		// can prove its sender.
		actx, cancel := context.WithTimeout(ctx, authTimeout)
		auth := senderauth.Check(actx, h.dns, raw, senderauth.Envelope{})
		cancel()
		if auth.Temporary() {
			res.Outcome = "inbound.upload.dns_later"
			results = append(results, res)
			continue
		}
		rc, err := inbound.Receive(ctx, h.DB, h.Jobs, p.OrgID, raw, inbound.Delivery{Via: "upload", UploadedBy: &p.UserID, Auth: auth, Host: h.Cfg.InboundDomain})
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
