package ops_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/schema"
	"pulso/app/web"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	r := env.Client().Get("/healthz")
	if r.Status != http.StatusOK || r.Body != "ok" {
		t.Fatalf("status %d, body %q", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	if r.Header.Get("Set-Cookie") != "" {
		t.Error("a probe got cookies (it should skip sessions and CSRF)")
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()

	t.Run("migrated", func(t *testing.T) {
		t.Parallel()
		env := apptest.New(t)
		for range 3 { // the check must not use up what it reads with
			r := env.Client().Get("/readyz")
			if r.Status != http.StatusOK || r.Body != "ready" {
				t.Fatalf("status %d, body %q", r.Status, r.Body)
			}
		}
	})

	t.Run("not migrated", func(t *testing.T) {
		t.Parallel()
		pool := apptest.NewEmptyDB(t)
		env := apptest.NewOn(t, pool)
		r := env.Client().Get("/readyz")
		if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, "pulso migrate") {
			t.Fatalf("status %d, body %q; want 503 pointing at pulso migrate", r.Status, r.Body)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
		}
		// Liveness does not depend on the database.
		if r := env.Client().Get("/healthz"); r.Status != http.StatusOK {
			t.Errorf("/healthz on an unmigrated database: %d", r.Status)
		}
		// Once migrated, the same instance becomes ready.
		if err := schema.Migrate(t.Context(), pool, env.Deps.Log); err != nil {
			t.Fatal(err)
		}
		if r := env.Client().Get("/readyz"); r.Status != http.StatusOK {
			t.Fatalf("after migrating: status %d, body %q", r.Status, r.Body)
		}
	})

	t.Run("database gone", func(t *testing.T) {
		t.Parallel()
		env := apptest.New(t)
		env.DB.Close()
		r := env.Client().Get("/readyz")
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, body %q; want 503", r.Status, r.Body)
		}
	})
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	c := env.Client()
	c.Get("/login")
	c.Get("/login")
	if r := c.Get("/users/12345"); r.Status != http.StatusNotFound {
		t.Fatalf("GET /users/12345: status %d", r.Status)
	}
	c.Get("/no/such/page/" + strings.Repeat("x", 40))
	admin := env.LoginAs(env.User(env.Org("Acme"), "admin@acme.test", web.RoleAdmin))
	admin.Post("/admin/users/98765/deactivate", nil)

	// Not on the app: its visitors have no business with the numbers.
	if r := c.Get("/metrics"); r.Status != http.StatusNotFound || strings.Contains(r.Body, "go_goroutines") {
		t.Fatalf("the app answers /metrics: status %d", r.Status)
	}
	// On the metrics listener (a real one, as `pulso serve` runs it).
	srv := httptest.NewServer(env.Metrics.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("metrics listener: status %d (%v)", res.StatusCode, err)
	}
	body := string(b)
	if res, err := http.Get(srv.URL + "/login"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("the metrics listener answers other paths (%v)", err)
	} else {
		res.Body.Close()
	}
	for _, want := range []string{
		`pulso_http_request_duration_seconds_count{method="GET",route="/login",status="200"} 3`,    // two here, one as the admin fetched a token,
		`pulso_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 3`, // and /metrics
		`pulso_http_request_duration_seconds_count{method="POST",route="/admin/users/:id/deactivate",status="404"} 1`,
		`pulso_http_request_duration_seconds_count{method="POST",route="/login",status="303"} 1`,
		`go_goroutines`,
		`process_cpu_seconds_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s\n%s", want, grepLines(body, "pulso_http_request_duration_seconds_count"))
		}
	}
	if regexp.MustCompile(`route="/(users|no)/`).MatchString(body) {
		t.Error("a raw unmatched path became a label")
	}
	// Label values must survive the request that created them (Fiber reuses
	// its buffers): every method label is one that was really sent.
	for _, m := range regexp.MustCompile(`method="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if m[1] != "GET" && m[1] != "POST" {
			t.Errorf("method label %q", m[1])
		}
	}
	if strings.Contains(body, "98765") {
		t.Error("an id from a path became a label")
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
