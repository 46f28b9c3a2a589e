package leads_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"pulso/queries"
)

// activities lists a lead's timeline as "kind:actor:data", oldest first.
func activities(t *testing.T, w *world, id string) []string {
	t.Helper()
	rows, err := w.Env.DB.Query(context.Background(), `SELECT kind, COALESCE(actor_id, 0), data::text FROM activities WHERE lead_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, data string
		var actor int64
		if err := rows.Scan(&kind, &actor, &data); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%d:%s", kind, actor, data))
	}
	return out
}

func TestLeadChangesReachTheTimeline(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r, id := create(t, w.RepC, lead(map[string]string{"email": "compras@sol.es"}))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.Status)
	}
	edit := lead(map[string]string{"name": "Ferretería Sol Nueva", "email": "compras@sol.es", "status": "contactado", "version": "1", "owner_id": fmt.Sprint(w.Rep.ID)})
	if r := w.RepC.Post("/leads/"+id, edit); r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %.300s", r.Status, r.Body)
	}
	reassign := lead(map[string]string{"name": "Ferretería Sol Nueva", "email": "compras@sol.es", "status": "contactado", "version": "2", "owner_id": fmt.Sprint(w.Rep2.ID)})
	if r := w.AdminC.Post("/leads/"+id, reassign); r.Status != http.StatusSeeOther {
		t.Fatalf("reassign: %d %.300s", r.Status, r.Body)
	}
	if r, _ := create(t, w.AdminC, lead(map[string]string{"email": "compras@sol.es", "city": "Teruel", "merge_into": id})); r.Status != http.StatusSeeOther {
		t.Fatalf("merge: %d", r.Status)
	}
	got := activities(t, w, id)
	want := []string{
		fmt.Sprintf("created:%d:{}", w.Rep.ID),
		fmt.Sprintf(`updated:%d:{"changes": {"name": ["Ferretería Sol", "Ferretería Sol Nueva"], "status": ["nuevo", "contactado"]}}`, w.Rep.ID),
		fmt.Sprintf(`assigned:%d:{"changes": {"owner": ["User rep@leads.test", "User rep2@leads.test"]}}`, w.Admin.ID),
		fmt.Sprintf(`merged:%d:{"changes": {"city": ["", "Teruel"]}}`, w.Admin.ID),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	page := w.Rep2C.Get("/leads/" + id)
	for _, s := range []string{"Asignado", "User rep2@leads.test", "Datos añadidos desde un duplicado", "Teruel", "Datos cambiados"} {
		if !strings.Contains(page.Body, s) {
			t.Errorf("lead page lacks %q", s)
		}
	}
	// A failed edit (stale version) leaves no entry.
	if r := w.RepC.Post("/leads/"+id, edit); r.Status == http.StatusSeeOther {
		t.Fatal("stale edit saved")
	}
	if n := len(activities(t, w, id)); n != 4 {
		t.Errorf("%d entries after a refused edit", n)
	}
}

func TestRuleAssignmentIsASystemEntry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if _, err := w.Env.Q.CreateLeadRule(context.Background(), queries.CreateLeadRuleParams{OrgID: w.Org.ID, Name: "Todo a rep2", Action: "user", UserID: &w.Rep2.ID}); err != nil {
		t.Fatal(err)
	}
	r, id := create(t, w.AdminC, lead(map[string]string{"owner_id": ""}))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %.300s", r.Status, r.Body)
	}
	got := activities(t, w, id)
	if len(got) != 2 || got[0] != fmt.Sprintf("created:%d:{}", w.Admin.ID) || got[1] != `assigned:0:{"changes": {"owner": ["", "User rep2@leads.test"]}}` {
		t.Errorf("timeline %v", got)
	}
}
