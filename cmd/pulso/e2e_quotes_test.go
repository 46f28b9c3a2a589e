package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"pulso/app/apptest"
	"pulso/app/mail/mailtest"
)

// The whole flow on phones (390×844): a rep builds a quote in three
// steps from a deal and sends it; the client opens the link in another
// browser and the rep sees "abierto" live; the client signs with a drawn
// signature; the rep's board moves the card to ganada live; the signed PDF
// reaches a real SMTP server with the signature and the document's hash.
func TestE2EQuoteSignedOnPhone(t *testing.T) {
	chromiumPath(t)
	t.Parallel()
	s, w := sharedWorld(t, "quote")
	smtp := sharedMail(t)
	ctx := context.Background()

	// A deal of the rep's that is still being analysed and has no quote yet.
	var oppID int64
	if err := s.db.QueryRow(ctx, `SELECT o.id FROM opportunities o JOIN users u ON u.id = o.owner_id
		WHERE u.email = $1 AND o.stage IN ('en_analisis', 'en_negociacion')
		  AND NOT EXISTS (SELECT 1 FROM quotes q WHERE q.opportunity_id = o.id) ORDER BY o.id LIMIT 1`, w.user("rep@demo.test")).Scan(&oppID); err != nil {
		t.Fatal(err)
	}

	rep := newBrowser(t, "rep", 390, 844)
	rep.login(s, w.user("rep@demo.test"))
	fits := func(b *browser, step string) {
		if sw := b.eval(`String(document.documentElement.scrollWidth)`); sw != "390" {
			t.Errorf("%s: page is %s px wide on a 390 px phone", step, sw)
		}
	}
	// Step 1: from the deal's page; customer and deal come preselected.
	rep.run("deal page", chromedp.Navigate(s.url(fmt.Sprintf("/opportunities/%d", oppID))), chromedp.WaitVisible(`[data-testid=new-quote]`))
	rep.run("step 1", chromedp.Click(`[data-testid=new-quote]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=quote-step1]`))
	fits(rep, "step 1")
	if got := rep.eval(`document.querySelector("#f-opportunity_id").value`); got != fmt.Sprint(oppID) {
		t.Fatalf("the deal is not preselected: %q", got)
	}
	// Step 2: search the catalog, quick-add, change the quantity (autosave).
	rep.run("step 2", chromedp.Click(`[data-testid=step1-next]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=quote-step2]`))
	rep.run("search the catalog", chromedp.SendKeys(`[data-testid=product-search]`, "taladro", chromedp.ByQuery),
		chromedp.Poll(`(() => { const b = document.querySelectorAll("[data-testid=add-product]"); return b.length === 1 && b[0].textContent.includes("Taladro"); })()`, nil,
			chromedp.WithPollingTimeout(5*time.Second)))
	rep.run("quick add", chromedp.Click(`[data-testid=add-product]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelectorAll("[data-testid=line]").length === 1`, nil, chromedp.WithPollingTimeout(5*time.Second)))
	rep.run("quantity 3", chromedp.SetValue(`#f-quantity-0`, "3", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("#f-quantity-0").dispatchEvent(new Event("change", {bubbles: true}))`, nil),
		// 3 × 129,90 € = 389,70 € + 21 % = 471,54 €, saved and shown.
		chromedp.Poll(`document.querySelector("[data-testid=grand-total]")?.textContent === "471,54\u00a0€" && document.querySelector("[data-testid=autosave]").textContent.includes("Guardado")`, nil,
			chromedp.WithPollingTimeout(5*time.Second)))
	fits(rep, "step 2")
	// Step 3: review and send.
	rep.run("step 3", chromedp.Click(`[data-testid=step2-next]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=quote-step3]`))
	fits(rep, "step 3")
	rep.run("send", chromedp.Click(`[data-testid=send-quote]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=client-link]`),
		chromedp.WaitVisible(`body[data-live="on"]`))
	link := rep.eval(`document.querySelector("[data-testid=client-link]").value`)
	if !regexp.MustCompile(`/q/[A-Za-z0-9_-]{22}$`).MatchString(link) {
		t.Fatalf("client link %q", link)
	}
	number := rep.eval(`document.querySelector("main h1").textContent.trim()`)
	if !regexp.MustCompile(`^P-\d{4}-\d{4}$`).MatchString(number) {
		t.Fatalf("quote number %q", number)
	}

	// The rep watches the board; the card says the quote is out.
	rep.run("rep's board", chromedp.Navigate(s.url("/opportunities/board")), chromedp.WaitVisible(`body[data-live="on"]`),
		chromedp.WaitVisible(`#board`))
	card := fmt.Sprintf(`#opp-%d`, oppID)
	if got := rep.eval(fmt.Sprintf(`String(!!document.querySelector('.board-cards[data-stage="oferta_presentada"] %s'))`, card)); got != "true" {
		t.Errorf("after sending, the card is not under oferta presentada")
	}
	if got := rep.eval(`document.querySelector("` + card + ` [data-testid=quote-badge]")?.dataset.quote ?? ""`); got != "sent" {
		t.Errorf("card badge after sending: %q", got)
	}

	// The client opens the link on their own phone: the rep sees it live,
	// as a toast and on the card.
	client := newBrowser(t, "client", 390, 844)
	opened := time.Now()
	client.run("client opens the link", chromedp.Navigate(link), chromedp.WaitVisible(`[data-testid=sign-form]`))
	fits(client, "client page")
	rep.run("abierto, live", chromedp.Poll(`[...document.querySelectorAll("[data-testid=toast]")].some(e => e.textContent.includes("abrió el presupuesto"))`, nil,
		chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Poll(`document.querySelector("`+card+` [data-testid=quote-badge]")?.dataset.quote === "opened"`, nil, chromedp.WithPollingTimeout(10*time.Second)))
	t.Logf("the rep saw the open %v after the client loaded the page", time.Since(opened).Round(time.Millisecond))

	signed := time.Now()
	signQuote(client, "Ana Ruiz Cliente")
	fits(client, "signed page")

	rep.run("card moves to ganada, live", chromedp.Poll(fmt.Sprintf(`document.querySelector('.board-cards[data-stage="ganada"] #opp-%d [data-quote="signed"]') !== null`, oppID), nil,
		chromedp.WithPollingTimeout(10*time.Second)))
	t.Logf("the rep's board moved the card %v after the client tapped sign", time.Since(signed).Round(time.Millisecond))
	rep.run("firmado, live", chromedp.Poll(`[...document.querySelectorAll("[data-testid=toast]")].some(e => e.textContent.includes("firmó el presupuesto"))`, nil,
		chromedp.WithPollingTimeout(10*time.Second)))

	// The signed PDF arrives at the SMTP server, to the rep, with the
	// signature image and the hash of the PDF the client was shown.
	var hash string
	if err := s.db.QueryRow(ctx, `SELECT e.document_sha256 FROM quote_events e JOIN quotes q ON q.id = e.quote_id
		WHERE q.opportunity_id = $1 AND e.kind = 'signed' AND e.signer_name = 'Ana Ruiz Cliente'`, oppID).Scan(&hash); err != nil {
		t.Fatalf("no signature row: %v", err)
	}
	var signedMail *mailtest.Parsed
	deadline := time.Now().Add(30 * time.Second)
	for signedMail == nil && time.Now().Before(deadline) {
		for _, m := range smtp.Messages() {
			if len(m.To) == 1 && m.To[0] == w.user("rep@demo.test") {
				p := mailtest.Parse(t, m.Data)
				if strings.Contains(p.Subject, number+" firmado") {
					signedMail = &p
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if signedMail == nil {
		t.Fatalf("no signed copy reached the SMTP server (%d messages)\n%s", len(smtp.Messages()), s.log)
	}
	if len(signedMail.Attachments) != 1 || !strings.HasSuffix(signedMail.Attachments[0].Filename, "-firmado.pdf") {
		t.Fatalf("signed mail attachments: %+v", signedMail.Attachments)
	}
	pdf := signedMail.Attachments[0].Content
	text := apptest.PDFText(t, pdf)
	if !strings.Contains(text, hash) || !strings.Contains(text, "Ana Ruiz Cliente") {
		t.Errorf("the signed PDF does not show the signer and the hash %s", hash)
	}
	if !bytes.Contains(pdf, []byte("/Subtype /Image")) {
		t.Error("the signed PDF has no signature image")
	}
}

// signQuote signs the quote open in b as a client on a phone would: a
// stroke drawn with a finger on the pad, the signer's name, and the button.
func signQuote(b *browser, name string) {
	var box struct{ X, Y, W, H float64 }
	b.run("signature pad", chromedp.Evaluate(`(() => { const c = document.querySelector("#signature-pad"); c.scrollIntoView({block: "center"});
		const r = c.getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`, &box))
	stroke := []chromedp.Action{input.DispatchTouchEvent(input.TouchStart, []*input.TouchPoint{{X: box.X + 20, Y: box.Y + box.H/2}})}
	for i := 1; i <= 20; i++ {
		x := box.X + 20 + (box.W-40)*float64(i)/20
		y := box.Y + box.H/2 + float64((i%4)-2)*box.H/6
		stroke = append(stroke, input.DispatchTouchEvent(input.TouchMove, []*input.TouchPoint{{X: x, Y: y}}), chromedp.Sleep(15*time.Millisecond))
	}
	stroke = append(stroke, input.DispatchTouchEvent(input.TouchEnd, []*input.TouchPoint{}))
	b.run("draw", stroke...)
	b.run("name", chromedp.SendKeys(`#f-signer_name`, name, chromedp.ByQuery))
	b.run("sign", chromedp.Click(`[data-testid=sign-submit]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=client-signed]`))
}
