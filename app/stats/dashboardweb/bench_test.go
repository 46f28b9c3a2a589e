package dashboardweb_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/app/web"
)

// BenchmarkDashboardFanout opens 200 dashboards of one org (200 sockets,
// each following the dashboard as pulso.js makes it) and wins or reopens a
// deal through the move handler. For each socket it times, from the
// mover's request, (a) the deal's event arriving — what a board's card move
// costs the same sockets — and (b) the won tile arriving re-rendered, pushed
// by the hub (live.go). The target is (b) p99 ≤ 1.5 × (a) p99. Run
// with -benchtime=1x.
func BenchmarkDashboardFanout(b *testing.B) {
	const dashboards = 200
	// One admin's 200 dashboards: above the per-user socket cap, which is
	// for real users.
	env := apptest.New(b, func(c *config.Config) { c.LiveMaxPerUser, c.LiveMaxPerOrg = dashboards, dashboards })
	org := env.Org("Panel S.L.")
	admin := env.User(org, "admin@panel.test", web.RoleAdmin)
	for i := 0; i < 20; i++ {
		env.User(org, fmt.Sprintf("rep%d@panel.test", i), web.RoleRep)
	}
	env.Exec(`INSERT INTO customers (org_id, legal_name, country, owner_id)
		SELECT $1, 'Cliente ' || g, 'ES', (SELECT id FROM users WHERE org_id = $1 AND role = 'rep' ORDER BY id OFFSET g % 20 LIMIT 1)
		FROM generate_series(1, 100) g`, org.ID)
	env.Exec(`INSERT INTO opportunities (org_id, customer_id, title, amount, stage, owner_id, expected_close)
		SELECT c.org_id, c.id, 'Oportunidad ' || g, (g * 7919) % 5000000,
		       (ARRAY['en_analisis', 'oferta_presentada', 'en_negociacion', 'ganada'])[1 + g % 4], c.owner_id, current_date + (g % 120)
		FROM generate_series(1, 2000) g JOIN customers c ON c.org_id = $1 AND c.legal_name = 'Cliente ' || (1 + g % 100)`, org.ID)
	env.Exec(`ANALYZE`)
	addr := env.Serve()
	c := env.LoginAs(admin)
	c.HTMX = true
	conns := make([]*websocket.Conn, dashboards)
	for i := range conns {
		conn, _, err := c.Dial(addr, "")
		if err != nil {
			b.Fatalf("socket %d: %v", i, err)
		}
		conns[i] = conn
		defer conn.Close()
	}
	for deadline := time.Now().Add(20 * time.Second); env.Hub.Sockets() < dashboards; {
		if time.Now().After(deadline) {
			b.Fatalf("%d sockets registered", env.Hub.Sockets())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sub := []byte(`{"view":"dashboard","query":""}`)
	for i, conn := range conns {
		if err := conn.WriteMessage(websocket.TextMessage, sub); err != nil {
			b.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, msg, err := conn.ReadMessage(); err != nil || !strings.Contains(string(msg), `data-view="dashboard"`) {
			b.Fatalf("socket %d follows no dashboard: %v %s", i, err, msg)
		}
	}
	var id int64
	var version int32
	if err := env.DB.QueryRow(b.Context(), `SELECT id, version FROM opportunities WHERE org_id = $1 AND stage = 'en_negociacion' ORDER BY id LIMIT 1`, org.ID).Scan(&id, &version); err != nil {
		b.Fatal(err)
	}
	stage := "en_negociacion"
	var events, tiles []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	for i := 0; i < b.N*10; i++ {
		next := map[string]string{"en_negociacion": "ganada", "ganada": "en_negociacion"}[stage]
		marker := fmt.Sprintf(`data-op="moved" data-id="%d"`, id)
		var wg sync.WaitGroup
		start := time.Now()
		for n, conn := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
				var got, done time.Duration
				for got == 0 || done == 0 {
					_, msg, err := conn.ReadMessage()
					if err != nil {
						b.Errorf("socket %d: %v", n, err)
						return
					}
					if got == 0 && bytes.Contains(msg, []byte(marker)) {
						got = time.Since(start)
					}
					if done == 0 && bytes.Contains(msg, []byte(`id="tile-won"`)) {
						done = time.Since(start)
					}
				}
				mu.Lock()
				events, tiles = append(events, got), append(tiles, done)
				mu.Unlock()
			}()
		}
		if r := c.Post(fmt.Sprintf("/opportunities/%d/move", id), url.Values{"stage": {next}, "version": {fmt.Sprint(version)}}); r.Status != http.StatusNoContent {
			b.Fatalf("move: %d", r.Status)
		}
		wg.Wait()
		version, stage = version+1, next
	}
	p := func(d []time.Duration, q int) time.Duration {
		slices.Sort(d)
		return d[(len(d)-1)*q/100]
	}
	ep, tp := p(events, 99), p(tiles, 99)
	ratio := float64(tp) / float64(ep)
	verdict := "PASS"
	if ratio > 1.5 {
		verdict = "MISS"
	}
	fmt.Printf("SUMMARY %-12s ratio %.2f (target ≤ 1.5) %s — a deal won or reopened, %d open dashboards: won tile pushed p99 %.1f ms (p50 %.1f) vs the deal's event (a card move) p99 %.1f ms (p50 %.1f)\n",
		"dash-fanout", ratio, verdict, dashboards, ms(tp), ms(p(tiles, 50)), ms(ep), ms(p(events, 50)))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
