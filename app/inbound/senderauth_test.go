package inbound_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/smtp"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"pulso/app/apptest"
	"pulso/app/config"
)

// dkimKey is a real 2048-bit RSA key, made once for the package's tests.
var dkimKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// signDKIM signs raw as cliente.es's mail server would.
func signDKIM(t *testing.T, raw []byte, domain string) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{
		Domain: domain, Selector: "s1", Signer: dkimKey,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
	}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// withPDF is a message with a text part and a PDF attached.
func withPDF(from, subject, id, text string) []byte {
	return []byte("From: " + from + "\r\nTo: x\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + ">\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n" +
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"pedido.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSVFT0YK\r\n--B--\r\n")
}

// publishCliente puts cliente.es in the test's DNS as a careful business
// has it: a DKIM key, an SPF policy naming only its own server (not the
// test client on 127.0.0.1) and DMARC p=reject.
func (w *world) publishCliente() {
	w.Env.DNS.DKIM("cliente.es", "s1", dkimKey.Public())
	w.Env.DNS.TXT("cliente.es", "v=spf1 ip4:192.0.2.10 -all")
	w.Env.DNS.TXT("_dmarc.cliente.es", "v=DMARC1; p=reject")
}

func (w *world) customerWithContact(t *testing.T, email string) int64 {
	t.Helper()
	var id int64
	if err := w.Env.DB.QueryRow(context.Background(), `INSERT INTO customers (org_id, legal_name, country, owner_id) VALUES ($1, 'Cliente S.A.', 'ES', $2) RETURNING id`, w.Org.ID, w.Rep.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	w.Env.Exec(`INSERT INTO customer_contacts (org_id, customer_id, name, email) VALUES ($1, $2, 'Luis', $3)`, w.Org.ID, id, email)
	return id
}

func (w *world) stored(t *testing.T, messageID string) (auth, verified, remoteIP string) {
	t.Helper()
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT auth_results, verified_domain, remote_ip FROM inbound_messages WHERE org_id = $1 AND message_id = $2`, w.Org.ID, messageID).
		Scan(&auth, &verified, &remoteIP); err != nil {
		t.Fatalf("message %s: %v", messageID, err)
	}
	return auth, verified, remoteIP
}

// Over a real SMTP conversation: only a message whose From domain is
// proven lands on the customer it names as theirs; a forged or altered one
// still arrives, flagged, with its attachment flagged, and a stranger
// becomes a flagged lead.
func TestSMTPSenderAuthentication(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.listen(t)
	w.publishCliente()
	customerID := w.customerWithContact(t, "luis@cliente.es")
	send := func(raw []byte, mailFrom string) {
		t.Helper()
		if err := smtp.SendMail(w.smtpAddr, nil, mailFrom, []string{w.address}, raw); err != nil {
			t.Fatalf("send: %v", err)
		}
		w.work(t)
	}
	activity := func(summary string) (n int, unverified bool) {
		t.Helper()
		_ = w.Env.DB.QueryRow(context.Background(), `SELECT count(*), bool_or(sender_unverified) FROM activities WHERE org_id = $1 AND customer_id = $2 AND kind = 'email' AND summary = $3`,
			w.Org.ID, customerID, summary).Scan(&n, &unverified)
		return n, unverified
	}

	// Signed by cliente.es (SPF fails: the test client is not its server,
	// as when mail is forwarded; the aligned DKIM pass carries DMARC).
	send(signDKIM(t, withPDF("Luis <luis@cliente.es>", "Pedido firmado", "p1@cliente.es", "Adjunto el pedido."), "cliente.es"), "luis@cliente.es")
	auth, verified, ip := w.stored(t, "p1@cliente.es")
	if verified != "cliente.es" || ip != "127.0.0.1" || !strings.Contains(auth, "spf=fail smtp.mailfrom=cliente.es; dkim=pass header.d=cliente.es; dmarc=pass (p=reject) header.from=cliente.es") {
		t.Errorf("signed message: verified %q, ip %q, auth %q", verified, ip, auth)
	}
	if n, unverified := activity("Pedido firmado"); n != 1 || unverified {
		t.Errorf("signed message: %d activities on the customer, flagged %v; want 1, not flagged", n, unverified)
	}
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1 AND customer_id = $2 AND NOT sender_unverified`, w.Org.ID, customerID); n != 1 {
		t.Errorf("%d unflagged documents from the signed message, want 1", n)
	}

	// The same kind of message, its body changed after signing: someone
	// altering a real customer's e-mail (new bank details).
	tampered := bytes.Replace(signDKIM(t, withPDF("Luis <luis@cliente.es>", "Cambio de cuenta", "p2@cliente.es", "Adjunto el pedido."), "cliente.es"),
		[]byte("Adjunto el pedido."), []byte("Pague a ES00 0000."), 1)
	send(tampered, "luis@cliente.es")
	auth, verified, _ = w.stored(t, "p2@cliente.es")
	if verified != "" || !strings.Contains(auth, "dkim=fail header.d=cliente.es; dmarc=fail (p=reject)") {
		t.Errorf("tampered message: verified %q, auth %q", verified, auth)
	}
	if n, unverified := activity("Cambio de cuenta"); n != 1 || !unverified {
		t.Errorf("tampered message: %d activities, flagged %v; want 1, flagged", n, unverified)
	}
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1 AND customer_id = $2 AND sender_unverified`, w.Org.ID, customerID); n != 1 {
		t.Errorf("%d flagged documents, want the tampered message's attachment", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND customer_id = $2 AND kind = 'document' AND sender_unverified`, w.Org.ID, customerID); n != 1 {
		t.Errorf("%d flagged document entries on the timeline, want 1", n)
	}

	// Unsigned, from a server cliente.es's SPF does not allow, under
	// p=reject, from an address nobody knows: accepted (see Data) as a
	// flagged lead.
	send(msg("Nuevo <nuevo@cliente.es>", "Precio", "p3@cliente.es", "Quiero precio."), "nuevo@cliente.es")
	auth, verified, _ = w.stored(t, "p3@cliente.es")
	if verified != "" || !strings.Contains(auth, "spf=fail smtp.mailfrom=cliente.es; dkim=none; dmarc=fail (p=reject) header.from=cliente.es") {
		t.Errorf("forged message: verified %q, auth %q", verified, auth)
	}
	var flaggedLead int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT id FROM leads WHERE org_id = $1 AND email = 'nuevo@cliente.es' AND sender_unverified`, w.Org.ID).Scan(&flaggedLead); err != nil {
		t.Fatalf("no flagged lead for the forged message: %v", err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND lead_id = $2 AND kind = 'email' AND sender_unverified`, w.Org.ID, flaggedLead); n != 1 {
		t.Errorf("%d flagged e-mail entries on the flagged lead", n)
	}

	// A domain without DMARC whose SPF names this client: the aligned SPF
	// pass proves it, and the lead is not flagged.
	w.Env.DNS.TXT("nueva.es", "v=spf1 ip4:127.0.0.1 -all")
	send(msg("Eva <eva@nueva.es>", "Demo", "p4@nueva.es", "Hola."), "eva@nueva.es")
	if _, verified, _ := w.stored(t, "p4@nueva.es"); verified != "nueva.es" {
		t.Errorf("SPF-aligned message: verified %q", verified)
	}
	var goodLead int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT id FROM leads WHERE org_id = $1 AND email = 'eva@nueva.es' AND NOT sender_unverified`, w.Org.ID).Scan(&goodLead); err != nil {
		t.Fatalf("no unflagged lead for the SPF-verified message: %v", err)
	}

	// What people see: the badge on exactly the flagged things.
	rep := w.Env.LoginAs(w.Rep)
	badges := func(path string) int {
		t.Helper()
		r := rep.Get(path)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
		return strings.Count(r.Body, `data-testid="unverified-sender"`)
	}
	if n := badges("/customers/" + strconv.FormatInt(customerID, 10) + "?tab=activity"); n != 2 {
		t.Errorf("customer timeline has %d badges, want 2 (the altered e-mail and its attachment)", n)
	}
	if n := badges("/customers/" + strconv.FormatInt(customerID, 10) + "/documents"); n != 1 {
		t.Errorf("customer documents have %d badges, want 1", n)
	}
	if n := badges("/leads/" + strconv.FormatInt(flaggedLead, 10)); n < 2 {
		t.Errorf("flagged lead page has %d badges, want the lead's and its e-mail's", n)
	}
	if n := badges("/leads/" + strconv.FormatInt(goodLead, 10)); n != 0 {
		t.Errorf("verified lead page has %d badges", n)
	}
	if r := rep.Get("/leads/" + strconv.FormatInt(flaggedLead, 10)); !strings.Contains(r.Body, "Remitente no verificado") {
		t.Error("the badge does not say what it means")
	}
	inbox := w.Env.LoginAs(w.Admin).Get("/admin/inbox")
	if n := strings.Count(inbox.Body, `data-testid="unverified-sender"`); n != 2 || !strings.Contains(inbox.Body, "dmarc=pass (p=reject) header.from=cliente.es") {
		t.Errorf("inbox page: %d badges (want 2), auth results shown: %v", n, strings.Contains(inbox.Body, "dmarc=pass"))
	}
}

// A DNS failure is not a verdict: the sender is asked to retry (4xx) and
// nothing is stored, so a real customer's message is not filed as an
// impostor's because a resolver hiccupped.
func TestSMTPDefersOnDNSFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.listen(t)
	w.publishCliente()
	w.Env.DNS.Break("_dmarc.cliente.es")
	err := smtp.SendMail(w.smtpAddr, nil, "luis@cliente.es", []string{w.address}, msg("luis@cliente.es", "x", "d1@cliente.es", "x"))
	if err == nil || !strings.Contains(err.Error(), "451") || !strings.Contains(err.Error(), "DNS") {
		t.Errorf("DATA with DNS down: %v, want 451 naming DNS", err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages`); n != 0 {
		t.Errorf("%d messages stored", n)
	}
}

// An uploaded .eml has no SMTP envelope: its DKIM signature alone can
// prove it. Signed → trusted; the same unsigned → flagged.
func TestUploadEMLSenderAuthentication(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.publishCliente()
	customerID := w.customerWithContact(t, "luis@cliente.es")
	admin := w.Env.LoginAs(w.Admin)
	signed := signDKIM(t, withPDF("Luis <luis@cliente.es>", "Firmado", "u1@cliente.es", "Adjunto."), "cliente.es")
	unsigned := withPDF("Luis <luis@cliente.es>", "Sin firma", "u2@cliente.es", "Adjunto.")
	r := admin.PostFiles("/admin/inbox/upload", nil, apptest.File{Field: "eml", Name: "a.eml", Data: signed}, apptest.File{Field: "eml", Name: "b.eml", Data: unsigned})
	if r.Status != http.StatusOK {
		t.Fatalf("upload: %d %.500s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND customer_id = $2 AND kind = 'email' AND summary = 'Firmado' AND NOT sender_unverified`, w.Org.ID, customerID); n != 1 {
		t.Errorf("signed upload: %d unflagged activities", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND customer_id = $2 AND kind = 'email' AND summary = 'Sin firma' AND sender_unverified`, w.Org.ID, customerID); n != 1 {
		t.Errorf("unsigned upload: %d flagged activities", n)
	}
	if auth, verified, ip := w.stored(t, "u1@cliente.es"); verified != "cliente.es" || ip != "" || !strings.Contains(auth, "spf=none; dkim=pass header.d=cliente.es; dmarc=pass") {
		t.Errorf("signed upload stored verified %q, ip %q, auth %q", verified, ip, auth)
	}

	// DNS down: nothing stored, the admin is told to try again.
	w.Env.DNS.Break("s1._domainkey.cliente.es")
	later := signDKIM(t, withPDF("Luis <luis@cliente.es>", "Luego", "u3@cliente.es", "x"), "cliente.es")
	r = admin.PostFiles("/admin/inbox/upload", nil, apptest.File{Field: "eml", Name: "c.eml", Data: later})
	if !strings.Contains(r.Body, "vuelva a subirlo") {
		t.Errorf("upload with DNS down: %.500s", r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages WHERE org_id = $1 AND message_id = 'u3@cliente.es'`, w.Org.ID); n != 0 {
		t.Error("a message that could not be checked was stored")
	}
}

// The hourly caps are counted in PostgreSQL: a client over its cap is
// refused with a 4xx at MAIL by every instance; an org over its cap is
// refused at RCPT while other orgs still receive. Messages older than an
// hour no longer count.
func TestSMTPHourlyCaps(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	caps := func(c *config.Config) { c.InboundPerIPHour, c.InboundPerOrgHour = 3, 100 }
	w.listen(t, caps)
	other := w.instance(t, caps)
	for i := range 3 {
		addr := w.smtpAddr
		if i == 1 {
			addr = other
		}
		if err := smtp.SendMail(addr, nil, "a@b.es", []string{w.address}, msg("a@b.es", "x", "ip"+strconv.Itoa(i)+"@b.es", "x")); err != nil {
			t.Fatalf("message %d under the cap: %v", i+1, err)
		}
	}
	for _, addr := range []string{w.smtpAddr, other} {
		err := smtp.SendMail(addr, nil, "a@b.es", []string{w.address}, msg("a@b.es", "x", "ip-over@b.es", "x"))
		if err == nil || !strings.Contains(err.Error(), "450") || !strings.Contains(err.Error(), "Too many messages from your IP address") {
			t.Errorf("fourth message from the IP (via %s): %v, want 450 with the reason", addr, err)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages WHERE org_id = $1`, w.Org.ID); n != 3 {
		t.Errorf("%d messages stored, want 3", n)
	}
	w.Env.Exec(`UPDATE inbound_messages SET received_at = now() - interval '61 minutes' WHERE org_id = $1`, w.Org.ID)
	if err := smtp.SendMail(w.smtpAddr, nil, "a@b.es", []string{w.address}, msg("a@b.es", "x", "ip-later@b.es", "x")); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}

func TestSMTPHourlyCapPerOrg(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.listen(t, func(c *config.Config) { c.InboundPerIPHour, c.InboundPerOrgHour = 100, 2 })
	second := w.Env.Org("Otra S.L.")
	secondAdmin := w.Env.User(second, "admin@otra.test", "admin")
	m := addressRE.FindStringSubmatch(w.Env.LoginAs(secondAdmin).Get("/admin/inbox").Body)
	if m == nil {
		t.Fatal("no address for the second org")
	}
	for i := range 2 {
		if err := smtp.SendMail(w.smtpAddr, nil, "a@b.es", []string{w.address}, msg("a@b.es", "x", "org"+strconv.Itoa(i)+"@b.es", "x")); err != nil {
			t.Fatalf("message %d under the cap: %v", i+1, err)
		}
	}
	err := smtp.SendMail(w.smtpAddr, nil, "a@b.es", []string{w.address}, msg("a@b.es", "x", "org-over@b.es", "x"))
	if err == nil || !strings.Contains(err.Error(), "450") || !strings.Contains(err.Error(), "This inbox has received too many messages") {
		t.Errorf("third message for the org: %v, want 450 with the reason", err)
	}
	if err := smtp.SendMail(w.smtpAddr, nil, "a@b.es", []string{m[1]}, msg("a@b.es", "x", "org-other@b.es", "x")); err != nil {
		t.Errorf("another org's inbox: %v", err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM inbound_messages WHERE org_id = $1`, w.Org.ID); n != 2 {
		t.Errorf("%d messages stored for the capped org, want 2", n)
	}
}
