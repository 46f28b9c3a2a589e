// Package printing draws Pulso's business documents (quotes, orders,
// delivery notes, price lists; invoices next) on A4 with one builder: a
// header with the logo, title, number and dates, the two parties, the lines,
// the tax breakdown and totals from app/tax, terms, a footer with the page
// count, and optional slots for a signature block and a QR code. The same
// Document always gives the same bytes, so a stored PDF's SHA-256 can be
// checked by rendering it again.
package printing

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	_ "image/png" // logos and signatures arrive as PNG
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"

	"pulso/app/money"
	"pulso/app/tax"
	"pulso/views/i18n"
)

// Party is one side of a document as it is printed.
type Party struct {
	Name    string
	TaxID   string
	Address string
	Email   string
}

// AddressLine is how a postal address prints on one line: street, postal
// code and city, province, leaving out what is empty.
func AddressLine(street, postalCode, city, province string) string {
	var parts []string
	for _, s := range []string{strings.TrimSpace(street), strings.TrimSpace(postalCode + " " + city), strings.TrimSpace(province)} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// PrintLine is one line as it is printed: text already formatted.
type Line struct {
	Description string
	Quantity    string
	Unit        string
	UnitPrice   int64
	DiscountPct string // "" when none
	TaxRate     string
	Amount      int64
}

// Signature is the client's acceptance printed on a signed quote.
type Signature struct {
	Name   string
	At     time.Time
	IP     string
	PNG    []byte
	SHA256 string // of the PDF the client was shown (the unsigned one)
}

// Document is everything a commercial document's PDF shows. Quotes, orders
// and delivery notes print through it; Kind picks the title.
type Document struct {
	Kind       string // quote | order | delivery_note | price_list | invoice…: the title is i18n "pdf."+Kind
	Number     string
	Version    int
	Issued     time.Time
	ValidUntil time.Time // zero: not printed
	// HeadLines are printed under the number and dates, already formatted:
	// an invoice's operation date or the period it covers.
	HeadLines []string
	Locale    string
	Location  *time.Location
	Currency  string
	Seller    Party
	Buyer     Party // a Buyer without a name is not printed (simplified invoices)
	Logo      []byte
	Lines     []Line
	Totals    tax.Totals
	// NoPrices prints quantities only (a delivery note).
	NoPrices bool
	Terms    string
	// Notes are legal statements printed under the totals (an exemption's
	// legal basis, a reverse charge).
	Notes     []string
	Signature *Signature
	// QR is printed at the top of the first page (VERI*FACTU invoices
	// carry the tax agency's QR there).
	QR *QR
}

// QR is a code printed at the top of the first page as a square of Size
// millimetres (30–40 for VERI*FACTU), quiet zone included, with a caption
// above and below it. Its modules are drawn as filled squares: sharp at
// any zoom or print resolution, and nothing to encode as an image and
// embed (which cost more than the rest of an invoice's page).
type QR struct {
	Code         Modules
	Size         float64
	Above, Below string
}

// Modules is a QR code's square matrix of Len × Len modules.
type Modules interface {
	Len() int
	Dark(x, y int) bool
}

// QuietZone is the light margin around a QR code, in modules (ISO/IEC
// 18004 asks for four).
const QuietZone = 4

// ErrQR is returned for a QR slot without a code.
var ErrQR = errors.New("printing: QR slot without a code")

// ErrImage is returned for a logo or signature that is not a PNG or JPEG.
var ErrImage = errors.New("printing: image is not a PNG or JPEG")

// embeddable returns an image as fpdf embeds it fastest: a JPEG goes in
// as it is, while a PNG would be inflated and deflated again on every
// render (most of a quote PDF's time), so it is flattened onto white and
// re-encoded as a JPEG once per render instead, at a quality where logos
// and ink strokes look the same on paper.
//
// Conversions are remembered by content (an org's logo is on every quote,
// a signature on every download of its signed copy), a few hundred at most.
func embeddable(b []byte) ([]byte, string, error) {
	key := sha256.Sum256(b)
	imageCache.Lock()
	c, ok := imageCache.m[key]
	imageCache.Unlock()
	if ok {
		return c, "JPG", nil
	}
	out, typ, err := convert(b)
	if err != nil {
		return nil, "", err
	}
	imageCache.Lock()
	if len(imageCache.m) >= 256 {
		clear(imageCache.m)
	}
	imageCache.m[key] = out
	imageCache.Unlock()
	return out, typ, nil
}

var imageCache = struct {
	sync.Mutex
	m map[[32]byte][]byte
}{m: map[[32]byte][]byte{}}

func convert(b []byte) ([]byte, string, error) {
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, "", ErrImage
	}
	switch format {
	case "jpeg":
		return b, "JPG", nil
	case "png":
		flat := image.NewRGBA(img.Bounds())
		draw.Draw(flat, flat.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(flat, flat.Bounds(), img, img.Bounds().Min, draw.Over)
		var out bytes.Buffer
		if err := jpeg.Encode(&out, flat, &jpeg.Options{Quality: 92}); err != nil {
			return nil, "", err
		}
		return out.Bytes(), "JPG", nil
	}
	return nil, "", ErrImage
}

// Render draws d on A4. The output is a pure function of d (the creation
// date is d.Issued, nothing random), so a sent version's PDF can be
// rebuilt byte for byte and its SHA-256 checked.
//
// The core fonts speak Windows-1252, which holds every character Spanish
// needs (and €); anything outside it prints as "?" rather than breaking.
func Render(d Document) ([]byte, error) {
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	t := func(id string) string { return i18n.In(d.Locale, id, nil) }
	amount := func(m int64) string { return money.Format(m, d.Currency) }
	pct := func(s string) string { return money.NumberText(s, d.Currency) }
	date := func(tm time.Time) string { return tm.In(loc).Format("02/01/2006") }

	pdf := start("P", d.Issued)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(120, 120, 120)
		pdf.CellFormat(0, 5, cp1252(fmt.Sprintf("%s %s · %d/{nb}", t("pdf."+d.Kind), d.Number, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()

	// Head: logo left, title and number right.
	top := pdf.GetY()
	if len(d.Logo) > 0 {
		logo, typ, err := embeddable(d.Logo)
		if err != nil {
			return nil, err
		}
		pdf.RegisterImageOptionsReader("logo", fpdf.ImageOptions{ImageType: typ}, bytes.NewReader(logo))
		pdf.ImageOptions("logo", 15, top, 0, 16, false, fpdf.ImageOptions{ImageType: typ}, 0, "")
	}
	headBottom := top + 18
	if q := d.QR; q != nil {
		if q.Code == nil || q.Code.Len() < 21 {
			return nil, ErrQR
		}
		size := q.Size
		if size <= 0 {
			size = 35
		}
		// Between the logo (≤ 60 mm wide) and the title block at 105 mm.
		x := 102 - size
		pdf.SetXY(x-5, top)
		pdf.SetFont("Helvetica", "", 7)
		pdf.SetTextColor(20, 20, 20)
		pdf.CellFormat(size+10, 3.5, cp1252(q.Above), "", 0, "C", false, 0, "")
		drawQR(pdf, q.Code, x, top+4, size)
		pdf.SetXY(x-5, top+4+size+0.5)
		pdf.CellFormat(size+10, 3.5, cp1252(q.Below), "", 0, "C", false, 0, "")
		headBottom = top + 4 + size + 4
	}
	pdf.SetXY(105, top)
	pdf.SetFont("Helvetica", "B", 18)
	pdf.SetTextColor(20, 20, 20)
	pdf.CellFormat(90, 8, cp1252(t("pdf."+d.Kind)), "", 2, "R", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	number := d.Number
	if number == "" {
		number = t("pdf.draft")
	}
	if d.Version > 1 {
		number += fmt.Sprintf(" (v%d)", d.Version)
	}
	pdf.CellFormat(90, 5, cp1252(number), "", 2, "R", false, 0, "")
	pdf.CellFormat(90, 5, cp1252(t("pdf.date")+": "+date(d.Issued)), "", 2, "R", false, 0, "")
	if !d.ValidUntil.IsZero() {
		pdf.CellFormat(90, 5, cp1252(t("pdf.valid_until")+": "+d.ValidUntil.Format("02/01/2006")), "", 2, "R", false, 0, "")
	}
	for _, l := range d.HeadLines {
		pdf.CellFormat(90, 5, cp1252(l), "", 2, "R", false, 0, "")
	}
	pdf.SetY(max(pdf.GetY(), headBottom) + 4)

	// Parties side by side.
	y := pdf.GetY()
	party := func(x float64, label string, p Party) float64 {
		if p.Name == "" {
			return y
		}
		pdf.SetXY(x, y)
		pdf.SetFont("Helvetica", "B", 8)
		pdf.SetTextColor(110, 110, 110)
		pdf.CellFormat(85, 5, cp1252(strings.ToUpper(label)), "", 2, "L", false, 0, "")
		pdf.SetFont("Helvetica", "B", 10)
		pdf.SetTextColor(20, 20, 20)
		pdf.MultiCell(85, 5, cp1252(p.Name), "", "L", false)
		pdf.SetX(x)
		pdf.SetFont("Helvetica", "", 9)
		for _, s := range []string{p.TaxID, p.Address, p.Email} {
			if s != "" {
				pdf.SetX(x)
				pdf.MultiCell(85, 4.5, cp1252(s), "", "L", false)
			}
		}
		return pdf.GetY()
	}
	y1 := party(15, t("pdf.seller"), d.Seller)
	y2 := party(110, t("pdf.buyer"), d.Buyer)
	pdf.SetY(max(y1, y2) + 6)

	// Lines.
	type col struct {
		w     float64
		label string
		align string
	}
	cols := []col{{80, t("pdf.description"), "L"}, {18, t("pdf.quantity"), "R"}, {24, t("pdf.unit_price"), "R"},
		{14, t("pdf.discount"), "R"}, {14, t("pdf.tax"), "R"}, {30, t("pdf.amount"), "R"}}
	switch {
	case d.NoPrices:
		cols = []col{{150, t("pdf.description"), "L"}, {30, t("pdf.quantity"), "R"}}
	case d.Kind == "price_list":
		cols = []col{{110, t("pdf.description"), "L"}, {25, t("pdf.unit"), "R"}, {25, t("pdf.unit_price"), "R"}, {20, t("pdf.tax"), "R"}}
	}
	header := func() {
		pdf.SetFont("Helvetica", "B", 8)
		pdf.SetFillColor(238, 240, 244)
		pdf.SetTextColor(60, 60, 60)
		for _, c := range cols {
			pdf.CellFormat(c.w, 7, cp1252(c.label), "", 0, c.align, true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 9)
		pdf.SetTextColor(20, 20, 20)
	}
	header()
	for _, l := range d.Lines {
		desc := pdf.SplitText(cp1252(l.Description), cols[0].w-2)
		h := 5 * float64(max(1, len(desc)))
		if pdf.GetY()+h > 297-22 {
			pdf.AddPage()
			header()
		}
		x, ly := pdf.GetX(), pdf.GetY()
		pdf.MultiCell(cols[0].w, 5, strings.Join(desc, "\n"), "", "L", false)
		pdf.SetXY(x+cols[0].w, ly)
		qty := l.Quantity + " " + t("catalog.unit."+l.Unit)
		switch {
		case d.NoPrices:
			pdf.CellFormat(cols[1].w, 5, cp1252(qty), "", 0, "R", false, 0, "")
		case d.Kind == "price_list":
			for i, s := range []string{t("catalog.unit." + l.Unit), amount(l.UnitPrice), pct(l.TaxRate)} {
				pdf.CellFormat(cols[i+1].w, 5, cp1252(s), "", 0, "R", false, 0, "")
			}
		default:
			for i, s := range []string{qty, amount(l.UnitPrice), pct(l.DiscountPct), pct(l.TaxRate), amount(l.Amount)} {
				pdf.CellFormat(cols[i+1].w, 5, cp1252(s), "", 0, "R", false, 0, "")
			}
		}
		pdf.SetXY(x, ly+h)
		pdf.SetDrawColor(225, 225, 225)
		pdf.Line(15, ly+h, 195, ly+h)
	}

	// Totals, right-aligned block.
	if !d.NoPrices && d.Kind != "price_list" {
		pdf.Ln(3)
		row := func(label, value string, bold bool) {
			if pdf.GetY()+6 > 297-22 {
				pdf.AddPage()
			}
			style := ""
			if bold {
				style = "B"
			}
			pdf.SetX(105)
			pdf.SetFont("Helvetica", style, 9)
			pdf.CellFormat(60, 5.5, cp1252(label), "", 0, "R", false, 0, "")
			pdf.CellFormat(30, 5.5, cp1252(value), "", 1, "R", false, 0, "")
		}
		row(t("pdf.base"), amount(d.Totals.Base), false)
		for _, g := range d.Totals.Taxes {
			row(fmt.Sprintf("%s %s %% %s %s", t("pdf.iva"), pct(g.Rate.String()), t("pdf.on"), amount(g.Base)), amount(g.Tax), false)
			if g.SurchargeAmount != 0 {
				row(fmt.Sprintf("%s %s %%", t("pdf.surcharge"), pct(g.SurchargeRate.String())), amount(g.SurchargeAmount), false)
			}
		}
		for _, w := range d.Totals.Withholdings {
			row(fmt.Sprintf("%s %s %%", t("pdf.withholding"), pct(w.Rate.String())), "-"+amount(w.Amount), false)
		}
		row(t("pdf.total"), amount(d.Totals.Total), true)
	}

	if len(d.Notes) > 0 {
		pdf.Ln(3)
		pdf.SetFont("Helvetica", "B", 8.5)
		for _, n := range d.Notes {
			pdf.MultiCell(0, 4.2, cp1252(n), "", "L", false)
		}
	}

	if strings.TrimSpace(d.Terms) != "" {
		pdf.Ln(4)
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(0, 5, cp1252(t("pdf.terms")), "", 1, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 4.5, cp1252(d.Terms), "", "L", false)
	}

	if s := d.Signature; s != nil {
		sig, typ, err := embeddable(s.PNG)
		if err != nil {
			return nil, err
		}
		if pdf.GetY()+50 > 297-22 {
			pdf.AddPage()
		}
		pdf.Ln(6)
		pdf.SetFont("Helvetica", "B", 10)
		pdf.CellFormat(0, 6, cp1252(t("pdf.accepted")), "", 1, "L", false, 0, "")
		sy := pdf.GetY()
		pdf.RegisterImageOptionsReader("signature", fpdf.ImageOptions{ImageType: typ}, bytes.NewReader(sig))
		pdf.ImageOptions("signature", 15, sy, 60, 0, false, fpdf.ImageOptions{ImageType: typ}, 0, "")
		pdf.SetXY(80, sy)
		pdf.SetFont("Helvetica", "", 9)
		for _, line := range []string{
			t("pdf.signer") + ": " + s.Name,
			t("pdf.signed_at") + ": " + s.At.In(loc).Format("02/01/2006 15:04:05 MST"),
			"IP: " + s.IP,
		} {
			pdf.SetX(80)
			pdf.MultiCell(115, 4.5, cp1252(line), "", "L", false)
		}
		pdf.SetX(80)
		pdf.SetFont("Courier", "", 7)
		pdf.MultiCell(115, 3.5, "SHA-256: "+s.SHA256, "", "L", false)
	}

	return finish(pdf)
}

// finish writes the document out. Only documents of several pages have
// their page contents compressed: fpdf makes a fresh deflate state (1.1
// MB, zeroed) for every stream it compresses, which for a one-page
// invoice was three quarters of everything issuing allocated and 0.6 ms
// of its CPU (BenchmarkInvoiceIssuing), to save about 6 KB of a 10 KB
// file; a report of many pages still gets the saving where it counts.
func finish(pdf *fpdf.Fpdf) ([]byte, error) {
	pdf.SetCompression(pdf.PageCount() > 1)
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// start opens an A4 page set the way every Pulso PDF is: dated at, so the
// same input gives the same bytes, with 15 mm margins and a page count
// alias ({nb}); its text goes through cp1252. orientation is "P" (portrait) or "L" (landscape).
func start(orientation string, at time.Time) *fpdf.Fpdf {
	pdf := fpdf.New(orientation, "mm", "A4", "")
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetProducer("Pulso", false)
	// Resources in a fixed order: the same document gives the same bytes.
	pdf.SetCatalogSort(true)
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AliasNbPages("{nb}")
	return pdf
}

// cp1252 translates UTF-8 to Windows-1252, the code page of fpdf's core
// fonts, as fpdf's own translator does (a rune the code page lacks prints
// as "."; TestCP1252IsFpdfsTranslation) but without its shared buffer, so
// documents render on several goroutines at once (issuing draws its PDF
// beside its statements). fpdf also builds its translator by scanning its
// map with Sscanf, which was a quarter of a document's render.
func cp1252(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			b = append(b, byte(r))
			continue
		}
		c, ok := charmap.Windows1252.EncodeRune(r)
		if !ok {
			c = '.'
		}
		b = append(b, c)
	}
	return string(b)
}

// drawQR draws code as a size mm square at (x, y), its quiet zone left
// blank: each row's runs of dark modules as one rectangle of one path.
// The path is written in module units under a transform (integers, not
// fpdf's millimetre floats: a version-7 code has ≈ 600 runs, and
// formatting their coordinates was most of drawing it), filled once, and
// wrapped in q/Q so fpdf's own colour and transform state stay true.
func drawQR(pdf *fpdf.Fpdf, code Modules, x, y, size float64) {
	n := code.Len()
	k := pdf.GetConversionRatio()
	_, pageH := pdf.GetPageSize()
	m := size / float64(n+2*QuietZone)
	x0, y0 := x+QuietZone*m, y+QuietZone*m
	// Module (c, r) is at (x0 + c·m, y0 + r·m) mm from the top left; PDF
	// space is in points from the bottom left.
	b := make([]byte, 0, 64+n*n/2)
	b = append(b, "q 0 g "...)
	for _, v := range []float64{m * k, 0, 0, -m * k, x0 * k, (pageH - y0) * k} {
		b = strconv.AppendFloat(b, v, 'f', 4, 64)
		b = append(b, ' ')
	}
	b = append(b, "cm"...)
	for row := range n {
		for col := 0; col < n; {
			if !code.Dark(col, row) {
				col++
				continue
			}
			end := col
			for end < n && code.Dark(end, row) {
				end++
			}
			b = append(b, '\n')
			b = strconv.AppendInt(b, int64(col), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(row), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(end-col), 10)
			b = append(b, " 1 re"...)
			col = end
		}
	}
	b = append(b, "\nf Q"...)
	pdf.RawWriteStr(string(b))
}
