package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/web"
	"pulso/queries"
)

func p95(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)*95/100]
}

// seedDeals inserts n open deals spread over 20 reps' customers and the
// three open stages, as the board would find them after a busy year.
func seedDeals(b *testing.B, env *apptest.Env, org queries.Org, n int) queries.User {
	b.Helper()
	admin := env.User(org, "admin@bench.test", web.RoleAdmin)
	for i := 0; i < 20; i++ {
		env.User(org, fmt.Sprintf("rep%d@bench.test", i), web.RoleRep)
	}
	env.Exec(`INSERT INTO customers (org_id, legal_name, country, owner_id)
		SELECT $1, 'Cliente ' || g, 'ES', (SELECT id FROM users WHERE org_id = $1 AND role = 'rep' ORDER BY id OFFSET g % 20 LIMIT 1)
		FROM generate_series(1, 500) g`, org.ID)
	env.Exec(`INSERT INTO opportunities (org_id, customer_id, title, amount, stage, owner_id, expected_close)
		SELECT c.org_id, c.id, 'Oportunidad ' || g, (g * 7919) % 5000000,
		       (ARRAY['en_analisis', 'oferta_presentada', 'en_negociacion'])[1 + g % 3], c.owner_id,
		       current_date + (g % 120)
		FROM generate_series(1, $2) g
		JOIN customers c ON c.org_id = $1 AND c.legal_name = 'Cliente ' || (1 + g % 500)`, org.ID, n)
	env.Exec(`ANALYZE opportunities`)
	return admin
}

// BenchmarkBoard times the board page (an admin's, 5 000 open deals: the
// per-stage counts and totals and the newest 50 cards of each column,
// rendered and gzipped) against the notification centre's page in the same
// run, both over HTTP through the whole middleware chain. No target in the
// issue; BENCHMARKS.md records the figures. Run with -benchtime=1x.
func BenchmarkBoard(b *testing.B) {
	env := apptest.New(b)
	org := env.Org("Board S.L.")
	admin := seedDeals(b, env, org, 5000)
	addr := env.Serve()
	session := env.LoginAs(admin).Cookie("pulso_session")
	client := &http.Client{}
	get := func(path string) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.AddCookie(&http.Cookie{Name: "pulso_session", Value: url.QueryEscape(session)})
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, res.StatusCode)
		}
		return time.Since(t0)
	}
	for range 10 {
		get("/opportunities/board")
		get("/notifications")
	}
	const runs = 200
	b.ResetTimer()
	var board, base []time.Duration
	for i := 0; i < b.N*runs; i++ {
		board = append(board, get("/opportunities/board"))
		base = append(base, get("/notifications"))
	}
	bp, np := p95(board), p95(base)
	b.ReportMetric(float64(bp.Microseconds())/1000, "ms_p95_board")
	b.ReportMetric(float64(np.Microseconds())/1000, "ms_p95_notifications")
	fmt.Printf("SUMMARY %-12s value %.1f ms p95 (no target) — board of 5000 open deals (3 stages × 50 cards, counts and totals); %.1f× the notification page's p95 (%.1f ms)\n",
		"board", float64(bp.Microseconds())/1000, float64(bp)/float64(np), float64(np.Microseconds())/1000)
}

// BenchmarkBoardFanout opens 1 000 admin sockets (one audience, so the card
// is rendered once) and measures, from the mover's request to each socket,
// the latency of a card move made through the move handler, against an
// event of the same audience whose renderer returns a fixed fragment, in
// the same run. Run with -benchtime=1x.
func BenchmarkBoardFanout(b *testing.B) {
	sockets := 1000
	if testing.Short() {
		sockets = 10
	}
	env := apptest.New(b)
	org := env.Org("Fanout S.L.")
	admin := seedDeals(b, env, org, 200)
	addr := env.Serve()
	c := env.LoginAs(admin)
	c.HTMX = true
	conns := make([]*websocket.Conn, sockets)
	for i := range conns {
		conn, _, err := c.Dial(addr, "")
		if err != nil {
			b.Fatalf("socket %d: %v", i, err)
		}
		conns[i] = conn
		defer conn.Close()
	}
	for deadline := time.Now().Add(20 * time.Second); env.Hub.Sockets() < sockets; {
		if time.Now().After(deadline) {
			b.Fatalf("%d sockets registered", env.Hub.Sockets())
		}
		time.Sleep(20 * time.Millisecond)
	}
	env.Hub.Handle("bench", hub.Topic{Render: func(_ context.Context, ev live.Event, _ hub.Audience) ([]byte, error) {
		return []byte(`<div id="bench" hx-swap-oob="true">` + ev.Kind + `</div>`), nil
	}})
	var id int64
	var version int32
	var stage string
	if err := env.DB.QueryRow(context.Background(), `SELECT id, version, stage FROM opportunities WHERE org_id = $1 ORDER BY id LIMIT 1`, org.ID).Scan(&id, &version, &stage); err != nil {
		b.Fatal(err)
	}
	next := map[string]string{"en_analisis": "oferta_presentada", "oferta_presentada": "en_negociacion", "en_negociacion": "en_analisis"}
	// receive waits until every socket has a message containing marker and
	// returns each socket's delay after start.
	receive := func(start time.Time, marker string) []time.Duration {
		var wg sync.WaitGroup
		out := make([]time.Duration, sockets)
		for i, conn := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
				for {
					_, msg, err := conn.ReadMessage()
					if err != nil {
						b.Errorf("socket %d: %v", i, err)
						return
					}
					if strings.Contains(string(msg), marker) {
						out[i] = time.Since(start)
						return
					}
				}
			}()
		}
		wg.Wait()
		return out
	}
	ctx := context.Background()
	var moves, notes []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N*3; i++ {
		// A card move through the move handler (htmx, as the board posts).
		start := time.Now()
		if r := c.Post(fmt.Sprintf("/opportunities/%d/move", id), url.Values{"stage": {next[stage]}, "version": {fmt.Sprint(version)}}); r.Status != http.StatusNoContent {
			b.Fatalf("move: %d", r.Status)
		}
		moves = append(moves, receive(start, fmt.Sprintf(`data-op="moved" data-id="%d"`, id))...)
		version, stage = version+1, next[stage]
		// Baseline: a fixed fragment for the same sockets through the same hub.
		marker := fmt.Sprintf("bench-%d", i)
		start = time.Now()
		if err := live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
			err := live.Publish(ctx, live.Event{OrgID: org.ID, Topic: "bench", Entity: "bench", Kind: marker})
			return err
		}); err != nil {
			b.Fatal(err)
		}
		// The move's POST woke the poller (writes do, see auth.WatchSessions);
		// so does this, or the baseline would wait out a poll interval.
		if err := env.Hub.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		notes = append(notes, receive(start, marker)...)
	}
	mp, np := p95(moves), p95(notes)
	slices.Sort(moves)
	fmt.Printf("SUMMARY %-12s ratio %.2f (no target) — card move to %d sockets: commit→socket p95 %.1f ms (p50 %.1f ms) vs a fixed fragment through the same hub p95 %.1f ms\n",
		"board-fanout", float64(mp)/float64(np), sockets, float64(mp.Microseconds())/1000, float64(moves[len(moves)/2].Microseconds())/1000, float64(np.Microseconds())/1000)
}
