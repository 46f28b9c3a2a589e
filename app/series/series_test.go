package series_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/series"
	"pulso/queries"
)

func TestNumberString(t *testing.T) {
	for _, c := range []struct {
		n    series.Number
		want string
	}{
		{series.Number{Code: "P", Year: 2026, N: 1}, "P-2026-0001"},
		{series.Number{Code: "FR", Year: 2027, N: 9999}, "FR-2027-9999"},
		{series.Number{Code: "P", Year: 2026, N: 10000}, "P-2026-10000"},
	} {
		if got := c.n.String(); got != c.want {
			t.Errorf("%+v = %q, want %q", c.n, got, c.want)
		}
	}
}

// Forty concurrent issuers, every third rolling back: the committed numbers
// are exactly 1..k with no gap and no repeat, and a new year starts at 1.
func TestTakeIsGaplessUnderConcurrencyAndRollback(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Series S.L.")
	other := env.Org("Otra S.L.")
	ctx := context.Background()
	var mu sync.Mutex
	var committed []int
	var wg sync.WaitGroup
	errRollback := errors.New("rollback")
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got series.Number
			err := pgx.BeginFunc(ctx, env.DB, func(tx pgx.Tx) error {
				var err error
				got, err = series.Take(ctx, queries.New(tx), org.ID, series.Quote, "P", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
				if err != nil {
					return err
				}
				if i%3 == 0 {
					return errRollback
				}
				return nil
			})
			if errors.Is(err, errRollback) {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			committed = append(committed, got.N)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(committed)
	for i, n := range committed {
		if n != i+1 {
			t.Fatalf("committed numbers %v: a gap or a repeat at %d", committed, i)
		}
	}
	if len(committed) != 26 {
		t.Fatalf("%d committed, want 26", len(committed))
	}
	next, err := series.Take(ctx, env.Q, org.ID, series.Quote, "P", time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || next.String() != "P-2027-0001" {
		t.Fatalf("new year: %v %v", next, err)
	}
	// Another org's series are its own.
	mine, err := series.Take(ctx, env.Q, other.ID, series.Quote, "P", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || mine.N != 1 {
		t.Fatalf("other org: %v %v", mine, err)
	}
}

func TestTakeRefusesBadCodesAndSharedSeries(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Series S.L.")
	ctx := context.Background()
	for _, code := range []string{"", "p", "P-1", "ABCDEFGHIJK", "P 1", "Ñ"} {
		if _, err := series.Take(ctx, env.Q, org.ID, series.Quote, code, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, series.ErrCode) {
			t.Errorf("code %q: %v", code, err)
		}
	}
	if _, err := series.Take(ctx, env.Q, org.ID, series.Quote, "A", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if _, err := series.Take(ctx, env.Q, org.ID, series.Order, "A", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, series.ErrKindMismatch) {
		t.Fatalf("order on a quote series: %v", err)
	}
	if _, err := series.Take(ctx, env.Q, org.ID, "nonsense", "B", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

// A series remembers the latest date it numbered in a year: Take hands it
// back (an earlier date gets the later one, which is how invoices refuse a
// date before their series' last), a rollback forgets it with the number,
// and each year and org keeps its own.
func TestTakeKeepsTheLatestDate(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Fechas S.L.")
	ctx := context.Background()
	day := func(m, d int) time.Time { return time.Date(2026, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	if last, err := series.LastDate(ctx, env.Q, org.ID, "F", 2026); err != nil || !last.IsZero() {
		t.Fatalf("before any number: %v %v", last, err)
	}
	for _, step := range []struct {
		on, latest time.Time
		n          int
	}{{day(3, 10), day(3, 10), 1}, {day(3, 12), day(3, 12), 2}, {day(3, 11), day(3, 12), 3}, {day(3, 12), day(3, 12), 4}} {
		n, err := series.Take(ctx, env.Q, org.ID, series.Invoice, "F", step.on)
		if err != nil || n.N != step.n || !n.Latest.Equal(step.latest) {
			t.Fatalf("take on %s: %+v %v, want number %d latest %s", step.on.Format(time.DateOnly), n, err, step.n, step.latest.Format(time.DateOnly))
		}
	}
	// A number taken in a transaction that rolls back leaves no date.
	errRollback := errors.New("rollback")
	err := pgx.BeginFunc(ctx, env.DB, func(tx pgx.Tx) error {
		if _, err := series.Take(ctx, queries.New(tx), org.ID, series.Invoice, "F", day(5, 1)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if last, err := series.LastDate(ctx, env.Q, org.ID, "F", 2026); err != nil || !last.Equal(day(3, 12)) {
		t.Fatalf("after a rollback: %v %v", last, err)
	}
	// A time of day in a zone counts as that zone's calendar day.
	madrid, _ := time.LoadLocation("Europe/Madrid")
	if n, err := series.Take(ctx, env.Q, org.ID, series.Invoice, "F", time.Date(2027, 1, 1, 0, 30, 0, 0, madrid)); err != nil ||
		n.Year != 2027 || n.N != 1 || n.Latest.Format(time.DateOnly) != "2027-01-01" {
		t.Fatalf("new year in Madrid: %+v %v", n, err)
	}
	other := env.Org("Otra S.L.")
	if n, err := series.Take(ctx, env.Q, other.ID, series.Invoice, "F", day(1, 2)); err != nil || !n.Latest.Equal(day(1, 2)) {
		t.Fatalf("other org: %+v %v", n, err)
	}
}
