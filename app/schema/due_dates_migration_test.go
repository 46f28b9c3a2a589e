package schema_test

import (
	"context"
	"testing"
)

// Migration 0036 on invoices issued before it: each gets its due date from
// its customer's payment terms (none for one that names no recipient),
// drafts and proformas none, and the issued rows stay frozen afterwards.
func TestMigrationBackfillsDueDates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, p := migrated(t, 35)
	const parties = `'{"issuer": {"name": "Antigua"}, "locale": "es", "zone": "Europe/Madrid"}'`
	for _, sql := range []string{
		`INSERT INTO orgs (name, country, currency, time_zone) VALUES ('Antigua S.L.', 'ES', 'EUR', 'Europe/Madrid')`,
		`INSERT INTO customers (org_id, legal_name, country, payment_terms_days) SELECT id, 'Cliente', 'ES', 45 FROM orgs`,
		`INSERT INTO invoices (org_id, customer_id, kind, fiscal_type, state, series, number, year, full_number, issue_date, total, currency, parties, issued_at)
			SELECT o.id, c.id, 'ordinary', 'F1', 'issued', 'F', 1, 2025, 'F2025-1', '2025-03-10', 1000, 'EUR', ` + parties + `, now()
			FROM orgs o JOIN customers c ON c.org_id = o.id`,
		`INSERT INTO invoices (org_id, kind, fiscal_type, state, series, number, year, full_number, issue_date, total, currency, parties, issued_at)
			SELECT id, 'simplified', 'F2', 'issued', 'FS', 1, 2025, 'FS2025-1', '2025-03-11', 500, 'EUR', ` + parties + `, now() FROM orgs`,
		`INSERT INTO invoices (org_id, customer_id, kind, fiscal_type, state, series, total, currency)
			SELECT o.id, c.id, 'ordinary', 'F1', 'draft', 'F', 0, 'EUR' FROM orgs o JOIN customers c ON c.org_id = o.id`,
		`INSERT INTO invoices (org_id, customer_id, kind, state, issue_date, total, currency, parties, issued_at)
			SELECT o.id, c.id, 'proforma', 'issued', '2025-03-12', 700, 'EUR', ` + parties + `, now() FROM orgs o JOIN customers c ON c.org_id = o.id`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	migrateTo(t, p, 36)
	rows, err := pool.Query(ctx, `SELECT kind || '/' || state || ':' || coalesce(due_date::text, '-') FROM invoices ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	want := []string{"ordinary/issued:2025-04-24", "simplified/issued:2025-03-11", "ordinary/draft:-", "proforma/issued:-"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %s, want %s", i, got[i], want[i])
		}
	}
	// The trigger is back on: an issued row's due date cannot change.
	if _, err := pool.Exec(ctx, `UPDATE invoices SET due_date = due_date + 1 WHERE kind = 'ordinary' AND state = 'issued'`); err == nil {
		t.Error("after the migration an issued invoice's due date changed")
	}
	// And it goes down and up again.
	migrateTo(t, p, 35)
	migrateTo(t, p, 36)
}
