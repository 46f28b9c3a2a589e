package capture_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A web form's token is in the database only as what verifies it: a backup
// holds no working /f/ address, yet the snippet still works and the admin
// still sees it, before and after a rotation.
func TestFormTokenNotStored(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "")
	ok := url.Values{"name": {"Ana"}, "email": {"ana@example.org"}}.Encode()
	check := func(action string) {
		t.Helper()
		token := strings.TrimPrefix(action, "/f/")
		if held := w.Env.Holding(token); len(held) > 0 {
			t.Errorf("the form token %s is stored in %v", token, held)
		}
		if res := w.post(t, ok, "application/x-www-form-urlencoded", ""); res.StatusCode != http.StatusOK {
			t.Errorf("submit to %s: %d", action, res.StatusCode)
		}
		if again := actionRE.FindStringSubmatch(w.AdminC.Get("/admin/forms").Body); again == nil || again[1] != action {
			t.Errorf("the admin no longer sees the snippet's address %s: %v", action, again)
		}
	}
	check(w.action)

	id := regexp.MustCompile(`/admin/forms/(\d+)/rotate`).FindStringSubmatch(w.AdminC.Get("/admin/forms").Body)
	if id == nil {
		t.Fatal("no rotate button")
	}
	if r := w.AdminC.Post("/admin/forms/"+id[1]+"/rotate", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("rotate: %d", r.Status)
	}
	m := actionRE.FindStringSubmatch(w.AdminC.Get("/admin/forms").Body)
	if m == nil || m[1] == w.action {
		t.Fatalf("rotation showed no new address: %v", m)
	}
	w.action = m[1]
	check(w.action)
}
