package dashboardweb_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"pulso/app/apptest"
)

// openDashboard is a dashboard page's socket as pulso.js drives it: it
// follows view with query and waits for the server's acknowledgement,
// returning the view the server says the socket follows ("" refused).
func openDashboard(t *testing.T, addr string, c *apptest.Client, view, query string) (*websocket.Conn, string) {
	t.Helper()
	conn, _, err := c.Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	msg, _ := json.Marshal(map[string]string{"view": view, "query": query})
	if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		t.Fatal(err)
	}
	ack := regexp.MustCompile(`<span id="live-view" hidden hx-swap-oob="true" data-view="([a-z]*)"></span>`)
	m := ack.FindStringSubmatch(next(t, conn, `id="live-view"`))
	if m == nil {
		t.Fatal("acknowledgement malformed")
	}
	return conn, m[1]
}

// next returns the next message on conn that contains want.
func next(t *testing.T, conn *websocket.Conn, want string) string {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		if strings.Contains(string(b), want) {
			return string(b)
		}
	}
}

// A won deal moves every open dashboard that includes it without a request
// of theirs: the hub pushes the tiles it moved, re-rendered for each
// dashboard's scope and filters, out of band. The numbers are kept in the
// deal's own transaction, so the pushed tile already shows the new amount.
func TestWonDealIsPushedToOpenDashboards(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.deal(t, w.RepC, w.Rep, "En directo", "1.234,56", "")
	id2 := w.deal(t, w.Rep2C, w.Rep2, "Del otro equipo", "2.000", "")
	addr := w.Env.Serve()
	mgr, view := openDashboard(t, addr, w.ManagerC, "dashboard", "")
	if view != "dashboard" {
		t.Fatalf("manager's dashboard follows %q", view)
	}
	rep, _ := openDashboard(t, addr, w.RepC, "dashboard", "compact=1")
	// Manager2's team is Rep2 alone: Rep's deal is none of theirs.
	mgr2, _ := openDashboard(t, addr, w.Manager2C, "dashboard", "")
	// The admin looks at last month: the win moves this month's tiles.
	admin, _ := openDashboard(t, addr, w.AdminC, "dashboard", "period=last_month")

	w.RepC.HTMX = true
	if r := w.RepC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"ganada"}, "version": {"1"}}); r.Status != http.StatusNoContent {
		t.Fatalf("move: %d", r.Status)
	}
	got := next(t, mgr, `id="tile-won"`)
	if figure(t, got, "won-amount") != "1.234,56\u00a0€" || !strings.Contains(got, `hx-swap-oob="outerHTML"`) {
		t.Fatalf("manager's pushed won tile:\n%.1500s", got)
	}
	// Only the tiles a deal moves: not the tasks' or billing's.
	for _, name := range []string{"won", "lost", "pipeline", "conversion"} {
		if !strings.Contains(got, `id="tile-`+name+`"`) {
			t.Errorf("push lacks tile %s", name)
		}
	}
	for _, name := range []string{"activity", "sla", "billing", "funnel"} {
		if strings.Contains(got, `id="tile-`+name+`"`) {
			t.Errorf("a deal's push carries tile %s", name)
		}
	}
	got = next(t, rep, `id="tile-won"`)
	if figure(t, got, "won-amount") != "1.234,56\u00a0€" || !strings.Contains(got, "compact=1") || strings.Contains(got, `id="tile-lost"`) {
		t.Fatalf("rep's pushed numbers are not their compact tiles:\n%.1500s", got)
	}
	got = next(t, admin, `id="tile-won"`)
	if figure(t, got, "won-amount") != "0,00\u00a0€" || !strings.Contains(got, "period=last_month") {
		t.Fatalf("admin's last month moved:\n%.1500s", got)
	}
	// Manager2 hears of Rep2's win, and of nothing before it.
	w.Rep2C.HTMX = true
	if r := w.Rep2C.Post("/opportunities/"+id2+"/move", url.Values{"stage": {"ganada"}, "version": {"1"}}); r.Status != http.StatusNoContent {
		t.Fatalf("move: %d", r.Status)
	}
	if got := figure(t, next(t, mgr2, `id="tile-won"`), "won-amount"); got != "2.000,00\u00a0€" {
		t.Fatalf("Manager2's first push says won %q: pushed a deal of another team", got)
	}
}

// A subscription the viewer may not have is refused, and the page is told:
// another team's rep, a bad filter, a view that does not exist.
func TestDashboardSubscriptionsAreChecked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	addr := w.Env.Serve()
	for _, c := range []struct {
		who         string
		client      *apptest.Client
		view, query string
	}{
		{"another team's rep", w.ManagerC, "dashboard", "rep=" + itoa(w.Rep2.ID)},
		{"a bad period", w.AdminC, "dashboard", "period=forever"},
		{"a query that is not one", w.AdminC, "dashboard", "%zz"},
		{"no such view", w.AdminC, "board", ""},
	} {
		if _, view := openDashboard(t, addr, c.client, c.view, c.query); view != "" {
			t.Errorf("%s: the socket follows %q", c.who, view)
		}
	}
	if _, view := openDashboard(t, addr, w.ManagerC, "dashboard", "rep="+itoa(w.Rep.ID)); view != "dashboard" {
		t.Errorf("manager's own rep: the socket follows %q", view)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
