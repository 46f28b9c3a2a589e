package quotes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/calendar"
	"pulso/app/linktoken"
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
	"pulso/views/i18n"
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
	// Tax is the buyer's tax treatment when sent (absent before regimes
	// existed: general) and Country the seller's, for the legend it prints.
	Tax     tax.CustomerTax `json:"tax,omitzero"`
	Country string          `json:"country,omitempty"`
	Locale  string          `json:"locale"`
	Zone    string          `json:"zone"`
}

// TokenLen is the length of a link's token in a URL: 128 bits of
// base64url, as linktoken writes a Quote token.
const TokenLen = 22

// SendInput names the quote and who sends it.
type SendInput struct {
	OrgID    int64
	QuoteID  int64
	Revision int32
	UserID   int64
	Locale   string // the sender's: the PDF and the e-mail are written in it
	BaseURL  string // https://pulso.example.com, for the client link
	// Links derives the client link's token (config.LinkKeys): only its
	// nonce and digest are stored.
	Links linktoken.Keys
	Now   time.Time
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

// Send issues the quote's draft version, all in tx, in the steps below: the
// quote as the sender saw it, its number (taken the first time only,
// gapless), the frozen parties and totals, the exact PDF and its hash, the
// client link (an older version's link now leads to this one: the client
// always sees the latest), the audit row, the e-mail with the PDF (a
// send_email job, keyed by quote and version so it goes once), the "quote
// sent" task rules, and the deal's move to oferta presentada when it was
// still being analysed.
func Send(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], in SendInput) (Sent, error) {
	s := &sending{in: in, tx: tx, jobs: jobs, q: queries.New(tx)}
	for _, step := range []func(context.Context) error{
		s.load, s.checkValidity, s.takeNumber, s.render, s.freeze, s.makeLink, s.email, s.followUp,
	} {
		if err := step(ctx); err != nil {
			return Sent{}, err
		}
	}
	return s.out, publish(ctx, s.q, s.qt, "sent")
}

// sending is one Send in progress: what each step found or made.
type sending struct {
	in      SendInput
	tx      pgx.Tx
	jobs    *river.Client[pgx.Tx]
	q       *queries.Queries
	qt      queries.GetQuoteRow
	v       queries.QuoteVersion
	lines   []queries.QuoteLine
	org     queries.GetOrgForDocumentsRow
	loc     *time.Location
	number  string
	totals  tax.Totals
	pdf     []byte
	digest  string
	parties []byte // JSON of the Parties printed
	token   linktoken.Minted
	out     Sent
}

// load reads the quote at the revision the sender saw, its draft version
// and lines, and the org as documents print it.
func (s *sending) load(ctx context.Context) error {
	var err error
	if s.qt, err = s.q.GetQuote(ctx, queries.GetQuoteParams{OrgID: s.in.OrgID, ID: s.in.QuoteID}); err != nil {
		return err
	}
	if s.qt.Revision != s.in.Revision {
		return ErrConflict
	}
	s.v, err = s.q.GetDraftVersion(ctx, queries.GetDraftVersionParams{OrgID: s.in.OrgID, QuoteID: s.in.QuoteID})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNoDraft
	}
	if err != nil {
		return err
	}
	if s.lines, err = s.q.ListQuoteLines(ctx, queries.ListQuoteLinesParams{OrgID: s.in.OrgID, QuoteID: s.in.QuoteID, VersionN: s.v.N}); err != nil {
		return err
	}
	if len(s.lines) == 0 {
		return ErrNoLines
	}
	if s.org, err = s.q.GetOrgForDocuments(ctx, s.in.OrgID); err != nil {
		return err
	}
	s.loc = calendar.ZoneOrUTC(s.org.TimeZone)
	return nil
}

// checkValidity refuses a version valid until a day already past in the
// org's zone.
func (s *sending) checkValidity(context.Context) error {
	if s.v.ValidUntil.Time.Before(calendar.Today(s.in.Now, s.loc)) {
		return ErrValidityPast
	}
	return nil
}

// takeNumber keeps the quote's number, or takes the next of its series
// for the year (in the org's zone) on the first send.
func (s *sending) takeNumber(ctx context.Context) error {
	if s.qt.Number != nil {
		s.number = *s.qt.Number
		return nil
	}
	n, err := series.Take(ctx, s.q, s.in.OrgID, series.Quote, s.qt.SeriesCode, s.in.Now.In(s.loc))
	if err != nil {
		return err
	}
	s.number = n.String()
	return nil
}

// render fixes the parties and totals and draws the PDF the client gets,
// with its SHA-256.
func (s *sending) render(ctx context.Context) error {
	pt, err := partiesOf(ctx, s.q, s.org, s.qt, s.in.Locale)
	if err != nil {
		return err
	}
	if s.totals, err = tax.Compute(LinesOf(s.lines)); err != nil {
		return err
	}
	if s.pdf, err = printing.Render(document(pt, s.org.Logo, s.number, s.v, s.lines, s.totals, s.in.Now)); err != nil {
		return err
	}
	sum := sha256.Sum256(s.pdf)
	s.digest = hex.EncodeToString(sum[:])
	s.parties, err = json.Marshal(pt)
	return err
}

// freeze stores the version as sent (parties, PDF and hash; triggers refuse
// any later change), marks the older versions superseded and the quote
// sent under its number, from the revision the sender saw (ErrConflict
// otherwise).
func (s *sending) freeze(ctx context.Context) error {
	if _, err := s.q.FreezeVersion(ctx, queries.FreezeVersionParams{OrgID: s.in.OrgID, QuoteID: s.in.QuoteID, N: s.v.N,
		Parties: s.parties, SentAt: &s.in.Now, SentBy: &s.in.UserID, Pdf: s.pdf, PdfSha256: &s.digest}); err != nil {
		return err
	}
	if err := s.q.SupersedeVersions(ctx, queries.SupersedeVersionsParams{OrgID: s.in.OrgID, QuoteID: s.in.QuoteID, N: s.v.N}); err != nil {
		return err
	}
	_, err := s.q.MarkQuoteSent(ctx, queries.MarkQuoteSentParams{OrgID: s.in.OrgID, ID: s.in.QuoteID, Revision: s.in.Revision,
		Number: &s.number, N: s.v.N})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrConflict
	}
	return err
}

// makeLink creates the client link, valid to the end of the validity day
// in the org's zone, and the audit row of the send.
func (s *sending) makeLink(ctx context.Context) error {
	// Derived rather than random so the rep can copy the link again from
	// the quote's page and the e-mail job can put it back in the message;
	// the row keeps only the nonce and the digest.
	token, err := s.in.Links.Mint(linktoken.Quote)
	if err != nil {
		return err
	}
	s.token = token
	vu := s.v.ValidUntil.Time
	expires := time.Date(vu.Year(), vu.Month(), vu.Day(), 0, 0, 0, 0, s.loc).AddDate(0, 0, 1)
	link, err := s.q.CreateQuoteLink(ctx, queries.CreateQuoteLinkParams{OrgID: s.in.OrgID, QuoteID: s.in.QuoteID, VersionN: s.v.N,
		TokenHash: token.Hash, TokenNonce: token.Nonce, ExpiresAt: expires})
	if err != nil {
		return err
	}
	if _, err := s.q.InsertQuoteEvent(ctx, queries.InsertQuoteEventParams{OrgID: s.in.OrgID, QuoteID: s.in.QuoteID, VersionN: s.v.N,
		Kind: "sent", UserID: &s.in.UserID, DocumentSha256: s.digest}); err != nil {
		return err
	}
	s.out = Sent{Number: s.number, Version: s.v.N, Link: link, URL: ClientURL(s.in.BaseURL, token.Token)}
	return nil
}

// email sends the PDF and the link to the quote's contact (or the
// customer's address), once per quote and version, when one is known.
func (s *sending) email(ctx context.Context) error {
	to, toName := s.qt.ContactEmail, s.qt.ContactName
	if to == "" {
		to, toName = s.qt.CustomerEmail, s.qt.CustomerName
	}
	if to == "" || mail.ValidAddress(to) != nil {
		return nil
	}
	e, err := mail.Enqueue(ctx, s.tx, s.jobs, mail.Message{OrgID: s.in.OrgID, Key: fmt.Sprintf("quote:%d:v%d", s.in.QuoteID, s.v.N),
		To: to, ToName: toName, Locale: s.in.Locale, Template: mail.QuoteSent(emailview.Quote{
			Number: s.number, Version: int(s.v.N), Org: s.org.Name, Customer: s.qt.CustomerName, Contact: toName,
			Total: money.Format(s.totals.Total, s.v.Currency), ValidUntil: s.v.ValidUntil.Time.Format("02/01/2006"), Link: s.out.URL}),
		Link: &mail.SecretLink{Token: s.token.Token, Purpose: linktoken.Quote, Nonce: s.token.Nonce}})
	if err != nil {
		return err
	}
	if err := s.q.CreateEmailAttachment(ctx, queries.CreateEmailAttachmentParams{OrgID: s.in.OrgID, EmailID: e.ID,
		Filename: fileName(s.number, s.v.N, false), ContentType: "application/pdf", Content: s.pdf}); err != nil {
		return err
	}
	if _, err := s.q.InsertQuoteEvent(ctx, queries.InsertQuoteEventParams{OrgID: s.in.OrgID, QuoteID: s.in.QuoteID, VersionN: s.v.N,
		Kind: "emailed", UserID: &s.in.UserID, Reason: to}); err != nil {
		return err
	}
	s.out.Emailed = to
	return nil
}

// followUp runs the "quote sent" task rules (once per version) and moves a
// deal still being analysed to oferta presentada.
func (s *sending) followUp(ctx context.Context) error {
	qt := s.qt
	key := fmt.Sprintf("%d:%d", qt.ID, s.v.N)
	if _, err := tasks.ApplyRules(ctx, s.tx, s.jobs, tasks.EventQuoteSent, nil, tasks.Subject{OrgID: s.in.OrgID, OwnerID: &qt.OwnerID,
		CustomerID: &qt.CustomerID, OpportunityID: qt.OpportunityID, QuoteID: &qt.ID, Key: key}, s.in.Now); err != nil {
		return err
	}
	if qt.OpportunityID == nil {
		return nil
	}
	_, err := pipeline.Advance(ctx, s.tx, s.jobs, s.in.OrgID, *qt.OpportunityID, "oferta_presentada", &s.in.UserID, "en_analisis")
	return err
}

// fileName is the PDF's name as the client and the rep save it.
func fileName(number string, n int32, signed bool) string {
	s := fmt.Sprintf("presupuesto-%s-v%d", number, n)
	if signed {
		s += "-firmado"
	}
	return s + ".pdf"
}

// partiesOf is who a version is between as it is printed now: the org, the
// customer (and contact), the customer's tax treatment and the seller's
// country for its legend; Send freezes it.
func partiesOf(ctx context.Context, q *queries.Queries, org queries.GetOrgForDocumentsRow, qt queries.GetQuoteRow, locale string) (Parties, error) {
	buyer, err := buyerOf(ctx, q, org.ID, qt)
	return Parties{Seller: printing.Party{Name: org.Name, TaxID: org.TaxID}, Buyer: buyer, Locale: locale, Zone: org.TimeZone,
		Tax: CustomerTaxOf(qt), Country: org.Country}, err
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
			b.Address = printing.AddressLine(a.Street, a.PostalCode, a.City, a.Province)
		}
	}
	if qt.ContactName != "" {
		b.Name += " (" + qt.ContactName + ")"
	}
	return b, nil
}

// document assembles what a version's PDF prints.
func document(pt Parties, logo []byte, number string, v queries.QuoteVersion, lines []queries.QuoteLine, t tax.Totals, issued time.Time) printing.Document {
	loc := calendar.ZoneOrUTC(pt.Zone)
	d := printing.Document{Kind: "quote", Number: number, Version: int(v.N), Issued: issued, ValidUntil: v.ValidUntil.Time,
		Locale: pt.Locale, Location: loc, Currency: v.Currency, Seller: pt.Seller, Buyer: pt.Buyer, Logo: logo,
		Totals: t, Terms: v.Terms}
	if id, params := pt.Tax.Legend(pt.Country); id != "" {
		d.Notes = append(d.Notes, i18n.In(pt.Locale, id, params))
	}
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
	return pt.Seller, pt.Buyer, pt.Locale, calendar.ZoneOrUTC(pt.Zone), nil
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
	pt, err := partiesOf(ctx, q, org, qt, locale)
	if err != nil {
		return nil, err
	}
	number := ""
	if qt.Number != nil {
		number = *qt.Number
	}
	return printing.Render(document(pt, org.Logo, number, v, lines, t, time.Now()))
}

// CustomerTaxOf is the quote's customer's tax treatment, as now.
func CustomerTaxOf(qt queries.GetQuoteRow) tax.CustomerTax {
	return tax.CustomerTax{Regime: tax.Regime(qt.CustomerTaxRegime), ExemptCause: qt.CustomerExemptCause, IRPF: money.Decimal(qt.CustomerIrpfRate)}
}
