package quotes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/calendar"
	"pulso/app/linktoken"
	"pulso/app/mail"
	"pulso/app/money"
	"pulso/app/pipeline"
	"pulso/app/tasks"
	"pulso/queries"
	emailview "pulso/views/email"
	"pulso/workers/jobargs"
)

// MaxSignatureBytes bounds the signature image: a finger signature on a
// phone canvas is a few KB as PNG; anything near this is not one.
const MaxSignatureBytes = 150_000

// Client is who is at the other end of a link, for the audit trail.
type Client = linktoken.Visitor

// Resolve finds the link a token names, if it may still be used to look at
// the quote. Unknown, malformed, revoked and expired tokens all come back
// as pgx.ErrNoRows or ErrLinkNotUsable; the handler shows the same kind
// of page for each (the expired/revoked one says so, and nothing else).
func Resolve(ctx context.Context, q *queries.Queries, token string, now time.Time) (queries.FindQuoteLinkRow, error) {
	if len(token) != TokenLen {
		// Still hash and look up: a malformed token costs what a wrong one does.
		token = strings.Repeat("-", TokenLen)
	}
	l, err := q.FindQuoteLink(ctx, linktoken.Hash(token))
	if err != nil {
		return l, err
	}
	if l.RevokedAt != nil || !now.Before(l.ExpiresAt) {
		return l, ErrLinkNotUsable
	}
	return l, nil
}

// RecordOpen records a visit to the link: once per link, client address
// and hour (reloads are not news). The version's first open tells the rep
// and the deal's watchers live.
func RecordOpen(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], l queries.FindQuoteLinkRow, c Client, now time.Time) error {
	q := queries.New(tx)
	// First: it locks the quote's row, so concurrent opens take turns.
	if err := q.RecordQuoteOpen(ctx, queries.RecordQuoteOpenParams{OrgID: l.OrgID, ID: l.QuoteID}); err != nil {
		return err
	}
	n, err := q.InsertQuoteOpen(ctx, queries.InsertQuoteOpenParams{OrgID: l.OrgID, QuoteID: l.QuoteID, VersionN: l.VersionN,
		IP: c.IPOrNil(), UserAgent: c.Agent()})
	if err != nil || n == 0 {
		return err
	}
	qt, err := q.GetQuote(ctx, queries.GetQuoteParams{OrgID: l.OrgID, ID: l.QuoteID})
	if err != nil {
		return err
	}
	// Each version's first open is news ("v2 abierto"); later opens are in
	// the trail and on the quote's page, without a toast every time.
	if err := notifyWatchers(ctx, tx, jobs, qt, "info", "quotes.opened_title", fmt.Sprintf("quote-opened:%d:%d", qt.ID, l.VersionN), now); err != nil {
		return err
	}
	return publish(ctx, q, qt, "opened")
}

// watchers are who hears about a quote: its owner, the deal's owner and
// the owner's manager.
func watchers(qt queries.GetQuoteRow) []int64 {
	ids := []int64{qt.OwnerID}
	for _, p := range []*int64{qt.OpportunityOwnerID, qt.OwnerManagerID} {
		if p != nil && !slices.Contains(ids, *p) {
			ids = append(ids, *p)
		}
	}
	return ids
}

// freshEvent is how old a client's act may be and still toast: older ones
// (the demo's back-dated history) go to the bell only, as late SLA
// breaches do.
const freshEvent = time.Minute

func notifyWatchers(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], qt queries.GetQuoteRow, severity, titleID, key string, at time.Time) error {
	number := ""
	if qt.Number != nil {
		number = *qt.Number
	}
	for _, uid := range watchers(qt) {
		if _, err := jobs.InsertTx(ctx, tx, jobargs.Notify{OrgID: qt.OrgID, UserID: uid, Severity: severity, TitleID: titleID,
			Params: map[string]any{"Number": number, "Customer": qt.CustomerName}, Link: fmt.Sprintf("/quotes/%d", qt.ID),
			Key: key, Toast: time.Since(at) < freshEvent}, nil); err != nil {
			return err
		}
	}
	return nil
}

// SignInput is the client's acceptance.
type SignInput struct {
	Name      string
	Signature []byte // PNG
	Client    Client
	Now       time.Time
}

// Sign-input errors the client page shows next to the field.
var (
	ErrSignerName     = errors.New("quotes: the signer's name is required")
	ErrSignatureImage = errors.New("quotes: the signature is empty or not a PNG")
	ErrSignatureSize  = errors.New("quotes: the signature image is larger than a signature canvas makes")
)

// maxSignaturePixels bounds what decoding may allocate: a phone or desktop
// canvas at 4× pixel density stays under it, and at 8 bits per channel
// (what a canvas exports) decoding it takes at most 16 MB.
const maxSignaturePixels = 4_000_000

// checkSignature accepts a PNG of sensible size with some ink in it. The
// header (dimensions and bit depth) is read first: only an image whose
// decoding costs what a signature canvas makes is decoded.
func checkSignature(b []byte) error {
	if len(b) == 0 {
		return ErrSignatureImage
	}
	if len(b) > MaxSignatureBytes {
		return ErrSignatureSize
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width < 50 || cfg.Height < 20 {
		return ErrSignatureImage
	}
	if cfg.Width > 4000 || cfg.Height > 4000 || cfg.Width*cfg.Height > maxSignaturePixels {
		return ErrSignatureSize
	}
	switch cfg.ColorModel {
	case color.RGBA64Model, color.NRGBA64Model, color.Gray16Model:
		return ErrSignatureSize // 16 bits per channel: twice the memory, and no canvas exports it
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return ErrSignatureImage
	}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			if _, _, _, a := img.At(x, y).RGBA(); a > 0x8000 {
				if cr, cg, cb, _ := img.At(x, y).RGBA(); cr < 0x8000 || cg < 0x8000 || cb < 0x8000 {
					return nil // a dark, opaque pixel: ink
				}
			}
		}
	}
	return ErrSignatureImage
}

// Sign records the client's signature of the version l names, in tx: the
// audit row (signer, image, time, IP, user agent and the SHA-256 of the
// exact PDF that version was sent as), the version and quote marked
// signed, the deal moved to ganada (history and boards follow), the
// "quote signed" task rules, the watchers told live, and the signed PDF
// e-mailed to the client and the rep. A version is signed once (a unique
// index says so); signing a version that is no longer the latest is
// refused with ErrOutdated.
func Sign(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], l queries.FindQuoteLinkRow, in SignInput) error {
	name := strings.Join(strings.Fields(in.Name), " ")
	if name == "" || len(name) > 200 {
		return ErrSignerName
	}
	q := queries.New(tx)
	// The link's state before the image: an answered or outdated version
	// says so without decoding anything.
	qt, v, err := answerable(ctx, q, l)
	if err != nil {
		return err
	}
	if err := checkSignature(in.Signature); err != nil {
		return err
	}
	if _, err := q.InsertQuoteEvent(ctx, queries.InsertQuoteEventParams{OrgID: l.OrgID, QuoteID: l.QuoteID, VersionN: l.VersionN,
		Kind: "signed", IP: in.Client.IPOrNil(), UserAgent: in.Client.Agent(), SignerName: name, SignaturePng: in.Signature,
		DocumentSha256: *v.PdfSha256}); errors.Is(err, pgx.ErrNoRows) {
		return ErrAnswered
	} else if err != nil {
		return err
	}
	if err := answer(ctx, q, l, "signed"); err != nil {
		return err
	}
	if qt.OpportunityID != nil {
		if _, err := pipeline.Advance(ctx, tx, jobs, l.OrgID, *qt.OpportunityID, "ganada", nil); err != nil {
			return err
		}
	}
	if _, err := tasks.ApplyRules(ctx, tx, jobs, tasks.EventQuoteSigned, nil, tasks.Subject{OrgID: l.OrgID, OwnerID: &qt.OwnerID,
		CustomerID: &qt.CustomerID, OpportunityID: qt.OpportunityID, QuoteID: &qt.ID, Key: fmt.Sprintf("%d:%d", qt.ID, l.VersionN)}, in.Now); err != nil {
		return err
	}
	if err := notifyWatchers(ctx, tx, jobs, qt, "info", "quotes.signed_title", fmt.Sprintf("quote-signed:%d:%d", qt.ID, l.VersionN), in.Now); err != nil {
		return err
	}
	if err := mailSigned(ctx, tx, jobs, q, qt, l.VersionN, name, in.Now); err != nil {
		return err
	}
	return publish(ctx, q, qt, "signed")
}

// Reject records the client's "no" with their reason: the deal goes back
// to en negociación so the rep can try again with a new version.
func Reject(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], l queries.FindQuoteLinkRow, reason string, c Client, now time.Time) error {
	reason = strings.TrimSpace(reason)
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	reason = strings.ToValidUTF8(reason, "")
	q := queries.New(tx)
	qt, _, err := answerable(ctx, q, l)
	if err != nil {
		return err
	}
	if _, err := q.InsertQuoteEvent(ctx, queries.InsertQuoteEventParams{OrgID: l.OrgID, QuoteID: l.QuoteID, VersionN: l.VersionN,
		Kind: "rejected", IP: c.IPOrNil(), UserAgent: c.Agent(), Reason: reason}); errors.Is(err, pgx.ErrNoRows) {
		return ErrAnswered
	} else if err != nil {
		return err
	}
	if err := answer(ctx, q, l, "rejected"); err != nil {
		return err
	}
	if qt.OpportunityID != nil {
		if _, err := pipeline.Advance(ctx, tx, jobs, l.OrgID, *qt.OpportunityID, "en_negociacion", nil); err != nil {
			return err
		}
	}
	if err := notifyWatchers(ctx, tx, jobs, qt, "warning", "quotes.rejected_title", fmt.Sprintf("quote-rejected:%d:%d", qt.ID, l.VersionN), now); err != nil {
		return err
	}
	return publish(ctx, q, qt, "rejected")
}

// answerable checks that the link's version is the one on the table.
func answerable(ctx context.Context, q *queries.Queries, l queries.FindQuoteLinkRow) (queries.GetQuoteRow, queries.QuoteVersion, error) {
	qt, err := q.GetQuote(ctx, queries.GetQuoteParams{OrgID: l.OrgID, ID: l.QuoteID})
	if err != nil {
		return qt, queries.QuoteVersion{}, err
	}
	v, err := q.GetQuoteVersion(ctx, queries.GetQuoteVersionParams{OrgID: l.OrgID, QuoteID: l.QuoteID, N: l.VersionN})
	if err != nil {
		return qt, v, err
	}
	switch {
	case v.Status == "signed" || v.Status == "rejected":
		return qt, v, ErrAnswered
	case v.Status != "sent" || qt.CurrentVersion != l.VersionN:
		return qt, v, ErrOutdated
	}
	return qt, v, nil
}

func answer(ctx context.Context, q *queries.Queries, l queries.FindQuoteLinkRow, status string) error {
	if _, err := q.AnswerVersion(ctx, queries.AnswerVersionParams{OrgID: l.OrgID, QuoteID: l.QuoteID, N: l.VersionN, Status: status}); errors.Is(err, pgx.ErrNoRows) {
		return ErrOutdated
	} else if err != nil {
		return err
	}
	if _, err := q.AnswerQuote(ctx, queries.AnswerQuoteParams{OrgID: l.OrgID, ID: l.QuoteID, N: l.VersionN, Status: status}); errors.Is(err, pgx.ErrNoRows) {
		return ErrOutdated // a draft of the next version was opened: it stays, this answer is refused
	} else if err != nil {
		return err
	}
	return nil
}

// mailSigned e-mails the signed PDF to the client and to the rep.
func mailSigned(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], q *queries.Queries, qt queries.GetQuoteRow, n int32, signer string, now time.Time) error {
	v, err := q.GetQuoteVersion(ctx, queries.GetQuoteVersionParams{OrgID: qt.OrgID, QuoteID: qt.ID, N: n})
	if err != nil {
		return err
	}
	org, err := q.GetOrgForDocuments(ctx, qt.OrgID)
	if err != nil {
		return err
	}
	pdf, err := signedPDF(ctx, q, org, qt, v, *qt.Number)
	if err != nil {
		return err
	}
	filename := fileName(*qt.Number, n, true)
	owner, err := q.GetUser(ctx, queries.GetUserParams{OrgID: qt.OrgID, ID: qt.OwnerID})
	if err != nil {
		return err
	}
	loc := calendar.ZoneOrUTC(org.TimeZone)
	client, clientName := qt.ContactEmail, qt.ContactName
	if client == "" {
		client, clientName = qt.CustomerEmail, qt.CustomerName
	}
	type rcpt struct{ to, name, locale, who string }
	list := []rcpt{{owner.Email, owner.Name, owner.Locale, "rep"}}
	if client != "" && mail.ValidAddress(client) == nil {
		list = append(list, rcpt{client, clientName, "es", "client"})
	}
	for _, r := range list {
		e, err := mail.Enqueue(ctx, tx, jobs, mail.Message{OrgID: qt.OrgID, Key: fmt.Sprintf("quote-signed:%d:v%d:%s", qt.ID, n, r.who),
			To: r.to, ToName: r.name, Locale: r.locale, Template: mail.QuoteSigned(emailview.Quote{Number: *qt.Number, Version: int(n),
				Org: org.Name, Customer: qt.CustomerName, Contact: clientName, Total: money.Format(v.Total, v.Currency),
				Signer: signer, SignedAt: now.In(loc).Format("02/01/2006 15:04")})})
		if err != nil {
			return err
		}
		if err := q.CreateEmailAttachment(ctx, queries.CreateEmailAttachmentParams{OrgID: qt.OrgID, EmailID: e.ID,
			Filename: filename, ContentType: "application/pdf", Content: pdf}); err != nil {
			return err
		}
	}
	return nil
}
