package mailtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
)

// Parsed is a received message taken apart the way a mail client would.
type Parsed struct {
	Header  mail.Header
	Subject string // decoded
	Text    string // decoded text/plain part, LF line endings
	HTML    string // decoded text/html part, LF line endings
	// Attachments are the parts with Content-Disposition: attachment.
	Attachments []Attachment
}

// Attachment is one received file.
type Attachment struct {
	Filename, ContentType string
	Content               []byte
}

// Parse decodes a message: RFC 2047 headers, multipart/alternative and
// quoted-printable parts. It fails the test on anything malformed.
func Parse(t testing.TB, data []byte) Parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, data)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject does not decode: %v", err)
	}
	p := Parsed{Header: m.Header, Subject: subject}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		p.Text = readPart(t, mediaType, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		return p
	}
	readMultipart(t, &p, m.Body, params["boundary"])
	return p
}

// readMultipart walks a multipart body, descending into nested ones
// (multipart/mixed holding a multipart/alternative and files).
func readMultipart(t testing.TB, p *Parsed, body io.Reader, boundary string) {
	t.Helper()
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		// multipart.Reader has already undone quoted-printable.
		typ, tparams, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if strings.HasPrefix(typ, "multipart/") {
			readMultipart(t, p, part, tparams["boundary"])
			continue
		}
		if disp, dparams, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition")); disp == "attachment" {
			var r io.Reader = part
			if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "base64") {
				r = base64.NewDecoder(base64.StdEncoding, part)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("attachment: %v", err)
			}
			p.Attachments = append(p.Attachments, Attachment{Filename: dparams["filename"], ContentType: typ, Content: b})
			continue
		}
		body := readPart(t, typ, "", part)
		switch typ {
		case "text/plain":
			p.Text = body
		case "text/html":
			p.HTML = body
		default:
			t.Fatalf("unexpected part %s", typ)
		}
	}
}

func readPart(t testing.TB, mediaType, encoding string, r io.Reader) string {
	t.Helper()
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s part: %v", mediaType, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}
