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
}
