package schema_test

import (
	"context"
	"testing"
)

// Migration 0052 on series numbered before it: each invoice series and
// year gets the date of its latest numbered invoice (voided ones count:
// they keep their number), other series none, and it goes down and up.
func TestMigrationBackfillsSeriesLastDates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, p := migrated(t, 51)
	const parties = `'{"issuer": {"name": "Antigua"}, "locale": "es", "zone": "Europe/Madrid"}'`
	for _, sql := range []string{
		`INSERT INTO orgs (name, country, currency, time_zone) VALUES ('Antigua S.L.', 'ES', 'EUR', 'Europe/Madrid')`,
		`INSERT INTO number_series (org_id, kind, code, year, last_number) SELECT id, 'simplified', 'FS', 2025, 2 FROM orgs`,
		`INSERT INTO number_series (org_id, kind, code, year, last_number) SELECT id, 'simplified', 'FS', 2026, 1 FROM orgs`,
		`INSERT INTO number_series (org_id, kind, code, year, last_number) SELECT id, 'quote', 'P', 2025, 7 FROM orgs`,
		`INSERT INTO invoices (org_id, kind, fiscal_type, state, series, number, year, full_number, issue_date, total, currency, parties, issued_at, due_date)
			SELECT id, 'simplified', 'F2', 'issued', 'FS', 1, 2025, 'FS-2025-0001', '2025-03-10', 500, 'EUR', ` + parties + `, now(), '2025-03-10' FROM orgs`,
		`INSERT INTO invoices (org_id, kind, fiscal_type, state, series, number, year, full_number, issue_date, total, currency, parties, issued_at,
				due_date, voided_at, void_reason)
			SELECT id, 'simplified', 'F2', 'voided', 'FS', 2, 2025, 'FS-2025-0002', '2025-11-30', 500, 'EUR', ` + parties + `, now(), '2025-11-30', now(), 'Error'
			FROM orgs`,
		`INSERT INTO invoices (org_id, kind, fiscal_type, state, series, number, year, full_number, issue_date, total, currency, parties, issued_at, due_date)
			SELECT id, 'simplified', 'F2', 'issued', 'FS', 1, 2026, 'FS-2026-0001', '2026-01-02', 500, 'EUR', ` + parties + `, now(), '2026-01-02' FROM orgs`,
		`INSERT INTO invoices (org_id, kind, fiscal_type, state, series, total, currency) SELECT id, 'simplified', 'F2', 'draft', 'FS', 0, 'EUR' FROM orgs`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	migrateTo(t, p, 52)
	var got string
	if err := pool.QueryRow(ctx, `SELECT string_agg(code || year || ':' || coalesce(last_date::text, '-'), ' ' ORDER BY code, year) FROM number_series`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "FS2025:2025-11-30 FS2026:2026-01-02 P2025:-"; got != want {
		t.Errorf("last dates %q, want %q", got, want)
	}
	migrateTo(t, p, 51)
	migrateTo(t, p, 52)
}
