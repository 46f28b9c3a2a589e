package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"pulso/app/imports/engine"
	"pulso/app/leads"
	"pulso/app/web"
	"pulso/queries"
)

// The import assigns owners set-based (rules read once); the outcome must
// be what leads.AssignOwner gives lead by lead in file order.
func TestAssignerMatchesAssignOwner(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	q := w.Env.Q
	mgr := w.Env.User(w.Org, "jefa@imp.test", web.RoleManager)
	var reps []queries.User
	for i := range 4 {
		reps = append(reps, w.Env.User(w.Org, fmt.Sprintf("comercial%d@imp.test", i), web.RoleRep))
		w.Env.Exec(`UPDATE users SET manager_id = $1 WHERE id = $2`, mgr.ID, reps[i].ID)
	}
	w.Env.Exec(`UPDATE users SET active = false WHERE id = $1`, reps[2].ID)
	// rep0 already carries open leads, so fewest-open starts elsewhere.
	for i := range 3 {
		if _, err := q.CreateLead(ctx, queries.CreateLeadParams{OrgID: w.Org.ID, Name: fmt.Sprint("Previo ", i), Country: "ES",
			Source: "manual", Status: "nuevo", OwnerID: &reps[0].ID, Tags: []string{}}); err != nil {
			t.Fatal(err)
		}
	}
	rule := func(p queries.CreateLeadRuleParams) {
		p.OrgID = w.Org.ID
		if _, err := q.CreateLeadRule(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	rule(queries.CreateLeadRuleParams{Name: "Acme", Field: "email", FieldOp: "contains", FieldValue: "@ACME.es", Action: "user", UserID: &reps[1].ID})
	rule(queries.CreateLeadRuleParams{Name: "Sevilla", Province: "sevilla ", Action: "user", UserID: &reps[3].ID})
	rule(queries.CreateLeadRuleParams{Name: "Inactivo", Tag: "nadie", Action: "user", UserID: &reps[2].ID})
	rule(queries.CreateLeadRuleParams{Name: "VIP", Tag: "VIP", Action: "round_robin", TeamManagerID: &mgr.ID})
	rule(queries.CreateLeadRuleParams{Name: "Manual", Source: "manual", Action: "user", UserID: &reps[0].ID})
	rule(queries.CreateLeadRuleParams{Name: "Madrid", Province: "Madrid", Action: "fewest_open", TeamManagerID: &mgr.ID})
	if err := q.SetDefaultLeadOwner(ctx, queries.SetDefaultLeadOwnerParams{OrgID: w.Org.ID, DefaultOwnerID: &w.Admin.ID}); err != nil {
		t.Fatal(err)
	}
	rows := []assignRow{{"Sevilla", "", ""}, {"Madrid", "", ""}, {"", "vip", ""}, {"Madrid", "", ""}, {"", "vip,nadie", ""}, {"", "nadie", ""},
		{"Madrid", "vip", ""}, {"Madrid", "", ""}, {"Cádiz", "", ""}, {"SEVILLA", "vip", ""}, {"", "vip", ""}, {"Madrid", "", ""},
		{"Madrid", "", ""}, {"", "vip", ""}, {"Cádiz", "", "compras@acme.es"}, {"Cádiz", "", "x@other.es"}, {"Madrid", "", "ana@Acme.ES"}}

	// What AssignOwner decides, lead by lead, in a transaction rolled back.
	var want []string
	tx, err := w.Env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tq := q.WithTx(tx)
	for i, r := range rows {
		tags := []string{}
		if r.tags != "" {
			tags = strings.Split(r.tags, ",")
		}
		owner, err := leads.AssignOwner(ctx, tq, w.Org.ID, leads.LeadFacts{Source: "import", Country: "ES", Province: r.province, Tags: tags,
			Name: fmt.Sprint("Fila ", i), Email: strings.ToLower(r.email)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tq.CreateLead(ctx, queries.CreateLeadParams{OrgID: w.Org.ID, Name: fmt.Sprint("Fila ", i), Country: "ES",
			Source: "import", Status: "nuevo", OwnerID: owner, Tags: tags, Email: strings.ToLower(r.email)}); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprint(*owner))
	}
	_ = tx.Rollback(ctx)

	var csv strings.Builder
	csv.WriteString("Nombre;Provincia;Etiquetas;Email\n")
	for i, r := range rows {
		fmt.Fprintf(&csv, "Fila %d;%s;\"%s\";%s\n", i, r.province, r.tags, r.email)
	}
	imp := w.upload(t, "leads", "reglas.csv", "csv", "", []byte(csv.String()), engine.Mapping{"name": 0, "province": 1, "tags": 2, "email": 3})
	if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(rows))
	for i := range rows {
		var owner *int64
		if err := w.Env.DB.QueryRow(ctx, `SELECT owner_id FROM leads WHERE org_id = $1 AND name = $2`, w.Org.ID, fmt.Sprint("Fila ", i)).Scan(&owner); err != nil {
			t.Fatal(err)
		}
		got[i] = fmt.Sprint(*owner)
	}
	t.Logf("owners %v (admin %d)", want, w.Admin.ID)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("owners\n got %v\nwant %v", got, want)
	}
	// The field rule: an @acme.es address (any case) goes to its rep, one
	// from elsewhere falls through to the other rules (here the default).
	acme := fmt.Sprint(reps[1].ID)
	if got[14] != acme || got[16] != acme || got[15] == acme || got[15] != fmt.Sprint(w.Admin.ID) {
		t.Errorf("field rule: acme rows owned by %s and %s, other.es by %s (acme rep %s, default %d)", got[14], got[16], got[15], acme, w.Admin.ID)
	}
	// The round robin cursor moved as if each lead had been assigned alone.
	var cursor *int64
	if err := w.Env.DB.QueryRow(ctx, `SELECT rr_cursor FROM lead_rules WHERE org_id = $1 AND name = 'VIP'`, w.Org.ID).Scan(&cursor); err != nil {
		t.Fatal(err)
	}
	if cursor == nil || fmt.Sprint(*cursor) != lastRR(rows, want) {
		t.Errorf("cursor %v", cursor)
	}
}

// lastRR is the owner of the last row the VIP rule took (not Sevilla).
type assignRow struct{ province, tags, email string }

func lastRR(rows []assignRow, owners []string) string {
	last := ""
	for i, r := range rows {
		if strings.Contains(r.tags, "vip") && !strings.EqualFold(strings.TrimSpace(r.province), "sevilla") {
			last = owners[i]
		}
	}
	return last
}
