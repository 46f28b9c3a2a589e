package quotes

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/app/mail"
	"pulso/app/money"
	"pulso/app/pipeline"
	"pulso/app/printing"
	"pulso/app/series"
	"pulso/app/tasks"
	"pulso/app/tax"
	"pulso/queries"
	emailview "pulso/views/email"
)

// Errors a send can end with; the page explains each.
var (
	ErrNoDraft       = errors.New("quotes: nothing to send (no draft version)")
	ErrNoLines       = errors.New("quotes: a quote needs at least one line")
	ErrValidityPast  = errors.New("quotes: the validity date has passed")
	ErrAnswered      = errors.New("quotes: this version was answered already")
	ErrOutdated      = errors.New("quotes: a newer version was sent")
	ErrLinkNotUsable = errors.New("quotes: link expired or revoked")
)

// Parties is what a sent version froze of who it was between.
type Parties struct {
	Seller printing.Party `json:"seller"`
	Buyer  printing.Party `json:"buyer"`
	Locale string         `json:"locale"`
	Zone   string         `json:"zone"`
}

// TokenBytes is the link token's entropy: 128 bits.
const TokenBytes = 16

// TokenLen is the length of a token in a URL (base64url, no padding).
var TokenLen = base64.RawURLEncoding.EncodedLen(TokenBytes)

// HashToken is how a token is looked up (see quote_links in migration 0024).
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newToken() (string, error) {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SendInput names the quote and who sends it.
type SendInput struct {
	OrgID    int64
	QuoteID  int64
	Revision int32
	UserID   int64
	Locale   string // the sender's: the PDF and the e-mail are written in it
	BaseURL  string // https://pulso.example.com, for the client link
	Now      time.Time
}

// Sent is the result of a send.
type Sent struct {
	Number  string
	Version int32
	Link    queries.QuoteLink
	URL     string
	Emailed string // the address the e-mail went to; "" when none is known
}

// ClientURL is the address a client opens a quote at.
func ClientURL(base, token string) string { return strings.TrimRight(base, "/") + "/q/" + token }

// Send issues the quote's draft version, all in tx: the number (taken the
// first time only, gapless), the frozen Parties and totals, the exact PDF
// and its hash, the client link (an older version's link now leads to this
// one: the client always sees the latest), the audit row, the e-mail with the PDF
// (a send_email job, keyed by quote and version so it goes once), the
// "quote sent" task rules, and the deal's move to oferta presentada when
// it was still being analysed.
func Send(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], in SendInput) (Sent, error) {
	q := queries.New(tx)
	qt, err := q.GetQuote(ctx, queries.GetQuoteParams{OrgID: in.OrgID, ID: in.QuoteID})
	if err != nil {
		return Sent{}, err
	}
	if qt.Revision != in.Revision {
		return Sent{}, ErrConflict
	}
	v, err := q.GetDraftVersion(ctx, queries.GetDraftVersionParams{OrgID: in.OrgID, QuoteID: in.QuoteID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Sent{}, ErrNoDraft
	}
	if err != nil {
		return Sent{}, err
	}
	lines, err := q.ListQuoteLines(ctx, queries.ListQuoteLinesParams{OrgID: in.OrgID, QuoteID: in.QuoteID, VersionN: v.N})
	if err != nil {
		return Sent{}, err
	}
	if len(lines) == 0 {
		return Sent{}, ErrNoLines
	}
	org, err := q.GetOrgForDocuments(ctx, in.OrgID)
	if err != nil {
		return Sent{}, err
	}
	loc, err := time.LoadLocation(org.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	local := in.Now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	if v.ValidUntil.Time.Before(today) {
		return Sent{}, ErrValidityPast
	}

	number := ""
	if qt.Number != nil {
		number = *qt.Number
	} else {
		n, err := series.Take(ctx, q, in.OrgID, series.Quote, qt.SeriesCode, local.Year())
		if err != nil {
			return Sent{}, err
		}
		number = n.String()
	}

	pt := Parties{Seller: printing.Party{Name: org.Name, TaxID: org.TaxID}, Locale: in.Locale, Zone: org.TimeZone}
	pt.Buyer, err = buyerOf(ctx, q, in.OrgID, qt)
	if err != nil {
		return Sent{}, err
	}
	ptJSON, err := json.Marshal(pt)
	if err != nil {
		return Sent{}, err
	}
	totals, err := tax.Compute(LinesOf(lines))
	if err != nil {
		return Sent{}, err
	}
	doc := document(pt, org.Logo, number, v, lines, totals, in.Now)
	pdf, err := printing.Render(doc)
	if err != nil {
		return Sent{}, err
	}
	sum := sha256.Sum256(pdf)
	digest := hex.EncodeToString(sum[:])

	if _, err := q.FreezeVersion(ctx, queries.FreezeVersionParams{OrgID: in.OrgID, QuoteID: in.QuoteID, N: v.N,
		Parties: ptJSON, SentAt: &in.Now, SentBy: &in.UserID, Pdf: pdf, PdfSha256: &digest}); err != nil {
		return Sent{}, err
	}
	if err := q.SupersedeVersions(ctx, queries.SupersedeVersionsParams{OrgID: in.OrgID, QuoteID: in.QuoteID, N: v.N}); err != nil {
		return Sent{}, err
	}
	if _, err := q.MarkQuoteSent(ctx, queries.MarkQuoteSentParams{OrgID: in.OrgID, ID: in.QuoteID, Revision: in.Revision,
		Number: &number, N: v.N}); errors.Is(err, pgx.ErrNoRows) {
		return Sent{}, ErrConflict
	} else if err != nil {
		return Sent{}, err
	}
	token, err := newToken()
	if err != nil {
		return Sent{}, err
	}
	// The link lives until the end of the validity day, in the org's zone.
	vu := v.ValidUntil.Time
	expires := time.Date(vu.Year(), vu.Month(), vu.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	link, err := q.CreateQuoteLink(ctx, queries.CreateQuoteLinkParams{OrgID: in.OrgID, QuoteID: in.QuoteID, VersionN: v.N,
		Token: token, TokenHash: HashToken(token), ExpiresAt: expires})
	if err != nil {
		return Sent{}, err
	}
	if _, err := q.InsertQuoteEvent(ctx, queries.InsertQuoteEventParams{OrgID: in.OrgID, QuoteID: in.QuoteID, VersionN: v.N,
		Kind: "sent", UserID: &in.UserID, DocumentSha256: digest}); err != nil {
		return Sent{}, err
	}
	out := Sent{Number: number, Version: v.N, Link: link, URL: ClientURL(in.BaseURL, token)}

	to, toName := qt.ContactEmail, qt.ContactName
	if to == "" {
		to, toName = qt.CustomerEmail, qt.CustomerName
	}
	if to != "" && mail.ValidAddress(to) == nil {
		e, err := mail.Enqueue(ctx, tx, jobs, mail.Message{OrgID: in.OrgID, Key: fmt.Sprintf("quote:%d:v%d", in.QuoteID, v.N),
			To: to, ToName: toName, Locale: in.Locale, Template: mail.QuoteSent(emailview.Quote{
				Number: number, Version: int(v.N), Org: org.Name, Customer: qt.CustomerName, Contact: toName,
				Total: money.Format(totals.Total, v.Currency), ValidUntil: v.ValidUntil.Time.Format("02/01/2006"), Link: out.URL})})
		if err != nil {
			return Sent{}, err
		}
		if err := q.CreateEmailAttachment(ctx, queries.CreateEmailAttachmentParams{OrgID: in.OrgID, EmailID: e.ID,
			Filename: fileName(number, v.N, false), ContentType: "application/pdf", Content: pdf}); err != nil {
			return Sent{}, err
		}
		if _, err := q.InsertQuoteEvent(ctx, queries.InsertQuoteEventParams{OrgID: in.OrgID, QuoteID: in.QuoteID, VersionN: v.N,
			Kind: "emailed", UserID: &in.UserID, Reason: to}); err != nil {
			return Sent{}, err
		}
		out.Emailed = to
	}

	key := fmt.Sprintf("%d:%d", in.QuoteID, v.N)
	if _, err := tasks.ApplyRules(ctx, tx, jobs, tasks.EventQuoteSent, nil, tasks.Subject{OrgID: in.OrgID, OwnerID: &qt.OwnerID,
		CustomerID: &qt.CustomerID, OpportunityID: qt.OpportunityID, QuoteID: &qt.ID, Key: key}, in.Now); err != nil {
		return Sent{}, err
	}
	if qt.OpportunityID != nil {
		if _, err := pipeline.Advance(ctx, tx, jobs, in.OrgID, *qt.OpportunityID, "oferta_presentada", &in.UserID, "en_analisis"); err != nil {
			return Sent{}, err
		}
	}
	return out, publish(ctx, q, qt, "sent")
}

// fileName is the PDF's name as the client and the rep save it.
func fileName(number string, n int32, signed bool) string {
	s := fmt.Sprintf("presupuesto-%s-v%d", number, n)
	if signed {
		s += "-firmado"
	}
	return s + ".pdf"
}

func buyerOf(ctx context.Context, q *queries.Queries, orgID int64, qt queries.GetQuoteRow) (printing.Party, error) {
	b := printing.Party{Name: qt.CustomerName, TaxID: qt.CustomerTaxID, Email: qt.ContactEmail}
	if b.Email == "" {
		b.Email = qt.CustomerEmail
	}
	addrs, err := q.ListCustomerAddresses(ctx, queries.ListCustomerAddressesParams{OrgID: orgID, CustomerID: qt.CustomerID})
	if err != nil {
		return b, err
	}
	for _, a := range addrs {
		if a.Kind == "billing" {
			var parts []string
			for _, s := range []string{a.Street, strings.TrimSpace(a.PostalCode + " " + a.City), a.Province} {
				if s != "" {
					parts = append(parts, s)
				}
			}
			b.Address = strings.Join(parts, ", ")
		}
	}
	if qt.ContactName != "" {
		b.Name += " (" + qt.ContactName + ")"
	}
	return b, nil
}

// document assembles what a version's PDF prints.
func document(pt Parties, logo []byte, number string, v queries.QuoteVersion, lines []queries.QuoteLine, t tax.Totals, issued time.Time) printing.Document {
	loc, err := time.LoadLocation(pt.Zone)
	if err != nil {
		loc = time.UTC
	}
	d := printing.Document{Kind: "quote", Number: number, Version: int(v.N), Issued: issued, ValidUntil: v.ValidUntil.Time,
		Locale: pt.Locale, Location: loc, Currency: v.Currency, Seller: pt.Seller, Buyer: pt.Buyer, Logo: logo,
		Totals: t, Terms: v.Terms}
	for i, l := range lines {
		disc := ""
		if dp := money.Decimal(l.DiscountPct); !dp.IsZero() {
			disc = dp.String()
		}
		d.Lines = append(d.Lines, printing.Line{Description: l.Description, Quantity: money.Number(money.Decimal(l.Quantity), v.Currency), Unit: l.Unit,
			UnitPrice: l.UnitPrice, DiscountPct: disc, TaxRate: money.Decimal(l.TaxRate).String(), Amount: t.Lines[i]})
	}
	return d
}

// VersionPDF is the PDF of a sent version: the stored bytes the client was
// shown, or — for a signed version — the same document with the signature,
// signer, time and the SHA-256 of the bytes that were signed.
func VersionPDF(ctx context.Context, q *queries.Queries, orgID, quoteID int64, n int32) ([]byte, string, error) {
	v, err := q.GetQuoteVersion(ctx, queries.GetQuoteVersionParams{OrgID: orgID, QuoteID: quoteID, N: n})
	if err != nil {
		return nil, "", err
	}
	qt, err := q.GetQuote(ctx, queries.GetQuoteParams{OrgID: orgID, ID: quoteID})
	if err != nil {
		return nil, "", err
	}
	number := ""
	if qt.Number != nil {
		number = *qt.Number
	}
	if v.Status != "signed" {
		if v.Pdf == nil {
			return nil, "", ErrNoDraft
		}
		return v.Pdf, fileName(number, n, false), nil
	}
	org, err := q.GetOrgForDocuments(ctx, orgID)
	if err != nil {
		return nil, "", err
	}
	pdf, err := signedPDF(ctx, q, org, qt, v, number)
	return pdf, fileName(number, n, true), err
}

func signedPDF(ctx context.Context, q *queries.Queries, org queries.GetOrgForDocumentsRow, qt queries.GetQuoteRow, v queries.QuoteVersion, number string) ([]byte, error) {
	sig, err := q.GetSignature(ctx, queries.GetSignatureParams{OrgID: org.ID, QuoteID: qt.ID, VersionN: v.N})
	if err != nil {
		return nil, err
	}
	lines, err := q.ListQuoteLines(ctx, queries.ListQuoteLinesParams{OrgID: org.ID, QuoteID: qt.ID, VersionN: v.N})
	if err != nil {
		return nil, err
	}
	t, err := tax.Compute(LinesOf(lines))
	if err != nil {
		return nil, err
	}
	var pt Parties
	if err := json.Unmarshal(v.Parties, &pt); err != nil {
		return nil, err
	}
	d := document(pt, org.Logo, number, v, lines, t, *v.SentAt)
	ip := ""
	if sig.IP != nil {
		ip = sig.IP.String()
	}
	d.Signature = &printing.Signature{Name: sig.SignerName, At: sig.At, IP: ip, PNG: sig.SignaturePng, SHA256: sig.DocumentSha256}
	return printing.Render(d)
}

// publish tells open quote pages and lists that something happened, and
// open boards to redraw the deal's card (its quote badge).
func publish(ctx context.Context, q *queries.Queries, qt queries.GetQuoteRow, kind string) error {
	if err := live.Publish(ctx, live.Event{OrgID: qt.OrgID, Topic: live.TopicQuote, Entity: "quote", EntityID: &qt.ID,
		Kind: kind, SubjectUserID: &qt.OwnerID}); err != nil {
		return err
	}
	if qt.OpportunityID == nil {
		return nil
	}
	return pipeline.Touch(ctx, q, qt.OrgID, *qt.OpportunityID)
}

// VersionParties is who a sent version was between, as frozen at send, and
// the language and zone its documents print in: orders and delivery notes
// that follow from it print the same Parties.
func VersionParties(v queries.QuoteVersion) (seller, buyer printing.Party, locale string, loc *time.Location, err error) {
	var pt Parties
	if err := json.Unmarshal(v.Parties, &pt); err != nil {
		return printing.Party{}, printing.Party{}, "", nil, err
	}
	loc, lerr := time.LoadLocation(pt.Zone)
	if lerr != nil {
		loc = time.UTC
	}
	return pt.Seller, pt.Buyer, pt.Locale, loc, nil
}

// DraftPDF renders a draft version as the client would get it if it were
// sent now (numbered as the quote is, dated today), for the rep to check.
func DraftPDF(ctx context.Context, q *queries.Queries, orgID int64, locale string, qt queries.GetQuoteRow, v queries.QuoteVersion) ([]byte, error) {
	lines, err := q.ListQuoteLines(ctx, queries.ListQuoteLinesParams{OrgID: orgID, QuoteID: qt.ID, VersionN: v.N})
	if err != nil {
		return nil, err
	}
	t, err := tax.Compute(LinesOf(lines))
	if err != nil {
		return nil, err
	}
	org, err := q.GetOrgForDocuments(ctx, orgID)
	if err != nil {
		return nil, err
	}
	buyer, err := buyerOf(ctx, q, orgID, qt)
	if err != nil {
		return nil, err
	}
	number := ""
	if qt.Number != nil {
		number = *qt.Number
	}
	pt := Parties{Seller: printing.Party{Name: org.Name, TaxID: org.TaxID}, Buyer: buyer, Locale: locale, Zone: org.TimeZone}
	return printing.Render(document(pt, org.Logo, number, v, lines, t, time.Now()))
}
