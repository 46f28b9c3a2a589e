package demo_test

import (
	"net/http"
	"strings"
	"testing"

	"pulso/app/demo"
)

// The demo reps have a target this month, set by their manager, and the
// bars show on first start; seeding again keeps them.
func seededTargets(t *testing.T, d *seededDemo) {
	env := d.env
	n := env.Count(`SELECT count(*) FROM sales_targets t JOIN users u ON u.org_id = t.org_id AND u.id = t.user_id
		JOIN users m ON m.org_id = t.org_id AND m.id = t.set_by JOIN orgs o ON o.id = t.org_id
		WHERE u.email IN ('rep@demo.test', 'rep2@demo.test') AND m.email = 'manager@demo.test'
		  AND t.month = date_trunc('month', timezone(o.time_zone, now()))::date`)
	if n != 2 {
		t.Fatalf("%d demo targets this month, want the two reps'", n)
	}
	if total := env.Count(`SELECT count(*) FROM sales_targets`); total != 3 {
		t.Errorf("%d targets after two seeds (two Spanish reps, one Mexican)", total)
	}
	c := env.Client()
	c.Login("manager@demo.test", demo.Password)
	page := c.Get("/targets")
	if page.Status != http.StatusOK || strings.Count(page.Body, `data-testid="target-bar"`) < 3 || !strings.Contains(page.Body, "Rosa Comercial") {
		t.Errorf("the manager's targets page: %d", page.Status)
	}
	c.HTMX = true
	if b := c.Get("/targets/progress").Body; strings.Count(b, `data-testid="target-pct"`) != 3 {
		t.Errorf("the manager's progress fragment: %.500s", b)
	}
}
