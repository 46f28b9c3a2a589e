package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/app/schema"
)

// setEnv points the command at db with a quiet, hermetic configuration.
// t.Setenv rules out t.Parallel for these tests.
func setEnv(t *testing.T, databaseURL string) {
	t.Helper()
	for _, v := range config.Vars {
		t.Setenv(v.Name, "") // empty means default
	}
	t.Setenv("DATABASE_URL", databaseURL)
	t.Setenv("PULSO_DATA_DIR", t.TempDir())
	t.Setenv("PULSO_ADDR", "127.0.0.1:0")
	t.Setenv("PULSO_METRICS_ADDR", "127.0.0.1:0")
	t.Setenv("LOG_LEVEL", "error")
}

// stdout runs f and returns what it printed.
func stdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() { os.Stdout = old }()
	f()
	w.Close()
	return <-done
}

func TestServeRefusesUnmigratedDatabase(t *testing.T) {
	pool := apptest.NewEmptyDB(t)
	setEnv(t, apptest.URL(pool))
	// Were the check missing, serve would listen until the deadline and
	// return nil.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	err := run(ctx, "serve", nil)
	if err == nil {
		t.Fatal("serve on an empty database returned nil")
	}
	if !strings.Contains(err.Error(), "pulso migrate") || !errors.Is(err, schema.ErrOutOfDate) {
		t.Fatalf("serve error %q does not say to run `pulso migrate`", err)
	}
	for _, cmd := range []string{"work"} {
		if err := run(ctx, cmd, nil); err == nil || !strings.Contains(err.Error(), "pulso migrate") {
			t.Errorf("%s on an empty database: %v", cmd, err)
		}
	}
	if err := run(ctx, "seed", []string{"--demo"}); err == nil || !strings.Contains(err.Error(), "pulso migrate") {
		t.Errorf("seed on an empty database: %v", err)
	}
	var users bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('users') IS NOT NULL`).Scan(&users); err != nil || users {
		t.Errorf("a refused command created tables (%v)", err)
	}
}

func TestMigrateThenSeed(t *testing.T) {
	pool := apptest.NewEmptyDB(t)
	setEnv(t, apptest.URL(pool))
	ctx := context.Background()

	if err := run(ctx, "migrate", nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := schema.Check(ctx, pool); err != nil {
		t.Fatalf("Check after `pulso migrate`: %v", err)
	}
	if err := run(ctx, "migrate", nil); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	for i := range 2 {
		if err := run(ctx, "seed", []string{"--demo"}); err != nil {
			t.Fatalf("seed --demo run %d: %v", i+1, err)
		}
	}
	var orgs, users int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM users)`).Scan(&orgs, &users); err != nil {
		t.Fatal(err)
	}
	// The two sales orgs, the store's and the operator's three (Pulso's
	// own, one per currency).
	if orgs != 6 || users != 11 {
		t.Errorf("after seeding twice: %d orgs, %d users; want 6 and 11", orgs, users)
	}
}

func TestCommandErrors(t *testing.T) {
	pool := apptest.NewEmptyDB(t)
	setEnv(t, apptest.URL(pool))
	ctx := context.Background()

	for _, tt := range []struct {
		name string
		cmd  string
		args []string
		want string
	}{
		{"seed without --demo", "seed", nil, "--demo"},
		{"seed with a stray flag", "seed", []string{"--everything"}, "everything"},
		{"unknown command", "frobnicate", nil, `unknown command "frobnicate"`},
		{"serve with a bad flag", "serve", []string{"--nope"}, "nope"},
		{"devdb without stop", "devdb", nil, "devdb stop"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := run(ctx, tt.cmd, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%q, %q) = %v, want an error mentioning %q", tt.cmd, tt.args, err, tt.want)
			}
		})
	}

	t.Run("bad configuration", func(t *testing.T) {
		t.Setenv("PULSO_WORKERS", "abc")
		t.Setenv("LOG_FORMAT", "xml")
		err := run(ctx, "migrate", nil)
		if err == nil || !strings.Contains(err.Error(), "PULSO_WORKERS") || !strings.Contains(err.Error(), "LOG_FORMAT") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("unreachable database", func(t *testing.T) {
		t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
		err := run(ctx, "migrate", nil)
		if err == nil || !strings.Contains(err.Error(), "cannot reach PostgreSQL") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestVersion(t *testing.T) {
	var err error
	out := stdout(t, func() { err = run(context.Background(), "version", nil) })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "pulso ") || len(strings.TrimSpace(out)) <= len("pulso") {
		t.Errorf("version printed %q", out)
	}
}

// `pulso serve` answers /metrics on PULSO_METRICS_ADDR, and the public
// address does not: how busy each route is, is no visitor's business.
func TestServeMetricsOnOwnAddress(t *testing.T) {
	setEnv(t, apptest.URL(apptest.NewDB(t)))
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	t.Setenv("PULSO_ADDR", addr)
	t.Setenv("PULSO_METRICS_ADDR", metricsAddr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, "serve", []string{"--workers=false"}) }()
	stopped := false // serve has returned and its error was read
	defer func() {
		cancel()
		if stopped {
			return
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not listen")
		}
	}
	if status, _ := get("http://" + addr + "/metrics"); status != http.StatusNotFound {
		t.Errorf("the app's /metrics: status %d, want 404", status)
	}
	status, body := get("http://" + metricsAddr + "/metrics")
	if status != http.StatusOK || !strings.Contains(body, `pulso_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}`) {
		t.Errorf("metrics listener: status %d\n%.2000s", status, body)
	}
}
