package quotes_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/app/mail"
	"pulso/app/quotes"
	"pulso/queries"
)

type world struct {
	*apptest.World
	customer, opportunity int64
	product               int64
	rate21                int64
}

func newWorld(t *testing.T, opts ...apptest.Option) *world {
	t.Helper()
	w := &world{World: apptest.NewWorld(t, "Presupuestos Sur S.L.", "sur.test", opts...)}
	env := w.Env
	env.Exec(`UPDATE orgs SET tax_id = 'B12345674' WHERE id = $1`, w.Org.ID)
	ctx := context.Background()
	owner := w.Rep.ID
	cu, err := env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: w.Org.ID, LegalName: "Ferretería Ebro S.L.", Country: "ES",
		OwnerID: &owner, Tags: []string{}, Email: "compras@ebro.test", TaxID: "B87654321"})
	if err != nil {
		t.Fatal(err)
	}
	w.customer = cu.ID
	o, err := env.Q.CreateOpportunityFull(ctx, queries.CreateOpportunityFullParams{OrgID: w.Org.ID, CustomerID: cu.ID, Title: "Reforma almacén",
		Amount: 100000, Probability: 10, OwnerID: &owner, CreatedBy: &owner})
	if err != nil {
		t.Fatal(err)
	}
	w.opportunity = o.ID
	w.rate21 = int64(env.Count(`SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`))
	p, err := env.Q.CreateProduct(ctx, queries.CreateProductParams{OrgID: w.Org.ID, Code: "TAL-01", Name: "Taladro percutor", Unit: "ud",
		Price: 8990, TaxRateID: w.rate21, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	w.product = p.ID
	return w
}

var quoteURL = regexp.MustCompile(`/quotes/(\d+)/edit\?step=2`)

// draft creates a quote for the world's deal and returns its id.
func (w *world) draft(t *testing.T) int64 {
	t.Helper()
	r := w.RepC.Post("/quotes", url.Values{"customer_id": {fmt.Sprint(w.customer)}, "opportunity_id": {fmt.Sprint(w.opportunity)}})
	m := quoteURL.FindStringSubmatch(r.Header.Get("Location") + r.Header.Get("HX-Redirect"))
	if m == nil {
		t.Fatalf("create: %d %s %q", r.Status, r.Header, r.Body)
	}
	var id int64
	fmt.Sscan(m[1], &id)
	return id
}

func (w *world) revision(t *testing.T, id int64) string {
	return fmt.Sprint(w.Env.Count(`SELECT revision FROM quotes WHERE id = $1`, id))
}

func (w *world) lines(t *testing.T, id int64, extra url.Values) apptest.Response {
	t.Helper()
	f := url.Values{"revision": {w.revision(t, id)}, "valid_until": {time.Now().AddDate(0, 0, 20).Format("2006-01-02")}, "terms": {"Pago a 30 días."},
		"product_id": {fmt.Sprint(w.product), ""}, "description": {"Taladro percutor", "Montaje"}, "unit": {"ud", "h"},
		"quantity": {"3", "1,5"}, "unit_price": {"89,90", "40"}, "discount": {"10", ""},
		"tax_rate_id": {fmt.Sprint(w.rate21), fmt.Sprint(w.rate21)}}
	for k, v := range extra {
		f[k] = v
	}
	return w.RepC.Post(fmt.Sprintf("/quotes/%d/draft", id), f)
}

func (w *world) send(t *testing.T, id int64) string {
	t.Helper()
	r := w.RepC.Post(fmt.Sprintf("/quotes/%d/send", id), url.Values{"revision": {w.revision(t, id)}})
	if r.Status != 303 && r.Status != 302 && r.Status != 200 {
		t.Fatalf("send: %d %q", r.Status, r.Body)
	}
	return w.clientToken(t, id)
}

var clientLinkRE = regexp.MustCompile(`value="http://localhost:8080/q/([A-Za-z0-9_-]+)"[^>]*data-testid="client-link"`)

// clientToken is the token of the link the rep copies from the quote's page.
func (w *world) clientToken(t *testing.T, id int64) string {
	t.Helper()
	m := clientLinkRE.FindStringSubmatch(w.RepC.Get(fmt.Sprintf("/quotes/%d", id)).Body)
	if m == nil {
		t.Fatal("the quote page shows no client link")
	}
	return m[1]
}

func signaturePNG(t *testing.T, w, h int, ink bool) string {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if ink {
		for x := 10; x < w-10; x++ {
			img.Set(x, h/2+(x%7), color.Black)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func TestThreeStepsSendOpenSign(t *testing.T) {
	w := newWorld(t)
	id := w.draft(t)

	// Step 2: lines autosave; totals follow the Facturae rules.
	r := w.lines(t, id, nil)
	if r.Status != 200 || !strings.Contains(r.Body, "Guardado") {
		t.Fatalf("autosave: %d %q", r.Status, r.Body)
	}
	// 3 × 89,90 − 10 % = 242,73; 1,5 × 40 = 60,00; base 302,73; IVA 21 % = 63,57; total 366,30.
	var base, tax, total int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT base, tax, total FROM quote_versions WHERE quote_id = $1 AND n = 1`, id).Scan(&base, &tax, &total); err != nil {
		t.Fatal(err)
	}
	if base != 30273 || tax != 6357 || total != 36630 {
		t.Fatalf("totals base %d tax %d total %d", base, tax, total)
	}
	if !strings.Contains(r.Body, "366,30") {
		t.Fatalf("editor does not show the total: %q", r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM quotes WHERE id = $1 AND number IS NULL`, id); n != 1 {
		t.Fatal("a draft has no number")
	}

	// Step 3: send. Number P-<year>-0001, PDF frozen with its hash, link, e-mail with the PDF.
	token := w.send(t, id)
	year := time.Now().Year()
	if n := w.Env.Count(`SELECT count(*) FROM quotes WHERE id = $1 AND number = $2 AND status = 'sent'`, id, fmt.Sprintf("P-%d-0001", year)); n != 1 {
		t.Fatal("sent quote has no number P-YYYY-0001")
	}
	var pdf []byte
	var sum string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT pdf, pdf_sha256 FROM quote_versions WHERE quote_id = $1 AND n = 1`, id).Scan(&pdf, &sum); err != nil {
		t.Fatal(err)
	}
	got := sha256.Sum256(pdf)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || hex.EncodeToString(got[:]) != sum {
		t.Fatal("stored PDF and its hash disagree")
	}
	if len(token) != quotes.TokenLen {
		t.Fatalf("token %q is not 128 bits", token)
	}
	if n := w.Env.Count(`SELECT count(*) FROM emails e JOIN email_attachments a ON a.email_id = e.id
		WHERE e.to_address = 'compras@ebro.test' AND e.template = 'quote_sent' AND a.content_type = 'application/pdf'
		AND e.text_body LIKE '%/q/' || $1 || '%' AND e.link_purpose = 'quote'`, mail.Redacted); n != 1 {
		t.Fatal("the quote e-mail with the PDF and the link was not enqueued")
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities WHERE id = $1 AND stage = 'oferta_presentada'`, w.opportunity); n != 1 {
		t.Fatal("sending did not move the deal to oferta presentada")
	}
	// A sent version is immutable, whatever the code does.
	if _, err := w.Env.DB.Exec(context.Background(), `UPDATE quote_lines SET unit_price = 1 WHERE quote_id = $1`, id); err == nil {
		t.Fatal("the database let a sent line change")
	}
	if _, err := w.Env.DB.Exec(context.Background(), `UPDATE quote_versions SET total = 1 WHERE quote_id = $1`, id); err == nil {
		t.Fatal("the database let a sent version's total change")
	}

	// The client opens it: no session, the token is enough.
	client := w.Env.Client()
	r = client.Get("/q/" + token)
	if r.Status != 200 || !strings.Contains(r.Body, "Taladro percutor") || !strings.Contains(r.Body, "366,30") {
		t.Fatalf("client page: %d %q", r.Status, r.Body)
	}
	if strings.Contains(r.Body, w.Rep.Email) {
		t.Fatal("the client page shows the rep's e-mail")
	}
	if n := w.Env.Count(`SELECT count(*) FROM quote_events WHERE quote_id = $1 AND kind = 'opened'`, id); n != 1 {
		t.Fatal("open not recorded")
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND args->>'title_id' = 'quotes.opened_title'`); n < 2 {
		t.Fatalf("rep and manager not told of the open (%d jobs)", n)
	}
	r = client.Get("/q/" + token + "/pdf")
	if r.Status != 200 || r.Body != string(pdf) {
		t.Fatal("client PDF is not the stored one")
	}

	// Bad signatures get field messages.
	for name, sig := range map[string]string{
		"empty":      signaturePNG(t, 300, 100, false),
		"not png":    "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("hello")),
		"no prefix":  "hello",
		"huge":       "data:image/png;base64," + strings.Repeat("A", 300_000),
		"tiny image": signaturePNG(t, 5, 5, true),
	} {
		r = client.Post("/q/"+token+"/sign", url.Values{"signer_name": {"Ana Ruiz"}, "signature": {sig}})
		if r.Status != 422 {
			t.Errorf("%s signature: %d", name, r.Status)
		}
	}
	r = client.Post("/q/"+token+"/sign", url.Values{"signer_name": {"  "}, "signature": {signaturePNG(t, 300, 100, true)}})
	if r.Status != 422 || !strings.Contains(r.Body, "Escriba su nombre") {
		t.Fatalf("nameless signature: %d", r.Status)
	}

	// The signature.
	r = client.Post("/q/"+token+"/sign", url.Values{"signer_name": {"Ana Ruiz"}, "signature": {signaturePNG(t, 300, 100, true)}})
	if r.Status != 303 && r.Status != 302 && r.Status != 200 {
		t.Fatalf("sign: %d %q", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM quote_events WHERE quote_id = $1 AND kind = 'signed' AND signer_name = 'Ana Ruiz'
		AND document_sha256 = $2 AND signature_png IS NOT NULL`, id, sum); n != 1 {
		t.Fatal("signature audit row missing or with the wrong hash")
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities WHERE id = $1 AND stage = 'ganada'`, w.opportunity); n != 1 {
		t.Fatal("signing did not win the deal")
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunity_stage_history WHERE opportunity_id = $1 AND to_stage = 'ganada'`, w.opportunity); n != 1 {
		t.Fatal("the win is not in the deal's history")
	}
	if n := w.Env.Count(`SELECT count(*) FROM emails e JOIN email_attachments a ON a.email_id = e.id
		WHERE e.template = 'quote_signed' AND a.content_type = 'application/pdf'`); n != 2 {
		t.Fatalf("signed PDF e-mailed %d times, want client and rep", n)
	}
	// The signed PDF differs from the sent one and is what both download now.
	r = client.Get("/q/" + token + "/pdf")
	if r.Status != 200 || r.Body == string(pdf) || !strings.HasPrefix(r.Body, "%PDF-") {
		t.Fatal("signed PDF not served")
	}

	// A second signature of the same version is refused.
	r = client.Post("/q/"+token+"/sign", url.Values{"signer_name": {"Otra Persona"}, "signature": {signaturePNG(t, 300, 100, true)}})
	if r.Status != 409 {
		t.Fatalf("second signature: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM quote_events WHERE quote_id = $1 AND kind = 'signed'`, id); n != 1 {
		t.Fatal("a second signature was stored")
	}
	// The trail is append-only.
	if _, err := w.Env.DB.Exec(context.Background(), `DELETE FROM quote_events WHERE quote_id = $1 AND kind = 'signed'`, id); err == nil {
		t.Fatal("the database let a signature row be deleted")
	}
}

func TestVersionsOutdatedAndRejection(t *testing.T) {
	w := newWorld(t)
	id := w.draft(t)
	w.lines(t, id, nil)
	tok1 := w.send(t, id)

	// Editing a sent quote opens version 2; v1 stays as it was.
	r := w.RepC.Post(fmt.Sprintf("/quotes/%d/revise", id), url.Values{})
	if r.Status >= 400 {
		t.Fatalf("revise: %d", r.Status)
	}
	w.lines(t, id, url.Values{"quantity": {"5", "2"}})
	tok2 := w.send(t, id)
	if tok1 == tok2 {
		t.Fatal("version 2 reuses the token")
	}
	if n := w.Env.Count(`SELECT count(*) FROM quote_versions WHERE quote_id = $1 AND n = 1 AND status = 'superseded' AND base = 30273`, id); n != 1 {
		t.Fatal("v1 changed or was not superseded")
	}
	if n := w.Env.Count(`SELECT count(*) FROM quotes WHERE id = $1 AND number = $2`, id, fmt.Sprintf("P-%d-0001", time.Now().Year())); n != 1 {
		t.Fatal("v2 did not keep the number")
	}
	// The old link leads to the latest version; signing through it is
	// refused with a link to the latest.
	client := w.Env.Client()
	r = client.Get("/q/" + tok1)
	if r.Status != 303 || r.Header.Get("Location") != "/q/"+tok2 {
		t.Fatalf("old link: %d %s", r.Status, r.Header.Get("Location"))
	}
	r = client.Post("/q/"+tok1+"/sign", url.Values{"signer_name": {"Ana"}, "signature": {signaturePNG(t, 300, 100, true)}})
	if r.Status != 409 || !strings.Contains(r.Body, "/q/"+tok2) {
		t.Fatalf("signing v1 after v2 was sent: %d", r.Status)
	}

	// Rejection sends the deal back to negotiation.
	r = client.Post("/q/"+tok2+"/reject", url.Values{"reason": {"Muy caro"}})
	if r.Status >= 400 {
		t.Fatalf("reject: %d %q", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities WHERE id = $1 AND stage = 'en_negociacion'`, w.opportunity); n != 1 {
		t.Fatal("rejection did not move the deal to en negociación")
	}
	if n := w.Env.Count(`SELECT count(*) FROM quote_events WHERE quote_id = $1 AND kind = 'rejected' AND reason = 'Muy caro'`, id); n != 1 {
		t.Fatal("rejection reason not kept")
	}
	r = client.Post("/q/"+tok2+"/sign", url.Values{"signer_name": {"Ana"}, "signature": {signaturePNG(t, 300, 100, true)}})
	if r.Status != 409 {
		t.Fatalf("signing a rejected version: %d", r.Status)
	}
}

func TestOutdatedVersionRefusedWithLinkToLatest(t *testing.T) {
	w := newWorld(t)
	id := w.draft(t)
	w.lines(t, id, nil)
	tok1 := w.send(t, id)
	// A client who kept v1's page open signs after v2 went out.
	w.RepC.Post(fmt.Sprintf("/quotes/%d/revise", id), url.Values{})
	w.lines(t, id, nil)
	w.send(t, id)
	r := w.Env.Client().Post("/q/"+tok1+"/sign", url.Values{"signer_name": {"Ana"}, "signature": {signaturePNG(t, 300, 100, true)}})
	if r.Status != 409 || !strings.Contains(r.Body, "versión más reciente") || !strings.Contains(r.Body, "/q/") {
		t.Fatalf("outdated signature: %d %q", r.Status, r.Body)
	}
}

func TestBadLinesGetFieldMessages(t *testing.T) {
	w := newWorld(t)
	id := w.draft(t)
	cases := map[string]url.Values{
		"negative quantity": {"quantity": {"-1", "1"}},
		"zero price":        {"unit_price": {"0", "40"}},
		"unknown tax rate":  {"tax_rate_id": {"999999", fmt.Sprint(w.rate21)}},
		"discount 100":      {"discount": {"100", ""}},
		"past validity":     {"valid_until": {"2020-01-01"}},
		"empty description": {"description": {" ", "Montaje"}},
	}
	for name, extra := range cases {
		r := w.lines(t, id, extra)
		if r.Status != 422 || !strings.Contains(r.Body, "field-error") {
			t.Errorf("%s: %d", name, r.Status)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM quote_lines WHERE quote_id = $1`, id); n != 0 {
		t.Fatalf("invalid drafts stored %d lines", n)
	}
	r := w.RepC.Post(fmt.Sprintf("/quotes/%d/send", id), url.Values{"revision": {w.revision(t, id)}})
	if r.Status != 422 || !strings.Contains(r.Body, "Añada al menos una línea") {
		t.Fatalf("sending an empty quote: %d", r.Status)
	}
}

func TestTokensAndScope(t *testing.T) {
	w := newWorld(t)
	id := w.draft(t)
	w.lines(t, id, nil)
	token := w.send(t, id)
	c := w.Env.Client()
	tampered := []byte(token)
	tampered[0] ^= 1
	for _, bad := range []string{"x", string(tampered), strings.Repeat("A", quotes.TokenLen), token + "A", "../quotes"} {
		if r := c.Get("/q/" + url.PathEscape(bad)); r.Status != 404 {
			t.Errorf("token %q: %d", bad, r.Status)
		}
	}
	// Revoked by the rep: a clear page, never the quote.
	if r := w.RepC.Post(fmt.Sprintf("/quotes/%d/revoke", id), url.Values{}); r.Status != 303 {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := c.Get("/q/" + token); r.Status != 410 || strings.Contains(r.Body, "Taladro") {
		t.Fatalf("revoked link: %d", r.Status)
	}
	w.Env.Exec(`UPDATE quote_links SET revoked_at = NULL WHERE quote_id = $1`, id)
	// Expired: the validity passed.
	w.Env.Exec(`UPDATE quote_links SET expires_at = now() - interval '1 minute' WHERE quote_id = $1`, id)
	if r := c.Get("/q/" + token); r.Status != 410 || strings.Contains(r.Body, "Taladro") {
		t.Fatalf("expired link: %d", r.Status)
	}
	// Another rep cannot see or touch the quote.
	for _, p := range []string{"/quotes/%d", "/quotes/%d/edit?step=2", "/quotes/%d/versions/1/pdf"} {
		if r := w.Rep2C.Get(fmt.Sprintf(p, id)); r.Status != 404 {
			t.Errorf("other rep %s: %d", p, r.Status)
		}
	}
	if r := w.Rep2C.Post(fmt.Sprintf("/quotes/%d/revise", id), url.Values{}); r.Status != 404 {
		t.Errorf("other rep revise: %d", r.Status)
	}
}

func TestClientLinkIsRateLimited(t *testing.T) {
	w := newWorld(t)
	c := w.Env.Client()
	limited := false
	for i := 0; i < 70; i++ {
		if r := c.Get("/q/" + strings.Repeat("B", quotes.TokenLen)); r.Status == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("70 guesses a minute from one IP were all answered")
	}
}

// The automatic-task rules about quotes: sent, signed ("prepare order"),
// and unanswered after some days (fired by the sweep, once).
func TestQuoteTaskRules(t *testing.T) {
	w := newWorld(t)
	w.Env.Exec(`INSERT INTO task_reasons (org_id, name) VALUES ($1, 'Seguimiento')`, w.Org.ID)
	for _, r := range []struct{ event, title, wait string }{
		{"quote_sent", "Llamar para confirmar que llegó", ""}, {"quote_signed", "Preparar pedido", ""}, {"quote_unanswered", "Reclamar respuesta", "3"}} {
		w.Env.Exec(`INSERT INTO task_rules (org_id, event, wait_days, reason_id, title)
			SELECT $1, $2, nullif($4, '')::integer, id, $3 FROM task_reasons WHERE org_id = $1`, w.Org.ID, r.event, r.title, r.wait)
	}
	id := w.draft(t)
	w.lines(t, id, nil)
	token := w.send(t, id)
	if n := w.Env.Count(`SELECT count(*) FROM tasks WHERE quote_id = $1 AND title = 'Llamar para confirmar que llegó' AND assignee_id = $2`, id, w.Rep.ID); n != 1 {
		t.Fatal("quote_sent rule did not fire")
	}
	ctx := context.Background()
	for _, days := range []int{2, 4, 5} {
		if _, err := quotes.FollowUps(ctx, w.Env.DB, w.Env.Deps.Jobs, time.Now().AddDate(0, 0, days)); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM tasks WHERE quote_id = $1 AND title = 'Reclamar respuesta'`, id); n != 1 {
		t.Fatalf("unanswered follow-ups: %d, want one (after 3 days, once)", n)
	}
	w.Env.Client().Post("/q/"+token+"/sign", url.Values{"signer_name": {"Ana"}, "signature": {signaturePNG(t, 300, 100, true)}})
	if n := w.Env.Count(`SELECT count(*) FROM tasks WHERE quote_id = $1 AND title = 'Preparar pedido' AND opportunity_id = $2`, id, w.opportunity); n != 1 {
		t.Fatal("quote_signed rule did not fire")
	}
	// A signed quote is no longer unanswered.
	w.Env.Exec(`DELETE FROM tasks WHERE title = 'Reclamar respuesta'`)
	if n, _ := quotes.FollowUps(ctx, w.Env.DB, w.Env.Deps.Jobs, time.Now().AddDate(0, 0, 10)); n != 0 {
		t.Fatalf("%d follow-ups for a signed quote", n)
	}
}

// A client's act recorded long after it happened (the demo's history) goes
// to the bell without a toast; a fresh one toasts.
func TestOnlyFreshOpensToast(t *testing.T) {
	w := newWorld(t)
	id := w.draft(t)
	w.lines(t, id, nil)
	token := w.send(t, id)
	ctx := context.Background()
	l, err := w.Env.Q.FindQuoteLink(ctx, linktoken.Hash(token))
	if err != nil {
		t.Fatal(err)
	}
	err = live.BeginFunc(ctx, w.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		return quotes.RecordOpen(ctx, tx, w.Env.Deps.Jobs, l, quotes.Client{}, time.Now().Add(-2*time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND args->>'title_id' = 'quotes.opened_title' AND (args->>'toast') IS NULL`); n < 1 {
		t.Fatal("an old open was not notified without a toast")
	}
	w.Env.Exec(`DELETE FROM river_job WHERE kind = 'notify'`)
	w.Env.Client().Get("/q/" + token)
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND args->>'toast' = 'true'`); n < 1 {
		t.Fatal("a fresh open does not toast")
	}
}

// The customer's tax regime is the quote's default: a retailer under the
// recargo gets it on a new quote, an IRPF retention comes along, and an
// exempt customer's lines are all at 0 % with the exemption's legal basis
// on the PDF it is sent.
func TestCustomerTaxRegimeAppliesToItsQuotes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.Env.Exec(`UPDATE customers SET tax_regime = 'recargo', irpf_rate = 15 WHERE id = $1`, w.customer)
	id := w.draft(t)
	var recargo bool
	var irpf string
	if err := w.Env.DB.QueryRow(ctx, `SELECT recargo, irpf_rate::text FROM quote_versions WHERE quote_id = $1`, id).Scan(&recargo, &irpf); err != nil {
		t.Fatal(err)
	}
	if !recargo || irpf != "15.00" {
		t.Fatalf("new quote for a recargo customer with IRPF: recargo %v, irpf %s", recargo, irpf)
	}

	w.Env.Exec(`UPDATE customers SET tax_regime = 'exempt', exempt_cause = 'E1', irpf_rate = 0 WHERE id = $1`, w.customer)
	id = w.draft(t)
	if r := w.lines(t, id, url.Values{"recargo": {"1"}}); r.Status != 200 {
		t.Fatalf("autosave: %d %q", r.Status, r.Body)
	}
	// 242,73 + 60,00 with no IVA and no recargo, whatever the form asked.
	var base, taxes, surcharge, total int64
	if err := w.Env.DB.QueryRow(ctx, `SELECT base, tax, surcharge, total FROM quote_versions WHERE quote_id = $1`, id).Scan(&base, &taxes, &surcharge, &total); err != nil {
		t.Fatal(err)
	}
	if base != 30273 || taxes != 0 || surcharge != 0 || total != 30273 {
		t.Fatalf("exempt customer's totals: base %d tax %d recargo %d total %d", base, taxes, surcharge, total)
	}
	if n := w.Env.Count(`SELECT count(*) FROM quote_lines l JOIN tax_rates r ON r.id = l.tax_rate_id WHERE l.quote_id = $1 AND r.rate = 0`, id); n != 2 {
		t.Fatalf("%d lines at the 0 %% rate, want 2", n)
	}
	w.send(t, id)
	var regime, cause string
	if err := w.Env.DB.QueryRow(ctx, `SELECT parties->'tax'->>'regime', parties->'tax'->>'exempt_cause' FROM quote_versions WHERE quote_id = $1`, id).Scan(&regime, &cause); err != nil {
		t.Fatal(err)
	}
	if regime != "exempt" || cause != "E1" {
		t.Fatalf("the sent version froze regime %q cause %q", regime, cause)
	}
	pdf := w.RepC.Get(fmt.Sprintf("/quotes/%d/versions/1/pdf", id))
	if pdf.Status != 200 || !strings.HasPrefix(pdf.Body, "%PDF") {
		t.Fatalf("pdf: %d", pdf.Status)
	}
	if text := apptest.PDFText(t, []byte(pdf.Body)); !strings.Contains(text, "(Operaci\xf3n exenta de IVA \\(art. 20 de la Ley 37/1992\\))") {
		t.Fatalf("the PDF lacks the exemption's legend")
	}
}

// The editor lists only the contacts and deals of a customer the rep may
// see: another rep's customer (or deal) in the link is 404, and choosing it
// in step 1 lists none of its contacts.
func TestEditorListsOnlyVisibleCustomersContacts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	other := w.Rep2.ID
	cu, err := w.Env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: w.Org.ID, LegalName: "Ajena Norte S.L.", Country: "ES",
		OwnerID: &other, Tags: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Env.Q.CreateCustomerContact(ctx, queries.CreateCustomerContactParams{OrgID: w.Org.ID, CustomerID: cu.ID,
		Name: "Contacto Ajeno", Email: "ajeno@norte.test", IsPrimary: true}); err != nil {
		t.Fatal(err)
	}
	o, err := w.Env.Q.CreateOpportunityFull(ctx, queries.CreateOpportunityFullParams{OrgID: w.Org.ID, CustomerID: cu.ID, Title: "Trato Ajeno",
		Amount: 1000, Probability: 10, OwnerID: &other, CreatedBy: &other})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{fmt.Sprintf("customer_id=%d", cu.ID), fmt.Sprintf("opportunity_id=%d", o.ID)} {
		r := w.RepC.Get("/quotes/new?" + q)
		if r.Status != 404 || strings.Contains(r.Body, "Contacto Ajeno") || strings.Contains(r.Body, "Trato Ajeno") {
			t.Errorf("/quotes/new?%s as another rep: %d, lists the customer's contacts or deals: %v", q, r.Status,
				strings.Contains(r.Body, "Contacto Ajeno"))
		}
	}
	// Step 1 reloads with the chosen customer's contacts (refresh): not
	// for a customer out of the rep's scope.
	r := w.RepC.Post("/quotes", url.Values{"customer_id": {fmt.Sprint(cu.ID)}, "refresh": {"1"}})
	if strings.Contains(r.Body, "Contacto Ajeno") || strings.Contains(r.Body, "Trato Ajeno") {
		t.Errorf("step 1 refreshed for another rep's customer lists its contacts or deals (%d)", r.Status)
	}
	// The owner, and their own customer for the rep, still work.
	if r := w.Rep2C.Get(fmt.Sprintf("/quotes/new?customer_id=%d", cu.ID)); r.Status != 200 || !strings.Contains(r.Body, "Contacto Ajeno") {
		t.Errorf("owner's editor: %d", r.Status)
	}
	if r := w.RepC.Get(fmt.Sprintf("/quotes/new?customer_id=%d", w.customer)); r.Status != 200 || !strings.Contains(r.Body, "Reforma almacén") {
		t.Errorf("rep's own customer: %d", r.Status)
	}
}

// behindProxy makes the test transport's address (0.0.0.0) the balancer,
// so requests can say which client they come from.
func behindProxy(c *config.Config) { c.TrustedProxies = []string{"0.0.0.0"} }

// from sends a request as the balancer forwards it for a client at ip,
// after an X-Forwarded-For entry the client wrote itself.
func from(c *apptest.Client, method, path string, form url.Values, ip string) apptest.Response {
	var req *http.Request
	if form != nil {
		form.Set("_csrf", c.CSRF())
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("X-Forwarded-For", "198.51.100.66, "+ip)
	return c.Do(req)
}

// The signature's audit trail and the signed PDF name the client's real
// address, not one the client wrote into X-Forwarded-For.
func TestSignatureRecordsTheClientsRealIP(t *testing.T) {
	w := newWorld(t, behindProxy)
	id := w.draft(t)
	w.lines(t, id, nil)
	token := w.send(t, id)
	c := w.Env.Client()
	if r := from(c, http.MethodPost, "/q/"+token+"/sign", url.Values{"signer_name": {"Ana Ruiz"}, "signature": {signaturePNG(t, 300, 100, true)}}, "203.0.113.9"); r.Status != 303 && r.Status != 200 {
		t.Fatalf("sign: %d %.300s", r.Status, r.Body)
	}
	var ip string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT host(ip) FROM quote_events WHERE quote_id = $1 AND kind = 'signed'`, id).Scan(&ip); err != nil {
		t.Fatal(err)
	}
	if ip != "203.0.113.9" {
		t.Errorf("signature recorded from %q, want 203.0.113.9", ip)
	}
	pdf, _, err := quotes.VersionPDF(context.Background(), w.Env.Q, w.Org.ID, id, 1)
	if err != nil {
		t.Fatal(err)
	}
	if text := apptest.PDFText(t, pdf); !strings.Contains(text, "203.0.113.9") || strings.Contains(text, "198.51.100.66") {
		t.Errorf("signed PDF does not name the real address:\n%s", text)
	}
}

// A client reloading the link is one visit, not one audit row per load:
// opens are recorded once per link, address and hour.
func TestOpensRecordedOncePerAddressAndHour(t *testing.T) {
	w := newWorld(t, behindProxy)
	id := w.draft(t)
	w.lines(t, id, nil)
	token := w.send(t, id)
	opens := func(ip string) int {
		return w.Env.Count(`SELECT count(*) FROM quote_events WHERE quote_id = $1 AND kind = 'opened' AND host(ip) = $2`, id, ip)
	}
	c := w.Env.Client()
	for i := range 3 {
		if r := from(c, http.MethodGet, "/q/"+token, nil, "203.0.113.9"); r.Status != 200 {
			t.Fatalf("load %d: %d", i+1, r.Status)
		}
	}
	if n := opens("203.0.113.9"); n != 1 {
		t.Errorf("three loads from one address in an hour: %d opened events, want 1", n)
	}
	if r := from(w.Env.Client(), http.MethodGet, "/q/"+token, nil, "192.0.2.44"); r.Status != 200 {
		t.Fatalf("load from another address: %d", r.Status)
	}
	if n := opens("192.0.2.44"); n != 1 {
		t.Errorf("another address: %d opened events, want 1", n)
	}
	// An hour later the same address counts again.
	w.Env.Exec(`ALTER TABLE quote_events DISABLE TRIGGER quote_events_append_only`)
	w.Env.Exec(`UPDATE quote_events SET at = at - interval '61 minutes' WHERE quote_id = $1 AND kind = 'opened'`, id)
	w.Env.Exec(`ALTER TABLE quote_events ENABLE TRIGGER quote_events_append_only`)
	from(c, http.MethodGet, "/q/"+token, nil, "203.0.113.9")
	if n := opens("203.0.113.9"); n != 2 {
		t.Errorf("a load an hour later: %d opened events from that address, want 2", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM quote_events WHERE quote_id = $1 AND kind = 'opened'`, id); n != 3 {
		t.Errorf("%d opened events in all, want 3", n)
	}
}

// The client link's throttle lives in PostgreSQL: behind a balancer, a
// guesser spreading requests over every instance gets no more in all than
// one instance would allow.
func TestClientLinkLimitHoldsAcrossInstances(t *testing.T) {
	limit := func(c *config.Config) { c.ClientLinkRate = 6 }
	one := apptest.New(t, limit, behindProxy)
	two := apptest.NewOn(t, one.DB, limit, behindProxy)
	guess := "/q/" + strings.Repeat("B", quotes.TokenLen)
	for i := range 6 {
		env := []*apptest.Env{one, two}[i%2]
		if r := from(env.Client(), http.MethodGet, guess, nil, "203.0.113.9"); r.Status != 404 {
			t.Fatalf("guess %d: %d, want 404", i+1, r.Status)
		}
	}
	for i, env := range []*apptest.Env{one, two} {
		r := from(env.Client(), http.MethodGet, guess, nil, "203.0.113.9")
		if r.Status != 429 {
			t.Fatalf("7th guess, on instance %d: %d, want 429", i+1, r.Status)
		}
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After %q, want 1 to 60 seconds", r.Header.Get("Retry-After"))
		}
	}
	// Every route of the link shares the allowance.
	if r := from(two.Client(), http.MethodPost, guess+"/reject", url.Values{"reason": {"x"}}, "203.0.113.9"); r.Status != 429 {
		t.Errorf("a reject after the limit: %d, want 429", r.Status)
	}
	// Another client is not held up by this one.
	if r := from(one.Client(), http.MethodGet, guess, nil, "192.0.2.44"); r.Status != 404 {
		t.Errorf("another address: %d, want 404", r.Status)
	}
	// The window passes.
	one.Exec(`UPDATE rate_counters SET window_start = window_start - interval '61 seconds'`)
	if r := from(two.Client(), http.MethodGet, guess, nil, "203.0.113.9"); r.Status != 404 {
		t.Errorf("after the window: %d, want 404", r.Status)
	}
}
