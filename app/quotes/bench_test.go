package quotes_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/app/web"
)

// BenchmarkClientLinkTiming answers the issue's "wrong or tampered token →
// 404 with no timing difference worth measuring": interleaved requests for
// random tokens and for a real token with its last character changed, over
// HTTP through the whole middleware chain; it prints both medians and their
// ratio (≈ 1.00 means an attacker learns nothing from timing).
func BenchmarkClientLinkTiming(b *testing.B) {
	env := apptest.New(b, func(c *config.Config) { c.ClientLinkRate = 1_000_000 })
	org := env.Org("Tiempos S.L.")
	u := env.User(org, "rep@tiempos.test", web.RoleRep)
	const token = "AbCdEfGhIjKlMnOpQrStUv"
	env.Exec(`INSERT INTO customers (org_id, legal_name, country) VALUES ($1, 'Cliente', 'ES')`, org.ID)
	env.Exec(`INSERT INTO quotes (org_id, customer_id, owner_id) SELECT $1, id, $2 FROM customers WHERE org_id = $1`, org.ID, u.ID)
	env.Exec(`INSERT INTO quote_versions (org_id, quote_id, n, valid_until, currency) SELECT $1, id, 1, current_date + 30, 'EUR' FROM quotes WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO quote_links (org_id, quote_id, version_n, token_hash, expires_at)
		SELECT $1, id, 1, sha256($2::text::bytea), now() + interval '30 days' FROM quotes WHERE org_id = $1`, org.ID, token)
	addr := env.Serve()
	client := &http.Client{}
	get := func(tok string) time.Duration {
		t0 := time.Now()
		res, err := client.Get("http://" + addr + "/q/" + tok)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			b.Fatalf("%s: %d", tok, res.StatusCode)
		}
		return time.Since(t0)
	}
	random := func() string {
		buf := make([]byte, 16)
		_, _ = rand.Read(buf)
		return base64.RawURLEncoding.EncodeToString(buf)
	}
	tampered := token[:len(token)-1] + "w"
	for range 100 {
		get(random())
		get(tampered)
	}
	const runs = 2000
	b.ResetTimer()
	var rs, ts []time.Duration
	for i := 0; i < b.N*runs; i++ {
		rs = append(rs, get(random()))
		ts = append(ts, get(tampered))
	}
	median := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	rm, tm := median(rs), median(ts)
	fmt.Printf("SUMMARY %-12s value %.3f ratio (tampered ÷ random token median) — %d µs vs %d µs per 404, %d requests each\n",
		"link-timing", float64(tm)/float64(rm), tm.Microseconds(), rm.Microseconds(), len(rs))
}
