package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pulso/app/mail/mailtest"
)

// Invoice sends on phones: the rep schedules a send of an issued invoice
// from its sends fragment, cancels it, sends it now; the e-mail reaches a
// real SMTP server with the PDF and the link; the customer opens the link
// on a 360 px phone and the rep sees "abierta" live.
func TestE2EInvoiceSendOnPhone(t *testing.T) {
	chromiumPath(t)
	t.Parallel()
	s, w := sharedWorld(t, "invoice-sends")
	smtp := sharedMail(t)
	ctx := context.Background()

	var invID int64
	var number, to string
	if err := s.db.QueryRow(ctx, `SELECT i.id, i.full_number, c.email FROM invoices i
		JOIN customers c ON c.org_id = i.org_id AND c.id = i.customer_id JOIN users u ON u.id = c.owner_id
		WHERE u.email = $1 AND i.state = 'issued' AND i.full_number IS NOT NULL ORDER BY i.id LIMIT 1`, w.user("rep@demo.test")).Scan(&invID, &number, &to); err != nil {
		t.Fatal(err)
	}
	if to == "" {
		to = "cliente-factura@demo.test"
	}
	rep := newBrowser(t, "rep", 390, 844)
	rep.login(s, w.user("rep@demo.test"))
	fits := func(b *browser, width, step string) {
		if sw := b.eval(`String(document.documentElement.scrollWidth)`); sw != width {
			t.Errorf("%s: page is %s px wide on a %s px phone", step, sw, width)
		}
	}
	rep.run("sends", chromedp.Navigate(s.url(fmt.Sprintf("/invoices/%d/sends", invID))), chromedp.WaitVisible(`[data-testid=send-form]`),
		chromedp.WaitVisible(`body[data-live="on"]`))
	fits(rep, "390", "sends")
	rep.run("address", chromedp.SetValue(`#f-to`, to, chromedp.ByQuery))

	// Schedule for tomorrow at 09:30 (the org's zone), then cancel.
	tomorrow := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	rep.run("open schedule", chromedp.Click(`[data-testid=send-form] details summary`, chromedp.ByQuery))
	rep.run("schedule", chromedp.SetValue(`#f-date`, tomorrow, chromedp.ByQuery), chromedp.SetValue(`#f-time`, "09:30", chromedp.ByQuery),
		chromedp.Click(`[data-testid=schedule]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=send][data-state=scheduled]`))
	fits(rep, "390", "scheduled")
	if got := rep.eval(`document.querySelector("[data-testid=send][data-state=scheduled]").textContent`); !strings.Contains(got, "09:30") {
		t.Errorf("scheduled row: %q", got)
	}
	rep.run("cancel", chromedp.Click(`[data-testid=cancel-send]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=send][data-state=cancelled]`))

	// Send now.
	rep.run("send now", chromedp.SetValue(`#f-to`, to, chromedp.ByQuery), chromedp.Click(`[data-testid=send-now]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid=send][data-state=sent]`))
	fits(rep, "390", "sent")

	var got *mailtest.Parsed
	for deadline := time.Now().Add(30 * time.Second); got == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, m := range smtp.Messages() {
			if len(m.To) == 1 && m.To[0] == to {
				if p := mailtest.Parse(t, m.Data); strings.Contains(p.Subject, "Factura "+number) {
					got = &p
				}
			}
		}
	}
	if got == nil {
		t.Fatalf("no invoice e-mail reached the SMTP server (%d messages)\n%s", len(smtp.Messages()), s.log)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].Filename != "factura-"+number+".pdf" || !strings.HasPrefix(string(got.Attachments[0].Content), "%PDF") {
		t.Fatalf("attachments: %d", len(got.Attachments))
	}
	link := regexp.MustCompile(`https?://\S+/i/[A-Za-z0-9_-]{22}`).FindString(got.Text)
	if link == "" {
		t.Fatalf("no link in %q", got.Text)
	}

	client := newBrowser(t, "client", 360, 740)
	client.run("client opens the link", chromedp.Navigate(link), chromedp.WaitVisible(`[data-testid=client-invoice]`))
	fits(client, "360", "client page")
	if h1 := client.eval(`document.querySelector("h1").textContent`); !strings.Contains(h1, number) {
		t.Errorf("client page title %q", h1)
	}
	rep.run("abierta, live", chromedp.Poll(`[...document.querySelectorAll("[data-testid=toast]")].some(e => e.textContent.includes("Factura `+number+` abierta"))`, nil,
		chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Poll(`document.querySelector("[data-testid=send][data-state=sent]")?.textContent.includes("Aperturas: 1")`, nil, chromedp.WithPollingTimeout(10*time.Second)))
}
