package sendweb_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"pulso/app/mail"
	"pulso/app/mail/mailtest"
	"pulso/queries"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// Send now, end to end: the rep sends from the fragment, the e-mail job
// talks SMTP to a test server, the message carries the issued PDF and a
// working /i/ link; the customer opens it, the open is recorded and
// announced, and the token is stored nowhere in clear.
func TestSendNowDeliversPDFAndWorkingLink(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.Env
	ctx := context.Background()

	// The fragment offers the customer's address.
	res := w.RepC.Get(w.path(w.inv, ""))
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `value="`+customerEmail+`"`) || !strings.Contains(res.Body, "Aún no se ha enviado") {
		t.Fatalf("fragment: %d %.600s", res.Status, res.Body)
	}
	res = form(w.RepC, w.path(w.inv, ""), "to", customerEmail, "when", "now")
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Factura enviada a "+customerEmail) {
		t.Fatalf("send now: %d %.600s", res.Status, res.Body)
	}
	s := w.lastSend(t, w.inv)
	if s.State != "sent" || s.SentAt == nil || s.EmailID == nil || s.CreatedBy == nil || *s.CreatedBy != w.Rep.ID || s.Resend {
		t.Fatalf("send row: %+v", s)
	}
	if n := w.events(w.inv, "sent"); n != 1 {
		t.Errorf("%d sent events, want 1", n)
	}

	// The e-mail goes out through SMTP.
	srv := mailtest.NewServer(t, mailtest.Options{})
	m, err := mail.NewMailer(srv.URL(), "Pulso <no-reply@pulso.test>")
	if err != nil {
		t.Fatal(err)
	}
	m.Timeout = 10 * time.Second
	tw := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, river.Worker[jobargs.SendEmail](&workers.SendEmailWorker{Q: env.Q, Mailer: m, Links: env.Deps.Cfg.LinkKeys()}))
	tx, err := env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if r, err := tw.Work(ctx, t, tx, jobargs.SendEmail{OrgID: w.Org.ID, EmailID: *s.EmailID}, nil); err != nil || r.EventKind != river.EventKindJobCompleted {
		t.Fatalf("send_email: %v %v", r, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != customerEmail {
		t.Fatalf("SMTP server got %d messages: %+v", len(msgs), msgs)
	}
	got := mailtest.Parse(t, msgs[0].Data)
	number := *w.inv.FullNumber
	if !strings.Contains(got.Subject, "Factura "+number) || !strings.Contains(got.Text, "Hola, Ferretería Ebro S.L.:") {
		t.Errorf("subject %q, text %q", got.Subject, got.Text)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].ContentType != "application/pdf" || !bytes.Equal(got.Attachments[0].Content, w.inv.Pdf) ||
		got.Attachments[0].Filename != "factura-"+number+".pdf" {
		t.Fatalf("attachments: %d (want the issued PDF)", len(got.Attachments))
	}
	match := linkRE.FindStringSubmatch(got.Text)
	if match == nil || !strings.Contains(got.Text, env.Deps.Cfg.BaseURL.String()+"/i/"+match[1]) || !strings.Contains(got.HTML, "/i/"+match[1]) {
		t.Fatalf("no client link in the e-mail:\n%s", got.Text)
	}
	token := match[1]

	// Stored only as what verifies it: not in the send, not in the e-mail.
	if held := env.Holding(token); len(held) != 0 {
		t.Fatalf("the token is stored in clear in %v", held)
	}
	stored, err := env.Q.GetEmail(ctx, queries.GetEmailParams{OrgID: w.Org.ID, ID: *s.EmailID})
	if err != nil || !strings.Contains(stored.TextBody, "/i/"+mail.Redacted) {
		t.Fatalf("stored e-mail not redacted: %v %.300s", err, stored.TextBody)
	}

	// The customer opens it on their phone, with no session.
	client := env.Client()
	res = client.Get("/i/" + token)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, number) || !strings.Contains(res.Body, "Ferretería Ebro S.L.") ||
		!strings.Contains(res.Body, "Taladro percutor") || !strings.Contains(res.Body, "/i/"+token+"/pdf") {
		t.Fatalf("client page: %d %.800s", res.Status, res.Body)
	}
	if res.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(res.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("client page headers: %v", res.Header)
	}
	if n := env.Count(`SELECT count(*) FROM invoice_opens WHERE org_id = $1 AND send_id = $2`, w.Org.ID, s.ID); n != 1 {
		t.Fatalf("%d opens recorded, want 1", n)
	}
	if n := w.events(w.inv, "opened"); n != 1 {
		t.Fatalf("%d opened events, want 1", n)
	}
	// A reload within the hour is the same visit.
	client.Get("/i/" + token)
	if n := env.Count(`SELECT count(*) FROM invoice_opens WHERE org_id = $1 AND send_id = $2`, w.Org.ID, s.ID); n != 1 {
		t.Errorf("a reload made %d opens", n)
	}
	if s = w.send(t, s.ID); s.FirstOpenedAt == nil {
		t.Error("send not marked opened")
	}
	res = client.Get("/i/" + token + "/pdf")
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/pdf" || res.Body != string(w.inv.Pdf) {
		t.Fatalf("client PDF: %d %s", res.Status, res.Header.Get("Content-Type"))
	}

	// The rep's fragment shows the send, its e-mail and the open.
	res = w.RepC.Get(w.path(w.inv, ""))
	if !strings.Contains(res.Body, "Enviado el") || !strings.Contains(res.Body, "e-mail entregado") || !strings.Contains(res.Body, "Aperturas: 1,") ||
		!strings.Contains(res.Body, `data-testid="invoice-opens"`) || !strings.Contains(res.Body, "Reenviar") {
		t.Errorf("fragment after the open: %.1500s", res.Body)
	}
}

// A wrong, malformed or never-sent token is the ordinary 404, page and PDF.
func TestClientLinkBadToken404(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var s queries.InvoiceSend
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		s, err = w.sender().Schedule(ctx, tx, sendsInput(w, customerEmail), time.Now().Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c := w.Env.Client()
	for _, p := range []string{"/i/AAAAAAAAAAAAAAAAAAAAAA", "/i/short", "/i/AAAAAAAAAAAAAAAAAAAAAA/pdf", "/i/" + strings.Repeat("-", 22)} {
		if res := c.Get(p); res.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.Status)
		}
	}
	if s.TokenHash != nil || s.TokenNonce != nil {
		t.Error("a scheduled send has a link before it goes")
	}
	if n := w.Env.Count(`SELECT count(*) FROM invoice_opens`); n != 0 {
		t.Errorf("%d opens from bad tokens", n)
	}
}

// Resend goes to the same address any time, says so in the subject and
// gets a link of its own; a proforma can be sent, its e-mail saying what
// it is.
func TestResendAndProforma(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := form(w.RepC, w.path(w.inv, ""), "to", "pagos@ebro.test", "when", "now")
	if res.Status != http.StatusOK {
		t.Fatalf("send: %d", res.Status)
	}
	first := w.lastSend(t, w.inv)
	res = form(w.RepC, w.path(w.inv, "/"+strconv.FormatInt(first.ID, 10)+"/resend"))
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Factura enviada a pagos@ebro.test") {
		t.Fatalf("resend: %d %.400s", res.Status, res.Body)
	}
	again := w.lastSend(t, w.inv)
	if again.ID == first.ID || !again.Resend || again.ToAddress != "pagos@ebro.test" || again.State != "sent" || bytes.Equal(again.TokenHash, first.TokenHash) {
		t.Fatalf("resend row: %+v", again)
	}
	var subject string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT subject FROM emails WHERE id = $1`, *again.EmailID).Scan(&subject); err != nil || !strings.Contains(subject, "(reenvío)") {
		t.Errorf("resend subject %q (%v)", subject, err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM email_attachments WHERE email_id = $1 AND content = $2`, *again.EmailID, w.inv.Pdf); n != 1 {
		t.Errorf("resend carries %d copies of the issued PDF", n)
	}
	// A scheduled send that never went cannot be "resent".
	var s queries.InvoiceSend
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		s, err = w.sender().Schedule(ctx, tx, sendsInput(w, customerEmail), time.Now().Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if res := form(w.RepC, w.path(w.inv, "/"+strconv.FormatInt(s.ID, 10)+"/resend")); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Solo se puede reenviar") {
		t.Errorf("resend of a scheduled send: %d %.300s", res.Status, res.Body)
	}

	pro := w.issue(t, w.newDraft(t, "proforma").ID)
	if res := form(w.RepC, w.path(pro, ""), "to", customerEmail, "when", "now"); res.Status != http.StatusOK {
		t.Fatalf("proforma send: %d %.400s", res.Status, res.Body)
	}
	ps := w.lastSend(t, pro)
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT subject FROM emails WHERE id = $1`, *ps.EmailID).Scan(&subject); err != nil || !strings.Contains(subject, "Factura proforma Ref. ") {
		t.Errorf("proforma subject %q (%v)", subject, err)
	}
}
