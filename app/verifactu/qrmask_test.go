package verifactu

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	goqr "github.com/piglig/go-qr"
)

// randomQRURL is an invoice's QR URL with varied parts: the NIFs, series
// (with characters that get percent-encoded), dates and totals an org
// issues, so the texts take versions 5 to 11 and every mask wins
// somewhere.
func randomQRURL(r *rand.Rand) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/ .&"
	series := make([]byte, 1+r.IntN(60))
	for i := range series {
		series[i] = chars[r.IntN(len(chars))]
	}
	date := time.Date(2025+r.IntN(3), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	total := fmt.Sprintf("%d.%02d", r.IntN(1_000_000), r.IntN(100))
	if r.IntN(5) == 0 {
		total = "-" + total
	}
	base := validarQRProduction
	if r.IntN(2) == 0 {
		base = validarQRTest
	}
	return qrURL(base, fmt.Sprintf("B%08d", r.IntN(100_000_000)), strings.TrimSpace(string(series))+"X", Date(date), total)
}

// The symbol NewQRCode draws is the reference encoder's (piglig/go-qr's
// own mask selection) module for module, over thousands of invoice URLs
// and a few texts of other lengths.
func TestQRMatchesReferenceEncoder(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	texts := []string{"a", strings.Repeat("1", 40), strings.Repeat("Ñandú ", 30), strings.Repeat("x", 300)}
	for range 3000 {
		texts = append(texts, randomQRURL(r))
	}
	masks := map[int]int{}
	sizes := map[int]int{}
	for _, text := range texts {
		got, err := NewQRCode(text)
		if err != nil {
			t.Fatal(err)
		}
		segs, err := goqr.MakeSegments(text)
		if err != nil {
			t.Fatal(err)
		}
		want, err := goqr.EncodeSegments(segs, goqr.Medium, 1, 40, -1, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.Size != want.Size() {
			t.Fatalf("%q: size %d, reference %d", text, got.Size, want.Size())
		}
		sizes[got.Size]++
		for y := range got.Size {
			for x := range got.Size {
				if got.Dark(x, y) != want.Module(x, y) {
					t.Fatalf("%q (%d modules wide): module (%d, %d) differs from the reference encoder's", text, got.Size, x, y)
				}
			}
		}
		masks[maskOf(got)]++
	}
	// The comparison means something only if every mask was the best for
	// some text.
	for m := range 8 {
		if masks[m] == 0 {
			t.Errorf("mask %d never chosen in %d texts: %v", m, len(texts), masks)
		}
	}
	t.Logf("masks chosen %v, sizes %v", masks, sizes)
}

// maskOf reads the mask number from the symbol's first format copy.
func maskOf(q *QRCode) int {
	word := 0
	for i, m := range []module{{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8}, {7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8}} {
		if q.Dark(m.x, m.y) {
			word |= 1 << i
		}
	}
	return (word ^ 0x5412) >> 10 & 7
}

// BenchmarkQRCode encodes invoice URLs with NewQRCode and, in the same
// run, with the reference encoder choosing the mask itself (the baseline).
func BenchmarkQRCode(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	texts := make([]string, 256)
	for i := range texts {
		texts[i] = randomQRURL(r)
	}
	var ours, ref time.Duration
	for i := range b.N {
		text := texts[i%len(texts)]
		t0 := time.Now()
		if _, err := NewQRCode(text); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(t0)
		t0 = time.Now()
		segs, _ := goqr.MakeSegments(text)
		if _, err := goqr.EncodeSegments(segs, goqr.Medium, 1, 40, -1, false); err != nil {
			b.Fatal(err)
		}
		ref += time.Since(t0)
	}
	b.ReportMetric(float64(ours.Microseconds())/float64(b.N), "µs/code")
	b.ReportMetric(float64(ref.Microseconds())/float64(b.N), "ref-µs/code")
	b.ReportMetric(ours.Seconds()/ref.Seconds(), "ratio")
}
