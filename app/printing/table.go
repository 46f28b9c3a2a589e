package printing

import (
	"errors"
	"fmt"
	"time"
)

// Table is a report printed as a table: a title, a few lines under it (the
// org, the period, the filters), a header row and rows of text already
// formatted by the caller (money through app/money, in the org's
// currency). It prints on as many A4 pages as it needs, the header
// repeated on each, in landscape when its columns do not fit portrait.
type Table struct {
	Title   string
	Lines   []string
	Columns []Column
	Rows    []Row
	// Generated dates the file: the same Table gives the same bytes.
	Generated time.Time
}

// Column is one column's heading and alignment (figures align right).
type Column struct {
	Label string
	Right bool
}

// Row is one line of a Table; Bold marks a total.
type Row struct {
	Cells []string
	Bold  bool
}

// ErrTable is returned for a table without columns or with a row whose
// cells do not match them.
var ErrTable = errors.New("printing: table rows do not match its columns")

// Widths of the page's printable area in mm (A4 less 15 mm margins).
const (
	portraitWidth  = 180.0
	landscapeWidth = 267.0
	pageBottom     = 18.0
)

// RenderTable draws t. Column widths follow their widest text; when the
// table is wider than a landscape page the font shrinks (to 6 pt at least)
// and text that still does not fit is cut with an ellipsis rather than
// running into its neighbour.
func RenderTable(t Table) ([]byte, error) {
	if len(t.Columns) == 0 {
		return nil, ErrTable
	}
	for _, r := range t.Rows {
		if len(r.Cells) != len(t.Columns) {
			return nil, ErrTable
		}
	}
	// Measure with a throwaway document in the core font.
	measure := start("P", t.Generated)
	const pad = 2.0
	widths := func(size float64) ([]float64, float64) {
		ws := make([]float64, len(t.Columns))
		measure.SetFont("Helvetica", "B", size)
		for i, c := range t.Columns {
			ws[i] = measure.GetStringWidth(cp1252(c.Label)) + pad
		}
		for _, r := range t.Rows {
			style := ""
			if r.Bold {
				style = "B"
			}
			measure.SetFont("Helvetica", style, size)
			for i, s := range r.Cells {
				ws[i] = max(ws[i], measure.GetStringWidth(cp1252(s))+pad)
			}
		}
		sum := 0.0
		for _, w := range ws {
			sum += w
		}
		return ws, sum
	}
	size := 9.0
	ws, total := widths(size)
	orientation, page := "P", portraitWidth
	if total > portraitWidth {
		orientation, page = "L", landscapeWidth
	}
	for total > page && size > 6 {
		size -= 0.5
		ws, total = widths(size)
	}
	// Spread the spare width (or the shortfall) over the columns in
	// proportion, so the table spans the page.
	for i := range ws {
		ws[i] *= page / total
	}

	pdf := start(orientation, t.Generated)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(120, 120, 120)
		pdf.CellFormat(0, 5, cp1252(fmt.Sprintf("%s · %d/{nb}", t.Title, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.SetTextColor(20, 20, 20)
	pdf.MultiCell(0, 8, cp1252(t.Title), "", "L", false)
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetTextColor(80, 80, 80)
	for _, l := range t.Lines {
		pdf.MultiCell(0, 4.5, cp1252(l), "", "L", false)
	}
	pdf.Ln(4)

	lineH := size * 0.55
	fit := func(s string, w float64) string {
		s = cp1252(s)
		if pdf.GetStringWidth(s) <= w-pad {
			return s
		}
		for len(s) > 0 && pdf.GetStringWidth(s+"...") > w-pad {
			s = s[:len(s)-1]
		}
		return s + "..."
	}
	align := func(c Column) string {
		if c.Right {
			return "R"
		}
		return "L"
	}
	header := func() {
		pdf.SetFont("Helvetica", "B", size)
		pdf.SetFillColor(238, 240, 244)
		pdf.SetTextColor(60, 60, 60)
		for i, c := range t.Columns {
			pdf.CellFormat(ws[i], lineH+2, fit(c.Label, ws[i]), "", 0, align(c), true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetTextColor(20, 20, 20)
	}
	header()
	_, pageH := pdf.GetPageSize()
	for _, r := range t.Rows {
		if pdf.GetY()+lineH+1 > pageH-pageBottom-4 {
			pdf.AddPage()
			header()
		}
		style := ""
		if r.Bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, size)
		y := pdf.GetY()
		for i, s := range r.Cells {
			pdf.CellFormat(ws[i], lineH+1, fit(s, ws[i]), "", 0, align(t.Columns[i]), false, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetDrawColor(225, 225, 225)
		pdf.Line(15, y+lineH+1, 15+page, y+lineH+1)
	}

	return finish(pdf)
}
