package tasks_test

import (
	"net/http"
	"testing"
)

// The calendar feed's secret is in the database only as what verifies it:
// the phone's address keeps working and its owner sees it again on every
// visit, but a backup holds no working feed address — before or after a
// rotation.
func TestFeedTokenNotStored(t *testing.T) {
	w := newWorld(t)
	check := func() string {
		t.Helper()
		m := feedURL.FindStringSubmatch(w.RepC.Get("/agenda").Body)
		if m == nil {
			t.Fatal("no feed address on the agenda")
		}
		if held := w.Env.Holding(m[1]); len(held) > 0 {
			t.Errorf("the feed token is stored in %v", held)
		}
		if r := w.Env.Client().Get("/agenda/feed/" + m[1] + ".ics"); r.Status != http.StatusOK {
			t.Errorf("feed: %d", r.Status)
		}
		if again := feedURL.FindStringSubmatch(w.RepC.Get("/agenda").Body); again == nil || again[1] != m[1] {
			t.Errorf("the agenda shows another address on the next visit: %v", again)
		}
		return m[1]
	}
	first := check()
	if r := w.RepC.Post("/agenda/feed/rotate", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("rotate: %d", r.Status)
	}
	if check() == first {
		t.Error("rotation kept the address")
	}
}
