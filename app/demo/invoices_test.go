package demo_test

import (
	"context"
	"testing"

	"pulso/app/verifactu/ledger"
)

// The demo's billing: an invoice of every kind in the ES org's chain, each
// fiscal one with its VERI*FACTU record, seeded once however often the
// demo is seeded, and the first signed order left to invoice.
func seededBillingEveryKindOnce(t *testing.T, d *seededDemo) {
	env := d.env
	ctx := context.Background()
	const org = `(SELECT id FROM orgs WHERE name = 'Demo Ventas S.L.')`
	kinds := map[string]int{}
	// The counter tickets that put the org past 80 % of its plan aside
	// (TestSeedPlans counts them).
	rows, err := env.DB.Query(ctx, `SELECT kind || '/' || state, count(*) FROM invoices i WHERE org_id = `+org+`
		AND NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.org_id = i.org_id AND l.invoice_id = i.id AND l.description = 'Venta en mostrador')
		GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		kinds[k] = n
	}
	for k, want := range map[string]int{"simplified/issued": 1, "replacement/issued": 1, "summary/issued": 1,
		"ordinary/voided": 1, "proforma/draft": 1, "corrective/issued": 1} {
		if kinds[k] != want {
			t.Errorf("%s: %d invoices, want %d (all: %v)", k, kinds[k], want, kinds)
		}
	}
	// Every fiscal invoice has its alta, the voided one its anulación too,
	// in one chain without gaps.
	var altas, anulaciones, issued, maxSeq, records int
	if err := env.DB.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM verifactu_records WHERE org_id = `+org+` AND kind = 'alta'),
		(SELECT count(*) FROM verifactu_records WHERE org_id = `+org+` AND kind = 'anulacion'),
		(SELECT count(*) FROM invoices WHERE org_id = `+org+` AND state <> 'draft' AND kind <> 'proforma'),
		(SELECT max(seq) FROM verifactu_records WHERE org_id = `+org+`),
		(SELECT count(*) FROM verifactu_records WHERE org_id = `+org+`)`).Scan(&altas, &anulaciones, &issued, &maxSeq, &records); err != nil {
		t.Fatal(err)
	}
	if altas != issued || anulaciones != 1 || maxSeq != records {
		t.Errorf("records: %d altas for %d issued invoices, %d anulaciones, last seq %d of %d", altas, issued, anulaciones, maxSeq, records)
	}
	// The chain verifies as `pulso verifactu verify` checks it: every
	// huella recomputed from its XML, every link, the head. Every ES org
	// of the demo (the operator's too, whose charges are invoices).
	orgs, err := env.DB.Query(ctx, `SELECT id, name FROM orgs WHERE country = 'ES' AND EXISTS (SELECT 1 FROM verifactu_records r WHERE r.org_id = orgs.id)`)
	if err != nil {
		t.Fatal(err)
	}
	type esOrg struct {
		id   int64
		name string
	}
	var es []esOrg
	for orgs.Next() {
		var o esOrg
		if err := orgs.Scan(&o.id, &o.name); err != nil {
			t.Fatal(err)
		}
		es = append(es, o)
	}
	if err := orgs.Err(); err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		t.Fatal("no ES org of the demo has VERI*FACTU records")
	}
	for _, o := range es {
		chains, err := ledger.Verify(ctx, env.Q, o.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(chains) == 0 || !ledger.OK(chains) {
			t.Errorf("%s: the chain does not verify: %+v", o.name, chains)
		}
		for _, c := range chains {
			if c.Checked == 0 || int64(c.Checked) != c.Head {
				t.Errorf("%s: chain %s checked %d records up to head %d", o.name, c.IssuerNIF, c.Checked, c.Head)
			}
		}
	}
	// An invoice is overdue: issued, unpaid, past its due date.
	if n := env.Count(`SELECT count(*) FROM invoices i WHERE org_id = ` + org + ` AND state = 'issued' AND kind <> 'proforma'
		AND due_date < current_date AND total > (SELECT coalesce(sum(amount), 0) FROM invoice_allocations a WHERE a.org_id = i.org_id AND a.invoice_id = i.id)`); n < 1 {
		t.Error("no overdue invoice in the demo")
	}
	// A recurring template that issues and sends, from next month on.
	if n := env.Count(`SELECT count(*) FROM recurring_invoices WHERE org_id = ` + org + ` AND mode = 'issue_and_send' AND start_on > now()`); n != 1 {
		t.Errorf("%d recurring templates, want 1", n)
	}
	// The first signed order is left to invoice.
	var open int
	if err := env.DB.QueryRow(ctx, `SELECT count(*) FROM orders o WHERE o.org_id = `+org+`
		AND NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.org_id = o.org_id AND l.order_id = o.id)`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 1 {
		t.Errorf("%d uninvoiced orders, want 1", open)
	}
	// Mexico invoices too, internally, and records nothing.
	var mx, mxRecords int
	if err := env.DB.QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM verifactu_records r JOIN orgs o ON o.id = r.org_id WHERE o.country = 'MX')
		FROM invoices i JOIN orgs o ON o.id = i.org_id WHERE o.country = 'MX' AND i.state = 'issued'`).Scan(&mx, &mxRecords); err != nil {
		t.Fatal(err)
	}
	if mx != 1 || mxRecords != 0 {
		t.Errorf("MX: %d issued invoices, %d records; want 1 and 0", mx, mxRecords)
	}
}
