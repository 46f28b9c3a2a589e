package inbound_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"pulso/app/apptest"
	. "pulso/app/inbound"
)

// nested is a message whose text sits depth multiparts deep.
func nested(depth int) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.es\r\nSubject: nido\r\nMIME-Version: 1.0\r\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhola\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return []byte(b.String())
}

// manyParts is a message with n small attachments.
func manyParts(n int) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.es\r\nSubject: partes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n")
	b.WriteString("--B\r\nContent-Type: text/plain\r\n\r\nhola\r\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "--B\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"p%d.txt\"\r\n\r\nx\r\n", i)
	}
	b.WriteString("--B--\r\n")
	return []byte(b.String())
}

// A message's MIME tree costs memory per level and a document per part:
// past the limits it is refused as a whole, with its reason.
func TestParseMIMELimits(t *testing.T) {
	t.Parallel()
	const max = 10 << 20
	for _, tt := range []struct {
		name string
		raw  []byte
		err  error
	}{
		{"nesting at the limit", nested(MaxMIMEDepth), nil},
		{"nesting past the limit", nested(MaxMIMEDepth + 1), ErrTooComplex},
		{"10 000 levels", nested(10000), ErrTooComplex},
		{"parts at the limit", manyParts(MaxMIMEParts - 1), nil},
		{"parts past the limit", manyParts(MaxMIMEParts), ErrTooComplex},
		{"20 000 parts", manyParts(20000), ErrTooComplex},
	} {
		m, err := Parse(tt.raw, max)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
			continue
		}
		if err == nil && m.Text != "hola" {
			t.Errorf("%s: text %q", tt.name, m.Text)
		}
		if reason, ok := IsRejection(err); err != nil && (!ok || reason != "inbound.reason.too_complex") {
			t.Errorf("%s: reason %q", tt.name, reason)
		}
	}
}

// Over the limits, an uploaded .eml is refused with its reason, once: the
// queued job finds it done and does not retry it.
func TestUploadedEMLOverMIMELimitsIsRejected(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin := w.Env.LoginAs(w.Admin)
	r := admin.PostFiles("/admin/inbox/upload", nil,
		apptest.File{Field: "eml", Name: "nido.eml", Data: nested(200)},
		apptest.File{Field: "eml", Name: "partes.eml", Data: manyParts(5000)},
	)
	if r.Status != http.StatusOK || strings.Count(r.Body, "demasiados niveles anidados") != 2 {
		t.Fatalf("upload: %d %.800s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages WHERE org_id = $1 AND status = 'rejected' AND reason = 'inbound.reason.too_complex'`, w.Org.ID); n != 2 {
		t.Errorf("%d rejected rows, want 2", n)
	}
	w.work(t) // fails the test if a job returns an error (a retry)
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1`, w.Org.ID); n != 0 {
		t.Errorf("%d documents from refused messages", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1`, w.Org.ID); n != 0 {
		t.Errorf("%d leads from refused messages", n)
	}
}
