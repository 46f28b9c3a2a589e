package demo_test

import (
	"context"
	"testing"
	"time"

	"pulso/app/demo"
	"pulso/app/plans"
)

// The demo orgs sit on different plans, the main one past 80 % of its
// month with the crossing recorded for its admin's alert; the operator's
// org exists once; seeding twice changes nothing.
func seededPlans(t *testing.T, d *seededDemo) {
	env := d.env
	ctx := context.Background()
	got := map[string]string{}
	rows, err := env.DB.Query(ctx, `SELECT o.name, p.code || '/' || s.frequency FROM subscriptions s JOIN orgs o ON o.id = s.org_id JOIN plans p ON p.id = s.plan_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var o, p string
		if err := rows.Scan(&o, &p); err != nil {
			t.Fatal(err)
		}
		got[o] = p
	}
	want := map[string]string{"Demo Ventas S.L.": "inicial/monthly", "Otra Empresa S.A. de C.V.": "full/annual", demo.StoreOrgName: "pro/monthly"}
	for o, p := range want {
		if got[o] != p {
			t.Errorf("%s on %q, want %q (all %v)", o, got[o], p, got)
		}
	}
	if n := env.Count(`SELECT count(DISTINCT currency) FROM orgs WHERE operator`); n != 3 || env.Count(`SELECT count(*) FROM orgs WHERE operator`) != 3 {
		t.Fatalf("%d operator orgs, want one per currency", n)
	}
	var orgID int64
	if err := env.DB.QueryRow(ctx, `SELECT id FROM orgs WHERE name = 'Demo Ventas S.L.'`).Scan(&orgID); err != nil {
		t.Fatal(err)
	}
	madrid, _ := time.LoadLocation("Europe/Madrid")
	u, err := plans.UsageOf(ctx, env.Q, orgID, time.Now().In(madrid))
	if err != nil {
		t.Fatal(err)
	}
	if u.Used() < 200 || u.Percent() < 80 || u.Percent() >= 95 || u.Limit() != 250 {
		t.Fatalf("main org's month: %d of %d (%d %%)", u.Used(), u.Limit(), u.Percent())
	}
	if n := env.Count(`SELECT count(*) FROM quota_crossings WHERE org_id = $1 AND threshold = 80 AND alerted_at IS NULL`, orgID); n != 1 {
		t.Fatalf("%d pending 80 %% crossings", n)
	}
}
