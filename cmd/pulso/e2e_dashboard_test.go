package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pulso/app/linktoken"
	"pulso/app/money"
)

// The manager watches the team's dashboard on a desktop (1440×900) and a rep
// has their home open on a phone (390×844); a client signs the rep's quote
// from its link on another phone. Without a reload, the manager's won tile
// and quotes funnel and the rep's target bar move to the new figures — the
// won amount being exactly the month's won deals of the team as the
// database has them.
func TestE2EDashboardMovesWhenAQuoteIsSigned(t *testing.T) {
	chromiumPath(t)
	t.Parallel()
	s, w := sharedWorld(t, "dashboard")
	ctx := context.Background()

	// The demo's live quote (sent, unanswered, valid): its link and its rep.
	var nonce []byte
	var oppID int64
	var owner string
	if err := s.db.QueryRow(ctx, `SELECT l.token_nonce, q.opportunity_id, u.email FROM quote_links l
		JOIN quotes q ON q.org_id = l.org_id AND q.id = l.quote_id JOIN users u ON u.org_id = q.org_id AND u.id = q.owner_id
		JOIN opportunities o ON o.org_id = q.org_id AND o.id = q.opportunity_id
		WHERE l.org_id = $1 AND q.status = 'sent' AND l.revoked_at IS NULL AND l.expires_at > now()
		  AND l.version_n = q.current_version AND l.token_nonce IS NOT NULL AND u.role = 'rep'
		  AND o.stage NOT IN ('ganada', 'cancelada')
		ORDER BY l.id DESC LIMIT 1`, w.orgID).Scan(&nonce, &oppID, &owner); err != nil {
		t.Fatalf("no live quote of a rep in the demo: %v", err)
	}
	token, err := e2eKeys.Token(linktoken.Quote, nonce)
	if err != nil {
		t.Fatal(err)
	}
	// What the manager's won tile must say afterwards: this month's won
	// deals of the manager's team (and the manager), in the org's zone.
	wonOfTeam := func() int64 {
		var sum int64
		if err := s.db.QueryRow(ctx, `SELECT coalesce(sum(o.amount), 0)::bigint FROM opportunities o JOIN orgs g ON g.id = o.org_id
			JOIN users m ON m.org_id = o.org_id AND m.email = $2
			WHERE o.org_id = $1 AND o.stage = 'ganada' AND o.deleted_at IS NULL
			  AND o.owner_id IN (SELECT id FROM users WHERE org_id = o.org_id AND (manager_id = m.id OR id = m.id))
			  AND date_trunc('month', o.stage_entered_at AT TIME ZONE g.time_zone) = date_trunc('month', now() AT TIME ZONE g.time_zone)`,
			w.orgID, w.user("manager@demo.test")).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		return sum
	}

	manager := newBrowser(t, "manager", 1440, 900)
	manager.login(s, w.user("manager@demo.test"))
	manager.run("manager's dashboard", chromedp.Navigate(s.url("/")), chromedp.WaitVisible(`[data-testid=tile-won] [data-testid=won-amount]`),
		chromedp.WaitVisible(`[data-testid=tile-funnel] [data-testid=funnel-signed]`), chromedp.WaitVisible(`body[data-live="on"]`),
		// The socket follows the dashboard (the server acknowledged it).
		chromedp.WaitReady(`#live-view[data-view="dashboard"]`))
	rep := newBrowser(t, "rep", 390, 844)
	rep.login(s, owner)
	rep.run("rep's home", chromedp.Navigate(s.url("/")), chromedp.WaitVisible(`[data-testid=my-numbers]`),
		chromedp.WaitVisible(`[data-testid=target-bar]`), chromedp.WaitVisible(`body[data-live="on"]`),
		chromedp.WaitReady(`#live-view[data-view="dashboard"]`))
	if sw := rep.eval(`String(document.documentElement.scrollWidth)`); sw != "390" {
		t.Errorf("the rep's home is %s px wide on a 390 px phone", sw)
	}
	if sw := manager.eval(`String(document.documentElement.scrollWidth)`); sw != "1440" {
		t.Errorf("the dashboard is %s px wide on a 1440 px screen", sw)
	}
	// No reload: a marker set now must survive until the figures move.
	manager.eval(`window.noReload = true; "ok"`)
	rep.eval(`window.noReload = true; "ok"`)
	manager.eval(`window.trendBefore = document.querySelector("[data-testid=tile-trend]"); "ok"`)
	wonBefore := manager.eval(`document.querySelector("[data-testid=tile-won] [data-testid=won-amount]").textContent.trim()`)
	signedBefore := manager.eval(`document.querySelector("[data-testid=tile-funnel] [data-testid=funnel-signed]").textContent.trim()`)
	pctBefore := rep.eval(`document.querySelector("[data-testid=target-pct]").textContent.trim()`)

	client := newBrowser(t, "client", 390, 844)
	client.run("client opens the link", chromedp.Navigate(s.url("/q/"+token)), chromedp.WaitVisible(`[data-testid=sign-form]`))
	signed := time.Now()
	signQuote(client, "Luis Gómez Cliente")

	var stage string
	if err := s.db.QueryRow(ctx, `SELECT stage FROM opportunities WHERE org_id = $1 AND id = $2`, w.orgID, oppID).Scan(&stage); err != nil || stage != "ganada" {
		t.Fatalf("the deal is %q after signing (%v)", stage, err)
	}
	want := money.Format(wonOfTeam(), "EUR")
	manager.run("won tile moves", chromedp.Poll(fmt.Sprintf(`document.querySelector("[data-testid=tile-won] [data-testid=won-amount]")?.textContent.trim() === %q`, want), nil,
		chromedp.WithPollingTimeout(10*time.Second)))
	wonAfter := time.Since(signed)
	// The tiles came re-rendered over the socket: the trend tile among them,
	// whose chart is drawn again from its new table.
	manager.run("trend chart redrawn", chromedp.Poll(`document.querySelector("[data-testid=tile-trend]") !== window.trendBefore && !!document.querySelector("[data-testid=tile-trend] .chart .uplot")`, nil,
		chromedp.WithPollingTimeout(5*time.Second)))
	manager.run("funnel moves", chromedp.Poll(fmt.Sprintf(`document.querySelector("[data-testid=tile-funnel] [data-testid=funnel-signed]")?.textContent.trim() !== %q`, signedBefore), nil,
		chromedp.WithPollingTimeout(10*time.Second)))
	rep.run("target bar moves", chromedp.Poll(fmt.Sprintf(`document.querySelector("[data-testid=target-pct]")?.textContent.trim() !== %q`, pctBefore), nil,
		chromedp.WithPollingTimeout(10*time.Second)))
	t.Logf("after the client tapped sign: won tile %s → %s in %v; funnel and target bar moved by %v",
		wonBefore, want, wonAfter.Round(time.Millisecond), time.Since(signed).Round(time.Millisecond))
	if manager.eval(`String(window.noReload === true)`) != "true" || rep.eval(`String(window.noReload === true)`) != "true" {
		t.Error("a page reloaded instead of moving its tiles")
	}
	if wonBefore == want {
		t.Errorf("the won tile said %s before the signature too", want)
	}
}
