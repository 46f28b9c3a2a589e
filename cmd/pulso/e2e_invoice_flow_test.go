package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/mail/mailtest"
	"pulso/app/verifactu"
)

// From a signed quote to an invoice in the customer's inbox, on a phone: the
// rep turns the signed quote's order into an invoice, issues it and
// schedules its send for the next minute; at that minute the e-mail reaches
// the SMTP server with the PDF, whose QR (read from the rendered page, as a
// phone would) is the AEAT's ValidarQR URL of exactly that invoice, and the
// manager's screen says "enviada" without a reload.
func TestE2ESignedQuoteToScheduledInvoice(t *testing.T) {
	chromiumPath(t)
	t.Parallel()
	s, w := sharedWorld(t, "invoice-flow")
	smtp := sharedMail(t)
	ctx := context.Background()

	// The demo leaves the org's first signed order uninvoiced: rep2's.
	var orderID int64
	var owner, to string
	if err := s.db.QueryRow(ctx, `SELECT o.id, u.email, c.email FROM orders o JOIN quotes q ON q.org_id = o.org_id AND q.id = o.quote_id
		JOIN users u ON u.id = q.owner_id JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
		WHERE o.org_id = $1 AND q.status = 'signed'
		  AND NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.org_id = o.org_id AND l.order_id = o.id)
		ORDER BY o.id LIMIT 1`, w.orgID).Scan(&orderID, &owner, &to); err != nil {
		t.Fatal(err)
	}
	if to == "" {
		t.Fatal("the order's customer has no e-mail address")
	}
	rep := newBrowser(t, "rep", 390, 844)
	rep.login(s, owner)
	manager := newBrowser(t, "manager", 390, 844)
	manager.login(s, w.user("manager@demo.test"))
	fits := func(b *browser, step string) {
		if sw := b.eval(`String(document.documentElement.scrollWidth)`); sw != "390" {
			t.Errorf("%s: page is %s px wide on a 390 px phone", step, sw)
		}
	}

	rep.run("order", chromedp.Navigate(s.url(fmt.Sprintf("/orders/%d", orderID))), chromedp.WaitVisible(`[data-testid=order-invoicing]`))
	fits(rep, "order")
	rep.run("invoice the whole order", chromedp.Click(`[data-testid=invoice-all]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=issue-form]`))
	fits(rep, "draft")
	rep.run("issue", chromedp.Click(`[data-testid=issue-form] [data-testid=issue-invoice]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid=send-form]`), chromedp.WaitVisible(`body[data-live="on"]`))
	fits(rep, "issued")
	invID := rep.eval(`location.pathname.split("/").pop()`)
	var number, nif string
	var issued time.Time
	var total int64
	if err := s.db.QueryRow(ctx, `SELECT i.full_number, i.issue_date, i.base + i.tax + i.surcharge, i.parties->'issuer'->>'tax_id'
		FROM invoices i WHERE i.org_id = $1 AND i.id = $2 AND i.state = 'issued'`, w.orgID, invID).Scan(&number, &issued, &total, &nif); err != nil {
		t.Fatalf("invoice %s: %v", invID, err)
	}

	// The manager watches the invoice's page.
	manager.run("manager opens the invoice", chromedp.Navigate(s.url("/invoices/"+invID)), chromedp.WaitVisible(`[data-testid=send-form]`),
		chromedp.WaitVisible(`body[data-live="on"]`))
	// Toasts go away after a while: keep every one the manager is shown.
	manager.eval(`window.seen = []; new MutationObserver(() => document.querySelectorAll("[data-testid=toast]").forEach(e => {
		if (!window.seen.includes(e.textContent)) window.seen.push(e.textContent) })).observe(document.body, {childList: true, subtree: true}); "ok"`)

	// The next whole minute of the org's zone, with time to type it.
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().In(madrid).Add(70 * time.Second).Truncate(time.Minute)
	rep.run("address", chromedp.SetValue(`#f-to`, to, chromedp.ByQuery))
	rep.run("open schedule", chromedp.Click(`[data-testid=send-form] details summary`, chromedp.ByQuery))
	rep.run("schedule", chromedp.SetValue(`#f-date`, at.Format("2006-01-02"), chromedp.ByQuery), chromedp.SetValue(`#f-time`, at.Format("15:04"), chromedp.ByQuery),
		chromedp.Click(`[data-testid=schedule]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=send][data-state=scheduled]`))
	fits(rep, "scheduled")

	var got *mailtest.Parsed
	deadline := at.Add(60 * time.Second)
	for got == nil && time.Now().Before(deadline) {
		for _, m := range smtp.Messages() {
			if len(m.To) == 1 && m.To[0] == to {
				if p := mailtest.Parse(t, m.Data); strings.Contains(p.Subject, "Factura "+number) {
					got = &p
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got == nil {
		t.Fatalf("the invoice e-mail did not reach the SMTP server by %s (%d messages)\n%s", deadline.Format(time.TimeOnly), len(smtp.Messages()), s.log)
	}
	if time.Now().Before(at) {
		t.Errorf("the e-mail arrived before its minute %s", at.Format(time.TimeOnly))
	}
	if len(got.Attachments) != 1 || !strings.HasPrefix(string(got.Attachments[0].Content), "%PDF") {
		t.Fatalf("attachments: %d", len(got.Attachments))
	}
	want := verifactu.QRURL(invoices.Recording.Env, &verifactu.Alta{
		IDFactura:    verifactu.IDFactura{IDEmisorFactura: nif, NumSerieFactura: number, FechaExpedicionFactura: issued},
		ImporteTotal: total})
	if qr := apptest.PDFFirstPageQR(t, got.Attachments[0].Content); qr != want {
		t.Errorf("the PDF's QR says %q, want %q", qr, want)
	}

	manager.run("enviada, live", chromedp.Poll(`window.seen.some(t => t.includes("Factura `+number+` enviada"))`, nil,
		chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Poll(`document.querySelector("[data-testid=send][data-state=sent]") !== null`, nil, chromedp.WithPollingTimeout(10*time.Second)))
	fits(manager, "manager")
}
