package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"pulso/queries"
)

// MessageID is the Message-ID header of an org's message key. It is the
// same on every attempt, so when a crash makes us send a message twice (see
// workers/send_email.go) the receiving side can recognise the copy.
func MessageID(orgID int64, key, domain string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(orgID, 10) + "\x00" + key))
	return "<" + hex.EncodeToString(sum[:20]) + "@" + domain + ">"
}

// Compose builds the RFC 5322 message for a stored e-mail: headers, then a
// multipart/alternative body (text first, HTML preferred by clients that
// show it). Lines end in CRLF.
func Compose(from netmail.Address, e queries.Email, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	h := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	to := netmail.Address{Name: headerText(e.ToName, 120), Address: e.ToAddress}
	h("Date", now.Format(time.RFC1123Z))
	h("From", from.String())
	h("To", to.String())
	h("Subject", encodeHeader(headerText(e.Subject, maxSubjectLen)))
	h("Message-ID", MessageID(e.OrgID, e.Key, domainOf(from.Address)))
	h("MIME-Version", "1.0")
	// RFC 3834: auto-responders must not answer, so no vacation replies.
	h("Auto-Submitted", "auto-generated")

	if e.HtmlBody == "" {
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, e.TextBody); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	h("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", e.TextBody}, {"text/html", e.HtmlBody}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, part.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeQP writes body quoted-printable: any UTF-8 text survives 7-bit
// relays, and no line exceeds 76 characters.
func writeQP(w interface{ Write([]byte) (int, error) }, body string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(body)); err != nil {
		return err
	}
	return qp.Close()
}

// encodeHeader Q-encodes non-ASCII text (RFC 2047). Go splits long text
// into several encoded-words separated by spaces; folding at those spaces
// keeps every line under the 998-octet limit, and readers drop the fold.
func encodeHeader(s string) string {
	enc := mime.QEncoding.Encode("utf-8", s)
	if enc == s {
		return s
	}
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}

// parseFrom reads PULSO_MAIL_FROM: "Name <address>" or a bare address.
func parseFrom(from string) (netmail.Address, error) {
	a, err := netmail.ParseAddress(from)
	if err != nil {
		return netmail.Address{}, fmt.Errorf("sender address %q: %w", from, err)
	}
	if err := ValidAddress(a.Address); err != nil {
		return netmail.Address{}, fmt.Errorf("sender address %q: %w", from, err)
	}
	return *a, nil
}
