package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A manager reads the reports on a 360 px phone: every table fits (its
// rows become cards) and the page never scrolls sideways.
func TestE2EReportsOnPhone(t *testing.T) {
	chromiumPath(t)
	t.Parallel()
	s, w := sharedWorld(t, "shared")
	b := newBrowser(t, "manager", 360, 740)
	b.login(s, w.user("manager@demo.test"))
	for _, path := range []string{"/reports", "/reports/monthly?by=rep", "/reports/year-on-year?by=rep", "/reports/conversion",
		"/reports/lost-reasons", "/reports/quotes", "/reports/forecast"} {
		b.run(path, chromedp.Navigate(s.url(path)), chromedp.WaitVisible(`main h1`))
		b.shot(strings.NewReplacer("/", "_", "?", "_", "=", "_").Replace(path))
		if sw := b.eval(`String(document.documentElement.scrollWidth)`); sw != "360" {
			t.Errorf("%s: page is %s px wide on a 360 px phone", path, sw)
		}
		if path == "/reports" {
			continue
		}
		if n := b.eval(`String(document.querySelectorAll("[data-testid=report-table] tbody tr").length)`); n == "0" {
			t.Errorf("%s: no rows", path)
		}
		// Touch targets: the downloads and the submit button.
		if small := b.eval(`String([...document.querySelectorAll(".report-downloads a, [data-testid=report-filters] button")].filter(e => e.getBoundingClientRect().height < 44).length)`); small != "0" {
			t.Errorf("%s: %s buttons under 44 px", path, small)
		}
	}
	// The dashboard on the same phone: one column, its charts drawn (uPlot,
	// from the table under each) within the screen.
	b.run("dashboard", chromedp.Navigate(s.url("/dashboard")), chromedp.WaitVisible(`[data-testid=tile-won]`),
		chromedp.Poll(`document.querySelectorAll("figure[data-chart] .chart .uplot").length === document.querySelectorAll("figure[data-chart]").length && document.querySelectorAll("figure[data-chart]").length > 0`, nil))
	b.shot("dashboard")
	if sw := b.eval(`String(document.documentElement.scrollWidth)`); sw != "360" {
		t.Errorf("/dashboard: page is %s px wide on a 360 px phone", sw)
	}
	if wide := b.eval(`String([...document.querySelectorAll("figure[data-chart] .uplot")].filter(e => e.getBoundingClientRect().right > 360).length)`); wide != "0" {
		t.Errorf("/dashboard: %s charts wider than the phone", wide)
	}
	b.eval(`document.querySelector("figure[data-chart]").scrollIntoView(); "ok"`)
	b.shot("dashboard-chart")
	if cols := b.eval(`String(new Set([...document.querySelectorAll(".tiles > .tile")].map(e => Math.round(e.getBoundingClientRect().left))).size)`); cols != "1" {
		t.Errorf("/dashboard: tiles in %s columns on a 360 px phone", cols)
	}
}
