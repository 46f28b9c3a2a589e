package leads_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/web"
	"pulso/queries"
)

// BenchmarkLeadSearch loads 200k leads into one org (COPY) and times the
// list query the search box runs — a substring of a name, e-mail or phone
// through the trigram index — against the same query's unfiltered first
// page. Target (issue 5): p95 ≤ 50 ms. Run with -benchtime=1x.
func BenchmarkLeadSearch(b *testing.B) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	env := apptest.New(b)
	org := env.Org("Search S.L.")
	rep := env.User(org, "rep@search.test", web.RoleRep)
	ctx := context.Background()
	words := []string{"ferretería", "panadería", "talleres", "distribuciones", "clínica", "asesoría", "construcciones", "farmacia", "bodegas", "transportes",
		"sol", "levante", "norte", "martínez", "guadalquivir", "ebro", "ruiz", "esperanza", "montaña", "costa", "isidro", "roble", "castilla"}
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([][]any, n)
	for i := range rows {
		name := fmt.Sprintf("%s %s %s %d", words[r.IntN(10)], words[10+r.IntN(13)], words[10+r.IntN(13)], i)
		rows[i] = []any{org.ID, name, fmt.Sprintf("c%d@%s.example", i, words[r.IntN(len(words))]),
			fmt.Sprintf("+346%08d", r.IntN(100_000_000)), "ES", "import", rep.ID, "nuevo"}
	}
	start := time.Now()
	if _, err := env.DB.CopyFrom(ctx, pgx.Identifier{"leads"}, []string{"org_id", "name", "email", "phone", "country", "source", "owner_id", "status"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	env.Exec(`ANALYZE leads`)
	b.Logf("loaded %d leads in %v", n, time.Since(start).Round(time.Millisecond))

	scope := []int64{rep.ID}
	timeQuery := func(search *string) time.Duration {
		t0 := time.Now()
		if _, err := env.Q.ListLeads(ctx, queries.ListLeadsParams{OrgID: org.ID, OwnerScope: scope, Search: search, PageSize: 26}); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	p95 := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)*95/100]
	}
	const runs = 200
	b.ResetTimer()
	var search, plain []time.Duration
	for i := 0; i < runs*b.N; i++ {
		// Half the searches are fragments of common words (many matches),
		// half look for one lead by its e-mail or number (one match: the
		// case an id-ordered scan would have to read the whole org for).
		var frag string
		if i%2 == 0 {
			w := []rune(words[r.IntN(len(words))])
			from := r.IntN(max(1, len(w)-3))
			frag = string(w[from:min(len(w), from+3+r.IntN(4))])
		} else {
			frag = fmt.Sprintf("c%d@", r.IntN(n))
		}
		pattern := "%" + frag + "%"
		search = append(search, timeQuery(&pattern))
		plain = append(plain, timeQuery(nil))
	}
	s, p := p95(search), p95(plain)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(s), "p95_ms_search")
	b.ReportMetric(ms(p), "p95_ms_plain")
	verdict := "MISS"
	if s <= 50*time.Millisecond {
		verdict = "PASS"
	}
	fmt.Printf("SUMMARY %-12s value %.1f ms p95 (target <= 50) %s — search through %d leads; ratio %.1f× the unfiltered first page (p95 %.2f ms)\n",
		"lead-search", ms(s), verdict, n, float64(s)/float64(p), ms(p))
}
