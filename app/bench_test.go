package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/web"
	"pulso/queries"
)

// BenchmarkPageCost compares a signed-in list page (/notifications: session
// lookup, keyset list query, templ render, gzip, through Fiber) with a bare
// net/http handler that runs the same list query and writes a fixed
// string. Same HTTP client, same concurrency, alternating windows in one
// run. Target: Pulso serves ≥ 0.7 of the bare handler's requests/s.
// Run with -benchtime=1x.
func BenchmarkPageCost(b *testing.B) {
	env := apptest.New(b)
	org := env.Org("Bench S.L.")
	u := env.User(org, "bench@bench.test", web.RoleRep)
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		if _, err := env.Q.CreateNotification(ctx, queries.CreateNotificationParams{
			OrgID: org.ID, UserID: u.ID, Severity: "info", Title: fmt.Sprintf("Aviso %d", i), Key: fmt.Sprint(i),
		}); err != nil {
			b.Fatal(err)
		}
	}
	session := env.LoginAs(u).Cookie("pulso_session")
	pulso := "http://" + env.Serve() + "/notifications"

	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := env.Q.ListNotifications(r.Context(), queries.ListNotificationsParams{OrgID: org.ID, UserID: u.ID, PageSize: 31}); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = bare.Serve(ln) }()
	defer bare.Close()
	bareURL := "http://" + ln.Addr().String() + "/notifications"

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const concurrency = 8
	window := 1500 * time.Millisecond
	if testing.Short() {
		window = 500 * time.Millisecond
	}
	measure := func(target string) float64 {
		var n atomic.Int64
		ctx, cancel := context.WithTimeout(context.Background(), window)
		defer cancel()
		var wg sync.WaitGroup
		for i := 0; i < concurrency; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
					req.AddCookie(&http.Cookie{Name: "pulso_session", Value: url.QueryEscape(session)})
					res, err := client.Do(req)
					if err != nil {
						continue
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
						n.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return float64(n.Load()) / window.Seconds()
	}
	measure(pulso)
	measure(bareURL)
	b.ResetTimer()
	var p, base float64
	const rounds = 3
	for i := 0; i < b.N*rounds; i++ {
		p += measure(pulso)
		base += measure(bareURL)
	}
	ratio := p / base
	b.ReportMetric(p/float64(b.N*rounds), "req/s_pulso")
	b.ReportMetric(base/float64(b.N*rounds), "req/s_bare")
	b.ReportMetric(ratio, "ratio")
	fmt.Printf("SUMMARY %-12s ratio %.2f (target >= 0.70) %s — %.0f req/s signed-in /notifications vs %.0f req/s bare net/http + same query, %d clients\n",
		"page-cost", ratio, passMiss(ratio >= 0.7), p/float64(b.N*rounds), base/float64(b.N*rounds), concurrency)
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// BenchmarkLogin measures a full sign-in (rate-limit check, argon2id verify,
// session insert) as a ratio of a signed-in page view: the deliberate cost
// of password hashing relative to ordinary traffic.
func BenchmarkLogin(b *testing.B) {
	env := apptest.New(b)
	org := env.Org("Bench S.L.")
	u := env.User(org, "bench@bench.test", web.RoleRep)
	c := env.LoginAs(u)

	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		env.Client().Login(u.Email, apptest.Password)
	}
	login := time.Since(start)
	b.StopTimer()
	start = time.Now()
	for i := 0; i < b.N; i++ {
		c.Get("/")
	}
	page := time.Since(start)
	b.ReportMetric(float64(login)/float64(page), "x_page")
	b.ReportMetric(float64(login.Milliseconds())/float64(b.N), "ms/login")
}
