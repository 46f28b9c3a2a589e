package series_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

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
				got, err = series.Take(ctx, queries.New(tx), org.ID, series.Quote, "P", 2026)
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
	next, err := series.Take(ctx, env.Q, org.ID, series.Quote, "P", 2027)
	if err != nil || next.String() != "P-2027-0001" {
		t.Fatalf("new year: %v %v", next, err)
	}
	// Another org's series are its own.
	mine, err := series.Take(ctx, env.Q, other.ID, series.Quote, "P", 2026)
	if err != nil || mine.N != 1 {
		t.Fatalf("other org: %v %v", mine, err)
	}
}

func TestTakeRefusesBadCodesAndSharedSeries(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Series S.L.")
	ctx := context.Background()
	for _, code := range []string{"", "p", "P-1", "ABCDEFGHIJK", "P 1", "Ñ"} {
		if _, err := series.Take(ctx, env.Q, org.ID, series.Quote, code, 2026); !errors.Is(err, series.ErrCode) {
			t.Errorf("code %q: %v", code, err)
		}
	}
	if _, err := series.Take(ctx, env.Q, org.ID, series.Quote, "A", 2026); err != nil {
		t.Fatal(err)
	}
	if _, err := series.Take(ctx, env.Q, org.ID, series.Order, "A", 2026); !errors.Is(err, series.ErrKindMismatch) {
		t.Fatalf("order on a quote series: %v", err)
	}
	if _, err := series.Take(ctx, env.Q, org.ID, "nonsense", "B", 2026); err == nil {
		t.Fatal("unknown kind accepted")
	}
}
