package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"

	"pulso/app/linktoken"
	appmail "pulso/app/mail"
	"pulso/app/mail/mailtest"
	"pulso/queries"
	emailview "pulso/views/email"
)

const from = "Pulso Ventas <no-reply@pulso.test>"

func mailer(t *testing.T, url string) *appmail.Mailer {
	t.Helper()
	m, err := appmail.NewMailer(url, from)
	if err != nil {
		t.Fatal(err)
	}
	m.Timeout = 10 * time.Second
	return m
}

// stored is an e-mail as the emails table would hand it to the worker.
func stored(t *testing.T, locale string) queries.Email {
	t.Helper()
	msg := appmail.Message{
		OrgID: 7, Key: "invite:42:abc", To: "ana@empresa.es", ToName: "Ana Núñez", Locale: locale,
		Template: appmail.Invite(emailview.Invite{
			Name: "Ana Núñez", OrgName: "Ventas & Cía", InviterName: "Bea", Link: "http://localhost:8080/invite/tok_en-123", Days: 7,
		}),
	}
	if err := msg.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := msg.Render(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return queries.Email{
		OrgID: msg.OrgID, ID: 1, Key: msg.Key, ToAddress: msg.To, ToName: msg.ToName,
		Subject: r.Subject, TextBody: r.Text, HtmlBody: r.HTML, Template: msg.Name, Locale: locale,
	}
}

func only(t *testing.T, srv *mailtest.Server) mailtest.Message {
	t.Helper()
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	return got[0]
}

func TestDeliver(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t, mailtest.Options{})
	e := stored(t, "es")
	if err := mailer(t, srv.URL()).Deliver(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := only(t, srv)
	if got.From != "no-reply@pulso.test" || len(got.To) != 1 || got.To[0] != "ana@empresa.es" {
		t.Errorf("envelope: MAIL FROM %q, RCPT TO %q", got.From, got.To)
	}
	p := mailtest.Parse(t, got.Data)

	fromH, err := p.Header.AddressList("From")
	if err != nil || len(fromH) != 1 || fromH[0].Name != "Pulso Ventas" || fromH[0].Address != "no-reply@pulso.test" {
		t.Errorf("From = %q (%v)", p.Header.Get("From"), err)
	}
	toH, err := p.Header.AddressList("To")
	if err != nil || len(toH) != 1 || toH[0].Name != "Ana Núñez" || toH[0].Address != "ana@empresa.es" {
		t.Errorf("To = %q (%v)", p.Header.Get("To"), err)
	}
	if p.Subject != "Invitación a Ventas & Cía en Pulso" {
		t.Errorf("Subject decodes to %q", p.Subject)
	}
	if raw := p.Header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("a non-ASCII subject must be RFC 2047 encoded, got %q", raw)
	}
	if got, want := p.Header.Get("Message-ID"), appmail.MessageID(7, "invite:42:abc", "pulso.test"); got != want || !strings.HasSuffix(got, "@pulso.test>") {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if d, err := p.Header.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date = %q (%v)", p.Header.Get("Date"), err)
	}
	if p.Header.Get("MIME-Version") != "1.0" || !strings.HasPrefix(p.Header.Get("Content-Type"), "multipart/alternative;") {
		t.Errorf("MIME-Version %q, Content-Type %q", p.Header.Get("MIME-Version"), p.Header.Get("Content-Type"))
	}
	if p.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Error("no Auto-Submitted header")
	}
	if p.Text != e.TextBody {
		t.Errorf("text part differs from the stored body:\n%q\n%q", p.Text, e.TextBody)
	}
	if p.HTML != e.HtmlBody {
		t.Errorf("HTML part differs from the stored body")
	}
	for _, want := range []string{"Hola, Ana Núñez:", "Bea le invita a unirse a Ventas & Cía", "http://localhost:8080/invite/tok_en-123", "caduca en 7 días"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, p.Text)
		}
	}
	// The text part is not HTML: nothing is escaped in it.
	if strings.Contains(p.Text, "&amp;") || strings.Contains(p.Text, "<") {
		t.Errorf("text part has HTML in it:\n%s", p.Text)
	}
	for _, want := range []string{`<html lang="es">`, `href="http://localhost:8080/invite/tok_en-123"`, "Ventas &amp; Cía", "Activar cuenta"} {
		if !strings.Contains(p.HTML, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	// 7-bit clean, and no line beyond RFC 5322's limit.
	for i, line := range strings.Split(string(got.Data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d octets", i, len(line))
		}
	}
	for _, b := range got.Data {
		if b >= 0x80 {
			t.Fatal("message is not 7-bit: non-ASCII bytes on the wire")
		}
	}
}

func TestDeliverEnglish(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t, mailtest.Options{})
	if err := mailer(t, srv.URL()).Deliver(context.Background(), stored(t, "en")); err != nil {
		t.Fatal(err)
	}
	p := mailtest.Parse(t, only(t, srv).Data)
	if p.Subject != "Your invitation to Ventas & Cía on Pulso" {
		t.Errorf("Subject = %q", p.Subject)
	}
	if !strings.Contains(p.Text, "Bea invites you to join Ventas & Cía") || !strings.Contains(p.HTML, `<html lang="en">`) {
		t.Errorf("not in English:\n%s", p.Text)
	}
}

func TestDeliverAuthPlain(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t, mailtest.Options{Username: "pulso", Password: "s3cr3t pass"})
	if err := mailer(t, srv.URL()).Deliver(context.Background(), stored(t, "es")); err != nil {
		t.Fatal(err)
	}
	if got := only(t, srv); got.User != "pulso" {
		t.Errorf("authenticated as %q, want pulso", got.User)
	}

	// Wrong password: an auth error (retried: an operator can fix it), no
	// message, and the password is not in the error.
	bad := strings.Replace(srv.URL(), "s3cr3t", "wrong", 1)
	err := mailer(t, bad).Deliver(context.Background(), stored(t, "es"))
	var se *appmail.SendError
	if !errors.As(err, &se) || se.Step != "auth" || se.Code != 535 || appmail.Permanent(err) {
		t.Errorf("wrong password: %v, want a non-permanent auth error with code 535", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong") {
		t.Errorf("error reveals the password: %v", err)
	}

	// No credentials at all: the server refuses MAIL FROM.
	noAuth := "smtp://" + srv.Addr
	if err := mailer(t, noAuth).Deliver(context.Background(), stored(t, "es")); err == nil {
		t.Error("a server that requires AUTH accepted mail without it")
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server has %d messages, want still 1", n)
	}
}

func TestDeliverSTARTTLS(t *testing.T) {
	t.Parallel()
	serverTLS, roots := mailtest.TLS(t)
	srv := mailtest.NewServer(t, mailtest.Options{TLS: serverTLS, Username: "pulso", Password: "pw"})
	m := mailer(t, srv.URL())
	m.TLS = &tls.Config{RootCAs: roots}
	if err := m.Deliver(context.Background(), stored(t, "es")); err != nil {
		t.Fatal(err)
	}
	if got := only(t, srv); !got.TLS || got.User != "pulso" {
		t.Errorf("TLS %v, user %q: STARTTLS was offered and must be used before AUTH", got.TLS, got.User)
	}

	// A certificate the client does not trust stops the conversation
	// before any credentials or data are sent.
	err := mailer(t, srv.URL()).Deliver(context.Background(), stored(t, "es"))
	var se *appmail.SendError
	if !errors.As(err, &se) || se.Step != "starttls" {
		t.Errorf("untrusted certificate: %v, want a starttls error", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server has %d messages, want still 1", n)
	}
}

func TestDeliverImplicitTLS(t *testing.T) {
	t.Parallel()
	serverTLS, roots := mailtest.TLS(t)
	srv := mailtest.NewServer(t, mailtest.Options{TLS: serverTLS, Implicit: true})
	if !strings.HasPrefix(srv.URL(), "smtps://") {
		t.Fatalf("URL %s", srv.URL())
	}
	m := mailer(t, srv.URL())
	m.TLS = &tls.Config{RootCAs: roots}
	if err := m.Deliver(context.Background(), stored(t, "es")); err != nil {
		t.Fatal(err)
	}
	if !only(t, srv).TLS {
		t.Error("smtps conversation was not encrypted")
	}
}

func TestDeliverRcptRejected(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code      int
		permanent bool
	}{{550, true}, {451, false}} {
		srv := mailtest.NewServer(t, mailtest.Options{})
		srv.RejectRcpt(tt.code, "mailbox says no")
		err := mailer(t, srv.URL()).Deliver(context.Background(), stored(t, "es"))
		var se *appmail.SendError
		if !errors.As(err, &se) || se.Step != "rcpt" || se.Code != tt.code {
			t.Fatalf("%d: err = %v, want an rcpt error with that code", tt.code, err)
		}
		if appmail.Permanent(err) != tt.permanent {
			t.Errorf("%d: Permanent = %v", tt.code, !tt.permanent)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d: server stored %d messages", tt.code, n)
		}
	}
}

func TestDeliverUnreachable(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t, mailtest.Options{})
	url := srv.URL()
	m := mailer(t, strings.Replace(url, srv.Addr, "127.0.0.1:1", 1))
	err := m.Deliver(context.Background(), stored(t, "es"))
	var se *appmail.SendError
	if !errors.As(err, &se) || se.Step != "dial" || appmail.Permanent(err) {
		t.Errorf("err = %v, want a retryable dial error", err)
	}
}

func TestDeliverRespectsContext(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t, mailtest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := mailer(t, srv.URL()).Deliver(ctx, stored(t, "es")); err == nil {
		t.Fatal("a cancelled context still delivered")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server stored %d messages", n)
	}
}

func TestOutboxMailer(t *testing.T) {
	t.Parallel()
	var nilMailer *appmail.Mailer
	if !nilMailer.Outbox() || !mailer(t, "").Outbox() {
		t.Error("nil and URL-less mailers must be outboxes")
	}
	if mailer(t, "smtp://localhost:25").Outbox() {
		t.Error("a mailer with SMTP_URL is not an outbox")
	}
	if err := mailer(t, "").Deliver(context.Background(), stored(t, "es")); err == nil {
		t.Error("an outbox mailer must not pretend to deliver")
	}
}

func TestNewMailerRejects(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ url, from string }{
		{"http://user:hunter2@mail.example.es", from},
		{"smtp://", from},
		{"smtp://user:hunter2@%zz", from},
		{"mail.example.es:25", from},
		{"", "not an address"},
		{"", "Pulso <ñ@pulso.test>"},
		{"", ""},
	} {
		_, err := appmail.NewMailer(tt.url, tt.from)
		if err == nil {
			t.Errorf("NewMailer(%q, %q) accepted", tt.url, tt.from)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error reveals the password: %v", err)
		}
	}
}

func TestMessageValidate(t *testing.T) {
	t.Parallel()
	ok := appmail.Message{
		OrgID: 1, Key: "invite:1:x", To: "ana@empresa.es", Locale: "es",
		Template: appmail.Invite(emailview.Invite{Name: "Ana", Link: "http://x/invite/t"}),
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid message rejected: %v", err)
	}
	for _, tt := range []struct {
		name string
		edit func(*appmail.Message)
	}{
		{"empty to", func(m *appmail.Message) { m.To = "" }},
		{"not an address", func(m *appmail.Message) { m.To = "ana.empresa.es" }},
		{"display name", func(m *appmail.Message) { m.To = "Ana <ana@empresa.es>" }},
		{"two addresses", func(m *appmail.Message) { m.To = "ana@empresa.es, bea@empresa.es" }},
		{"header injection", func(m *appmail.Message) { m.To = "ana@empresa.es\r\nBcc: x@evil.test" }},
		{"space", func(m *appmail.Message) { m.To = "ana maria@empresa.es" }},
		{"non-ASCII", func(m *appmail.Message) { m.To = "ñandú@empresa.es" }},
		{"too long", func(m *appmail.Message) { m.To = strings.Repeat("a", 250) + "@x.es" }},
		{"no org", func(m *appmail.Message) { m.OrgID = 0 }},
		{"no key", func(m *appmail.Message) { m.Key = "" }},
		{"key with newline", func(m *appmail.Message) { m.Key = "a\nb" }},
		{"key too long", func(m *appmail.Message) { m.Key = strings.Repeat("k", 201) }},
		{"no template", func(m *appmail.Message) { m.Template = appmail.Template{} }},
		{"secret link without token", func(m *appmail.Message) {
			m.Link = &appmail.SecretLink{Purpose: linktoken.Invite, Nonce: []byte("n")}
		}},
		{"secret link with a short token", func(m *appmail.Message) {
			m.Link = &appmail.SecretLink{Token: "t", Purpose: linktoken.Invite, Nonce: []byte("n")}
		}},
		{"secret link without nonce", func(m *appmail.Message) {
			m.Link = &appmail.SecretLink{Token: strings.Repeat("t", 22), Purpose: linktoken.Invite}
		}},
		{"secret link without purpose", func(m *appmail.Message) {
			m.Link = &appmail.SecretLink{Token: strings.Repeat("t", 22), Nonce: []byte("n")}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			if err := m.Validate(); !errors.Is(err, appmail.ErrInvalid) {
				t.Errorf("Validate() = %v, want ErrInvalid", err)
			}
		})
	}
}

// Data in a subject (a name, an org) cannot add a header.
func TestSubjectCannotInjectHeaders(t *testing.T) {
	t.Parallel()
	msg := appmail.Message{
		OrgID: 1, Key: "k", To: "ana@empresa.es", Locale: "es",
		Template: appmail.Template{
			Name:    "test",
			Subject: func(context.Context) string { return "Hola\r\nBcc: victim@evil.test\n" + strings.Repeat("ñ", 400) },
			Text:    templ.Raw("cuerpo"),
		},
	}
	r, err := msg.Render(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(r.Subject, "\r\n") || utf8.RuneCountInString(r.Subject) > 250 {
		t.Fatalf("subject %q keeps line breaks or is not bounded", r.Subject)
	}
	sender, _ := mail.ParseAddress(from)
	raw, err := appmail.Compose(*sender, queries.Email{
		OrgID: 1, Key: "k", ToAddress: msg.To, ToName: "Eve\r\nBcc: victim@evil.test", Subject: r.Subject, TextBody: r.Text,
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := mailtest.Parse(t, raw)
	if len(p.Header["Bcc"]) != 0 {
		t.Fatalf("a Bcc header was injected:\n%s", raw)
	}
	if !strings.HasPrefix(p.Subject, "Hola Bcc: victim@evil.test ñññ") || p.Text != "cuerpo" {
		t.Errorf("subject %q, text %q", p.Subject, p.Text)
	}
	if p.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("a message without HTML is one text part, got %q", p.Header.Get("Content-Type"))
	}
}

func TestDeliverAttachment(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t, mailtest.Options{})
	e := stored(t, "es")
	file := []byte("\xEF\xBB\xBFlínea;nombre;errores\r\n3;=1+1;Columna email: no válido\r\n" + strings.Repeat("x", 300))
	att := appmail.Attachment{Filename: "errores importación.csv", ContentType: "text/csv; charset=utf-8", Content: file}
	if err := mailer(t, srv.URL()).Deliver(context.Background(), e, att); err != nil {
		t.Fatal(err)
	}
	got := only(t, srv)
	p := mailtest.Parse(t, got.Data)
	if !strings.HasPrefix(p.Header.Get("Content-Type"), "multipart/mixed;") {
		t.Errorf("Content-Type %q", p.Header.Get("Content-Type"))
	}
	if p.Text != e.TextBody || p.HTML != e.HtmlBody {
		t.Error("the body parts did not survive next to an attachment")
	}
	if len(p.Attachments) != 1 {
		t.Fatalf("%d attachments", len(p.Attachments))
	}
	a := p.Attachments[0]
	if a.Filename != "errores importación.csv" || a.ContentType != "text/csv" || string(a.Content) != string(file) {
		t.Errorf("attachment %q %q %q", a.Filename, a.ContentType, a.Content)
	}
	for i, line := range strings.Split(string(got.Data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d octets", i, len(line))
		}
	}
	for _, b := range got.Data {
		if b >= 0x80 {
			t.Fatal("message is not 7-bit")
		}
	}
}

// With RequireTLS a server that does not offer STARTTLS gets nothing: not
// the credentials, not the message. The error says why and is not
// permanent, so the job keeps the message queued while an operator fixes
// the server (or turns the option off).
func TestDeliverRequireTLS(t *testing.T) {
	t.Parallel()
	plain := mailtest.NewServer(t, mailtest.Options{Username: "pulso", Password: "pw"})
	m := mailer(t, plain.URL())
	m.RequireTLS = true
	err := m.Deliver(context.Background(), stored(t, "es"))
	var se *appmail.SendError
	if !errors.As(err, &se) || se.Step != "starttls" || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Errorf("plain server: err = %v, want a starttls error saying STARTTLS is missing", err)
	}
	if appmail.Permanent(err) {
		t.Error("a missing STARTTLS is a server configuration to fix, not a reason to drop the message")
	}
	if n := len(plain.Messages()); n != 0 {
		t.Errorf("plain server received %d messages", n)
	}

	// The same option against a server offering STARTTLS with a certificate
	// the client trusts: sent, encrypted.
	serverTLS, roots := mailtest.TLS(t)
	secure := mailtest.NewServer(t, mailtest.Options{TLS: serverTLS})
	m = mailer(t, secure.URL())
	m.RequireTLS = true
	m.TLS = &tls.Config{RootCAs: roots}
	if err := m.Deliver(context.Background(), stored(t, "es")); err != nil {
		t.Fatal(err)
	}
	if !only(t, secure).TLS {
		t.Error("message sent without TLS")
	}

	// A handshake that fails (untrusted certificate) sends nothing either.
	m = mailer(t, secure.URL())
	m.RequireTLS = true
	if err := m.Deliver(context.Background(), stored(t, "es")); !errors.As(err, &se) || se.Step != "starttls" {
		t.Errorf("untrusted certificate: %v, want a starttls error", err)
	}
	if n := len(secure.Messages()); n != 1 {
		t.Errorf("server has %d messages, want still 1", n)
	}
}

// Reveal puts a stored e-mail's secret link back, derived under the keys,
// and only where Enqueue left its placeholder; without the keys (a node
// missing PULSO_SECRET) it refuses rather than send the placeholder.
func TestReveal(t *testing.T) {
	t.Parallel()
	keys := linktoken.New([]byte(strings.Repeat("s", 32)))
	token, err := keys.Mint(linktoken.Invite)
	if err != nil {
		t.Fatal(err)
	}
	purpose := string(linktoken.Invite)
	stored := queries.Email{ID: 1, Subject: "Invitación", TextBody: "Abra http://x/invite/" + appmail.Redacted + "\n",
		HtmlBody: `<a href="http://x/invite/` + appmail.Redacted + `">`, LinkPurpose: &purpose, LinkNonce: token.Nonce}
	got, err := appmail.Reveal(stored, keys)
	if err != nil {
		t.Fatal(err)
	}
	if got.TextBody != "Abra http://x/invite/"+token.Token+"\n" || got.HtmlBody != `<a href="http://x/invite/`+token.Token+`">` {
		t.Errorf("revealed %q / %q", got.TextBody, got.HtmlBody)
	}
	if !strings.Contains(stored.TextBody, appmail.Redacted) {
		t.Error("Reveal changed the stored row it was given")
	}
	if _, err := appmail.Reveal(stored, linktoken.Keys{}); !errors.Is(err, linktoken.ErrNoSecret) {
		t.Errorf("without keys: %v, want ErrNoSecret", err)
	}
	plain := queries.Email{TextBody: "Sin enlaces " + appmail.Redacted}
	if got, err := appmail.Reveal(plain, keys); err != nil || got.TextBody != plain.TextBody {
		t.Errorf("an e-mail without a secret link changed: %q, %v", got.TextBody, err)
	}
}
