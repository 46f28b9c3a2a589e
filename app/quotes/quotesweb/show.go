package quotesweb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/quotes"
	"pulso/app/tax"
	"pulso/app/web"
	"pulso/queries"
	quotesview "pulso/views/quotes"
)

func (h *Handler) renderReview(c *fiber.Ctx, status int, qt queries.GetQuoteRow, v queries.QuoteVersion, errID string) error {
	p := web.MustPrincipal(c)
	lines, err := h.Q.ListQuoteLines(c.UserContext(), queries.ListQuoteLinesParams{OrgID: p.OrgID, QuoteID: qt.ID, VersionN: v.N})
	if err != nil {
		return err
	}
	t, err := tax.Compute(quotes.LinesOf(lines))
	if err != nil {
		return err
	}
	e := quotesview.EditorPage{Step: 3, ID: qt.ID, Customer: qt.CustomerName, Revision: qt.Revision, Error: errID,
		Contact: qt.ContactName, Opportunity: qt.OpportunityTitle, Version: v.N, Totals: web.TotalsView(t, v.Currency),
		ValidUntil: v.ValidUntil.Time.Format("02/01/2006"), Terms: v.Terms}
	e.SendTo = qt.ContactEmail
	if e.SendTo == "" {
		e.SendTo = qt.CustomerEmail
	}
	if qt.Number != nil {
		e.Number = *qt.Number
	}
	e.Review = linesView(lines, t, v.Currency)
	return web.Render(c, status, editorPage, quotesview.Editor(e))
}

func linesView(lines []queries.QuoteLine, t tax.Totals, currency string) []quotesview.ReviewLine {
	var out []quotesview.ReviewLine
	for i, l := range lines {
		r := quotesview.ReviewLine{Description: l.Description, Quantity: money.Number(money.Decimal(l.Quantity), currency), Unit: l.Unit,
			UnitPrice: money.Format(l.UnitPrice, currency), TaxRate: money.Number(money.Decimal(l.TaxRate), currency),
			Amount: money.Format(t.Lines[i], currency)}
		if dp := money.Decimal(l.DiscountPct); !dp.IsZero() {
			r.Discount = money.Number(dp, currency)
		}
		out = append(out, r)
	}
	return out
}

var sendErrors = map[error]string{
	quotes.ErrNoDraft:      "quotes.nothing_to_send",
	quotes.ErrNoLines:      "quotes.no_lines",
	quotes.ErrValidityPast: "quotes.valid_until_past",
	quotes.ErrConflict:     "quotes.conflict",
}

// quotes.Send is step 3's button: the draft version goes out (see quotes.Send).
func (h *Handler) Send(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	rev, _ := strconv.ParseInt(c.FormValue("revision"), 10, 32)
	var sent quotes.Sent
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		sent, err = quotes.Send(ctx, tx, h.Jobs, quotes.SendInput{OrgID: p.OrgID, QuoteID: qt.ID, Revision: int32(rev), UserID: p.UserID,
			Locale: p.Locale, BaseURL: h.Cfg.BaseURL.String(), Links: h.Cfg.LinkKeys(), Now: time.Now()})
		return err
	})
	for e, id := range sendErrors {
		if errors.Is(err, e) {
			v, verr := h.Q.GetDraftVersion(c.UserContext(), queries.GetDraftVersionParams{OrgID: p.OrgID, QuoteID: qt.ID})
			if verr != nil {
				return web.Redirect(c, fmt.Sprintf("/quotes/%d", qt.ID))
			}
			qt, _ = h.Q.GetQuote(c.UserContext(), queries.GetQuoteParams{OrgID: p.OrgID, ID: qt.ID})
			return h.renderReview(c, fiber.StatusUnprocessableEntity, qt, v, id)
		}
	}
	if err != nil {
		return err
	}
	if sent.Emailed != "" {
		web.Flash(c, "success", "quotes.sent_flash")
	} else {
		web.Flash(c, "success", "quotes.sent_flash_link")
	}
	return web.Redirect(c, fmt.Sprintf("/quotes/%d", qt.ID))
}

// Show is a quote's page: state, the client link, versions with their
// PDFs, and the audit trail.
func (h *Handler) Show(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	vs, err := h.Q.ListQuoteVersions(ctx, queries.ListQuoteVersionsParams{OrgID: p.OrgID, QuoteID: qt.ID})
	if err != nil {
		return err
	}
	evs, err := h.Q.ListQuoteEvents(ctx, queries.ListQuoteEventsParams{OrgID: p.OrgID, QuoteID: qt.ID})
	if err != nil {
		return err
	}
	s := quotesview.ShowPage{ID: qt.ID, Customer: qt.CustomerName, CustomerID: qt.CustomerID, Contact: qt.ContactName,
		Opportunity: qt.OpportunityTitle, Owner: qt.OwnerName, Status: qt.Status, Current: qt.CurrentVersion}
	if qt.OpportunityID != nil && qt.OpportunityStage != nil { // no stage: the deal was deleted
		s.OpportunityID = *qt.OpportunityID
	}
	if qt.Number != nil {
		s.Number = *qt.Number
	}
	loc := p.Location()
	t := p.Today(time.Now())
	for _, v := range vs {
		row := quotesview.VersionRow{N: v.N, Status: v.Status, Total: money.Format(v.Total, v.Currency),
			ValidUntil: v.ValidUntil.Time.Format("02/01/2006"), SHA256: deref(v.PdfSha256)}
		if v.SentAt != nil {
			row.SentAt = v.SentAt.In(loc).Format("02/01/2006 15:04")
		}
		if v.Status == "draft" {
			s.HasDraft = true
		}
		if v.N == qt.CurrentVersion && v.Status == "sent" && v.ValidUntil.Time.Before(t) {
			s.Expired = true
		}
		s.Versions = append(s.Versions, row)
	}
	if qt.Status != "draft" {
		l, err := h.Q.LatestLink(ctx, queries.LatestLinkParams{OrgID: p.OrgID, QuoteID: qt.ID})
		if err == nil && time.Now().Before(l.ExpiresAt) {
			s.LinkVersion = l.VersionN
			// A link made before tokens were derived (migration 0031: no
			// nonce) still works but cannot be shown again.
			if l.TokenNonce == nil {
				s.LinkHidden = true
			} else {
				token, err := h.Cfg.LinkKeys().Token(linktoken.Quote, l.TokenNonce)
				if err != nil {
					return err
				}
				s.Link = quotes.ClientURL(h.Cfg.BaseURL.String(), token)
			}
		} else if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	if qt.Status == "signed" {
		if o, err := h.Q.GetOrderForQuote(ctx, queries.GetOrderForQuoteParams{OrgID: p.OrgID, QuoteID: qt.ID, QuoteVersion: qt.CurrentVersion}); err == nil {
			s.OrderID, s.OrderNumber = o.ID, o.Number
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	for _, e := range evs {
		r := quotesview.EventRow{Kind: e.Kind, Version: e.VersionN, At: e.At.In(loc).Format("02/01/2006 15:04:05"), User: e.UserName,
			Signer: e.SignerName, Reason: e.Reason, UserAgent: e.UserAgent, SHA256: e.DocumentSha256}
		if e.IP != nil {
			r.IP = e.IP.String()
		}
		s.Events = append(s.Events, r)
	}
	return web.Render(c, fiber.StatusOK, showPage, quotesview.Show(s))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Revise opens the next version of a sent quote as a draft (a copy of the
// latest) and goes to its lines; an existing draft is simply reopened.
func (h *Handler) Revise(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	if qt.Status != "sent" && qt.Status != "rejected" {
		return web.Redirect(c, fmt.Sprintf("/quotes/%d", qt.ID))
	}
	p := web.MustPrincipal(c)
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		if _, err := q.GetDraftVersion(ctx, queries.GetDraftVersionParams{OrgID: p.OrgID, QuoteID: qt.ID}); err == nil {
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		v, err := q.OpenNextVersion(ctx, queries.OpenNextVersionParams{OrgID: p.OrgID, QuoteID: qt.ID,
			MinValidUntil: pgtype.Date{Time: p.Today(time.Now()), Valid: true}})
		if err != nil {
			return err
		}
		if err := q.CopyQuoteLines(ctx, queries.CopyQuoteLinesParams{OrgID: p.OrgID, QuoteID: qt.ID, FromN: v.N - 1, ToN: v.N}); err != nil {
			return err
		}
		if qt.Status == "rejected" {
			// A rejected quote is negotiated again: it is "sent" (its last
			// version is still the one on record) until the next one goes.
			_, err = q.ReopenRejectedQuote(ctx, queries.ReopenRejectedQuoteParams{OrgID: p.OrgID, ID: qt.ID})
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/quotes/%d/edit?step=2", qt.ID))
}

// Revoke withdraws the quote's client links (every version's).
func (h *Handler) Revoke(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		ls, err := q.RevokeQuoteLinks(ctx, queries.RevokeQuoteLinksParams{OrgID: p.OrgID, QuoteID: qt.ID, RevokedBy: &p.UserID})
		if err != nil || len(ls) == 0 {
			return err
		}
		_, err = q.InsertQuoteEvent(ctx, queries.InsertQuoteEventParams{OrgID: p.OrgID, QuoteID: qt.ID, VersionN: qt.CurrentVersion, Kind: "revoked", UserID: &p.UserID})
		return err
	})
	if err != nil {
		return err
	}
	web.Flash(c, "success", "quotes.revoked_flash")
	return web.Redirect(c, fmt.Sprintf("/quotes/%d", qt.ID))
}

// Delete removes a quote that was never sent.
func (h *Handler) Delete(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	if _, err := h.Q.DeleteDraftQuote(c.UserContext(), queries.DeleteDraftQuoteParams{OrgID: p.OrgID, ID: qt.ID, Revision: qt.Revision}); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	} else if err != nil {
		return web.Redirect(c, fmt.Sprintf("/quotes/%d", qt.ID))
	}
	web.Flash(c, "success", "quotes.deleted_flash")
	return web.Redirect(c, "/quotes")
}

// PDF downloads a version: a sent version's stored bytes (or the signed
// copy), a draft rendered as a preview.
func (h *Handler) PDF(c *fiber.Ctx) error {
	qt, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	n, err := strconv.ParseInt(c.Params("n"), 10, 32)
	if err != nil || n < 1 {
		return web.ErrNotFound
	}
	ctx := c.UserContext()
	v, err := h.Q.GetQuoteVersion(ctx, queries.GetQuoteVersionParams{OrgID: p.OrgID, QuoteID: qt.ID, N: int32(n)})
	if errors.Is(err, pgx.ErrNoRows) {
		return web.ErrNotFound
	}
	if err != nil {
		return err
	}
	var pdf []byte
	name := ""
	if v.Status == "draft" {
		pdf, err = quotes.DraftPDF(ctx, h.Q, p.OrgID, p.Locale, qt, v)
		if err != nil {
			return err
		}
		name = "borrador.pdf"
	} else {
		pdf, name, err = quotes.VersionPDF(ctx, h.Q, p.OrgID, qt.ID, v.N)
		if err != nil {
			return err
		}
	}
	return web.SendPDF(c, pdf, name)
}
