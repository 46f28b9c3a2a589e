// Package mail is Pulso's outgoing e-mail: messages rendered from templates
// (views/email) in the recipient's language, MIME building, the SMTP client
// the send_email job delivers with, and the admin's outbox. Areas enqueue
// with Enqueue, in the transaction of the change that asks for
// the message; this package cannot do it itself because workers imports it
// for the Mailer, and the job's args live with their worker.
package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"

	"pulso/app/linktoken"
	emailview "pulso/views/email"
	"pulso/views/i18n"
)

// Template is one kind of e-mail ready to render: its name (kept with each
// message, for the outbox and for tracing), its subject and both bodies.
type Template struct {
	Name    string
	Subject func(ctx context.Context) string
	Text    templ.Component
	HTML    templ.Component
}

// Invite is the e-mail that carries a one-time invite link.
func Invite(d emailview.Invite) Template {
	return Template{
		Name:    "invite",
		Subject: func(ctx context.Context) string { return emailview.InviteSubject(ctx, d) },
		Text:    emailview.InviteText(d),
		HTML:    emailview.InviteHTML(d),
	}
}

// Quota is the e-mail that tells an org's admins how much of the month's
// sales vouchers they have used.
func Quota(d emailview.Quota) Template {
	return Template{
		Name:    "voucher_quota",
		Subject: func(ctx context.Context) string { return emailview.QuotaSubject(ctx, d) },
		Text:    emailview.QuotaText(d),
		HTML:    emailview.QuotaHTML(d),
	}
}

// Message is one e-mail to one person.
type Message struct {
	OrgID int64
	// Key names the message within the org ("invite:42:<hash>"): enqueueing
	// a key twice sends once, and the Message-ID header derives from it.
	Key    string
	To     string // a bare address: ana@empresa.es
	ToName string
	Locale string // the recipient's; unknown locales fall back to Spanish
	Template
	// Link is the token of a link that opens something (an invite, a
	// quote), when the message carries one. It is never stored: see
	// SecretLink.
	Link *SecretLink
}

// SecretLink is the token a message's link carries and how to derive it
// again. Enqueue stores the message with Redacted where the token was,
// and the purpose and nonce beside it; Reveal puts the token back when the
// job sends it (or the outbox shows a message it keeps instead of
// sending). So the emails table, and any backup of it, opens nothing.
type SecretLink struct {
	Token   string
	Purpose linktoken.Purpose
	Nonce   []byte
}

// Redacted stands where a link's token was in a stored e-mail.
const Redacted = "[token-oculto]"

// Rendered is a message as it is stored and sent.
type Rendered struct {
	Subject, Text, HTML string
}

// ErrInvalid is wrapped by every Validate error: the caller built a message
// that must not be stored, let alone sent.
var ErrInvalid = errors.New("invalid e-mail message")

const (
	maxKeyLen     = 200
	maxAddressLen = 254 // RFC 5321 path limit, less the angle brackets
	maxSubjectLen = 250 // runes; longer subjects are cut, not rejected
)

// Validate checks the message before anything is written.
func (m Message) Validate() error {
	switch {
	case m.OrgID <= 0:
		return fmt.Errorf("%w: no org", ErrInvalid)
	case m.Key == "" || len(m.Key) > maxKeyLen || strings.IndexFunc(m.Key, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: key must be 1-%d printable characters", ErrInvalid, maxKeyLen)
	case m.Name == "" || m.Subject == nil || m.Text == nil:
		return fmt.Errorf("%w: template needs a name, a subject and a text body", ErrInvalid)
	case m.Link != nil && (len(m.Link.Token) < 16 || m.Link.Purpose == "" || len(m.Link.Nonce) == 0):
		return fmt.Errorf("%w: a secret link needs its token, purpose and nonce", ErrInvalid)
	}
	return ValidAddress(m.To)
}

// ValidAddress accepts a bare ASCII address (no display name, no list).
// The SMTP client does not speak SMTPUTF8, so a non-ASCII address is
// refused here rather than bounced later.
func ValidAddress(addr string) error {
	if addr == "" {
		return fmt.Errorf("%w: no address", ErrInvalid)
	}
	if len(addr) > maxAddressLen {
		return fmt.Errorf("%w: address longer than %d bytes", ErrInvalid, maxAddressLen)
	}
	for _, r := range addr {
		if r <= ' ' || r >= utf8.RuneSelf {
			return fmt.Errorf("%w: address has spaces, control or non-ASCII characters", ErrInvalid)
		}
	}
	a, err := netmail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" {
		return fmt.Errorf("%w: not a single bare address", ErrInvalid)
	}
	return nil
}

// Render produces the subject and bodies in the message's locale.
func (m Message) Render(ctx context.Context) (Rendered, error) {
	ctx = i18n.WithLocale(ctx, m.Locale)
	r := Rendered{Subject: headerText(m.Subject(ctx), maxSubjectLen)}
	if r.Subject == "" {
		return r, fmt.Errorf("%w: template %s rendered an empty subject", ErrInvalid, m.Name)
	}
	var buf bytes.Buffer
	if err := m.Text.Render(ctx, &buf); err != nil {
		return r, fmt.Errorf("render %s text: %w", m.Name, err)
	}
	r.Text = buf.String()
	if m.HTML != nil {
		buf.Reset()
		if err := m.HTML.Render(ctx, &buf); err != nil {
			return r, fmt.Errorf("render %s html: %w", m.Name, err)
		}
		r.HTML = buf.String()
	}
	return r, nil
}

// headerText makes s safe for a one-line header: data in a subject or a
// display name (a user's name, an org's) could otherwise carry a line break
// and with it a header of its own. Whitespace runs become one space.
func headerText(s string, maxRunes int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes-1]) + "…"
	}
	return s
}

// ImportErrors is the e-mail that returns an import's error file.
func ImportErrors(d emailview.ImportErrors) Template {
	return Template{
		Name:    "import_errors",
		Subject: func(ctx context.Context) string { return emailview.ImportErrorsSubject(ctx, d) },
		Text:    emailview.ImportErrorsText(d),
		HTML:    emailview.ImportErrorsHTML(d),
	}
}

// QuoteSent is the e-mail that carries a quote's PDF and the client's link.
func QuoteSent(d emailview.Quote) Template {
	return Template{
		Name:    "quote_sent",
		Subject: func(ctx context.Context) string { return emailview.QuoteSentSubject(ctx, d) },
		Text:    emailview.QuoteSentText(d),
		HTML:    emailview.QuoteSentHTML(d),
	}
}

// InvoiceSent is the e-mail that carries an invoice's PDF and the client's
// link (app/invoices/sends).
func InvoiceSent(d emailview.Invoice) Template {
	return Template{
		Name:    "invoice_sent",
		Subject: func(ctx context.Context) string { return emailview.InvoiceSentSubject(ctx, d) },
		Text:    emailview.InvoiceSentText(d),
		HTML:    emailview.InvoiceSentHTML(d),
	}
}

// QuoteSigned is the e-mail that returns the signed PDF to both sides.
func QuoteSigned(d emailview.Quote) Template {
	return Template{
		Name:    "quote_signed",
		Subject: func(ctx context.Context) string { return emailview.QuoteSignedSubject(ctx, d) },
		Text:    emailview.QuoteSignedText(d),
		HTML:    emailview.QuoteSignedHTML(d),
	}
}

// PriceList is the e-mail that carries a price list's PDF to a customer.
func PriceList(d emailview.PriceList) Template {
	return Template{
		Name:    "price_list",
		Subject: func(ctx context.Context) string { return emailview.PriceListSubject(ctx, d) },
		Text:    emailview.PriceListText(d),
		HTML:    emailview.PriceListHTML(d),
	}
}
