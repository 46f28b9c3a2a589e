package printing_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"pulso/app/printing"
	"pulso/app/tax"
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

func benchDoc(lines int, signed bool) printing.Document {
	d := printing.Document{Kind: "quote", Number: "P-2026-0042", Version: 2, Issued: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
		ValidUntil: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Locale: "es", Currency: "EUR",
		Seller: printing.Party{Name: "Pulso Demo S.L.", TaxID: "B12345674", Address: "Calle Mayor 1, 28013 Madrid"},
		Buyer:  printing.Party{Name: "Ferretería Ebro S.L. (Ana Ruiz)", TaxID: "B87654321", Address: "Av. Goya 10, 50006 Zaragoza", Email: "compras@ebro.test"},
		Logo:   benchPNG(240, 80), Terms: "Pago a 30 días. Portes incluidos en pedidos superiores a 300 €."}
	var ls []tax.Line
	for i := range lines {
		ls = append(ls, tax.Line{Quantity: decimal.NewFromInt(int64(i%5 + 1)), UnitPrice: int64(1999 + i*137),
			DiscountPct: decimal.NewFromInt(int64(i % 3 * 5)), TaxRate: decimal.NewFromInt(21)})
	}
	t, _ := tax.Compute(ls)
	d.Totals = t
	for i, l := range ls {
		d.Lines = append(d.Lines, printing.Line{Description: fmt.Sprintf("Artículo %d — taladro, broca o servicio de montaje con descripción larga", i+1),
			Quantity: l.Quantity.String(), Unit: "ud", UnitPrice: l.UnitPrice, DiscountPct: l.DiscountPct.String(), TaxRate: "21", Amount: t.Lines[i]})
	}
	if signed {
		d.Signature = &printing.Signature{Name: "Ana Ruiz", At: d.Issued.Add(time.Hour), IP: "203.0.113.7", PNG: benchPNG(600, 200),
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
	run := func(d printing.Document) time.Duration {
		t0 := time.Now()
		if _, err := printing.Render(d); err != nil {
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
