package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// The VERI*FACTU pages fit a 360 px phone: the records with their long
// NIFs and numbers, the chain check (huellas are 64 characters without a
// space) and the declaration.
func TestE2EVerifactuPagesFitA360pxPhone(t *testing.T) {
	chromiumPath(t)
	t.Parallel()
	s, w := sharedWorld(t, "shared")
	admin := newBrowser(t, "admin", 360, 780)
	admin.login(s, w.user("admin@demo.test"))
	for _, path := range []string{"/verifactu", "/verifactu?kind=alta", "/verifactu/verify", "/verifactu/declaracion"} {
		admin.run("open "+path, chromedp.Navigate(s.url(path)), chromedp.WaitVisible(`main h1`))
		if sw := admin.eval(`String(document.documentElement.scrollWidth)`); sw != "360" {
			t.Errorf("%s is %s px wide on a 360 px phone", path, sw)
		}
	}
	if n := admin.eval(`String(document.querySelectorAll('[data-testid=declaracion] h2').length)`); n == "0" {
		t.Error("the declaration has no sections")
	}
}
