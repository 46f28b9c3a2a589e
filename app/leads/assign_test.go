package leads_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/leads"
	"pulso/app/web"
	"pulso/queries"
)

// assign runs AssignOwner in its own committed transaction, as a capture or
// a form save does.
func assign(t *testing.T, env *apptest.Env, orgID int64, f leads.LeadFacts) *int64 {
	t.Helper()
	var owner *int64
	err := pgx.BeginFunc(context.Background(), env.DB, func(tx pgx.Tx) error {
		var err error
		owner, err = leads.AssignOwner(context.Background(), env.Q.WithTx(tx), orgID, f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return owner
}

func rule(t *testing.T, env *apptest.Env, p queries.CreateLeadRuleParams) queries.LeadRule {
	t.Helper()
	if p.Name == "" {
		p.Name = "regla"
	}
	r, err := env.Q.CreateLeadRule(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func who(id *int64, names map[int64]string) string {
	if id == nil {
		return "nobody"
	}
	if n, ok := names[*id]; ok {
		return n
	}
	return "user " + strconv.FormatInt(*id, 10)
}

func setActive(env *apptest.Env, u queries.User, active bool) {
	env.Exec(`UPDATE users SET active = $1 WHERE id = $2`, active, u.ID)
}

func TestAssignRulesOrderConditionsAndDefault(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Reglas S.L.")
	a := env.User(org, "a@reglas.test", web.RoleRep)
	b := env.User(org, "b@reglas.test", web.RoleRep)
	c := env.User(org, "c@reglas.test", web.RoleRep)
	d := env.User(org, "d@reglas.test", web.RoleManager)
	names := map[int64]string{a.ID: "a", b.ID: "b", c.ID: "c", d.ID: "d"}
	// Another org's rule must never apply.
	other := env.Org("Otra S.L.")
	ou := env.User(other, "x@otra.test", web.RoleRep)
	rule(t, env, queries.CreateLeadRuleParams{OrgID: other.ID, Action: "user", UserID: &ou.ID})

	rule(t, env, queries.CreateLeadRuleParams{OrgID: org.ID, Source: "web_form", Province: "Madrid", Action: "user", UserID: &a.ID})
	rule(t, env, queries.CreateLeadRuleParams{OrgID: org.ID, Tag: "feria", Action: "user", UserID: &b.ID})
	rule(t, env, queries.CreateLeadRuleParams{OrgID: org.ID, Country: "MX", Action: "user", UserID: &c.ID})

	cases := []struct {
		name string
		f    leads.LeadFacts
		want string
	}{
		{"source+province, province case-insensitive", leads.LeadFacts{Source: "web_form", Country: "ES", Province: " madrid "}, "a"},
		{"first match wins over a later one", leads.LeadFacts{Source: "web_form", Country: "MX", Province: "MADRID", Tags: []string{"feria"}}, "a"},
		{"source condition fails, tag matches", leads.LeadFacts{Source: "manual", Country: "ES", Province: "Madrid", Tags: []string{"otra", "Feria"}}, "b"},
		{"province differs", leads.LeadFacts{Source: "web_form", Country: "ES", Province: "Sevilla"}, "nobody"},
		{"country", leads.LeadFacts{Source: "import", Country: "MX"}, "c"},
		{"no match, no default", leads.LeadFacts{Source: "manual", Country: "ES"}, "nobody"},
	}
	for _, tc := range cases {
		if got := who(assign(t, env, org.ID, tc.f), names); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}

	env.Exec(`INSERT INTO lead_settings (org_id, default_owner_id) VALUES ($1, $2)`, org.ID, d.ID)
	noMatch := leads.LeadFacts{Source: "manual", Country: "AR"}
	if got := who(assign(t, env, org.ID, noMatch), names); got != "d" {
		t.Errorf("no match with a default: got %s, want d", got)
	}

	// An inactive user's rule is skipped: the next matching rule, then the default.
	setActive(env, a, false)
	if got := who(assign(t, env, org.ID, leads.LeadFacts{Source: "web_form", Country: "ES", Province: "Madrid", Tags: []string{"feria"}}), names); got != "b" {
		t.Errorf("inactive user's rule: got %s, want b (next rule)", got)
	}
	if got := who(assign(t, env, org.ID, leads.LeadFacts{Source: "web_form", Country: "ES", Province: "Madrid"}), names); got != "d" {
		t.Errorf("inactive user's rule, no other rule: got %s, want d (default)", got)
	}

	// An inactive default owner leaves the lead unassigned.
	setActive(env, d, false)
	if got := who(assign(t, env, org.ID, noMatch), names); got != "nobody" {
		t.Errorf("inactive default: got %s, want nobody", got)
	}
}

// A rule may test one lead field (equals or contains, case-insensitive);
// a paused rule is skipped.
func TestAssignFieldConditionsAndPausedRules(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Campos S.L.")
	a := env.User(org, "a@campos.test", web.RoleRep)
	b := env.User(org, "b@campos.test", web.RoleRep)
	c := env.User(org, "c@campos.test", web.RoleRep)
	names := map[int64]string{a.ID: "a", b.ID: "b", c.ID: "c"}
	acme := rule(t, env, queries.CreateLeadRuleParams{OrgID: org.ID, Field: "email", FieldOp: "contains", FieldValue: "@ACME.es", Action: "user", UserID: &a.ID})
	rule(t, env, queries.CreateLeadRuleParams{OrgID: org.ID, Country: "ES", Field: "city", FieldOp: "equals", FieldValue: "Sevilla", Action: "user", UserID: &b.ID})
	rule(t, env, queries.CreateLeadRuleParams{OrgID: org.ID, Field: "name", FieldOp: "contains", FieldValue: "hotel", Action: "user", UserID: &c.ID})

	cases := []struct {
		name string
		f    leads.LeadFacts
		want string
	}{
		{"e-mail contains, case-insensitive", leads.LeadFacts{Source: "web_form", Country: "MX", Email: "compras@acme.es"}, "a"},
		{"city equals, trimmed and case-insensitive", leads.LeadFacts{Country: "ES", City: " SEVILLA "}, "b"},
		{"equals is not contains", leads.LeadFacts{Country: "ES", City: "Sevilla Este"}, "nobody"},
		{"city rule also needs its country", leads.LeadFacts{Country: "MX", City: "Sevilla"}, "nobody"},
		{"name contains", leads.LeadFacts{Country: "AR", Name: "Gran Hotel Sur"}, "c"},
		{"empty field never matches a value", leads.LeadFacts{Country: "ES"}, "nobody"},
	}
	for _, tc := range cases {
		if got := who(assign(t, env, org.ID, tc.f), names); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	env.Exec(`UPDATE lead_rules SET active = false WHERE id = $1`, acme.ID)
	if got := who(assign(t, env, org.ID, leads.LeadFacts{Country: "AR", Email: "x@acme.es", Name: "Hotel Acme"}), names); got != "c" {
		t.Errorf("paused rule: got %s, want c (the next matching rule)", got)
	}
	// A rule condition never matches across fields.
	if got := who(assign(t, env, org.ID, leads.LeadFacts{Country: "AR", Notes: "hotel", City: "hotel"}), names); got != "nobody" {
		t.Errorf("name rule matched other fields: got %s", got)
	}
	if n := env.Count(`SELECT count(*) FROM lead_rules WHERE field = 'email' AND field_op = '' `); n != 0 {
		t.Errorf("field without operator stored")
	}
}

// team makes a manager with n reps reporting to them (ids ascending).
func team(t *testing.T, env *apptest.Env, org queries.Org, prefix string, n int) (queries.User, []queries.User) {
	t.Helper()
	m := env.User(org, prefix+"-manager@team.test", web.RoleManager)
	var reps []queries.User
	for i := range n {
		r := env.User(org, prefix+"-rep"+strconv.Itoa(i)+"@team.test", web.RoleRep)
		env.Exec(`UPDATE users SET manager_id = $1 WHERE id = $2`, m.ID, r.ID)
		reps = append(reps, r)
	}
	return m, reps
}

func TestAssignRoundRobinRotatesWrapsAndSkipsInactive(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Turnos S.L.")
	m, reps := team(t, env, org, "rr", 3)
	env.User(org, "outsider@team.test", web.RoleRep) // not in the team
	names := map[int64]string{reps[0].ID: "r0", reps[1].ID: "r1", reps[2].ID: "r2", m.ID: "manager"}
	rule(t, env, queries.CreateLeadRuleParams{OrgID: org.ID, Action: "round_robin", TeamManagerID: &m.ID})

	var got []string
	for range 4 {
		got = append(got, who(assign(t, env, org.ID, leads.LeadFacts{Source: "web_form", Country: "ES"}), names))
	}
	setActive(env, reps[1], false) // the cursor is on r0: r1 is next, but gone
	for range 3 {
		got = append(got, who(assign(t, env, org.ID, leads.LeadFacts{Source: "web_form", Country: "ES"}), names))
	}
	if s := strings.Join(got, ","); s != "r0,r1,r2,r0,r2,r0,r2" {
		t.Errorf("rotation %s, want r0,r1,r2,r0,r2,r0,r2", s)
	}

	// A team with nobody active: the rule is skipped (no default: nobody).
	for _, r := range reps {
		setActive(env, r, false)
	}
	if o := assign(t, env, org.ID, leads.LeadFacts{Source: "web_form", Country: "ES"}); o != nil {
		t.Errorf("empty team assigned %s", who(o, names))
	}
}

func TestAssignRoundRobinConcurrentIsEven(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Concurrente S.L.")
	m, reps := team(t, env, org, "cc", 3)
	rule(t, env, queries.CreateLeadRuleParams{OrgID: org.ID, Action: "round_robin", TeamManagerID: &m.ID})

	const n = 12
	owners := make(chan int64, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := pgx.BeginFunc(context.Background(), env.DB, func(tx pgx.Tx) error {
				o, err := leads.AssignOwner(context.Background(), env.Q.WithTx(tx), org.ID, leads.LeadFacts{Source: "web_form", Country: "ES"})
				if err == nil && o != nil {
					owners <- *o
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(owners)
	count := map[int64]int{}
	for o := range owners {
		count[o]++
	}
	for _, r := range reps {
		if count[r.ID] != n/3 {
			t.Errorf("concurrent round robin: %v, want %d each for %d, %d, %d", count, n/3, reps[0].ID, reps[1].ID, reps[2].ID)
			break
		}
	}
}

func TestAssignFewestOpenTieGoesToLowestID(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Carga S.L.")
	m, reps := team(t, env, org, "fo", 3)
	names := map[int64]string{reps[0].ID: "r0", reps[1].ID: "r1", reps[2].ID: "r2"}
	rule(t, env, queries.CreateLeadRuleParams{OrgID: org.ID, Action: "fewest_open", TeamManagerID: &m.ID})
	env.Exec(`INSERT INTO customers (org_id, legal_name, country) VALUES ($1, 'Convertido S.L.', 'ES')`, org.ID)
	give := func(u queries.User, status string) {
		t.Helper()
		// A converted lead names the customer it became.
		env.Exec(`INSERT INTO leads (org_id, name, country, source, owner_id, status, discard_reason, customer_id)
			VALUES ($1, 'x', 'ES', 'manual', $2, $3, $4, CASE WHEN $3 = 'convertido' THEN (SELECT id FROM customers WHERE org_id = $1) END)`,
			org.ID, u.ID, status, map[bool]string{true: "sin interés", false: ""}[status == "descartado"])
	}
	give(reps[0], "nuevo")
	give(reps[0], "cualificado")
	give(reps[1], "contactado")
	give(reps[2], "nuevo")
	// Closed leads do not count as load.
	for range 3 {
		give(reps[1], "descartado")
		give(reps[2], "convertido")
	}
	f := leads.LeadFacts{Source: "import", Country: "ES"}
	if got := who(assign(t, env, org.ID, f), names); got != "r1" {
		t.Errorf("tie r1/r2 at one open lead: got %s, want r1 (lowest id)", got)
	}
	give(reps[1], "nuevo")
	if got := who(assign(t, env, org.ID, f), names); got != "r2" {
		t.Errorf("r2 now has fewest: got %s", got)
	}
	setActive(env, reps[2], false)
	if got := who(assign(t, env, org.ID, f), names); got != "r0" {
		t.Errorf("r2 inactive, tie r0/r1: got %s, want r0", got)
	}
}

func notifyJobs(env *apptest.Env, userID int64) int {
	return env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND (args->>'user_id')::bigint = $1`, userID)
}

func TestCreateUnassignedByAdminIsAssignedByRulesAndNotified(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := rule(t, w.Env, queries.CreateLeadRuleParams{OrgID: w.Org.ID, Tag: "feria", Action: "user", UserID: &w.Admin.ID})

	// The rule gives the lead to the admin who created it: nobody to tell.
	res, id := create(t, w.AdminC, lead(map[string]string{"owner_id": "", "tags": "Feria"}))
	if res.Status != http.StatusSeeOther || id == "" {
		t.Fatalf("create: %d %.300s", res.Status, res.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE id = $1 AND owner_id = $2`, id, w.Admin.ID); n != 1 {
		t.Errorf("lead %s not owned by the rule's user", id)
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify'`); n != 0 {
		t.Errorf("%d notify jobs for a lead the creator got", n)
	}

	w.Env.Exec(`UPDATE lead_rules SET user_id = $1 WHERE id = $2`, w.Rep2.ID, r.ID)
	res, id = create(t, w.AdminC, lead(map[string]string{"owner_id": "", "tags": "feria", "name": "Papelería Luna"}))
	if res.Status != http.StatusSeeOther || id == "" {
		t.Fatalf("create: %d %.300s", res.Status, res.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE id = $1 AND owner_id = $2`, id, w.Rep2.ID); n != 1 {
		t.Errorf("lead %s not owned by rep2", id)
	}
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND (args->>'user_id')::bigint = $1 AND args->>'link' = $2 AND args->>'title_id' = 'leads.assigned_title'`,
		w.Rep2.ID, "/leads/"+id); n != 1 {
		t.Errorf("notify jobs for rep2: %d, want 1", n)
	}

	// No rule matches: the admin's lead stays unassigned and nobody is told.
	res, id = create(t, w.AdminC, lead(map[string]string{"owner_id": "", "name": "Bazar Norte"}))
	if res.Status != http.StatusSeeOther || id == "" {
		t.Fatalf("create: %d %.300s", res.Status, res.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE id = $1 AND owner_id IS NULL`, id); n != 1 {
		t.Errorf("unmatched lead %s got an owner", id)
	}
	if n := notifyJobs(w.Env, w.Rep2.ID); n != 1 {
		t.Errorf("notify jobs for rep2: %d, want still 1", n)
	}

	// A rep's own lead is theirs, rules or not.
	res, id = create(t, w.Rep2C, lead(map[string]string{"tags": "feria", "name": "Kiosco Sur"}))
	if res.Status != http.StatusSeeOther || w.Env.Count(`SELECT count(*) FROM leads WHERE id = $1 AND owner_id = $2`, id, w.Rep2.ID) != 1 {
		t.Errorf("rep's own lead: %d", res.Status)
	}
	if n := notifyJobs(w.Env, w.Rep2.ID); n != 1 {
		t.Errorf("rep notified about their own lead: %d jobs", n)
	}
}

func TestRulesPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.Env
	gone := env.User(w.Org, "gone@leads.test", web.RoleRep)
	setActive(env, gone, false)
	other := env.Org("Ajena S.L.")
	stranger := env.User(other, "stranger@ajena.test", web.RoleRep)
	id := func(u queries.User) string { return strconv.FormatInt(u.ID, 10) }

	for _, c := range []*apptest.Client{w.RepC, w.ManagerC} {
		if r := c.Get("/admin/lead-rules"); r.Status != http.StatusForbidden {
			t.Errorf("non-admin GET: %d, want 403", r.Status)
		}
		if r := c.Post("/admin/lead-rules", url.Values{"name": {"x"}, "action": {"user"}, "user_id": {id(w.Rep)}}); r.Status != http.StatusForbidden {
			t.Errorf("non-admin POST: %d, want 403", r.Status)
		}
	}
	if r := w.AdminC.Get("/admin/lead-rules"); r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="rule-form"`) {
		t.Fatalf("admin GET: %d %.300s", r.Status, r.Body)
	}

	bad := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"no name", url.Values{"action": {"user"}, "user_id": {id(w.Rep)}}, "name"},
		{"user action without user", url.Values{"name": {"r"}, "action": {"user"}}, "user_id"},
		{"inactive user", url.Values{"name": {"r"}, "action": {"user"}, "user_id": {id(gone)}}, "user_id"},
		{"another org's user", url.Values{"name": {"r"}, "action": {"user"}, "user_id": {id(stranger)}}, "user_id"},
		{"team action without manager", url.Values{"name": {"r"}, "action": {"round_robin"}, "user_id": {id(w.Rep)}}, "team_manager_id"},
		{"a rep is no team manager", url.Values{"name": {"r"}, "action": {"fewest_open"}, "team_manager_id": {id(w.Rep)}}, "team_manager_id"},
		{"unknown action", url.Values{"name": {"r"}, "action": {"lottery"}}, "action"},
		{"unknown source", url.Values{"name": {"r"}, "source": {"fax"}, "action": {"user"}, "user_id": {id(w.Rep)}}, "source"},
		{"unknown country", url.Values{"name": {"r"}, "country": {"FR"}, "action": {"user"}, "user_id": {id(w.Rep)}}, "country"},
		{"unknown field", url.Values{"name": {"r"}, "field": {"password"}, "field_op": {"equals"}, "field_value": {"x"}, "action": {"user"}, "user_id": {id(w.Rep)}}, "field"},
		{"field without value", url.Values{"name": {"r"}, "field": {"city"}, "field_op": {"equals"}, "action": {"user"}, "user_id": {id(w.Rep)}}, "field_value"},
		{"field with unknown operator", url.Values{"name": {"r"}, "field": {"city"}, "field_op": {"regex"}, "field_value": {"x"}, "action": {"user"}, "user_id": {id(w.Rep)}}, "field_op"},
		{"field value too long", url.Values{"name": {"r"}, "field": {"city"}, "field_op": {"equals"}, "field_value": {strings.Repeat("x", 201)}, "action": {"user"}, "user_id": {id(w.Rep)}}, "field_value"},
		{"field value with control characters", url.Values{"name": {"r"}, "field": {"notes"}, "field_op": {"contains"}, "field_value": {"a\x00b"}, "action": {"user"}, "user_id": {id(w.Rep)}}, "field_value"},
	}
	for _, tc := range bad {
		r := w.AdminC.Post("/admin/lead-rules", tc.form)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="e-`+tc.field+`"`) {
			t.Errorf("%s: %d, want 422 with an error on %s; %.200s", tc.name, r.Status, tc.field, r.Body)
		}
	}
	if n := env.Count(`SELECT count(*) FROM lead_rules`); n != 0 {
		t.Fatalf("%d rules saved from bad input", n)
	}

	for _, f := range []url.Values{
		{"name": {"Madrid a Rep"}, "source": {"web_form"}, "province": {"Madrid"}, "action": {"user"}, "user_id": {id(w.Rep)}},
		{"name": {"Equipo por turnos"}, "country": {"MX"}, "tag": {"Feria"}, "field": {"email"}, "field_op": {"contains"}, "field_value": {"@acme.mx"}, "action": {"round_robin"}, "team_manager_id": {id(w.Manager)}},
	} {
		if r := w.AdminC.Post("/admin/lead-rules", f); r.Status != http.StatusSeeOther {
			t.Fatalf("add rule: %d %.300s", r.Status, r.Body)
		}
	}
	order := func() string {
		rows, err := env.DB.Query(context.Background(), `SELECT name FROM lead_rules WHERE org_id = $1 ORDER BY position, id`, w.Org.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, "|")
	}
	if o := order(); o != "Madrid a Rep|Equipo por turnos" {
		t.Fatalf("order %s", o)
	}
	if n := env.Count(`SELECT count(*) FROM lead_rules WHERE tag = 'feria' AND team_manager_id = $1 AND user_id IS NULL`, w.Manager.ID); n != 1 {
		t.Errorf("team rule stored wrong")
	}
	if n := env.Count(`SELECT count(*) FROM lead_rules WHERE field = 'email' AND field_op = 'contains' AND field_value = '@acme.mx'`); n != 1 {
		t.Errorf("field condition stored wrong")
	}
	if n := env.Count(`SELECT count(*) FROM lead_rules WHERE name = 'Madrid a Rep' AND field = '' AND field_op = '' AND field_value = ''`); n != 1 {
		t.Errorf("rule without a field condition stored one")
	}
	page := w.AdminC.Get("/admin/lead-rules")
	for _, want := range []string{"Madrid a Rep", "Equipo por turnos", w.Rep.Name, w.Manager.Name, "«@acme.mx»"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	var second int64
	if err := env.DB.QueryRow(context.Background(), `SELECT id FROM lead_rules WHERE name = 'Equipo por turnos'`).Scan(&second); err != nil {
		t.Fatal(err)
	}
	base := "/admin/lead-rules/" + strconv.FormatInt(second, 10)
	if r := w.AdminC.Post(base+"/up", nil); r.Status != http.StatusSeeOther || order() != "Equipo por turnos|Madrid a Rep" {
		t.Errorf("up: %d, order %s", r.Status, order())
	}
	if r := w.AdminC.Post(base+"/up", nil); r.Status != http.StatusSeeOther || order() != "Equipo por turnos|Madrid a Rep" {
		t.Errorf("up when first: %d, order %s", r.Status, order())
	}
	if r := w.AdminC.Post(base+"/down", nil); r.Status != http.StatusSeeOther || order() != "Madrid a Rep|Equipo por turnos" {
		t.Errorf("down: %d, order %s", r.Status, order())
	}
	// Pausing keeps the rule and its place; turning it on again restores it.
	if r := w.AdminC.Post(base+"/toggle", nil); r.Status != http.StatusSeeOther || env.Count(`SELECT count(*) FROM lead_rules WHERE id = $1 AND NOT active`, second) != 1 {
		t.Errorf("pause: %d", r.Status)
	}
	if page := w.AdminC.Get("/admin/lead-rules"); !strings.Contains(page.Body, `data-testid="rule-paused"`) {
		t.Error("paused rule not marked on the page")
	}
	if r := w.AdminC.Post(base+"/toggle", nil); r.Status != http.StatusSeeOther || env.Count(`SELECT count(*) FROM lead_rules WHERE id = $1 AND active`, second) != 1 {
		t.Errorf("resume: %d", r.Status)
	}
	if r := w.RepC.Post(base+"/toggle", nil); r.Status != http.StatusForbidden {
		t.Errorf("rep toggling: %d, want 403", r.Status)
	}
	if order() != "Madrid a Rep|Equipo por turnos" {
		t.Errorf("toggling moved the rule: %s", order())
	}
	if r := w.AdminC.Post(base+"/delete", nil); r.Status != http.StatusSeeOther || order() != "Madrid a Rep" {
		t.Errorf("delete: %d, order %s", r.Status, order())
	}
	if r := w.AdminC.Post(base+"/delete", nil); r.Status != http.StatusNotFound {
		t.Errorf("delete again: %d, want 404", r.Status)
	}

	// The default owner: only an active user of the org; "" clears it.
	for _, v := range []string{id(gone), id(stranger), "abc"} {
		if r := w.AdminC.Post("/admin/lead-rules/default", url.Values{"default_owner_id": {v}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="e-default_owner_id"`) {
			t.Errorf("default %s: %d, want 422", v, r.Status)
		}
	}
	if n := env.Count(`SELECT count(*) FROM lead_settings`); n != 0 {
		t.Errorf("bad default saved")
	}
	if r := w.AdminC.Post("/admin/lead-rules/default", url.Values{"default_owner_id": {id(w.Rep2)}}); r.Status != http.StatusSeeOther {
		t.Errorf("default: %d", r.Status)
	}
	if n := env.Count(`SELECT count(*) FROM lead_settings WHERE org_id = $1 AND default_owner_id = $2`, w.Org.ID, w.Rep2.ID); n != 1 {
		t.Errorf("default not saved")
	}
	if r := w.AdminC.Post("/admin/lead-rules/default", url.Values{"default_owner_id": {""}}); r.Status != http.StatusSeeOther ||
		env.Count(`SELECT count(*) FROM lead_settings WHERE org_id = $1 AND default_owner_id IS NULL`, w.Org.ID) != 1 {
		t.Errorf("clearing default: %d", r.Status)
	}
}
