package quotes_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/app/quotes"
	"pulso/app/web"
)

func benchPNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, h/2+(x%9)-4, color.NRGBA{20, 40, 160, 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func benchDoc(lines int, signed bool) quotes.Document {
	d := quotes.Document{Kind: "quote", Number: "P-2026-0042", Version: 2, Issued: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
		ValidUntil: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Locale: "es", Currency: "EUR",
		Seller: quotes.Party{Name: "Pulso Demo S.L.", TaxID: "B12345674", Address: "Calle Mayor 1, 28013 Madrid"},
		Buyer:  quotes.Party{Name: "Ferretería Ebro S.L. (Ana Ruiz)", TaxID: "B87654321", Address: "Av. Goya 10, 50006 Zaragoza", Email: "compras@ebro.test"},
		Logo:   benchPNG(240, 80), Terms: "Pago a 30 días. Portes incluidos en pedidos superiores a 300 €."}
	var ls []quotes.Line
	for i := range lines {
		ls = append(ls, quotes.Line{Quantity: decimal.NewFromInt(int64(i%5 + 1)), UnitPrice: int64(1999 + i*137),
			DiscountPct: decimal.NewFromInt(int64(i % 3 * 5)), TaxRate: decimal.NewFromInt(21)})
	}
	t, _ := quotes.Compute(ls)
	d.Totals = t
	for i, l := range ls {
		d.Lines = append(d.Lines, quotes.PrintLine{Description: fmt.Sprintf("Artículo %d — taladro, broca o servicio de montaje con descripción larga", i+1),
			Quantity: l.Quantity.String(), Unit: "ud", UnitPrice: l.UnitPrice, DiscountPct: l.DiscountPct.String(), TaxRate: "21", Amount: t.Lines[i]})
	}
	if signed {
		d.Signature = &quotes.Signature{Name: "Ana Ruiz", At: d.Issued.Add(time.Hour), IP: "203.0.113.7", PNG: benchPNG(600, 200),
			SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
	}
	return d
}

func p95(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)*95/100]
}

// BenchmarkQuotePDF renders a signed 20-line quote with logo and signature
// (the heaviest PDF a quote makes) and, in the same run, a one-line quote
// as the baseline. Target: p95 ≤ 25 ms per 20-line quote. Run with
// -benchtime=1x.
func BenchmarkQuotePDF(b *testing.B) {
	full, base := benchDoc(20, true), benchDoc(1, false)
	run := func(d quotes.Document) time.Duration {
		t0 := time.Now()
		if _, err := quotes.RenderPDF(d); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	for range 20 {
		run(full)
		run(base)
	}
	const runs = 300
	b.ResetTimer()
	var fs, bs []time.Duration
	for i := 0; i < b.N*runs; i++ {
		fs = append(fs, run(full))
		bs = append(bs, run(base))
	}
	fp, bp := p95(fs), p95(bs)
	b.ReportMetric(float64(fp.Microseconds())/1000, "ms_p95_20_lines")
	verdict := "PASS"
	if fp > 25*time.Millisecond {
		verdict = "MISS"
	}
	fmt.Printf("SUMMARY %-12s value %.2f ms p95 target ≤ 25 ms %s — signed 20-line quote with logo; %.1f× a one-line quote's p95 (%.2f ms)\n",
		"quote-pdf", float64(fp.Microseconds())/1000, verdict, float64(fp)/float64(bp), float64(bp.Microseconds())/1000)
}

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
	env.Exec(`INSERT INTO quote_links (org_id, quote_id, version_n, token, token_hash, expires_at)
		SELECT $1, id, 1, $2::text, sha256($2::text::bytea), now() + interval '30 days' FROM quotes WHERE org_id = $1`, org.ID, token)
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
		buf := make([]byte, quotes.TokenBytes)
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
