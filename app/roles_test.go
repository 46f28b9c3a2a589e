package app_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"pulso/app/apptest"
	"pulso/app/config"
	customersview "pulso/views/customers"
)

// salesAreas are the route-name prefixes of the sales objects: leads,
// customers (and their contacts and documents), deals, tasks, quotes and
// orders. Admin settings of those areas live under /admin and are guarded
// as admin routes.
var salesAreas = []string{"leads.", "customers.", "documents.", "pipeline.", "tasks.", "quotes.", "orders."}

// salesForms are the GET routes that only show a form for a change.
var salesForms = map[string]bool{
	"leads.new": true, "leads.edit": true, "customers.new": true, "customers.convert_form": true,
	"pipeline.new": true, "pipeline.edit": true, "tasks.new": true,
	"quotes.new": true, "quotes.edit": true, "quotes.products": true,
}

// accountantMay are the changing routes of the sales areas an accountant
// may still use: the customer form, for the direct-debit details only
// (what else it ignores is tested in app/customers).
var accountantMay = map[string]bool{"customers.edit": true, "customers.update": true}

// salesRoutes lists the sales areas' routes of the table, split into those
// that change something (or show a form for it) and those that read.
func salesRoutes(app *fiber.App) (changing, reading []fiber.Route) {
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || strings.HasPrefix(r.Path, "/admin") || strings.HasPrefix(r.Path, "/q/") {
			continue
		}
		sales := false
		for _, p := range salesAreas {
			sales = sales || strings.HasPrefix(r.Name, p)
		}
		if !sales || accountantMay[r.Name] {
			continue
		}
		if r.Method == http.MethodPost || salesForms[r.Name] {
			changing = append(changing, r)
		} else {
			reading = append(reading, r)
		}
	}
	return changing, reading
}

// TestRoutesAccountantReadsSalesButChangesNothing walks every route of the
// sales areas as the accountant of a populated org: each that changes a
// sales object (or shows the form for it) answers 403 and nothing changes;
// each that reads answers 200; and no page the accountant reads offers a
// form or link to a route that would refuse them.
func TestRoutesAccountantReadsSalesButChangesNothing(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, func(c *config.Config) { c.ClientLinkRate = 1_000_000 })
	a := seedOrgA(t, env)
	accountant := a.users[3]
	if accountant.Role != "accountant" {
		t.Fatalf("seedOrgA's fourth user is a %s", accountant.Role)
	}
	// The seeded quote as sent (its order's PDFs need the frozen parties),
	// so its page offers what a sent quote offers.
	env.Exec(`UPDATE quote_versions SET status = 'sent', sent_at = now(), pdf = 'x', pdf_sha256 = 'x',
		parties = '{"seller": {}, "buyer": {}, "locale": "es", "zone": "Europe/Madrid"}' WHERE org_id = $1`, a.org.ID)
	env.Exec(`UPDATE quotes SET status = 'sent', number = 'ALFA-P-1' WHERE org_id = $1`, a.org.ID)
	c := env.LoginAs(accountant)
	ids := salesIDs(t, env, a.org.ID)

	changing, reading := salesRoutes(env.App)
	if len(changing) < 30 || len(reading) < 15 {
		t.Fatalf("%d changing and %d reading sales routes: the walk is not seeing the route table", len(changing), len(reading))
	}
	before := snapshot(t, env, a.org.ID)
	refused := map[string][]*regexp.Regexp{} // by method
	for _, r := range changing {
		path := fillIDs(t, r.Path, ids)
		res := send(t, c, r.Method, path)
		if res.Status != http.StatusForbidden {
			t.Errorf("%s %s (%s) as accountant: status %d, want 403", r.Method, path, r.Name, res.Status)
		}
		refused[r.Method] = append(refused[r.Method], routeRegexp(r))
	}
	if after := snapshot(t, env, a.org.ID); after != before {
		t.Errorf("the accountant's requests changed the org's rows:\nbefore %s\nafter  %s", before, after)
	}

	// What a page offers: forms that post (and htmx posts), links and
	// htmx loads.
	forms := regexp.MustCompile(`<form\b[^>]*>`)
	action := regexp.MustCompile(`\saction="([^"]+)"`)
	offers := regexp.MustCompile(`\s(hx-post|href|hx-get)="([^"]+)"`)
	pages := map[string]string{"/": "home"}
	for _, tab := range customersview.Tabs {
		pages["/customers/"+ids["customers"]+"?tab="+tab] = "customers.show"
	}
	for _, r := range reading {
		pages[fillIDs(t, r.Path, ids)] = r.Name
	}
	for path, name := range pages {
		res := c.Get(path)
		if res.Status != http.StatusOK {
			t.Errorf("GET %s (%s) as accountant: status %d, want 200", path, name, res.Status)
			continue
		}
		targets := offers.FindAllStringSubmatch(res.Body, -1)
		for _, f := range forms.FindAllString(res.Body, -1) {
			if a := action.FindStringSubmatch(f); a != nil && strings.Contains(f, `method="post"`) {
				targets = append(targets, []string{"", "hx-post", a[1]})
			}
		}
		for _, m := range targets {
			method := http.MethodGet
			if m[1] == "hx-post" {
				method = http.MethodPost
			}
			target := strings.SplitN(m[2], "?", 2)[0]
			for _, re := range refused[method] {
				if re.MatchString(target) {
					t.Errorf("GET %s (%s) as accountant offers %s %s, which refuses them", path, name, method, m[2])
				}
			}
		}
	}
}

// salesIDs finds one row of each sales object of org, by the first path
// segment of the routes that name it.
func salesIDs(t *testing.T, env *apptest.Env, org int64) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for seg, table := range map[string]string{"leads": "leads", "customers": "customers", "opportunities": "opportunities",
		"tasks": "tasks", "quotes": "quotes", "orders": "orders", "delivery-notes": "delivery_notes", "documents": "documents",
		"contact": "customer_contacts"} {
		var id int64
		q := fmt.Sprintf(`SELECT id FROM %s WHERE org_id = $1 ORDER BY id LIMIT 1`, table)
		if seg == "customers" {
			// The customer with a contact, so its contacts tab has some.
			q = `SELECT customer_id FROM customer_contacts WHERE org_id = $1 ORDER BY id LIMIT 1`
		}
		if err := env.DB.QueryRow(context.Background(), q, org).Scan(&id); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		ids[seg] = strconv.FormatInt(id, 10)
	}
	ids["n"] = "1"
	return ids
}

var routeParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// fillIDs puts the id of the object each parameter names into a route
// pattern: :id is the object of the path's first segment.
func fillIDs(t *testing.T, pattern string, ids map[string]string) string {
	t.Helper()
	first := strings.SplitN(strings.TrimPrefix(pattern, "/"), "/", 2)[0]
	return routeParam.ReplaceAllStringFunc(pattern, func(p string) string {
		key := p[1:]
		if key == "id" {
			key = first
		}
		v, ok := ids[key]
		if !ok {
			t.Fatalf("no id for %s in %s", p, pattern)
		}
		return v
	})
}

// routeRegexp matches the paths a route pattern serves.
func routeRegexp(r fiber.Route) *regexp.Regexp {
	return regexp.MustCompile("^" + routeParam.ReplaceAllString(regexp.QuoteMeta(r.Path), `[^/]+`) + "$")
}
