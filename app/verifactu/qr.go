package verifactu

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"strings"

	goqr "github.com/piglig/go-qr"
)

// The cotejo (validation) pages of the AEAT a VERI*FACTU invoice's QR
// points at (RULES.md "QR code and legend").
const (
	validarQRProduction = "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR"
	validarQRTest       = "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR"
)

// QRURL is the URL the invoice's QR code carries: the AEAT's ValidarQR
// page of env with exactly the four parameters nif, numserie, fecha and
// importe, in that order, taken from the alta's own texts (IDEmisorFactura,
// NumSerieFactura, FechaExpedicionFactura, ImporteTotal), so the QR, the
// record and its huella agree.
func QRURL(env Environment, a *Alta) string {
	base := validarQRProduction
	if env == Test {
		base = validarQRTest
	}
	return qrURL(base, a.IDFactura.IDEmisorFactura, a.IDFactura.NumSerieFactura, Date(a.IDFactura.FechaExpedicionFactura), Amount(a.ImporteTotal))
}

// qrURL percent-encodes each value as UTF-8 (& → %26, / → %2F). A space
// is written %20 rather than +: implementations differ, and %20 reads as
// a space under both the form and the URI rules (NumSerieFactura may hold
// spaces, although invoice numbers had better not).
func qrURL(base, nif, numserie, fecha, importe string) string {
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return base + "?nif=" + esc(nif) + "&numserie=" + esc(numserie) + "&fecha=" + esc(fecha) + "&importe=" + esc(importe)
}

// QRCode is the symbol of a QR code: Size × Size modules, without the
// quiet zone around it. The order HAC/1177/2024 asks for ISO/IEC 18004
// with error correction level M, printed between 30 and 40 mm wide, with
// a quiet zone of at least 2 mm; the PDF draws it from Dark as vector
// squares, or embeds PNG.
type QRCode struct {
	Size int
	dark []bool
}

// NewQRCode encodes text (the QRURL) at error correction level M exactly
// (never boosted to a higher level that happens to fit the same version),
// in the smallest version that holds it, with the mask of least penalty
// under the four rules of ISO/IEC 18004.
func NewQRCode(text string) (*QRCode, error) {
	// piglig/go-qr (a port of Nayuki's reference encoder) does this in a
	// fifth of the time and a hundredth of the allocations of
	// skip2/go-qrcode, which was most of the PDF's CPU at issue
	// (BenchmarkInvoiceIssuing, BENCHMARKS.md). It draws the symbol with
	// mask 0, and bestMasked picks the mask the library itself would: the
	// whole code in ≈ 0.4 of the library's time (BenchmarkQRCode).
	segs, err := goqr.MakeSegments(text)
	if err != nil {
		return nil, fmt.Errorf("verifactu: QR code: %w", err)
	}
	code, err := goqr.EncodeSegments(segs, goqr.Medium, 1, 40, 0, false)
	if err != nil {
		return nil, fmt.Errorf("verifactu: QR code: %w", err)
	}
	q := &QRCode{Size: code.Size(), dark: make([]bool, 0, code.Size()*code.Size())}
	rows, ok := bestMasked(code)
	if !ok {
		// Wider than a word: the library chooses the mask itself.
		if code, err = goqr.EncodeSegments(segs, goqr.Medium, 1, 40, -1, false); err != nil {
			return nil, fmt.Errorf("verifactu: QR code: %w", err)
		}
	}
	for y := range q.Size {
		for x := range q.Size {
			if ok {
				q.dark = append(q.dark, rows[y]>>x&1 == 1)
			} else {
				q.dark = append(q.dark, code.Module(x, y))
			}
		}
	}
	return q, nil
}

// Len is the code's width in modules (printing.Modules).
func (q *QRCode) Len() int { return q.Size }

// Dark says whether the module at column x, row y is dark.
func (q *QRCode) Dark(x, y int) bool {
	if x < 0 || y < 0 || x >= q.Size || y >= q.Size {
		return false
	}
	return q.dark[y*q.Size+x]
}

// QuietZone is the light border, in modules, PNG leaves around the symbol
// (the four modules ISO/IEC 18004 asks for).
const QuietZone = 4

// PNG draws the code with each module scale × scale pixels and the quiet
// zone around it, black on white. At 300 dpi a 35 mm wide code needs
// about 413 pixels: pick scale so that (Size + 2·QuietZone) · scale comes
// near the width wanted.
func (q *QRCode) PNG(scale int) ([]byte, error) {
	if scale < 1 {
		return nil, fmt.Errorf("verifactu: QR scale %d", scale)
	}
	side := (q.Size + 2*QuietZone) * scale
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	for y := range q.Size {
		for x := range q.Size {
			if !q.Dark(x, y) {
				continue
			}
			for dy := range scale {
				for dx := range scale {
					img.SetColorIndex((QuietZone+x)*scale+dx, (QuietZone+y)*scale+dy, 1)
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
