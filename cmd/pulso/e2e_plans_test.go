package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pulso/app/store/mercadolibre/mlfake"
)

// The store org's admin has the dashboard open on a phone. Its Mercado
// Libre seller, connected through the OAuth round trip in the same
// browser, sells until the org crosses 80 %, 95 % and 100 % of its plan:
// the toasts arrive live, without a reload; the next order is held back by
// the plan's limit; Autogestión › Suscripción shows the month split by
// channel; an upgrade paid on the fake provider's page (its webhooks
// duplicated) moves the org to the bigger plan at once, once, and the
// held-back order goes in.
func TestE2EStoreOrdersCrossThePlanLive(t *testing.T) {
	chromiumPath(t)
	t.Parallel()
	s, w := sharedWorld(t, "plans")
	store, pay := sharedFakes(t)
	ctx := context.Background()
	email := w.user("admin@austral.test")
	var orgID int64
	if err := s.db.QueryRow(ctx, `SELECT org_id FROM users WHERE email = $1`, email).Scan(&orgID); err != nil {
		t.Fatal(err)
	}
	// Plans are data: a plan of 20 vouchers that blocks at its limit (the
	// seeded ones start at 250, too many orders for a test), not offered
	// to anyone, with the org on it from this month.
	var mini, inicial int64
	if err := s.db.QueryRow(ctx, `INSERT INTO plans (code, name, vouchers, store_users, at_limit, rank, active)
		VALUES ($1, 'Mini', 20, 1, 'block', $2, false) RETURNING id`, fmt.Sprintf("mini_%d", orgID), -orgID).Scan(&mini); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO plan_prices (plan_id, currency, monthly) VALUES ($1, 'ARS', 500000)`, mini); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(ctx, `UPDATE subscriptions SET plan_id = $2 WHERE org_id = $1`, orgID, mini); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow(ctx, `SELECT id FROM plans WHERE code = 'inicial'`).Scan(&inicial); err != nil {
		t.Fatal(err)
	}
	seller := 740000000 + orgID
	store.AddSeller(seller, fmt.Sprintf("AUSTRAL_%d", orgID))
	store.LoginAs(seller)

	admin := newBrowser(t, "admin", 390, 844)
	admin.login(s, email)
	admin.run("connect the seller",
		chromedp.Navigate(s.url("/integraciones")),
		chromedp.WaitVisible(`[data-testid=ml-connect]`),
		chromedp.Click(`[data-testid=ml-connect]`),
		chromedp.WaitVisible(`[data-testid=store-sync]`))
	if n := countRows(t, s, `SELECT count(*) FROM store_connections WHERE org_id = $1 AND seller_id = $2 AND state = 'active'`, orgID, seller); n != 1 {
		t.Fatalf("%d active connections of the seller after the round trip", n)
	}

	admin.run("dashboard", chromedp.Navigate(s.url("/")), chromedp.WaitVisible(`body[data-live="on"]`))
	// Every toast that shows up, kept: they hide themselves after a while.
	admin.eval(`window.noReload = true; window.toasts = [];
		new MutationObserver(() => document.querySelectorAll("[data-testid=toast]").forEach(e => {
			if (!e.dataset.seen) { e.dataset.seen = "1"; window.toasts.push(e.textContent.replace(/\s+/g, " ").trim()); }
		})).observe(document.body, {childList: true, subtree: true}); "ok"`)

	next := int64(0)
	sell := func(n int) {
		for range n {
			next++
			id := seller*1000 + next
			store.PutOrder(mlfake.NewOrder(seller, id, mlfake.Item{ID: "MLA1100000003", Title: "Cargador USB-C 20W", SKU: "SKU-CAR-03",
				Quantity: 1, UnitPrice: "8999"}).Paid())
			store.Notify(id)
		}
	}
	orders := func(state string) int {
		return countRows(t, s, `SELECT count(*) FROM store_orders WHERE org_id = $1 AND state = $2`, orgID, state)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				admin.shot(what)
				t.Fatalf("waited 45 s for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	toast := func(percent string) {
		t.Helper()
		waitFor("the "+percent+" toast", func() bool {
			return admin.eval(`String(window.toasts.some(t => t.includes("`+percent+` % de los comprobantes del plan Mini")))`) == "true"
		})
	}

	sell(16)
	waitFor("16 vouchers", func() bool { return orders("invoiced") == 16 })
	toast("80")
	sell(4)
	waitFor("20 vouchers", func() bool { return orders("invoiced") == 20 })
	toast("95")
	toast("100")
	if got := admin.eval(`String(window.noReload)`); got != "true" {
		t.Error("the dashboard reloaded")
	}
	if n := countRows(t, s, `SELECT count(*) FROM alerts a JOIN users u ON u.org_id = a.org_id AND u.id = a.user_id
		WHERE a.org_id = $1 AND a.kind = 'voucher_quota' AND u.email = $2`, orgID, email); n != 3 {
		t.Errorf("%d quota alerts for the admin, want 3 (80, 95, 100 %%)", n)
	}

	// The 21st order: held back, with the reason on the sync page.
	sell(1)
	waitFor("the order past the limit held back", func() bool { return orders("blocked") == 1 })
	if n := orders("invoiced"); n != 20 {
		t.Errorf("%d vouchers past a limit of 20", n)
	}

	admin.run("subscription page", chromedp.Navigate(s.url("/autogestion/suscripcion")), chromedp.WaitVisible(`[data-testid=plan-usage]`))
	for sel, want := range map[string]string{
		"plan-name":      "Mini",
		"plan-split":     "0 de tienda física y 20 de tienda e-commerce",
		"plan-used":      "20 de 20",
		"plan-remaining": "Quedan 0",
	} {
		if got := admin.eval(`document.querySelector("[data-testid=` + sel + `]").textContent.replace(/\s+/g, " ").trim()`); got != want {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}
	if sw := admin.eval(`String(document.documentElement.scrollWidth)`); sw != "390" {
		t.Errorf("the subscription page is %s px wide on a 390 px phone", sw)
	}

	// The upgrade to Inicial, paid on the provider's page; each webhook
	// arrives twice.
	pay.DuplicateWebhooks(2)
	admin.run("upgrade dialog",
		chromedp.Click(fmt.Sprintf(`[data-testid=plan-row][data-plan="%d"] [data-testid=plan-change]`, inicial)),
		chromedp.WaitVisible(`[data-testid=plan-dialog]`))
	if got := admin.eval(`document.querySelector("[data-testid=plan-prorated]").textContent`); !strings.Contains(got, "$") {
		t.Errorf("the dialog's prorated amount %q is not in pesos", got)
	}
	// The dialog's button, in the middle of the phone's screen: scrolled
	// only into view it sits under the bottom navigation bar.
	admin.eval(`document.querySelector("[data-testid=plan-pay]").scrollIntoView({block: "center"}); "ok"`)
	admin.run("provider's page",
		chromedp.Click(`[data-testid=plan-pay]`),
		chromedp.WaitVisible(`button.pay`))
	admin.run("paid",
		chromedp.Click(`button.pay`),
		chromedp.WaitVisible(`[data-testid=plan-usage]`))
	if got := admin.eval(`document.querySelector("[data-testid=plan-name]").textContent.trim()`); got != "Inicial" {
		t.Errorf("plan after paying: %q, want Inicial", got)
	}
	if got := admin.eval(`String(document.body.textContent.includes("Pago recibido: el plan nuevo ya está activo."))`); got != "true" {
		t.Error("no word that the payment was received")
	}

	// The limit is lifted at once: the held-back order goes in, and so
	// does the next sale.
	waitFor("the held-back order invoiced", func() bool { return orders("blocked") == 0 && orders("invoiced") == 21 })
	sell(1)
	waitFor("the next sale invoiced", func() bool { return orders("invoiced") == 22 })
	admin.run("subscription page again", chromedp.Navigate(s.url("/autogestion/suscripcion")), chromedp.WaitVisible(`[data-testid=plan-usage]`))
	if got := admin.eval(`document.querySelector("[data-testid=plan-used]").textContent.trim()`); got != "22 de 250" {
		t.Errorf("after the upgrade: %q, want 22 de 250", got)
	}
	// The payment applied once, however many times it was told.
	waitFor("the duplicated webhooks delivered", func() bool { return pay.Webhooks() >= 2 })
	if n := countRows(t, s, `SELECT count(*) FROM plan_upgrades WHERE org_id = $1 AND state = 'paid'`, orgID); n != 1 {
		t.Errorf("%d paid upgrades, want 1", n)
	}
	if n := countRows(t, s, `SELECT count(*) FROM subscription_events WHERE org_id = $1 AND kind = 'upgraded'`, orgID); n != 1 {
		t.Errorf("%d upgraded events, want 1", n)
	}
	// The charge is a real invoice of Pulso's company that sells in pesos.
	if n := countRows(t, s, `SELECT count(*) FROM plan_upgrades u JOIN invoices i ON i.id = u.invoice_id JOIN orgs o ON o.id = i.org_id
		WHERE u.org_id = $1 AND u.state = 'paid' AND i.state <> 'draft' AND i.total = u.amount AND o.operator AND o.currency = 'ARS'`, orgID); n != 1 {
		t.Errorf("%d issued operator invoices for the paid upgrade, want 1", n)
	}
}
