package inbound_test

import (
	"net/http"
	"net/smtp"
	"strings"
	"testing"
)

// The inbox token is in the database only as what verifies it: the SMTP
// listener still takes mail for the address (in any case), and the admin
// sees the same address on every visit, before and after a rotation.
func TestInboxTokenNotStored(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.listen(t)
	admin := w.Env.LoginAs(w.Admin)
	check := func(address string) {
		t.Helper()
		token := strings.TrimSuffix(strings.TrimPrefix(address, "leads+"), "@localhost")
		if held := w.Env.Holding(token); len(held) > 0 {
			t.Errorf("the inbox token is stored in %v", held)
		}
		c, err := smtp.Dial(w.smtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Mail("ana@cliente.example"); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt(strings.ToUpper(address)); err != nil {
			t.Errorf("RCPT %s: %v", address, err)
		}
		if m := addressRE.FindStringSubmatch(admin.Get("/admin/inbox").Body); m == nil || m[1] != address {
			t.Errorf("the admin sees another address on the next visit: %v", m)
		}
	}
	check(w.address)
	if r := admin.Post("/admin/inbox/rotate", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("rotate: %d", r.Status)
	}
	now := addressRE.FindStringSubmatch(admin.Get("/admin/inbox").Body)[1]
	if now == w.address {
		t.Fatal("address did not change")
	}
	check(now)
}
