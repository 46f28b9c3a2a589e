package reportsweb

import (
	"bytes"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"pulso/app/money"
	"pulso/app/printing"
	"pulso/app/spreadsheet"
	"pulso/app/web"
)

// fileName is a download's name: informe-monthly-2026-01-2026-12.xlsx.
func fileName(r *report, in request, ext string) string {
	return "informe-" + r.slug + "-" + in.span.From.String() + "-" + in.span.To.Add(-1).String() + "." + ext
}

// send answers with a built file. Reports are small (at most 60 months
// of rows), so the file is built before the first byte goes out and a
// failure is an error page, not a truncated download.
func send(c *fiber.Ctx, body []byte, contentType, name string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Send(body)
}

// sendCSV writes the sheet in Pulso's CSV dialect (spreadsheet.NewCSV):
// the title and lines first, a blank line, then the table; amounts and
// figures with the org's decimal mark and no grouping, so they parse back.
func (h *Handler) sendCSV(c *fiber.Ctx, p *web.Principal, r *report, in request, sh sheet) error {
	var b bytes.Buffer
	w, err := spreadsheet.NewCSV(&b)
	if err != nil {
		return err
	}
	_ = w.Write([]string{spreadsheet.Cell(sh.title)})
	for _, l := range sh.lines {
		_ = w.Write([]string{spreadsheet.Cell(l)})
	}
	_ = w.Write([]string{""})
	header := make([]string, len(sh.cols))
	for i, col := range sh.cols {
		header[i] = spreadsheet.Cell(col.label)
	}
	_ = w.Write(header)
	for _, row := range sh.rows {
		out := make([]string, len(row.cells))
		for i, v := range row.cells {
			out[i] = v.csv(p)
		}
		_ = w.Write(out)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return send(c, b.Bytes(), "text/csv; charset=utf-8", fileName(r, in, "csv"))
}

// csv is a value as a CSV field. Figures are written by Pulso (digits, a
// sign, a decimal mark) and cannot hide a formula; spreadsheet.Cell would
// turn a negative one into text.
func (v value) csv(p *web.Principal) string {
	switch {
	case v.none:
		return ""
	case v.kind == amount:
		return money.Input(v.n, p.OrgCountry)
	case v.kind == count:
		return itoa(v.n)
	case v.kind == percent || v.kind == days:
		return money.Number(v.d, p.Currency)
	}
	return spreadsheet.Cell(v.s)
}

// sendXLSX writes the sheet as a workbook of one sheet: the title and
// lines on top, then the table with its header row; amounts as numbers
// in the money format, percentages as percentages, so sums and charts
// work.
func (h *Handler) sendXLSX(c *fiber.Ctx, p *web.Principal, r *report, in request, sh sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	name := web.Translate(c, "reports.sheet")
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	moneyFmt, pctFmt, daysFmt := spreadsheet.MoneyFormat, "0.0%", "0.0"
	styles := map[kind]int{}
	for k, format := range map[kind]*string{amount: &moneyFmt, percent: &pctFmt, days: &daysFmt} {
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: format})
		if err != nil {
			return err
		}
		styles[k] = id
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	n := 0
	put := func(cells []any) error {
		n++
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, cells)
	}
	if err := put([]any{excelize.Cell{StyleID: bold, Value: spreadsheet.Cell(sh.title)}}); err != nil {
		return err
	}
	for _, l := range sh.lines {
		if err := put([]any{spreadsheet.Cell(l)}); err != nil {
			return err
		}
	}
	n++ // a blank row before the table
	header := make([]any, len(sh.cols))
	for i, col := range sh.cols {
		header[i] = excelize.Cell{StyleID: bold, Value: spreadsheet.Cell(col.label)}
	}
	if err := put(header); err != nil {
		return err
	}
	for _, row := range sh.rows {
		out := make([]any, len(row.cells))
		for i, v := range row.cells {
			switch {
			case v.none:
				out[i] = nil
			case v.kind == amount:
				// A cell holds a double: cents/100 is exact to the cent
				// shown for any amount below 2^53 cents.
				out[i] = excelize.Cell{StyleID: styles[amount], Value: float64(v.n) / 100}
			case v.kind == count:
				out[i] = v.n
			case v.kind == percent:
				out[i] = excelize.Cell{StyleID: styles[percent], Value: v.d.Shift(-2).InexactFloat64()}
			case v.kind == days:
				out[i] = excelize.Cell{StyleID: styles[days], Value: v.d.InexactFloat64()}
			default:
				out[i] = spreadsheet.Cell(v.s)
			}
		}
		if err := put(out); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		return err
	}
	return send(c, b.Bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", fileName(r, in, "xlsx"))
}

// sendPDF prints the sheet through app/printing, the one document
// builder, as the page shows it.
func (h *Handler) sendPDF(c *fiber.Ctx, p *web.Principal, r *report, in request, sh sheet, now time.Time) error {
	t := printing.Table{Title: sh.title, Lines: sh.lines, Generated: now.UTC().Truncate(time.Second)}
	for _, col := range sh.cols {
		t.Columns = append(t.Columns, printing.Column{Label: col.label, Right: col.kind.numeric()})
	}
	for _, row := range sh.rows {
		cells := make([]string, len(row.cells))
		for i, v := range row.cells {
			cells[i] = v.display(p.Currency)
		}
		t.Rows = append(t.Rows, printing.Row{Cells: cells, Bold: row.total})
	}
	pdf, err := printing.RenderTable(t)
	if err != nil {
		return err
	}
	return web.SendPDF(c, pdf, fileName(r, in, "pdf"))
}
