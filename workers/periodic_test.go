package workers

import (
	"testing"

	"github.com/riverqueue/river"
)

// A periodic pass must run again at its next interval. River's unique
// jobs count completed ones, so a pass unique by its args alone (always
// empty) would run once in a database's life, and one unique over a period
// longer than its interval would skip runs.
func TestPeriodicPassesRunAgain(t *testing.T) {
	for _, p := range periodic {
		opts := p.args.(interface{ InsertOpts() river.InsertOpts }).InsertOpts()
		u := opts.UniqueOpts
		if u.ByArgs && u.ByPeriod == 0 {
			t.Errorf("%s: unique by args with no period: it would run once", p.args.Kind())
		}
		if u.ByPeriod > p.every {
			t.Errorf("%s: unique over %v but scheduled every %v", p.args.Kind(), u.ByPeriod, p.every)
		}
	}
}
