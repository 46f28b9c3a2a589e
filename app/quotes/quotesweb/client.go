package quotesweb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/calendar"
	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/quotes"
	"pulso/app/tax"
	"pulso/app/web"
	"pulso/queries"
	quotesview "pulso/views/quotes"
)

// The client's pages: no session, no Pulso chrome. Everything is reached
// through the token; the token's link row names the org and the version,
// and nothing else of the org is loaded.
var clientPage = web.Page{Title: "quotes.client_title", Fragment: "client-quote"}

func clientOf(c *fiber.Ctx) quotes.Client {
	return quotes.Client{IP: web.ClientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)}
}

// link resolves the token. A wrong token is the app's ordinary 404 page;
// an expired or revoked one says so (and shows nothing of the quote).
func (h *Handler) link(c *fiber.Ctx) (queries.FindQuoteLinkRow, error) {
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("Referrer-Policy", "no-referrer") // the token must not leak to other sites
	c.Set("X-Robots-Tag", "noindex")
	return quotes.Resolve(c.UserContext(), h.Q, c.Params("token"), time.Now())
}

// linkError answers a token that cannot be used.
func (h *Handler) linkError(c *fiber.Ctx, err error) error {
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return web.ErrNotFound
	case errors.Is(err, quotes.ErrLinkNotUsable):
		return web.Render(c, fiber.StatusGone, clientPage, quotesview.ClientGone())
	}
	return err
}

// ClientView is /q/:token: the quote in HTML, its PDF, and accept (name and
// finger signature) or reject. Every visit is recorded.
func (h *Handler) ClientView(c *fiber.Ctx) error {
	l, err := h.link(c)
	if err != nil {
		return h.linkError(c, err)
	}
	if l.VersionN != l.CurrentVersion {
		// A newer version was sent: the client always reads the latest.
		nl, err := h.Q.LatestLink(c.UserContext(), queries.LatestLinkParams{OrgID: l.OrgID, QuoteID: l.QuoteID})
		if err == nil && nl.VersionN == l.CurrentVersion && time.Now().Before(nl.ExpiresAt) {
			if token, err := h.Cfg.LinkKeys().Token(linktoken.Quote, nl.TokenNonce); err == nil {
				return c.Redirect("/q/"+token, fiber.StatusSeeOther)
			}
		}
	}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		return quotes.RecordOpen(ctx, tx, h.Jobs, l, clientOf(c), time.Now())
	})
	if err != nil {
		return err
	}
	return h.renderClient(c, fiber.StatusOK, l, nil)
}

func (h *Handler) renderClient(c *fiber.Ctx, status int, l queries.FindQuoteLinkRow, errs map[string]string) error {
	ctx := c.UserContext()
	v, err := h.Q.GetQuoteVersion(ctx, queries.GetQuoteVersionParams{OrgID: l.OrgID, QuoteID: l.QuoteID, N: l.VersionN})
	if err != nil {
		return err
	}
	qt, err := h.Q.GetQuote(ctx, queries.GetQuoteParams{OrgID: l.OrgID, ID: l.QuoteID})
	if err != nil {
		return err
	}
	lines, err := h.Q.ListQuoteLines(ctx, queries.ListQuoteLinesParams{OrgID: l.OrgID, QuoteID: l.QuoteID, VersionN: l.VersionN})
	if err != nil {
		return err
	}
	t, err := tax.Compute(quotes.LinesOf(lines))
	if err != nil {
		return err
	}
	var pt quotes.Parties
	if err := json.Unmarshal(v.Parties, &pt); err != nil {
		return err
	}
	cv := quotesview.ClientPage{Token: c.Params("token"), Number: deref(qt.Number), Version: v.N, Status: v.Status,
		Seller: pt.Seller.Name, SellerTaxID: pt.Seller.TaxID, Buyer: pt.Buyer.Name, BuyerTaxID: pt.Buyer.TaxID,
		ValidUntil: v.ValidUntil.Time.Format("02/01/2006"), Terms: v.Terms, Lines: linesView(lines, t, v.Currency),
		Totals: web.TotalsView(t, v.Currency), Errors: errs, SHA256: deref(v.PdfSha256)}
	if cv.Errors == nil {
		cv.Errors = map[string]string{}
	}
	if v.Status == "sent" && qt.CurrentVersion != l.VersionN {
		cv.Status = "superseded"
	}
	if v.Status == "superseded" || cv.Status == "superseded" {
		if nl, err := h.Q.LatestLink(ctx, queries.LatestLinkParams{OrgID: l.OrgID, QuoteID: l.QuoteID}); err == nil && nl.VersionN != l.VersionN {
			if token, err := h.Cfg.LinkKeys().Token(linktoken.Quote, nl.TokenNonce); err == nil {
				cv.LatestURL = "/q/" + token
			}
		}
	}
	if v.Status == "signed" {
		if s, err := h.Q.GetSignature(ctx, queries.GetSignatureParams{OrgID: l.OrgID, QuoteID: l.QuoteID, VersionN: l.VersionN}); err == nil {
			loc := calendar.ZoneOrUTC(pt.Zone)
			cv.Signer, cv.SignedAt = s.SignerName, s.At.In(loc).Format("02/01/2006 15:04")
		}
	}
	return web.Render(c, status, clientPage, quotesview.Client(cv))
}

// ClientPDF downloads the version's PDF (the signed copy once signed).
func (h *Handler) ClientPDF(c *fiber.Ctx) error {
	l, err := h.link(c)
	if err != nil {
		return h.linkError(c, err)
	}
	pdf, name, err := quotes.VersionPDF(c.UserContext(), h.Q, l.OrgID, l.QuoteID, l.VersionN)
	if err != nil {
		return err
	}
	return web.SendPDF(c, pdf, name)
}

// maxSignatureField bounds the posted data URL (base64 of quotes.MaxSignatureBytes
// plus its prefix); Fiber has read the body by now, but nothing bigger is
// decoded or stored.
var maxSignatureField = base64.StdEncoding.EncodedLen(quotes.MaxSignatureBytes) + 64

// ClientSign is the acceptance: a name and the canvas as a PNG data URL.
func (h *Handler) ClientSign(c *fiber.Ctx) error {
	l, err := h.link(c)
	if err != nil {
		return h.linkError(c, err)
	}
	name, raw := c.FormValue("signer_name"), c.FormValue("signature")
	errs := map[string]string{}
	var png []byte
	switch {
	case len(raw) > maxSignatureField:
		errs["signature"] = "quotes.signature_too_big"
	case !strings.HasPrefix(raw, "data:image/png;base64,"):
		errs["signature"] = "quotes.signature_required"
	default:
		png, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(raw, "data:image/png;base64,"))
		if err != nil {
			errs["signature"] = "quotes.signature_required"
		}
	}
	if strings.TrimSpace(name) == "" {
		errs["signer_name"] = "quotes.signer_required"
	}
	if len(errs) > 0 {
		return h.renderClient(c, fiber.StatusUnprocessableEntity, l, errs)
	}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		return quotes.Sign(ctx, tx, h.Jobs, l, quotes.SignInput{Name: name, Signature: png, Client: clientOf(c), Now: time.Now()})
	})
	switch {
	case errors.Is(err, quotes.ErrSignerName):
		return h.renderClient(c, fiber.StatusUnprocessableEntity, l, map[string]string{"signer_name": "quotes.signer_required"})
	case errors.Is(err, quotes.ErrSignatureImage):
		return h.renderClient(c, fiber.StatusUnprocessableEntity, l, map[string]string{"signature": "quotes.signature_required"})
	case errors.Is(err, quotes.ErrSignatureSize):
		return h.renderClient(c, fiber.StatusUnprocessableEntity, l, map[string]string{"signature": "quotes.signature_too_big"})
	}
	return h.answered(c, l, err)
}

// answered ends a sign or reject: back to the page, or why not.
func (h *Handler) answered(c *fiber.Ctx, l queries.FindQuoteLinkRow, err error) error {
	switch {
	case errors.Is(err, quotes.ErrAnswered):
		return h.renderClient(c, fiber.StatusConflict, l, map[string]string{"answer": "quotes.already_answered"})
	case errors.Is(err, quotes.ErrOutdated):
		return h.renderClient(c, fiber.StatusConflict, l, map[string]string{"answer": "quotes.outdated"})
	case err != nil:
		return err
	}
	return web.Redirect(c, "/q/"+c.Params("token"))
}

// ClientReject is the client's "no", with an optional reason.
func (h *Handler) ClientReject(c *fiber.Ctx) error {
	l, err := h.link(c)
	if err != nil {
		return h.linkError(c, err)
	}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		return quotes.Reject(ctx, tx, h.Jobs, l, c.FormValue("reason"), clientOf(c), time.Now())
	})
	return h.answered(c, l, err)
}

// RegisterLive renders quote events as a stamp: open quote lists and the
// quote's page reload their own view (static/js/pulso.js). The audience is
// the quote owner's, as for deals.
func RegisterLive(h *hub.Hub) {
	h.Handle(live.TopicQuote, hub.Topic{Render: func(ctx context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		if ev.EntityID == nil {
			return nil, nil
		}
		return fmt.Appendf(nil, `<span id="quotes-live" hidden hx-swap-oob="true" data-stamp="%d" data-quote="%d"></span>`, ev.ID, *ev.EntityID), nil
	}})
}
