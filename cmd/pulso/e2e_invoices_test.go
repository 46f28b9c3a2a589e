package main

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A rep types an invoice on a 360 px phone in three steps, issues it and
// records its payment; every page fits the screen.
func TestE2EInvoiceByHandOnPhone(t *testing.T) {
	chromiumPath(t)
	t.Parallel()
	s, w := sharedWorld(t, "invoice")
	ctx := context.Background()

	// A customer of the rep's with a tax id, as a complete invoice needs.
	var customer int64
	if err := s.db.QueryRow(ctx, `SELECT c.id FROM customers c JOIN users u ON u.id = c.owner_id
		WHERE u.email = $1 AND c.tax_id <> '' ORDER BY c.id LIMIT 1`, w.user("rep@demo.test")).Scan(&customer); err != nil {
		t.Fatal(err)
	}
	rep := newBrowser(t, "rep", 360, 740)
	rep.login(s, w.user("rep@demo.test"))
	fits := func(step string) {
		if sw := rep.eval(`String(document.documentElement.scrollWidth)`); sw != "360" {
			t.Errorf("%s: page is %s px wide on a 360 px phone", step, sw)
		}
	}
	rep.run("list", chromedp.Navigate(s.url("/invoices")), chromedp.WaitVisible(`[data-testid=invoices]`))
	fits("list")
	rep.run("step 1", chromedp.Navigate(s.url(fmt.Sprintf("/invoices/new?customer_id=%d", customer))), chromedp.WaitVisible(`[data-testid=invoice-step1]`))
	fits("step 1")
	rep.run("step 2", chromedp.Click(`[data-testid=step1-next]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=invoice-step2]`),
		chromedp.WaitVisible(`#f-description-0`))
	fits("step 2")
	rep.run("type a line", chromedp.SendKeys(`#f-description-0`, "Revisión anual", chromedp.ByQuery),
		chromedp.SetValue(`#f-unit_price-0`, "50,00", chromedp.ByQuery))
	// 50,00 € + 21 % = 60,50 €.
	rep.run("step 3", chromedp.Click(`[data-testid=step2-next]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=invoice-step3]`),
		chromedp.Poll(`document.querySelector("[data-testid=grand-total]")?.textContent === "60,50\u00a0€"`, nil, chromedp.WithPollingTimeout(5*time.Second)))
	fits("step 3")
	rep.run("issue", chromedp.Click(`[data-testid=issue-invoice]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-testid=payment-form]`))
	fits("invoice page")
	number := rep.eval(`document.querySelector("main h1").textContent.trim()`)
	if !regexp.MustCompile(`^F`).MatchString(number) || number == "Borrador" {
		t.Errorf("invoice number %q", number)
	}
	// The amount comes filled in with what is outstanding.
	rep.run("pay", chromedp.Click(`[data-testid=record-payment]`, chromedp.ByQuery), chromedp.WaitNotPresent(`[data-testid=payment-form]`, chromedp.ByQuery))
	if badge := rep.eval(`document.querySelector("[data-testid=invoice-badge]")?.textContent.trim() ?? ""`); badge != "Cobrada" {
		t.Errorf("after the payment the badge says %q", badge)
	}
	fits("paid")
}
