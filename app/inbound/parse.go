// Package inbound turns e-mail sent to an org's inbox address into leads,
// or into activities on the lead or customer who wrote: the SMTP listener,
// the admin's .eml upload, the parser and the processing a River job runs.
package inbound

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // ISO-8859-x, Windows-125x and the rest, not only UTF-8 and ASCII
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/net/html"

	"pulso/app/ident"
)

// Rejection is a message refused for what it is; MessageID says why (shown
// to admins on the inbox page).
type Rejection struct{ MessageID string }

func (r *Rejection) Error() string { return r.MessageID }

var (
	ErrMalformed = &Rejection{MessageID: "inbound.reason.malformed"}
	ErrNoFrom    = &Rejection{MessageID: "inbound.reason.no_from"}
	ErrTooLarge  = &Rejection{MessageID: "inbound.reason.too_large"}
	ErrEmpty     = &Rejection{MessageID: "inbound.reason.empty"}
	// ErrTooComplex is a MIME tree past MaxMIMEDepth or MaxMIMEParts.
	ErrTooComplex = &Rejection{MessageID: "inbound.reason.too_complex"}
)

// Bounds of a message's MIME tree. Each level of nesting keeps a reader
// (and its buffer) open and makes every byte below it pass through one
// more boundary scan, so depth costs memory and quadratic time; each part
// may become a document. Real mail nests 3–5 levels (mixed, alternative,
// related) and carries a few dozen attachments at most.
const (
	MaxMIMEDepth = 10
	MaxMIMEParts = 250
)

// Message is what Pulso keeps of an e-mail.
type Message struct {
	MessageID   string // without angle brackets; "" when absent
	FromAddr    string // normalised (ident.NormalizeEmail)
	FromName    string
	Subject     string
	Text        string // the body as plain text
	Attachments []Attachment
}

// Attachment is one attached file, bounded by the message size limit.
type Attachment struct {
	Filename string
	Data     []byte
}

// Parse reads a raw RFC 5322 message. Text prefers text/plain over HTML
// (stripped to text); encoded-word headers, quoted-printable and base64
// bodies and legacy charsets come out as UTF-8. Anything unusable is a
// *Rejection, never a panic.
func Parse(raw []byte, max int64) (Message, error) {
	var m Message
	if int64(len(raw)) > max {
		return m, ErrTooLarge
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return m, ErrEmpty
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return m, ErrMalformed
	}
	header := mail.Header{Header: e.Header}
	parts := newPartReader(e)

	m.FromAddr, m.FromName = from(header)
	if m.FromAddr == "" {
		return m, ErrNoFrom
	}
	if s, err := header.Subject(); err == nil {
		m.Subject = clean(s)
	} else {
		m.Subject = clean(header.Get("Subject"))
	}
	m.Subject = strings.Join(strings.Fields(m.Subject), " ")
	m.MessageID = messageID(header)

	var plain, htmlText string
	for {
		p, err := parts.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, ErrTooComplex) {
			return m, err
		}
		if err != nil && !message.IsUnknownCharset(err) {
			if plain == "" && htmlText == "" && len(m.Attachments) == 0 {
				return m, ErrMalformed
			}
			break // keep what was readable before the damage
		}
		body, rerr := io.ReadAll(io.LimitReader(p.Body, max))
		if rerr != nil && len(body) == 0 {
			continue // an undecodable part: skip it, keep the rest
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		name := filename(p.Header)
		disp, _, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		if p.Header.Get("Content-Id") != "" && disp != "attachment" && !strings.HasPrefix(ct, "text/") {
			continue // an image embedded in the HTML (a signature logo), not a file someone sent
		}
		switch {
		case name == "" && (ct == "text/plain" || ct == ""):
			if plain == "" {
				plain = clean(string(body))
			}
		case name == "" && ct == "text/html":
			if htmlText == "" {
				htmlText = stripHTML(string(body))
			}
		case name != "" || !strings.HasPrefix(ct, "multipart/"):
			if name == "" {
				name = "adjunto"
			}
			m.Attachments = append(m.Attachments, Attachment{Filename: name, Data: body})
		}
	}
	m.Text = plain
	if strings.TrimSpace(m.Text) == "" {
		m.Text = htmlText
	}
	m.Text = strings.TrimSpace(m.Text)
	return m, nil
}

// partReader walks a message's MIME tree depth first, leaves only, as
// mail.Reader does, but counts levels and parts and stops at the limits
// before opening anything past them.
type partReader struct {
	open  []message.MultipartReader // innermost last
	leaf  *message.Entity           // a message that is not multipart is its own one part
	parts int
}

func newPartReader(e *message.Entity) *partReader {
	if mr := e.MultipartReader(); mr != nil {
		return &partReader{open: []message.MultipartReader{mr}}
	}
	return &partReader{leaf: e}
}

// next returns the next leaf part; its error may be an unknown charset
// with a usable part, as with mail.Reader.
func (r *partReader) next() (*mail.Part, error) {
	if r.leaf != nil {
		e := r.leaf
		r.leaf = nil
		return leafPart(e), nil
	}
	for len(r.open) > 0 {
		p, err := r.open[len(r.open)-1].NextPart()
		if errors.Is(err, io.EOF) {
			r.open = r.open[:len(r.open)-1]
			continue
		}
		if err != nil && !message.IsUnknownCharset(err) {
			return nil, err
		}
		if r.parts++; r.parts > MaxMIMEParts {
			return nil, ErrTooComplex
		}
		if mr := p.MultipartReader(); mr != nil {
			if len(r.open) >= MaxMIMEDepth {
				return nil, ErrTooComplex
			}
			r.open = append(r.open, mr)
			continue
		}
		return leafPart(p), err
	}
	return nil, io.EOF
}

// leafPart gives a part the header type mail.Reader would: inline for
// inline parts and unlabelled text, attachment for the rest.
func leafPart(e *message.Entity) *mail.Part {
	t, _, _ := e.Header.ContentType()
	disp, _, _ := e.Header.ContentDisposition()
	if disp == "inline" || (disp != "attachment" && strings.HasPrefix(t, "text/")) {
		return &mail.Part{Header: &mail.InlineHeader{Header: e.Header}, Body: e.Body}
	}
	return &mail.Part{Header: &mail.AttachmentHeader{Header: e.Header}, Body: e.Body}
}

// from is the first From address. A header go-message cannot parse (bad
// encoded words, odd quoting) gets a second chance with net/mail, then a
// bare address anywhere in it.
func from(h mail.Header) (addr, name string) {
	if list, err := h.AddressList("From"); err == nil && len(list) > 0 {
		addr, name = list[0].Address, list[0].Name
	} else if a, err := (&netmail.AddressParser{WordDecoder: &mime.WordDecoder{}}).Parse(h.Get("From")); err == nil {
		addr, name = a.Address, a.Name
	}
	norm, err := ident.NormalizeEmail(clean(addr))
	if err != nil {
		return "", ""
	}
	name = strings.Join(strings.Fields(clean(name)), " ")
	if strings.EqualFold(name, norm) {
		name = ""
	}
	return norm, name
}

func messageID(h mail.Header) string {
	id, err := h.MessageID()
	if err != nil || id == "" {
		id = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	}
	id = clean(id)
	if id == "" || len(id) > 900 || strings.ContainsAny(id, " \t\r\n") {
		return ""
	}
	return id
}

// HeaderMessageID reads only the header block, for receipt: deduplication
// must not depend on the body being parseable.
func HeaderMessageID(raw []byte) string {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return ""
	}
	return messageID(mail.Header{Header: message.Header{Header: h}})
}

func filename(h mail.PartHeader) string {
	var name string
	switch ph := h.(type) {
	case *mail.AttachmentHeader:
		name, _ = ph.Filename()
	case *mail.InlineHeader:
		// Inline images and named text parts are files too.
		if _, params, err := ph.ContentDisposition(); err == nil {
			name = params["filename"]
		}
		if name == "" {
			if _, params, err := ph.ContentType(); err == nil {
				name = params["name"]
			}
		}
	}
	return clean(name)
}

// clean makes text safe for PostgreSQL and people: valid UTF-8, no NUL,
// Unix line ends.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// stripHTML keeps the words of an HTML body: scripts and styles dropped,
// block elements on their own lines, entities decoded.
func stripHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return tidy(b.String())
		case html.StartTagToken, html.SelfClosingTagToken:
			tag, _ := z.TagName()
			switch string(tag) {
			case "script", "style", "head", "title":
				skip++
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			tag, _ := z.TagName()
			switch string(tag) {
			case "script", "style", "head", "title":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote":
				b.WriteByte('\n')
			}
		case html.TextToken:
			if skip == 0 {
				b.WriteString(strings.Join(strings.Fields(string(z.Text())), " "))
				b.WriteByte(' ')
			}
		}
	}
}

// tidy trims each line and keeps at most one blank line in a row.
func tidy(s string) string {
	var out []string
	blank := false
	for _, line := range strings.Split(clean(s), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// IsRejection reports a *Rejection and its message id.
func IsRejection(err error) (string, bool) {
	var r *Rejection
	if errors.As(err, &r) {
		return r.MessageID, true
	}
	return "", false
}
