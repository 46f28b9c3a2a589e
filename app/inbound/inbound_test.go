package inbound_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"regexp"
	"strings"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/app/inbound"
	"pulso/queries"
)

// world is the shared test world whose new leads go to the rep, and the
// org's inbox address.
type world struct {
	*apptest.World
	address  string
	smtpAddr string
}

var addressRE = regexp.MustCompile(`data-testid="inbox-address">([^<]+)<`)

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: apptest.NewWorld(t, "Correo S.L.", "correo.test", func(c *config.Config) { c.InboundMaxBytes = 1 << 20 })}
	// New leads go to the rep (no rules: the default owner).
	if err := w.Env.Q.SetDefaultLeadOwner(context.Background(), queries.SetDefaultLeadOwnerParams{OrgID: w.Org.ID, DefaultOwnerID: &w.Rep.ID}); err != nil {
		t.Fatal(err)
	}
	page := w.AdminC.Get("/admin/inbox")
	m := addressRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("inbox page: %d %.500s", page.Status, page.Body)
	}
	w.address = m[1]
	if !strings.HasPrefix(w.address, "leads+") || !strings.HasSuffix(w.address, "@localhost") {
		t.Fatalf("address %q", w.address)
	}
	return w
}

// listen starts the real SMTP listener on a free loopback port, checking
// senders against the test's DNS zone; opts change its settings (caps).
func (w *world) listen(t *testing.T, opts ...apptest.Option) {
	w.smtpAddr = w.instance(t, opts...)
}

// instance starts one more listener on the same database (another
// instance of Pulso) and returns its address.
func (w *world) instance(t *testing.T, opts ...apptest.Option) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.Env.Deps.Cfg
	for _, o := range opts {
		o(&cfg)
	}
	s := inbound.NewSMTP(w.Env.DB, w.Env.Deps.Jobs, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg, w.Env.DNS)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// work runs every queued inbound_email job the way the worker does.
func (w *world) work(t *testing.T) int {
	t.Helper()
	rows, err := w.Env.DB.Query(context.Background(), `SELECT args FROM river_job WHERE kind = 'inbound_email' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var args []struct {
		OrgID     int64 `json:"org_id"`
		InboundID int64 `json:"inbound_id"`
	}
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var a struct {
			OrgID     int64 `json:"org_id"`
			InboundID int64 `json:"inbound_id"`
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		args = append(args, a)
	}
	rows.Close()
	proc := inbound.NewProcessor(w.Env.DB, w.Env.Deps.Cfg.InboundMaxBytes, w.Env.Deps.Cfg.DocumentMaxBytes, w.Env.Deps.Log)
	for _, a := range args {
		if err := proc.Process(context.Background(), w.Env.Deps.Jobs, a.OrgID, a.InboundID); err != nil {
			t.Fatalf("process %d: %v", a.InboundID, err)
		}
	}
	return len(args)
}

func msg(from, subject, id, body string) []byte {
	s := "From: " + from + "\r\nTo: x\r\nSubject: " + subject + "\r\n"
	if id != "" {
		s += "Message-ID: <" + id + ">\r\n"
	}
	return []byte(s + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

func TestSMTPConversation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.listen(t)
	first := msg("=?UTF-8?Q?Ana_Garc=C3=ADa?= <Ana@Cliente.ES>", "Presupuesto oficina", "m1@cliente.es", "Necesitamos 20 sillas.")
	if err := smtp.SendMail(w.smtpAddr, nil, "ana@cliente.es", []string{w.address}, first); err != nil {
		t.Fatalf("send: %v", err)
	}
	// Accepted means stored and queued, before any processing.
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages WHERE org_id = $1 AND status = 'pending' AND via = 'smtp' AND envelope_from = 'ana@cliente.es'`, w.Org.ID); n != 1 {
		t.Fatalf("%d pending messages after 250", n)
	}
	if n := w.work(t); n != 1 {
		t.Fatalf("%d jobs", n)
	}
	var lead queries.Lead
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT id, name, contact_name, email, source, owner_id, notes FROM leads WHERE org_id = $1`, w.Org.ID).
		Scan(&lead.ID, &lead.Name, &lead.ContactName, &lead.Email, &lead.Source, &lead.OwnerID, &lead.Notes); err != nil {
		t.Fatal(err)
	}
	if lead.Name != "Ana García" || lead.ContactName != "Ana García" || lead.Email != "ana@cliente.es" || lead.Source != "email" ||
		lead.OwnerID == nil || *lead.OwnerID != w.Rep.ID || lead.Notes != "Presupuesto oficina\n\nNecesitamos 20 sillas." {
		t.Errorf("lead %+v", lead)
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND args->>'user_id' = $1`, itoa(w.Rep.ID)); n != 1 {
		t.Errorf("%d notify jobs for the rep", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages WHERE org_id = $1 AND status = 'lead' AND lead_id = $2`, w.Org.ID, lead.ID); n != 1 {
		t.Error("message not marked as lead created")
	}

	// The same sender again: an activity on the lead, no second lead.
	second := msg("ana@cliente.es", "Re: Presupuesto", "m2@cliente.es", "¿Alguna novedad?")
	if err := smtp.SendMail(w.smtpAddr, nil, "ana@cliente.es", []string{strings.ToUpper(w.address)}, second); err != nil {
		t.Fatalf("second send: %v", err)
	}
	w.work(t)
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1`, w.Org.ID); n != 1 {
		t.Errorf("%d leads after a known sender wrote", n)
	}
	var data []byte
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT data FROM activities WHERE org_id = $1 AND lead_id = $2 AND kind = 'email' AND summary = 'Re: Presupuesto'`, w.Org.ID, lead.ID).Scan(&data); err != nil {
		t.Fatalf("activity: %v", err)
	}
	var d map[string]any
	_ = json.Unmarshal(data, &d)
	if d["message_id"] != "m2@cliente.es" || d["from"] != "ana@cliente.es" || d["excerpt"] != "¿Alguna novedad?" {
		t.Errorf("activity data %s", data)
	}

	// A redelivery (same Message-ID) is accepted and creates nothing.
	if err := smtp.SendMail(w.smtpAddr, nil, "ana@cliente.es", []string{w.address}, first); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages WHERE org_id = $1`, w.Org.ID); n != 2 {
		t.Errorf("%d stored messages after a redelivery, want 2", n)
	}
	if n := w.work(t); n != 2 {
		t.Errorf("%d jobs after a redelivery, want 2", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND kind = 'email'`, w.Org.ID); n != 2 {
		t.Errorf("%d email activities after re-running every job, want 2", n)
	}
}

func TestSMTPRefusesUnknownRecipientsAndHugeMessages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.listen(t)
	c, err := smtp.Dial(w.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("x@spam.test"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{
		"leads+aaaaaaaaaaaaaaaaaaaaaaaaaa@localhost", // no such token
		"info@localhost",
		strings.Replace(w.address, "@localhost", "@otro.test", 1), // right token, wrong domain
	} {
		if err := c.Rcpt(to); err == nil || !strings.Contains(err.Error(), "550") {
			t.Errorf("RCPT %s: %v, want 550", to, err)
		}
	}
	if err := c.Rcpt(w.address); err != nil {
		t.Fatalf("RCPT own address: %v", err)
	}
	wc, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = wc.Write(msg("a@b.es", "grande", "big@b.es", strings.Repeat(strings.Repeat("x", 70)+"\r\n", 30000)))
	if err := wc.Close(); err == nil || !strings.Contains(err.Error(), "552") {
		t.Errorf("huge message: %v, want 552", err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages`); n != 0 {
		t.Errorf("%d messages stored", n)
	}

	// After rotation the old address is refused too.
	old := w.address
	admin := w.Env.LoginAs(w.Admin)
	if r := admin.Post("/admin/inbox/rotate", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("rotate: %d", r.Status)
	}
	now := addressRE.FindStringSubmatch(admin.Get("/admin/inbox").Body)[1]
	if now == old {
		t.Fatal("address did not change")
	}
	if err := smtp.SendMail(w.smtpAddr, nil, "a@b.es", []string{old}, msg("a@b.es", "x", "", "x")); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("old address: %v", err)
	}
	if err := smtp.SendMail(w.smtpAddr, nil, "a@b.es", []string{now}, msg("a@b.es", "x", "", "x")); err != nil {
		t.Errorf("new address: %v", err)
	}
}

func TestKnownCustomerWithAttachment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var customerID int64
	if err := w.Env.DB.QueryRow(context.Background(), `INSERT INTO customers (org_id, legal_name, country, owner_id) VALUES ($1, 'Cliente S.A.', 'ES', $2) RETURNING id`, w.Org.ID, w.Rep.ID).Scan(&customerID); err != nil {
		t.Fatal(err)
	}
	w.Env.Exec(`INSERT INTO customer_contacts (org_id, customer_id, name, email) VALUES ($1, $2, 'Luis', 'luis@cliente.es')`, w.Org.ID, customerID)
	raw := []byte("From: Luis <LUIS@cliente.es>\r\nSubject: Pedido firmado\r\nMessage-ID: <p1@cliente.es>\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAdjunto el pedido.\r\n" +
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"pedido.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSVFT0YK\r\n" +
		"--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"factura.pdf.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--B--\r\n")
	admin := w.Env.LoginAs(w.Admin)
	r := admin.PostFiles("/admin/inbox/upload", nil, apptest.File{Field: "eml", Name: "pedido.eml", Data: raw})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Actividad en") || !strings.Contains(r.Body, "Cliente S.A.") {
		t.Fatalf("upload: %d %.800s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND customer_id = $2 AND kind = 'email' AND summary = 'Pedido firmado'`, w.Org.ID, customerID); n != 1 {
		t.Errorf("%d email activities on the customer", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1 AND customer_id = $2 AND filename = 'pedido.pdf' AND content_type = 'application/pdf' AND uploaded_by IS NULL`, w.Org.ID, customerID); n != 1 {
		t.Errorf("%d stored attachments", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1`, w.Org.ID); n != 1 {
		t.Errorf("the executable attachment was kept (%d documents)", n)
	}
	// The attachment's bytes are in the file store, the program's nowhere.
	if n := w.Env.Count(`SELECT count(*) FROM documents d JOIN file_chunks c ON c.org_id = d.org_id AND c.file_id = d.file_id
		WHERE d.org_id = $1 AND d.filename = 'pedido.pdf' AND c.data = decode('JVBERi0xLjQKJSVFT0YK', 'base64')`, w.Org.ID); n != 1 {
		t.Errorf("the attachment's bytes are not stored (%d chunks)", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1`, w.Org.ID); n != 1 {
		t.Errorf("%d files stored, want the PDF only", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1`, w.Org.ID); n != 0 {
		t.Errorf("a lead was created for a known customer contact")
	}
}

func TestUploadEML(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin := w.Env.LoginAs(w.Admin)
	if m := addressRE.FindStringSubmatch(admin.Get("/admin/inbox").Body); m == nil || m[1] != w.address {
		t.Errorf("the address changed between visits: %v, was %s", m, w.address)
	}
	good := msg("Eva <eva@nueva.es>", "Quiero información", "e1@nueva.es", "Llámenme, por favor.")
	noFrom := []byte("Subject: sin remitente\r\nMessage-ID: <nf@x>\r\n\r\ncuerpo\r\n")
	latin1 := []byte("From: =?ISO-8859-1?Q?Jos=E9?= <jose@nueva.es>\r\nSubject: =?ISO-8859-1?Q?Cotizaci=F3n?=\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n\r\nMa\xf1ana\r\n")
	r := admin.PostFiles("/admin/inbox/upload", nil,
		apptest.File{Field: "eml", Name: "eva.eml", Data: good},
		apptest.File{Field: "eml", Name: "roto.eml", Data: noFrom},
		apptest.File{Field: "eml", Name: "jose.eml", Data: latin1},
		apptest.File{Field: "eml", Name: "otra-vez.eml", Data: good},
		apptest.File{Field: "eml", Name: "vacio.eml", Data: []byte{}},
	)
	if r.Status != http.StatusOK {
		t.Fatalf("upload: %d %.500s", r.Status, r.Body)
	}
	for _, want := range []string{"Potencial creado:", "Eva", "no tiene un remitente (From) válido", "Cotización", "ya se había recibido", "el archivo está vacío"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1 AND source = 'email' AND email IN ('eva@nueva.es', 'jose@nueva.es')`, w.Org.ID); n != 2 {
		t.Errorf("%d leads, want 2", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1 AND name = 'José' AND notes = E'Cotización\n\nMañana'`, w.Org.ID); n != 1 {
		t.Error("latin-1 message not decoded into the lead")
	}
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages WHERE org_id = $1 AND status = 'rejected' AND reason = 'inbound.reason.no_from'`, w.Org.ID); n != 1 {
		t.Error("no rejected row for the message without From")
	}
	// Uploading the same file again creates nothing; the queued jobs find
	// everything done.
	again := admin.PostFiles("/admin/inbox/upload", nil, apptest.File{Field: "eml", Name: "eva.eml", Data: good})
	if !strings.Contains(again.Body, "ya se había recibido") {
		t.Errorf("re-upload: %.300s", again.Body)
	}
	w.work(t)
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1`, w.Org.ID); n != 2 {
		t.Errorf("%d leads after re-upload and jobs, want 2", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND kind = 'email'`, w.Org.ID); n != 2 {
		t.Errorf("%d email activities, want 2", n)
	}
	// Too large, and no files at all.
	big := append(msg("a@b.es", "x", "", ""), []byte(strings.Repeat("x", 1<<20))...)
	if r := admin.PostFiles("/admin/inbox/upload", nil, apptest.File{Field: "eml", Name: "big.eml", Data: big}); !strings.Contains(r.Body, "supera el máximo de 1 MB") {
		t.Errorf("big: %d", r.Status)
	}
	if r := admin.PostFiles("/admin/inbox/upload", nil); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Elija al menos un archivo") {
		t.Errorf("no files: %d", r.Status)
	}
	// Reps may not use it.
	if r := w.Env.LoginAs(w.Rep).PostFiles("/admin/inbox/upload", nil, apptest.File{Field: "eml", Name: "x.eml", Data: good}); r.Status != http.StatusForbidden {
		t.Errorf("rep upload: %d", r.Status)
	}
}

func TestInboxToken(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr, token string
		ok          bool
	}{
		{"leads+abcdefghijklmnop@pulso.test", "abcdefghijklmnop", true},
		{"<LEADS+ABCDEFGHIJKLMNOP@PULSO.TEST>", "abcdefghijklmnop", true},
		{"leads+abcdefghijklmnop@other.test", "", false},
		{"leads+short@pulso.test", "", false},
		{"leads+abcdefghijklmno1@pulso.test", "", false},
		{"sales+abcdefghijklmnop@pulso.test", "", false},
		{"abcdefghijklmnop@pulso.test", "", false},
		{"", "", false},
		{"@", "", false},
	} {
		token, ok := inbound.InboxToken(tt.addr, "pulso.test")
		if token != tt.token || ok != tt.ok {
			t.Errorf("InboxToken(%q) = %q, %v", tt.addr, token, ok)
		}
	}
}

func FuzzInboxToken(f *testing.F) {
	f.Add("leads+abcdefghijklmnop@pulso.test")
	f.Add("<x@y>")
	f.Fuzz(func(t *testing.T, addr string) {
		token, ok := inbound.InboxToken(addr, "pulso.test")
		if ok && inbound.Address(token, "pulso.test") != strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>")) {
			t.Fatalf("%q → %q does not round-trip", addr, token)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A rejected message's reason is shown with the numbers it names: the
// too-large reason once printed "<no value> MB".
func TestRejectedReasonNamesTheLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Env.Exec(`INSERT INTO inbound_messages (org_id, message_id, via, raw, size_bytes, status, reason)
		VALUES ($1, 'big@x', 'smtp', '\x00', 1, 'rejected', 'inbound.reason.too_large')`, w.Org.ID)
	body := w.Env.LoginAs(w.Admin).Get("/admin/inbox").Body
	if !strings.Contains(body, "supera el máximo de 1 MB") || strings.Contains(body, "no value") {
		t.Errorf("the rejected message's reason does not name the limit: %.2000s", body[strings.Index(body, "inbound-messages"):])
	}
}
