package demo_test

import (
	"context"
	"testing"
	"time"
)

// The demo schedules one invoice send a couple of minutes ahead in the
// Spanish org, so that after `make run` it happens live; seeding again adds
// no second one.
func seededSchedulesAnInvoiceSend(t *testing.T, d *seededDemo) {
	env := d.env
	ctx := context.Background()
	before := d.before
	var n int
	var at time.Time
	if err := env.DB.QueryRow(ctx, `SELECT count(*), max(s.scheduled_at) FROM invoice_sends s JOIN orgs o ON o.id = s.org_id
		WHERE o.name = 'Demo Ventas S.L.' AND s.state = 'scheduled'`).Scan(&n, &at); err != nil {
		t.Fatal(err)
	}
	if n != 1 || at.Before(before.Add(2*time.Minute)) || at.After(time.Now().Add(4*time.Minute)) {
		t.Fatalf("%d scheduled sends, at %v (seeded at %v)", n, at, before)
	}
	if jobs := env.Count(`SELECT count(*) FROM river_job WHERE kind = 'invoice_send' AND scheduled_at = $1`, at); jobs != 1 {
		t.Errorf("%d jobs at the send's minute", jobs)
	}
}
