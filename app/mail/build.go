package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
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

// Attachment is a file sent with a message (an import's error file).
type Attachment struct {
	Filename    string
	ContentType string
	Content     []byte
}

// Compose builds the RFC 5322 message for a stored e-mail: headers, then a
// multipart/alternative body (text first, HTML preferred by clients that
// show it). With attachments, that body becomes the first part of a
// multipart/mixed and each file follows, base64 encoded. Lines end in CRLF.
func Compose(from netmail.Address, e queries.Email, now time.Time, atts ...Attachment) ([]byte, error) {
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

	if len(atts) > 0 {
		mixed := multipart.NewWriter(&b)
		h("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mixed.Boundary()}))
		b.WriteString("\r\n")
		var body bytes.Buffer
		bodyHeader, err := composeBody(&body, e, false)
		if err != nil {
			return nil, err
		}
		w, err := mixed.CreatePart(bodyHeader)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(body.Bytes()); err != nil {
			return nil, err
		}
		for _, a := range atts {
			if err := writeAttachment(mixed, a); err != nil {
				return nil, err
			}
		}
		if err := mixed.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	if _, err := composeBody(&b, e, true); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// composeBody writes the text/HTML body to b. Standalone (no
// attachments) its headers go into b too, ending the message's headers;
// otherwise they are returned for the body's part of a multipart/mixed.
func composeBody(b *bytes.Buffer, e queries.Email, standalone bool) (textproto.MIMEHeader, error) {
	hdr := textproto.MIMEHeader{}
	h := func(name, value string) {
		if standalone {
			b.WriteString(name + ": " + value + "\r\n")
		} else {
			hdr.Set(name, value)
		}
	}
	if e.HtmlBody == "" {
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		if standalone {
			b.WriteString("\r\n")
		}
		return hdr, writeQP(b, e.TextBody)
	}
	mw := multipart.NewWriter(b)
	h("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	if standalone {
		b.WriteString("\r\n")
	}
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
	return hdr, mw.Close()
}

// writeAttachment adds a file as a base64 part in 76-character lines; the
// file name is RFC 2231-encoded by FormatMediaType when it is not ASCII.
func writeAttachment(mw *multipart.Writer, a Attachment) error {
	ct, params, err := mime.ParseMediaType(a.ContentType)
	if err != nil {
		ct, params = "application/octet-stream", map[string]string{}
	}
	name := headerText(a.Filename, 120)
	params["name"] = name
	w, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType(ct, params)},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return err
	}
	enc := base64.StdEncoding.EncodeToString(a.Content)
	for len(enc) > 76 {
		if _, err := io.WriteString(w, enc[:76]+"\r\n"); err != nil {
			return err
		}
		enc = enc[76:]
	}
	_, err = io.WriteString(w, enc+"\r\n")
	return err
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
