package main

// BenchmarkSockets holds N idle authenticated sockets (1k, 5k, 10k) on a
// real `pulso serve` process and on a bare contrib/websocket baseline
// server (this test binary re-executed, see TestMain), from clients in this
// process, and compares server memory per socket and commit→delivery
// latency of one event fanned out to all N.
//
//	go test -run '^$' -bench Sockets -benchtime=1x ./cmd/pulso/

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/auth"
	"pulso/app/demo"
	"pulso/app/live"
	"pulso/queries"
)

func TestMain(m *testing.M) {
	if os.Getenv("PULSO_BENCH_ROLE") == "baseline-ws" {
		runBaselineServer(os.Getenv("PULSO_ADDR"))
		return
	}
	flag.Parse()
	e2eDefaults()
	code := m.Run()
	stopShared(code != 0) // the browser tests' Chromium and server
	os.Exit(code)
}

func BenchmarkSockets(b *testing.B) {
	ns := []int{1000, 5000, 10000}
	if testing.Short() {
		ns = []int{1000}
	}
	pool := apptest.NewDB(b)
	ctx := context.Background()
	if err := demo.Seed(ctx, pool, e2eKeys, discardLogger()); err != nil {
		b.Fatal(err)
	}
	q := queries.New(pool)
	user, err := q.GetUserByEmail(ctx, "rep@demo.test")
	if err != nil {
		b.Fatal(err)
	}
	token, hash := auth.NewToken()
	if err := q.CreateSession(ctx, queries.CreateSessionParams{TokenHash: hash, OrgID: user.OrgID, UserID: user.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	// The message the baseline pushes: what Pulso renders for this event.
	var sample string

	for _, n := range ns {
		var res [2]socketResult
		for i, kind := range []string{"pulso", "baseline"} {
			addr := freeAddrTB(b)
			// Every socket is the same rep's: lift the per-user and per-org
			// caps to the node's ceiling.
			env := append(os.Environ(), "PULSO_ADDR="+addr, "PULSO_METRICS_ADDR=127.0.0.1:0", "PULSO_BASE_URL=http://"+addr, "LOG_LEVEL=error",
				"DATABASE_URL="+apptest.URL(pool), "PULSO_DATA_DIR="+b.TempDir(),
				"PULSO_LIVE_MAX_PER_USER=50000", "PULSO_LIVE_MAX_PER_ORG=50000")
			var cmd *exec.Cmd
			if kind == "pulso" {
				cmd = exec.Command(pulsoBinary(b), "serve", "--workers=false")
			} else {
				cmd = exec.Command(os.Args[0], "-test.run=^$")
				env = append(env, "PULSO_BENCH_ROLE=baseline-ws", "PULSO_BENCH_MESSAGE="+sample)
			}
			cmd.Env = env
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			waitListening(b, addr)
			fire := func() time.Time {
				if kind == "baseline" {
					t0 := time.Now()
					r, err := http.Post("http://"+addr+"/fire", "text/plain", nil)
					if err != nil {
						b.Fatal(err)
					}
					r.Body.Close()
					return t0
				}
				if err := live.BeginFunc(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
					return live.Publish(ctx, live.Event{OrgID: user.OrgID, Topic: live.TopicNotification, Entity: "notification", Kind: "read", SubjectUserID: &user.ID})
				}); err != nil {
					b.Fatal(err)
				}
				return time.Now()
			}
			res[i] = measureSockets(b, kind, addr, token, cmd.Process.Pid, n, fire)
			if kind == "pulso" && sample == "" {
				sample = res[i].sample
			}
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}
		p, base := res[0], res[1]
		fmt.Printf("sockets n=%-5d  pulso: %5.1f KB/socket, p50 %6.1f ms, p99 %6.1f ms | baseline: %5.1f KB/socket, p50 %6.1f ms, p99 %6.1f ms\n",
			n, p.kbPerSocket, p.p50, p.p99, base.kbPerSocket, base.p50, base.p99)
		if n == ns[len(ns)-1] {
			fmt.Printf("SUMMARY %-12s ratio %.2f (target <= 1.50) %s — commit→screen p99 %.1f ms vs baseline push p99 %.1f ms at %d sockets\n",
				"socket-p99", p.p99/base.p99, passMiss(p.p99/base.p99 <= 1.5), p.p99, base.p99, n)
			fmt.Printf("SUMMARY %-12s value %.1f KB/socket (target <= 16) %s — baseline %.1f KB/socket at %d sockets (ratio %.2f)\n",
				"socket-mem", p.kbPerSocket, passMiss(p.kbPerSocket <= 16), base.kbPerSocket, n, p.kbPerSocket/base.kbPerSocket)
		}
	}
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

type socketResult struct {
	kbPerSocket float64
	p50, p99    float64
	sample      string
}

func freeAddrTB(b testing.TB) string {
	ln, err := netListen()
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(b testing.TB, addr string) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := netDial(addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("nothing listening on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func rssKB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

func measureSockets(b testing.TB, kind, addr, token string, pid, n int, fire func() time.Time) socketResult {
	time.Sleep(300 * time.Millisecond)
	rss0 := rssKB(pid)
	// What a phone's browser sends with the upgrade: its cookies for the
	// site (session and CSRF), user agent and the usual Accept-* headers.
	h := http.Header{}
	h.Set("Origin", "http://"+addr)
	h.Set("Cookie", "pulso_session="+token+"; pulso_csrf=MTczMjM2NTYwMHxhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODl8c2lnbmF0dXJlMDEyMzQ1Njc4OWFiY2RlZg")
	h.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36")
	h.Set("Accept-Language", "es-ES,es;q=0.9,en;q=0.8")
	h.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	h.Set("Cache-Control", "no-cache")
	h.Set("Pragma", "no-cache")
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conns := make([]*websocket.Conn, 0, n)
	var mu sync.Mutex
	recv := make(chan time.Time, n*8)
	var sample string
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var c *websocket.Conn
			var err error
			for attempt := 0; attempt < 5; attempt++ {
				c, _, err = d.Dial("ws://"+addr+"/ws", h)
				if err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				b.Errorf("%s: dial: %v", kind, err)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				for {
					_, msg, err := c.ReadMessage()
					if err != nil {
						return
					}
					now := time.Now()
					mu.Lock()
					if sample == "" {
						sample = string(msg)
					}
					mu.Unlock()
					recv <- now
				}
			}()
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	time.Sleep(time.Second) // let the server settle
	rss1 := rssKB(pid)

	var lat []float64
	for round := 0; round < 5; round++ {
		t0 := fire()
		deadline := time.After(30 * time.Second)
		for got := 0; got < len(conns); got++ {
			select {
			case t := <-recv:
				lat = append(lat, float64(t.Sub(t0).Microseconds())/1000)
			case <-deadline:
				b.Fatalf("%s: round %d: only %d of %d sockets got the event", kind, round, got, len(conns))
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	slices.Sort(lat)
	res := socketResult{
		kbPerSocket: (rss1 - rss0) / float64(n),
		p50:         lat[len(lat)/2],
		p99:         lat[len(lat)*99/100],
		sample:      sample,
	}
	for _, c := range conns {
		_ = c.Close()
	}
	return res
}
