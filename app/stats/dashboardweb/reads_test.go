package dashboardweb_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/apptest"
	"pulso/app/web"
)

// reads records the statements the app runs while on.
type reads struct {
	mu  sync.Mutex
	on  bool
	ran []string // sqlc name and arguments
}

var sqlcName = regexp.MustCompile(`-- name: (\w+)`)

func (r *reads) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	name := d.SQL
	if m := sqlcName.FindStringSubmatch(d.SQL); m != nil {
		name = m[1]
	}
	// The hub polls the outbox in the background, whatever the page.
	if name == "PollLiveEvents" {
		return ctx
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		r.ran = append(r.ran, fmt.Sprintf("%s %v", name, d.Args))
	}
	return ctx
}

func (r *reads) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// One dashboard runs each read once: the tiles share the spans they
// compare (this month's deal outcomes feed five tiles, last month's four)
// and what customers owe does not depend on the period.
func TestDashboardReadsOnce(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(apptest.URL(apptest.NewDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	rec := &reads{}
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	env := apptest.NewOn(t, pool)
	org := env.Org("Lecturas S.L.")
	admin := env.LoginAs(env.User(org, "admin@lecturas.test", web.RoleAdmin))
	manager := env.LoginAs(env.User(org, "manager@lecturas.test", web.RoleManager))
	for _, c := range []struct {
		who    string
		client *apptest.Client
		path   string
	}{{"admin", admin, "/dashboard"}, {"admin", admin, "/dashboard?period=year"}, {"manager", manager, "/dashboard"},
		{"manager", manager, "/dashboard?period=quarter"}} {
		get(t, c.client, c.path, http.StatusOK) // a first sight fills the session cache
		rec.mu.Lock()
		rec.on, rec.ran = true, nil
		rec.mu.Unlock()
		get(t, c.client, c.path, http.StatusOK)
		rec.mu.Lock()
		rec.on = false
		ran := rec.ran
		rec.mu.Unlock()
		if len(ran) < 10 {
			t.Fatalf("%s's %s ran %d statements: the tracer sees no reads", c.who, c.path, len(ran))
		}
		seen := map[string]bool{}
		for _, s := range ran {
			if seen[s] {
				t.Errorf("%s's %s ran twice: %s", c.who, c.path, s)
			}
			seen[s] = true
		}
	}
}
