package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/demo"
)

var demoUsers = []string{
	"admin@demo.test", "manager@demo.test", "rep@demo.test", "rep2@demo.test", "accountant@demo.test",
	"admin@otra.test", "rep@otra.test", "operador@pulso.test", "operador.mx@pulso.test", "operador.ar@pulso.test", "admin@austral.test",
}

// discard is the log of the seeds these tests run.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// seededDemo is the demo as two starts of `pulso run` leave it. Seeding a
// whole demo is most of this package's time (several seconds a copy on two
// cores), so the checks that only read it share one copy.
type seededDemo struct {
	env    *apptest.Env
	before time.Time // just before the first seed
	deals  int       // the main org's live deals after the first seed
}

// The demo seeded twice, then each check of what it left; the one that
// changes it (expiring its links) runs last.
func TestSeededDemo(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	d := &seededDemo{env: env, before: time.Now()}
	for i := range 2 {
		if err := demo.Seed(ctx, env.DB, env.Deps.Cfg.LinkKeys(), discard); err != nil {
			t.Fatalf("seed run %d: %v", i+1, err)
		}
		if i == 0 {
			d.deals = env.Count(`SELECT count(*) FROM opportunities o JOIN orgs g ON g.id = o.org_id
				WHERE g.name = 'Demo Ventas S.L.' AND o.deleted_at IS NULL`)
		}
	}
	for _, c := range []struct {
		name  string
		check func(*testing.T, *seededDemo)
	}{
		{"IsIdempotent", seededIsIdempotent},
		{"CustomersAreValidAndSeededOnce", seededCustomersAreValidAndSeededOnce},
		{"GivesTheDashboardAPast", seededGivesTheDashboardAPast},
		{"BillingEveryKindOnce", seededBillingEveryKindOnce},
		{"SchedulesAnInvoiceSend", seededSchedulesAnInvoiceSend},
		{"Plans", seededPlans},
		{"Targets", seededTargets},
		{"KeepsALiveQuoteLink", seededKeepsALiveQuoteLink},
	} {
		t.Run(c.name, func(t *testing.T) { c.check(t, d) })
	}
}

func seededIsIdempotent(t *testing.T, d *seededDemo) {
	env := d.env
	ctx := context.Background()
	var orgs, users int
	if err := env.DB.QueryRow(ctx, `SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM users)`).Scan(&orgs, &users); err != nil {
		t.Fatal(err)
	}
	if orgs != 6 || users != len(demoUsers) {
		t.Fatalf("after two seeds: %d orgs, %d users; want 6 and %d", orgs, users, len(demoUsers))
	}

	// Every demo user signs in through the app with the documented password.
	for _, email := range demoUsers {
		c := env.Client()
		c.Login(email, demo.Password)
		if r := c.Get("/"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Hola, ") {
			t.Errorf("%s: home status %d", email, r.Status)
		}
	}

	// Teams: both Demo reps report to the Demo manager, in the same org.
	rows, err := env.DB.Query(ctx, `
		SELECT u.email, m.email, u.org_id = m.org_id
		FROM users u JOIN users m ON m.org_id = u.org_id AND m.id = u.manager_id
		ORDER BY u.email`)
	if err != nil {
		t.Fatal(err)
	}
	managers := map[string]string{}
	for rows.Next() {
		var u, m string
		var sameOrg bool
		if err := rows.Scan(&u, &m, &sameOrg); err != nil {
			t.Fatal(err)
		}
		managers[u] = m
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]string{
		"rep@demo.test":  "manager@demo.test",
		"rep2@demo.test": "manager@demo.test",
		"rep@otra.test":  "admin@otra.test",
	} {
		if managers[u] != want {
			t.Errorf("%s reports to %q, want %q", u, managers[u], want)
		}
	}
	if len(managers) != 3 {
		t.Errorf("managers: %v", managers)
	}

	// The two orgs are separate tenants.
	var demoOrgUsers int
	if err := env.DB.QueryRow(ctx, `SELECT count(*) FROM users u JOIN orgs o ON o.id = u.org_id WHERE o.name = 'Demo Ventas S.L.' AND u.email LIKE '%@demo.test'`).Scan(&demoOrgUsers); err != nil {
		t.Fatal(err)
	}
	if demoOrgUsers != 5 {
		t.Errorf("Demo Ventas has %d demo users, want 5", demoOrgUsers)
	}

	// Capture is ready to try: two rules, a default owner and one web form,
	// once, after two seeds.
	var rules, forms, defaults int
	if err := env.DB.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM lead_rules r JOIN orgs o ON o.id = r.org_id WHERE o.name = 'Demo Ventas S.L.'),
		(SELECT count(*) FROM lead_forms f JOIN orgs o ON o.id = f.org_id WHERE o.name = 'Demo Ventas S.L.' AND f.active),
		(SELECT count(*) FROM lead_settings s JOIN users u ON u.org_id = s.org_id AND u.id = s.default_owner_id WHERE u.email = 'manager@demo.test')`).Scan(&rules, &forms, &defaults); err != nil {
		t.Fatal(err)
	}
	if rules != 2 || forms != 1 || defaults != 1 {
		t.Errorf("demo capture setup: %d rules, %d forms, %d default owners; want 2, 1, 1", rules, forms, defaults)
	}
}

// A partial earlier seed (someone deleted a user) is completed, not duplicated.
func TestSeedCompletesPartialData(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	if err := demo.Seed(ctx, env.DB, env.Deps.Cfg.LinkKeys(), discard); err != nil {
		t.Fatal(err)
	}
	// The user's demo tasks and alerts, opportunities, leads and customers
	// go first: they reference their owner (and opportunities their lead
	// and customer, tasks their customer).
	// Their quotes too: sent ones are kept by a trigger (a customer was
	// told), which an operator removing a user's data would lift the same way.
	for _, sql := range []string{
		`DELETE FROM delivery_notes WHERE order_id IN (SELECT o.id FROM orders o JOIN quotes q ON q.id = o.quote_id
			WHERE q.owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')
			   OR q.customer_id IN (SELECT id FROM customers WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')))`,
		`DELETE FROM orders WHERE quote_id IN (SELECT id FROM quotes WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')
			OR customer_id IN (SELECT id FROM customers WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')))`,
		`ALTER TABLE quotes DISABLE TRIGGER quotes_keep_sent`,
		`DELETE FROM quotes WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')
			OR customer_id IN (SELECT id FROM customers WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test'))`,
		`ALTER TABLE quotes ENABLE TRIGGER quotes_keep_sent`,
		`DELETE FROM sales_targets WHERE user_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')`,
		`DELETE FROM alerts WHERE user_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')`,
		`DELETE FROM tasks WHERE (SELECT id FROM users WHERE email = 'rep2@demo.test') IN (assignee_id, created_by, managed_by_id)
			OR customer_id IN (SELECT id FROM customers WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test'))`,
		`UPDATE leads SET opportunity_id = NULL WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')`,
		`DELETE FROM opportunities WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')`,
		`DELETE FROM leads WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')`,
		`DELETE FROM customers WHERE owner_id = (SELECT id FROM users WHERE email = 'rep2@demo.test')`,
	} {
		if _, err := env.DB.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.DB.Exec(ctx, `DELETE FROM users WHERE email = 'rep2@demo.test'`); err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, env.DB, env.Deps.Cfg.LinkKeys(), discard); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := env.DB.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(demoUsers) {
		t.Fatalf("%d users after re-seeding, want %d", n, len(demoUsers))
	}
	env.Client().Login("rep2@demo.test", demo.Password)
}

// A month after seeding every demo link has expired; the next start sends
// a fresh quote so there is always one to open on a phone.
func seededKeepsALiveQuoteLink(t *testing.T, d *seededDemo) {
	env := d.env
	ctx := context.Background()
	first, err := demo.LiveQuoteURL(ctx, env.DB, env.Deps.Cfg.LinkKeys(), "http://demo.test")
	if err != nil || !strings.HasPrefix(first, "http://demo.test/q/") {
		t.Fatalf("live link %q: %v", first, err)
	}
	env.Exec(`UPDATE quote_links SET expires_at = now() - interval '1 minute'`)
	if u, _ := demo.LiveQuoteURL(ctx, env.DB, env.Deps.Cfg.LinkKeys(), "http://demo.test"); u != "" {
		t.Fatalf("an expired link is offered: %s", u)
	}
	if err := demo.Seed(ctx, env.DB, env.Deps.Cfg.LinkKeys(), discard); err != nil {
		t.Fatal(err)
	}
	again, err := demo.LiveQuoteURL(ctx, env.DB, env.Deps.Cfg.LinkKeys(), "http://demo.test")
	if err != nil || again == "" || again == first {
		t.Fatalf("after re-seeding: %q (%v)", again, err)
	}
}

// The demo's dashboard has a past on first start: deals won and lost last
// month and in the same month a year ago (the org's months), from several
// sources and product lines, with a stage history that agrees with each
// deal; seeding again adds none.
func seededGivesTheDashboardAPast(t *testing.T, d *seededDemo) {
	env := d.env
	ctx := context.Background()
	var wonLast, wonYearAgo, lost, sources, groups, deals, badHistory int
	err := env.DB.QueryRow(ctx, `
		WITH d AS (SELECT o.*, date_trunc('month', o.stage_entered_at AT TIME ZONE g.time_zone) AS m,
		                  date_trunc('month', now() AT TIME ZONE g.time_zone) AS this
		           FROM opportunities o JOIN orgs g ON g.id = o.org_id WHERE g.name = 'Demo Ventas S.L.' AND o.deleted_at IS NULL)
		SELECT count(*) FILTER (WHERE stage = 'ganada' AND m = this - interval '1 month'),
		       count(*) FILTER (WHERE stage = 'ganada' AND m = this - interval '12 months'),
		       count(*) FILTER (WHERE stage = 'cancelada' AND cancel_reason_id IS NOT NULL AND m < this),
		       count(DISTINCT source), count(DISTINCT article_group_id), count(*),
		       count(*) FILTER (WHERE (SELECT h.to_stage FROM opportunity_stage_history h WHERE h.org_id = d.org_id AND h.opportunity_id = d.id
		                               ORDER BY h.id DESC LIMIT 1) <> d.stage
		                         OR (SELECT h.changed_at FROM opportunity_stage_history h WHERE h.org_id = d.org_id AND h.opportunity_id = d.id
		                               AND h.from_stage IS NULL) <> d.created_at)
		FROM d`).Scan(&wonLast, &wonYearAgo, &lost, &sources, &groups, &deals, &badHistory)
	if err != nil {
		t.Fatal(err)
	}
	if wonLast == 0 || wonYearAgo == 0 || lost == 0 {
		t.Errorf("won last month %d, won a year ago %d, lost before this month %d: want some of each", wonLast, wonYearAgo, lost)
	}
	if sources < 3 || groups < 2 {
		t.Errorf("%d sources and %d product lines, want several", sources, groups)
	}
	if badHistory != 0 {
		t.Errorf("%d deals whose history disagrees with their stage or creation", badHistory)
	}
	if deals != d.deals {
		t.Errorf("second seed: %d deals, had %d after the first", deals, d.deals)
	}
}
