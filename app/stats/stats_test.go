package stats

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/apptest/testdb"
	"pulso/queries"
)

// world is an org in a zone three hours behind UTC (so a deal made at
// 01:00 UTC on the 1st belongs to the previous month), with a manager, two
// reps on their team, one rep on nobody's, product groups, cancel reasons
// and customers.
type world struct {
	t                  *testing.T
	db                 *pgxpool.Pool
	q                  *queries.Queries
	org                int64
	zone               *time.Location
	manager            int64
	reps               []int64 // reps[0], reps[1] on the manager's team
	groups, reasons    []int64
	customers          []int64
	leads, deals, tsks []int64
	quotes             []int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db := testdb.NewDB(t)
	w := &world{t: t, db: db, q: queries.New(db)}
	o, err := w.q.CreateOrg(context.Background(), queries.CreateOrgParams{Name: "Cifras SA", Country: "AR", Currency: "ARS",
		TimeZone: "America/Argentina/Buenos_Aires"})
	if err != nil {
		t.Fatal(err)
	}
	w.org = o.ID
	w.zone, _ = time.LoadLocation(o.TimeZone)
	user := func(name, role string) int64 {
		u, err := w.q.CreateUser(context.Background(), queries.CreateUserParams{OrgID: w.org, Email: name + "@cifras.test",
			Name: name, Role: role, Locale: "es", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	w.manager = user("marta", "manager")
	w.reps = []int64{user("rosa", "rep"), user("raul", "rep"), user("rita", "rep")}
	w.exec(`UPDATE users SET manager_id = $1 WHERE id = ANY($2)`, w.manager, w.reps[:2])
	for _, name := range []string{"Climatización", "Mantenimiento"} {
		w.groups = append(w.groups, w.id(`INSERT INTO article_groups (org_id, name) VALUES ($1, $2) RETURNING id`, w.org, name))
	}
	for _, name := range []string{"Precio", "Competencia", "Sin presupuesto"} {
		w.reasons = append(w.reasons, w.id(`INSERT INTO cancel_reasons (org_id, name) VALUES ($1, $2) RETURNING id`, w.org, name))
	}
	for i := range 4 {
		w.customers = append(w.customers, w.id(`INSERT INTO customers (org_id, legal_name, country, owner_id) VALUES ($1, $2, 'AR', $3) RETURNING id`,
			w.org, fmt.Sprintf("Cliente %d", i), w.reps[i%3]))
	}
	return w
}

func (w *world) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.db.Exec(context.Background(), sql, args...); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
}

func (w *world) id(sql string, args ...any) int64 {
	w.t.Helper()
	var id int64
	if err := w.db.QueryRow(context.Background(), sql, args...).Scan(&id); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
	return id
}

var (
	stages  = []string{"en_analisis", "oferta_presentada", "en_negociacion", "ganada", "cancelada"}
	sources = []string{"manual", "import", "web_form", "email", "api"}
)

// changes makes n random changes, each a plain SQL statement like the ones
// the app's paths (board, forms, imports, signing, demo seed) run, at times
// that cluster around month boundaries of the org's zone.
func (w *world) changes(r *rand.Rand, n int) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, w.zone)
	when := func() time.Time {
		// A month boundary of the org's zone ± up to 6 hours, or anywhere.
		m := base.AddDate(0, r.IntN(15)-12, 0)
		if r.IntN(2) == 0 {
			return m.Add(time.Duration(r.IntN(12*60)-6*60) * time.Minute)
		}
		return m.Add(time.Duration(r.IntN(28*24)) * time.Hour)
	}
	owner := func() *int64 {
		if r.IntN(6) == 0 {
			return nil
		}
		all := append([]int64{w.manager}, w.reps...)
		return &all[r.IntN(len(all))]
	}
	pick := func(ids []int64) int64 { return ids[r.IntN(len(ids))] }
	group := func() *int64 {
		if r.IntN(3) == 0 {
			return nil
		}
		return &w.groups[r.IntN(len(w.groups))]
	}
	for range n {
		switch op := r.IntN(20); {
		case op < 2 || len(w.leads) == 0:
			w.leads = append(w.leads, w.id(`INSERT INTO leads (org_id, name, country, source, owner_id, created_at)
				VALUES ($1, 'Lead', 'AR', $2, $3, $4) RETURNING id`, w.org, sources[r.IntN(5)], owner(), when()))
		case op < 3:
			w.exec(`UPDATE leads SET owner_id = $2, source = $3 WHERE org_id = $1 AND id = $4`, w.org, owner(), sources[r.IntN(5)], pick(w.leads))
		case op < 6 || len(w.deals) == 0:
			at := when()
			var lead *int64
			if r.IntN(3) == 0 {
				l := pick(w.leads)
				lead = &l
			}
			var closes *time.Time
			if r.IntN(4) > 0 {
				c := at.AddDate(0, r.IntN(8), 0)
				closes = &c
			}
			w.deals = append(w.deals, w.id(`INSERT INTO opportunities (org_id, customer_id, title, amount, stage, probability,
				expected_close, owner_id, source_lead_id, article_group_id, created_at, stage_entered_at)
				VALUES ($1, $2, 'Trato', $3, $4, $5, $6::timestamptz::date, $7, $8, $9, $10, $10) RETURNING id`,
				w.org, pick(w.customers), r.IntN(1_000_000), stages[r.IntN(3)], r.IntN(101), closes, owner(), lead, group(), at))
		case op < 10:
			// A move, forward or back, some hours or weeks after the last.
			d, st := pick(w.deals), stages[r.IntN(5)]
			var reason *int64
			if st == "cancelada" {
				reason = &w.reasons[r.IntN(len(w.reasons))]
			}
			w.exec(`UPDATE opportunities SET stage = $3, cancel_reason_id = $4,
				stage_entered_at = stage_entered_at + make_interval(hours => $5) WHERE org_id = $1 AND id = $2`,
				w.org, d, st, reason, r.IntN(24*40))
		case op < 11:
			w.exec(`UPDATE opportunities SET owner_id = $3 WHERE org_id = $1 AND id = $2`, w.org, pick(w.deals), owner())
		case op < 12:
			w.exec(`UPDATE opportunities SET amount = $3, probability = $4 WHERE org_id = $1 AND id = $2`,
				w.org, pick(w.deals), r.IntN(2_000_000), r.IntN(101))
		case op < 13:
			w.exec(`UPDATE opportunities SET source = $3, article_group_id = $4, expected_close = expected_close + 20
				WHERE org_id = $1 AND id = $2`, w.org, pick(w.deals), sources[r.IntN(5)], group())
		case op < 14:
			w.exec(`UPDATE opportunities SET deleted_at = CASE WHEN deleted_at IS NULL THEN now() END WHERE org_id = $1 AND id = $2`,
				w.org, pick(w.deals))
		case op < 15:
			// The demo seed's backdating: a deal and its first history row.
			d, at := pick(w.deals), when()
			w.exec(`UPDATE opportunity_stage_history SET changed_at = $3 WHERE org_id = $1 AND opportunity_id = $2 AND from_stage IS NULL`, w.org, d, at)
			w.exec(`UPDATE opportunities SET created_at = $3 WHERE org_id = $1 AND id = $2`, w.org, d, at)
		case op < 17 || len(w.tsks) == 0:
			due := when()
			var sla *time.Time
			if r.IntN(3) > 0 {
				s := due.Add(time.Duration(r.IntN(72)) * time.Hour)
				sla = &s
			}
			w.tsks = append(w.tsks, w.id(`INSERT INTO tasks (org_id, title, type, due_at, assignee_id, sla_deadline)
				VALUES ($1, 'Tarea', $2, $3, $4, $5) RETURNING id`,
				w.org, []string{"llamada", "visita", "email", "reunion", "otra"}[r.IntN(5)], due, *owner2(owner(), w.reps[0]), sla))
		case op < 19:
			// Done (in time or late), cancelled, reopened or handed over.
			t := pick(w.tsks)
			switch r.IntN(4) {
			case 0, 1:
				w.exec(`UPDATE tasks SET status = 'hecha', completed_at = coalesce(sla_deadline, due_at) + make_interval(hours => $3)
					WHERE org_id = $1 AND id = $2`, w.org, t, r.IntN(48)-30)
			case 2:
				w.exec(`UPDATE tasks SET status = $3, completed_at = NULL WHERE org_id = $1 AND id = $2`, w.org, t,
					[]string{"pendiente", "cancelada"}[r.IntN(2)])
			default:
				w.exec(`UPDATE tasks SET assignee_id = $3 WHERE org_id = $1 AND id = $2`, w.org, t, *owner2(owner(), w.reps[1]))
			}
		default:
			w.quoteChange(r, when, owner2(owner(), w.reps[2]), pick)
		}
	}
	// Leads the way an import writes them: many rows in one statement
	// (several months, owners and sources), then one statement that moves
	// some to another owner and leaves others as they were, and one that
	// deletes several (0049: the leads rollup is kept per statement).
	w.exec(`INSERT INTO leads (org_id, name, country, source, owner_id, created_at)
		SELECT $1, 'Importado ' || g, 'AR', (ARRAY['import', 'manual', 'web_form'])[1 + g % 3],
		       CASE WHEN g % 4 = 0 THEN NULL ELSE $2::bigint END, $3::timestamptz - make_interval(days => g * 7)
		FROM generate_series(1, 60) g`, w.org, w.reps[0], when())
	w.exec(`UPDATE leads SET owner_id = CASE WHEN id % 2 = 0 THEN $2::bigint ELSE owner_id END
		WHERE org_id = $1 AND name LIKE 'Importado %'`, w.org, w.reps[1])
	w.exec(`DELETE FROM leads WHERE org_id = $1 AND name LIKE 'Importado %' AND id % 3 = 0`, w.org)
	// A deal erased outright (not the app's way, but the rollups follow).
	if len(w.deals) > 3 {
		w.exec(`DELETE FROM tasks WHERE org_id = $1 AND opportunity_id = $2`, w.org, w.deals[0])
		w.exec(`UPDATE quotes SET opportunity_id = NULL WHERE org_id = $1 AND opportunity_id = $2`, w.org, w.deals[0])
		w.exec(`UPDATE leads SET opportunity_id = NULL WHERE org_id = $1 AND opportunity_id = $2`, w.org, w.deals[0])
		w.exec(`DELETE FROM opportunities WHERE org_id = $1 AND id = $2`, w.org, w.deals[0])
		w.deals = w.deals[1:]
	}
}

func owner2(o *int64, fallback int64) *int64 {
	if o == nil {
		return &fallback
	}
	return o
}

// quoteChange makes a quote and sends it, or opens, signs or rejects one.
func (w *world) quoteChange(r *rand.Rand, when func() time.Time, owner *int64, pick func([]int64) int64) {
	if len(w.quotes) == 0 || r.IntN(3) == 0 {
		var deal *int64
		if r.IntN(2) == 0 && len(w.deals) > 0 {
			d := pick(w.deals)
			deal = &d
		}
		at := when()
		id := w.id(`INSERT INTO quotes (org_id, customer_id, opportunity_id, owner_id, number, status)
			VALUES ($1, $2, $3, $4, $5, 'sent') RETURNING id`,
			w.org, pick(w.customers), deal, *owner, fmt.Sprintf("P-%d", len(w.quotes)+1))
		w.exec(`INSERT INTO quote_versions (org_id, quote_id, n, status, valid_until, currency, total, sent_at, parties, pdf, pdf_sha256)
			VALUES ($1, $2, 1, 'sent', ($3::timestamptz + interval '30 days')::date, 'ARS', $4, $3, '{}', '\x00', 'x')`, w.org, id, at, r.IntN(500_000))
		w.quotes = append(w.quotes, id)
		return
	}
	q := pick(w.quotes)
	switch r.IntN(3) {
	case 0:
		w.exec(`UPDATE quotes SET first_opened_at = coalesce(first_opened_at,
			(SELECT sent_at FROM quote_versions WHERE org_id = $1 AND quote_id = $2 AND n = 1) + make_interval(mins => $3))
			WHERE org_id = $1 AND id = $2`, w.org, q, r.IntN(5000))
	default:
		kind := []string{"signed", "rejected"}[r.IntN(2)]
		var done int
		_ = w.db.QueryRow(context.Background(), `SELECT count(*) FROM quote_events WHERE org_id = $1 AND quote_id = $2`, w.org, q).Scan(&done)
		if done > 0 {
			return
		}
		w.exec(`INSERT INTO quote_events (org_id, quote_id, version_n, kind, at, signer_name, signature_png, document_sha256)
			SELECT $1, $2, 1, $3, sent_at + make_interval(hours => $4), 'Firmante', '\x00', 'x'
			FROM quote_versions WHERE org_id = $1 AND quote_id = $2 AND n = 1`, w.org, q, kind, r.IntN(2000))
		w.exec(`UPDATE quote_versions SET status = $3 WHERE org_id = $1 AND quote_id = $2 AND n = 1`, w.org, q, kind)
		w.exec(`UPDATE quotes SET status = $3 WHERE org_id = $1 AND id = $2`, w.org, q, kind)
	}
}

// compare runs every public reader and its naive twin for f over s and
// fails on the first difference.
func (w *world) compare(label string, f Filter, s Span, now time.Time) {
	w.t.Helper()
	ctx, q := context.Background(), w.q
	today := time.Date(now.In(w.zone).Year(), now.In(w.zone).Month(), now.In(w.zone).Day(), 0, 0, 0, 0, time.UTC)
	same := func(what string, fast, naive any, err1, err2 error) {
		w.t.Helper()
		if err1 != nil || err2 != nil {
			w.t.Fatalf("%s %s: %v / %v", label, what, err1, err2)
		}
		if !reflect.DeepEqual(fast, naive) {
			w.t.Errorf("%s %s over %v–%v:\nrollup %+v\nnaive  %+v", label, what, s.From, s.To, fast, naive)
		}
	}
	a1, e1 := Pipeline(ctx, q, f)
	a2, e2 := pipelineNaive(ctx, q, f)
	same("Pipeline", a1, a2, e1, e2)
	b1, e1 := DealOutcomes(ctx, q, f, s)
	b2, e2 := dealOutcomesNaive(ctx, q, f, s)
	same("DealOutcomes", b1, b2, e1, e2)
	c1, e1 := Activities(ctx, q, f, s, now)
	c2, e2 := activitiesNaive(ctx, q, f, s, now)
	same("Activities", c1, c2, e1, e2)
	d1, e1 := TaskSLA(ctx, q, f, s)
	d2, e2 := taskSLANaive(ctx, q, f, s)
	same("TaskSLA", d1, d2, e1, e2)
	g1, e1 := Quotes(ctx, q, f, s, today)
	g2, e2 := quotesNaive(ctx, q, f, s, today)
	same("Quotes", g1, g2, e1, e2)
	h1, e1 := Invoiced(ctx, q, f.OrgID, s, today)
	h2, e2 := invoicedNaive(ctx, q, f.OrgID, s, today)
	same("Invoiced", h1, h2, e1, e2)
	i1, e1 := Transitions(ctx, q, f, s)
	i2, e2 := transitionsNaive(ctx, q, f, s)
	same("Transitions", i1, i2, e1, e2)
	j1, e1 := LostReasons(ctx, q, f, s)
	j2, e2 := lostReasonsNaive(ctx, q, f, s)
	same("LostReasons", j1, j2, e1, e2)
	k1, e1 := Forecast(ctx, q, f, s.From, s.Months())
	k2, e2 := forecastNaive(ctx, q, f, s.From, s.Months())
	same("Forecast", k1, k2, e1, e2)
	for _, m := range Measures {
		for _, d := range Dimensions {
			t1, e1 := Table(ctx, q, f, m, d, s)
			t2, e2 := tableNaive(ctx, q, f, m, d, s)
			same(fmt.Sprintf("Table(%s, %s)", m, d), t1, t2, e1, e2)
		}
	}
}

func (w *world) filters() map[string]Filter {
	return map[string]Filter{
		"everyone": {OrgID: w.org},
		"team":     {OrgID: w.org, Owners: []int64{w.manager, w.reps[0], w.reps[1]}},
		"one rep":  {OrgID: w.org, Owners: []int64{w.reps[0]}},
		"nobody":   {OrgID: w.org, Owners: []int64{}},
		"source":   {OrgID: w.org, Source: "web_form"},
		"group":    {OrgID: w.org, GroupID: w.groups[0]},
		"rep+src":  {OrgID: w.org, Owners: []int64{w.reps[1]}, Source: "manual", GroupID: w.groups[1]},
	}
}

// The rollups kept by triggers answer what the naive queries over the
// base tables answer, after many random changes, month by month around the
// zone's boundaries and over the whole range, for every filter.
func TestRollupsEqualNaive(t *testing.T) {
	w := newWorld(t)
	r := rand.New(rand.NewPCG(16, 2026))
	now := time.Now()
	for round := range 3 {
		w.changes(r, 250)
		for label, f := range w.filters() {
			w.compare(fmt.Sprintf("round %d %s", round, label), f, Span{From: Month{2024, time.December}, To: Month{2026, time.April}}, now)
		}
		if t.Failed() {
			return
		}
	}
	for m := (Month{2025, time.January}); m.Before(Month{2026, time.March}); m = m.Add(1) {
		for label, f := range w.filters() {
			w.compare(label, f, Span{From: m, To: m.Add(1)}, now)
		}
	}
	if n := w.count(`SELECT count(*) FROM opportunities WHERE org_id = $1 AND deleted_at IS NOT NULL`); n == 0 {
		t.Error("no deal was deleted: the random changes miss a case")
	}
	if n := w.count(`SELECT count(*) FROM opportunity_stage_history WHERE org_id = $1 AND from_stage IN ('ganada', 'cancelada')`); n == 0 {
		t.Error("no deal moved back from a closed stage")
	}
	if n := w.count(`SELECT sum(n) FROM stats_deal_facts WHERE org_id = $1 AND kind = 'won'`); n == 0 {
		t.Error("nothing won: the comparison proves little")
	}
}

func (w *world) count(sql string) int64 {
	w.t.Helper()
	var n *int64
	if err := w.db.QueryRow(context.Background(), sql, w.org).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	if n == nil {
		return 0
	}
	return *n
}

// rollups is every rollup row of the org that holds something (a key
// whose counts went back to zero may stay as a row of zeros).
func (w *world) rollups() []string {
	w.t.Helper()
	rows, err := w.db.Query(context.Background(), `
		SELECT 'f' || row(f.*)::text FROM stats_deal_facts f WHERE org_id = $1 AND (n, from_lead, amount, cycle_seconds) <> (0, 0, 0, 0)
		UNION ALL SELECT 'o' || row(o.*)::text FROM stats_deal_open o WHERE org_id = $1 AND (n, amount, weighted) <> (0, 0, 0)
		UNION ALL SELECT 'm' || row(m.*)::text FROM stats_stage_moves m WHERE org_id = $1 AND (n, seconds) <> (0, 0)
		UNION ALL SELECT 't' || row(t.*)::text FROM stats_task_facts t WHERE org_id = $1 AND (done, sla_met, sla_open) <> (0, 0, 0)
		UNION ALL SELECT 'l' || row(l.*)::text FROM stats_lead_facts l WHERE org_id = $1 AND n <> 0
		UNION ALL SELECT 'q' || row(q.*)::text FROM stats_quote_facts q WHERE org_id = $1
		ORDER BY 1`, w.org)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// Rebuild computes from scratch exactly what the triggers kept, and a
// rebuild of every org leaves other orgs' rollups as they were.
func TestRebuildEqualsTriggers(t *testing.T) {
	w := newWorld(t)
	w.changes(rand.New(rand.NewPCG(7, 7)), 400)
	kept := w.rollups()
	if len(kept) < 50 {
		t.Fatalf("only %d rollup rows", len(kept))
	}
	if err := Rebuild(context.Background(), w.db, w.org); err != nil {
		t.Fatal(err)
	}
	if got := w.rollups(); !reflect.DeepEqual(got, kept) {
		t.Errorf("rebuild gives %d rows, triggers kept %d", len(got), len(kept))
		for i := range min(len(got), len(kept)) {
			if got[i] != kept[i] {
				t.Fatalf("first difference:\nrebuild %s\ntriggers %s", got[i], kept[i])
			}
		}
	}
	// Wiping the rollups and rebuilding all orgs restores them.
	w.exec(`DELETE FROM stats_deal_facts`)
	w.exec(`DELETE FROM stats_stage_moves`)
	w.exec(`DELETE FROM stats_quote_facts`)
	if err := Rebuild(context.Background(), w.db, 0); err != nil {
		t.Fatal(err)
	}
	if got := w.rollups(); !reflect.DeepEqual(got, kept) {
		t.Errorf("rebuild of all orgs gives %d rows, want %d", len(got), len(kept))
	}
	if err := Rebuild(context.Background(), w.db, w.org+1000); !errors.Is(err, ErrInput) {
		t.Errorf("rebuild of a missing org: %v", err)
	}
}

func TestMonthAndSpan(t *testing.T) {
	madrid, _ := time.LoadLocation("Europe/Madrid")
	mexico, _ := time.LoadLocation("America/Mexico_City")
	for _, c := range []struct {
		at   time.Time
		zone *time.Location
		want Month
	}{
		{time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC), madrid, Month{2026, time.February}},
		{time.Date(2026, 1, 31, 22, 30, 0, 0, time.UTC), madrid, Month{2026, time.January}},
		{time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC), mexico, Month{2026, time.February}},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), mexico, Month{2025, time.December}},
		{time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC), time.UTC, Month{2026, time.July}},
	} {
		if got := MonthOf(c.at, c.zone); got != c.want {
			t.Errorf("MonthOf(%v, %v) = %v, want %v", c.at, c.zone, got, c.want)
		}
	}
	for _, c := range []struct {
		m    Month
		n    int
		want Month
	}{
		{Month{2026, time.January}, -1, Month{2025, time.December}},
		{Month{2026, time.December}, 1, Month{2027, time.January}},
		{Month{2026, time.March}, -14, Month{2025, time.January}},
		{Month{2026, time.March}, 0, Month{2026, time.March}},
		{Month{2026, time.March}, 24, Month{2028, time.March}},
	} {
		if got := c.m.Add(c.n); got != c.want {
			t.Errorf("%v.Add(%d) = %v, want %v", c.m, c.n, got, c.want)
		}
	}
	for _, c := range []struct {
		s    Span
		n    int
		okay bool
	}{
		{Span{Month{2026, time.March}, Month{2026, time.April}}, 1, true},
		{Span{Month{2025, time.November}, Month{2026, time.February}}, 3, true},
		{Span{Month{2026, time.March}, Month{2026, time.March}}, 0, false},
		{Span{Month{2026, time.April}, Month{2026, time.March}}, -1, false},
		{Span{Month{2026, 0}, Month{2026, time.March}}, 3, false},
		{Span{Month{2000, time.January}, Month{2030, time.January}}, 360, false},
	} {
		if got := c.s.Months(); got != c.n {
			t.Errorf("%v months = %d, want %d", c.s, got, c.n)
		}
		if err := c.s.check(); (err == nil) != c.okay {
			t.Errorf("%v check: %v", c.s, err)
		}
	}
	if got := (Month{2026, time.March}).String(); got != "2026-03" {
		t.Errorf("String = %q", got)
	}
	if !(Month{2025, time.December}).Before(Month{2026, time.January}) || (Month{2026, time.January}).Before(Month{2026, time.January}) {
		t.Error("Before")
	}
}

// Bad input is an ErrInput, never a panic or a database error.
func TestBadInput(t *testing.T) {
	w := newWorld(t)
	ctx, q := context.Background(), w.q
	ok := Filter{OrgID: w.org}
	span := Span{Month{2026, time.January}, Month{2026, time.February}}
	cases := map[string]error{}
	_, cases["unknown measure"] = Table(ctx, q, ok, "profit", ByRep, span)
	_, cases["unknown dimension"] = Table(ctx, q, ok, WonAmount, "planet", span)
	_, cases["empty measure"] = Table(ctx, q, ok, "", ByNone, span)
	_, cases["no org"] = Pipeline(ctx, q, Filter{})
	_, cases["negative group"] = DealOutcomes(ctx, q, Filter{OrgID: w.org, GroupID: -1}, span)
	_, cases["odd source"] = Transitions(ctx, q, Filter{OrgID: w.org, Source: "x'; DROP"}, span)
	_, cases["zero owner"] = Activities(ctx, q, Filter{OrgID: w.org, Owners: []int64{0}}, span, time.Now())
	_, cases["empty span"] = TaskSLA(ctx, q, ok, Span{span.From, span.From})
	_, cases["reversed span"] = Quotes(ctx, q, ok, Span{span.To, span.From}, time.Now())
	_, cases["month 13"] = LostReasons(ctx, q, ok, Span{Month{2026, 13}, Month{2027, 2}})
	_, cases["billing no org"] = Invoiced(ctx, q, 0, span, time.Now())
	_, cases["forecast 0 months"] = Forecast(ctx, q, ok, span.From, 0)
	_, cases["forecast 1000 months"] = Forecast(ctx, q, ok, span.From, 1000)
	cases["rebuild negative org"] = Rebuild(ctx, w.db, -1)
	for name, err := range cases {
		if !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v, want ErrInput", name, err)
		}
	}
}

// The forecast adds what recurring templates will issue, on the schedule
// app/invoices/recurring owns: a monthly template on the 31st issues in
// every month (on the last day of short ones) from its next period on, a
// quarterly one every third month until its end; a paused one never; and
// what they bill is their lines before tax.
func TestForecastRecurring(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	template := func(freq string, day int, start, next string, end *string, active bool) {
		id := w.id(`INSERT INTO recurring_invoices (org_id, customer_id, name, frequency, day, start_on, next_period, end_on, active)
			VALUES ($1, $2, 'Cuota', $3, $4, $5, $6, $7, $8) RETURNING id`, w.org, w.customers[0], freq, day, start, next, end, active)
		// 2 × 100,00 at 10 % off, and 1 × 0,05: 180,05 a period.
		w.exec(`INSERT INTO recurring_invoice_lines (org_id, template_id, position, description, quantity, unit_price, discount_pct, tax_rate_id)
			VALUES ($1, $2, 1, 'Mantenimiento', 2, 10000, 10, (SELECT min(id) FROM tax_rates)),
			       ($1, $2, 2, 'Redondeo', 1, 5, 0, (SELECT min(id) FROM tax_rates))`, w.org, id)
	}
	end := "2027-05-31"
	template("monthly", 31, "2026-01-31", "2027-01-31", nil, true)
	template("quarterly", 15, "2026-11-15", "2027-02-15", &end, true)
	template("monthly", 1, "2026-01-01", "2027-01-01", nil, false)
	// An open deal closing in February, weighted 40 %.
	w.exec(`INSERT INTO opportunities (org_id, customer_id, title, amount, probability, expected_close) VALUES ($1, $2, 'Trato', 100000, 40, '2027-02-10')`,
		w.org, w.customers[0])
	got, err := Forecast(ctx, w.q, Filter{OrgID: w.org}, Month{2026, time.December}, 8)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Month][3]int64{
		{2026, time.December}: {0, 0, 0},
		{2027, time.January}:  {0, 0, 18005},
		{2027, time.February}: {1, 40000, 36010},
		{2027, time.March}:    {0, 0, 18005},
		{2027, time.April}:    {0, 0, 18005},
		{2027, time.May}:      {0, 0, 36010},
		{2027, time.June}:     {0, 0, 18005},
		{2027, time.July}:     {0, 0, 18005},
	}
	if len(got) != 8 {
		t.Fatalf("%d months", len(got))
	}
	for _, m := range got {
		if w := want[m.Month]; [3]int64{m.Deals, m.Weighted, m.Recurring} != w {
			t.Errorf("%v: deals %d weighted %d recurring %d, want %v", m.Month, m.Deals, m.Weighted, m.Recurring, w)
		}
	}
	naive, err := forecastNaive(ctx, w.q, Filter{OrgID: w.org}, Month{2026, time.December}, 8)
	if err != nil || !reflect.DeepEqual(naive, got) {
		t.Errorf("naive forecast %v (%v)", naive, err)
	}
	// A rep's forecast: templates of their customers only.
	mine, err := Forecast(ctx, w.q, Filter{OrgID: w.org, Owners: []int64{w.reps[1]}}, Month{2027, time.January}, 1)
	if err != nil || mine[0].Recurring != 0 {
		t.Errorf("another rep's customer's templates in a rep's forecast: %+v %v", mine, err)
	}
}
