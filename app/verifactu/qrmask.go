package verifactu

import (
	"math/bits"
	"sync"

	goqr "github.com/piglig/go-qr"
)

// ISO/IEC 18004 §7.8 has the encoder apply each of the eight mask patterns
// and keep the one whose symbol scores the least penalty under four rules.
// piglig/go-qr scores module by module over [][]bool; on an invoice's QR
// (version 7–9) that was 0.4 ms, a fifth of the CPU an issued invoice costs
// (BENCHMARKS.md, "Invoicing"). Here the symbol is held as one machine word
// a row and one a column: a mask is an XOR, and the rules walk runs of
// modules (rules 1 and 3) or count bits (rules 2 and 4). The scoring is the
// reference encoder's (Nayuki's, which piglig ports) to the point, so the
// symbol is the one the library would draw; TestQRMatchesReferenceEncoder
// compares them module by module.

// Penalty weights N1–N4 of ISO/IEC 18004 Table 11.
const (
	penaltyRun    = 3  // N1: five or more modules of one colour in a line
	penaltyBlock  = 3  // N2: a 2×2 block of one colour
	penaltyFinder = 40 // N3: a 1:1:3:1:1 finder-like pattern with light beside it
	penaltyDark   = 10 // N4: each 5 % the dark share strays from half
)

// maxWordSize is the widest symbol a row fits in one word: version 11. An
// invoice's URL needs version 7 to 10; a longer text goes to the library's
// own mask selection.
const maxWordSize = 64

// qrLayout is what a version fixes: which modules are function patterns,
// each mask's pattern over the others, and each mask's format bits, all as
// row words (bit x of row y) and column words (bit y of column x).
type qrLayout struct {
	size       int
	maskRows   [8][]uint64 // the mask's inversions, data modules only
	maskCols   [8][]uint64
	formatRows [8][]uint64 // the format information of level M and the mask
	formatCols [8][]uint64
}

var layouts sync.Map // version → *qrLayout

func layoutOf(version int) *qrLayout {
	if l, ok := layouts.Load(version); ok {
		return l.(*qrLayout)
	}
	l, _ := layouts.LoadOrStore(version, newLayout(version))
	return l.(*qrLayout)
}

func newLayout(version int) *qrLayout {
	n := version*4 + 17
	l := &qrLayout{size: n}
	function := make([][]bool, n) // [y][x]
	for y := range function {
		function[y] = make([]bool, n)
	}
	mark := func(x, y int) {
		if x >= 0 && y >= 0 && x < n && y < n {
			function[y][x] = true
		}
	}
	for i := range n {
		mark(6, i) // timing patterns
		mark(i, 6)
	}
	// The finders with their separators and format areas: 9×9 modules at
	// the top left, 8 wide by 9 high at the top right, 9 wide by 8 high at
	// the bottom left.
	for y := range 9 {
		for x := range 9 {
			mark(x, y)
			if x < 8 {
				mark(n-1-x, y)
			}
			if y < 8 {
				mark(x, n-1-y)
			}
		}
	}
	if align := alignmentCentres(version); len(align) > 0 {
		last := len(align) - 1
		for i, cy := range align {
			for j, cx := range align {
				if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
					continue // under a finder
				}
				for dy := -2; dy <= 2; dy++ {
					for dx := -2; dx <= 2; dx++ {
						mark(cx+dx, cy+dy)
					}
				}
			}
		}
	}
	if version >= 7 {
		for i := range 18 {
			mark(n-11+i%3, i/3)
			mark(i/3, n-11+i%3)
		}
	}
	for m := range 8 {
		l.maskRows[m], l.maskCols[m] = make([]uint64, n), make([]uint64, n)
		for y := range n {
			for x := range n {
				if !function[y][x] && maskInverts(m, x, y) {
					l.maskRows[m][y] |= 1 << x
					l.maskCols[m][x] |= 1 << y
				}
			}
		}
		l.formatRows[m], l.formatCols[m] = make([]uint64, n), make([]uint64, n)
		for _, f := range formatModules(n, m) {
			l.formatRows[m][f.y] |= 1 << f.x
			l.formatCols[m][f.x] |= 1 << f.y
		}
	}
	return l
}

// alignmentCentres are the row and column coordinates of the alignment
// patterns' centres (ISO/IEC 18004 Annex E), as the reference encoder
// computes them.
func alignmentCentres(version int) []int {
	if version == 1 {
		return nil
	}
	num := version/7 + 2
	step := (version*4 + num*2 + 1) / (num*2 - 2) * 2
	if version == 32 {
		step = 26
	}
	c := make([]int, num)
	c[0] = 6
	for i, pos := num-1, version*4+17-7; i >= 1; i, pos = i-1, pos-step {
		c[i] = pos
	}
	return c
}

// maskInverts is mask pattern m's condition (ISO/IEC 18004 Table 10) at
// column x, row y.
func maskInverts(m, x, y int) bool {
	switch m {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (x/3+y/2)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

type module struct{ x, y int }

// formatModules are the dark modules of the format information of level M
// with mask m, both copies, and the dark module beside the lower one
// (ISO/IEC 18004 §7.9).
func formatModules(n, m int) []module {
	data := goqr.Medium.FormatBits()<<3 | m
	rem := data
	for range 10 {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	word := (data<<10 | rem) ^ 0x5412
	var dark []module
	set := func(x, y, bit int) {
		if word>>bit&1 == 1 {
			dark = append(dark, module{x, y})
		}
	}
	for i := range 6 {
		set(8, i, i)
	}
	set(8, 7, 6)
	set(8, 8, 7)
	set(7, 8, 8)
	for i := 9; i < 15; i++ {
		set(14-i, 8, i)
	}
	for i := range 8 {
		set(n-1-i, 8, i)
	}
	for i := 8; i < 15; i++ {
		set(8, n-15+i, i)
	}
	return append(dark, module{8, n - 8})
}

// bestMasked turns code, drawn by the library with mask 0, into the symbol
// of least penalty: its modules row by row (bit x of word y). It reports
// false for a symbol wider than a word.
func bestMasked(code *goqr.QrCode) ([]uint64, bool) {
	n := code.Size()
	if n > maxWordSize {
		return nil, false
	}
	l := layoutOf((n - 17) / 4)
	// The unmasked symbol without format information: what every mask
	// starts from.
	rows, cols := make([]uint64, n), make([]uint64, n)
	for y := range n {
		for x := range n {
			if code.Module(x, y) {
				rows[y] |= 1 << x
				cols[x] |= 1 << y
			}
		}
	}
	for i := range n {
		rows[i] ^= l.maskRows[0][i] ^ l.formatRows[0][i]
		cols[i] ^= l.maskCols[0][i] ^ l.formatCols[0][i]
	}
	best, bestScore := 0, -1
	r, c := make([]uint64, n), make([]uint64, n)
	for m := range 8 {
		for i := range n {
			r[i] = rows[i] ^ l.maskRows[m][i] ^ l.formatRows[m][i]
			c[i] = cols[i] ^ l.maskCols[m][i] ^ l.formatCols[m][i]
		}
		// The first of equal scores, as the reference encoder keeps.
		if s := penalty(r, c, n); bestScore < 0 || s < bestScore {
			best, bestScore = m, s
		}
	}
	for i := range n {
		rows[i] ^= l.maskRows[best][i] ^ l.formatRows[best][i]
	}
	return rows, true
}

// penalty is the symbol's score under the four rules, rows and columns
// given as words of n bits.
func penalty(rows, cols []uint64, n int) int {
	score := 0
	for i := range n {
		score += linePenalty(rows[i], n) + linePenalty(cols[i], n)
	}
	pairs := uint64(1)<<(n-1) - 1 // bit x: modules x and x+1 of a row
	dark := 0
	for y := range n {
		a := rows[y]
		dark += bits.OnesCount64(a)
		if y+1 < n {
			b := rows[y+1]
			same := ^(a ^ b)            // column x alike in both rows
			flat := ^(a ^ (a >> 1))     // modules x and x+1 of row y alike
			block := same & (same >> 1) // … and both alike in row y+1
			score += penaltyBlock * bits.OnesCount64(block&flat&pairs)
		}
	}
	total := n * n
	k := (abs(dark*20-total*10)+total-1)/total - 1
	return score + k*penaltyDark
}

// linePenalty scores one row or column for rules 1 and 3, run by run,
// exactly as the reference encoder does module by module: the light border
// around the symbol counts as n light modules before the first run and
// after the last, and a finder-like pattern is counted where a light run
// ends. h0…h6 are the last runs' lengths, newest first (plain variables:
// the history is shifted at every run).
func linePenalty(line uint64, n int) int {
	var h0, h1, h2, h3, h4, h5, h6 int
	score := 0
	dark, run := false, 0 // the line starts as if a light run were open
	for x := 0; x < n; {
		rest := line >> x
		d := rest&1 == 1
		l := bits.TrailingZeros64(rest)
		if d {
			l = bits.TrailingZeros64(^rest)
		}
		l = min(l, n-x)
		x += l
		if d == dark {
			run += l // only the first run, when it is light
		} else {
			if h0 == 0 {
				run += n // the border before the line
			}
			h6, h5, h4, h3, h2, h1, h0 = h5, h4, h3, h2, h1, h0, run
			if !dark {
				score += finders(h0, h1, h2, h3, h4, h5, h6) * penaltyFinder
			}
			dark, run = d, l
		}
		if run >= 5 { // the run is whole: l reaches its end
			score += penaltyRun + run - 5
		}
	}
	if dark {
		if h0 == 0 {
			run += n
		}
		h6, h5, h4, h3, h2, h1, h0 = h5, h4, h3, h2, h1, h0, run
		run = 0
	}
	run += n // the border after the line
	if h0 == 0 {
		run += n
	}
	h6, h5, h4, h3, h2, h1, h0 = h5, h4, h3, h2, h1, h0, run
	return score + finders(h0, h1, h2, h3, h4, h5, h6)*penaltyFinder
}

// finders counts the finder-like patterns the runs h1…h5 make (dark,
// light, dark ×3, light, dark in the ratio 1:1:3:1:1) with four times the
// unit of light on one side (h0 or h6) and at least the unit on the other.
func finders(h0, h1, h2, h3, h4, h5, h6 int) int {
	u := h1
	if u == 0 || h2 != u || h3 != 3*u || h4 != u || h5 != u {
		return 0
	}
	c := 0
	if h0 >= 4*u && h6 >= u {
		c++
	}
	if h6 >= 4*u && h0 >= u {
		c++
	}
	return c
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
