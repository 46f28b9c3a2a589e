package engine_test

import (
	"context"
	"testing"

	"pulso/app/imports/engine"
	"pulso/app/web"
)

func TestImportPortfolio(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	rep := w.Rep
	boss := w.Env.User(w.Org, "jefa@imp.test", web.RoleManager)
	w.Env.Exec(`INSERT INTO customers (org_id, legal_name, tax_id, country) VALUES ($1, 'Uno S.L.', 'B12345674', 'ES'), ($1, 'Dos S.L.', 'A58818501', 'ES')`, w.Org.ID)
	file := xlsxFile(t, [][]any{
		{"Cliente", "Agente", "Agente personalizado", "Billing inicial", "Valor recomendado", "Billing final", "Billing diferencia"},
		{"b-12345674", "rep@imp.test", "", "1.234,56", "2000", "1500.00", "265,44"}, // 2 good
		{"A58818501", "rep@imp.test", "JEFA@imp.test", "10", "", "10", "0"},         // 3 good, the custom agent wins
		{"B87654321", "rep@imp.test", "", "1", "", "1", ""},                         // 4 unknown customer
		{"A58818501", "nadie@imp.test", "", "1", "", "1", ""},                       // 5 unknown agent
		{"A58818501", "rep@imp.test", "", "10", "", "12", "3"},                      // 6 difference mismatch
		{"A58818501", "rep@imp.test", "", "1,2,3", "", "", ""},                      // 7 bad amount
	})
	imp := w.upload(t, "portfolio", "cartera.xlsx", "xlsx", "", file, engine.AutoMap(engine.PortfolioFields, engine.PortfolioHeaders))
	if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil {
		t.Fatal(err)
	}
	got := w.get(t, imp.ID)
	if got.Status != "done" || got.Inserted != 2 || got.Errors != 4 {
		t.Fatalf("portfolio: %s updated %d errors %d skipped %d", got.Status, got.Inserted, got.Errors, got.Skipped)
	}
	if n := w.Env.Count(`SELECT count(*) FROM customers WHERE org_id = $1 AND tax_id = 'B12345674' AND owner_id = $2
		AND billing_initial = 123456 AND billing_recommended = 200000 AND billing_final = 150000`, w.Org.ID, rep.ID); n != 1 {
		t.Error("customer Uno not reassigned with exact figures")
	}
	if n := w.Env.Count(`SELECT count(*) FROM customers WHERE org_id = $1 AND tax_id = 'A58818501' AND owner_id = $2 AND billing_final = 1000`, w.Org.ID, boss.ID); n != 1 {
		t.Error("Agente personalizado did not override Agente")
	}
}
