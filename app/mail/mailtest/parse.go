package mailtest

import (
	"bytes"
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
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		// multipart.Reader has already undone quoted-printable.
		typ, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
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
	return p
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
