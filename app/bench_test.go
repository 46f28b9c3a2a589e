package app_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/web"
)

// BenchmarkSignedInPage measures a signed-in page (session lookup in
// PostgreSQL, principal, templ render, compression) and prints it as a ratio
// of /healthz through the same app and transport in the same run, so the
// number means the same on any machine.
func BenchmarkSignedInPage(b *testing.B) {
	env := apptest.New(b)
	org := env.Org("Bench S.L.")
	c := env.LoginAs(env.User(org, "bench@bench.test", web.RoleRep))

	measure := func(path string, n int) time.Duration {
		start := time.Now()
		for i := 0; i < n; i++ {
			if r := c.Do(httptest.NewRequest(http.MethodGet, path, nil)); r.Status != http.StatusOK {
				b.Fatalf("%s: %d", path, r.Status)
			}
		}
		return time.Since(start)
	}
	measure("/", 50) // warm the pool and caches
	b.ResetTimer()
	page := measure("/", b.N)
	b.StopTimer()
	base := measure("/healthz", b.N)
	b.ReportMetric(float64(page)/float64(base), "x_healthz")
	b.ReportMetric(float64(page.Microseconds())/float64(b.N), "µs/page")
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
