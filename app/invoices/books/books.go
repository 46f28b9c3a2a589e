// Package books writes the libro registro de facturas expedidas (RIVA art.
// 63) of a period from the invoices Pulso issued, as CSV and XLSX in the
// column layout the AEAT publishes for the libros registro of IVA and IRPF,
// so an accountant can hand it over or load it in their own program.
//
// Columns, in the AEAT's order and with its names: the "Formato de libros
// registro de IVA e IRPF" of the AEAT (Sede electrónica, IVA > Libros
// registro, Orden HAC/773/2019 art. 9; the FAQ "Libro registro de facturas
// expedidas (IVA) y de ventas e ingresos (IRPF)" names the columns "Tipo de
// IVA", "Cuota de IVA repercutida", "Total factura", "Base imponible" and the
// exemption keys E1–E6 and N1–N2), whose content is that of RIVA art. 63.3
// (Manual práctico de IVA, cap. 10, "Libro registro de facturas expedidas —
// contenido": número y serie, fecha de expedición, fecha de realización de
// las operaciones, destinatario y su NIF, base imponible, tipo, cuota).
// Left out, because Pulso keeps none of it: the activity (Tipo, Código,
// Grupo o Epígrafe del IAE), Concepto/Ingreso computable (IRPF estimación
// directa), Número-final (Pulso never books invoices in ranges), Cobro
// (criterio de caja), Inmueble, Registro acuerdo facturación and Referencia
// externa. Pulso adds one column at the end, Estado.
//
// One row per invoice and tax rate (AEAT: an invoice with several rates
// takes one row each). The invoice's own data repeats on every row; Total
// factura and the IRPF withheld, which belong to the whole invoice, are on
// its first row only, so a column's sum is the period's. Keys, rates and
// amounts are those of the invoice's VERI*FACTU record (invoices.Book), so
// the book cannot disagree with what the AEAT received. Correctives are
// booked as issued: by difference with their negative amounts, by
// substitution with the new content (the corrected invoice stays booked
// where it was; the correction names it on the invoice and its record).
//
// Voided invoices (issued in error, RegistroAnulacion) are kept, marked
// "Anulada" in Estado and with no amounts: their number was taken and
// stays in the book, so the series reads without gaps, and they add
// nothing to any sum.
package books

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"pulso/app/calendar"
	"pulso/app/invoices"
	"pulso/app/money"
	"pulso/app/spreadsheet"
	"pulso/app/verifactu"
	"pulso/queries"
)

// Columns are the book's headers, the AEAT's names (Spanish whatever the
// reader's language: they name fields of a Spanish format).
var Columns = []string{
	"Ejercicio", "Periodo", "Tipo de Factura", "Fecha Expedición", "Fecha Operación",
	"Serie", "Número", "NIF Destinatario Tipo", "NIF Destinatario Código País", "NIF Destinatario Identificación",
	"Nombre Destinatario", "Clave de Operación", "Calificación de la Operación", "Operación Exenta",
	"Total Factura", "Base Imponible", "Tipo de IVA", "Cuota IVA Repercutida",
	"Tipo de Recargo eq.", "Cuota Recargo Equivalencia", "Tipo Retención del IRPF", "Importe Retenido del IRPF",
	"Estado",
}

// Period is the period of a book: a year and the AEAT's period code.
type Period struct {
	Year int
	// Code is 1T–4T (a quarter), 01–12 (a month) or 0A (the whole year).
	Code string
}

// ErrPeriod is returned for a year or period code that names no period.
var ErrPeriod = errors.New("books: no such period")

// ParsePeriod reads a year and a period code as the export's form sends
// them.
func ParsePeriod(year, code string) (Period, error) {
	y, err := strconv.Atoi(strings.TrimSpace(year))
	if err != nil || y < 2000 || y > 2999 {
		return Period{}, ErrPeriod
	}
	p := Period{Year: y, Code: strings.ToUpper(strings.TrimSpace(code))}
	if _, _, ok := p.bounds(); !ok {
		return Period{}, ErrPeriod
	}
	return p, nil
}

// QuarterOf is the quarter a day falls in: the period most Spanish
// businesses file (modelo 303) and the form's default.
func QuarterOf(t time.Time) Period {
	return Period{Year: t.Year(), Code: strconv.Itoa((int(t.Month())+2)/3) + "T"}
}

// Bounds are the first and last days of the period.
func (p Period) Bounds() (from, to time.Time) {
	from, to, _ = p.bounds()
	return from, to
}

func (p Period) bounds() (from, to time.Time, ok bool) {
	first := func(m int) time.Time { return time.Date(p.Year, time.Month(m), 1, 0, 0, 0, 0, time.UTC) }
	switch {
	case p.Code == "0A":
		return first(1), first(12).AddDate(0, 1, -1), true
	case len(p.Code) == 2 && p.Code[1] == 'T' && p.Code[0] >= '1' && p.Code[0] <= '4':
		q := int(p.Code[0] - '0')
		return first(3*q - 2), first(3*q).AddDate(0, 1, -1), true
	case len(p.Code) == 2:
		if m, err := strconv.Atoi(p.Code); err == nil && m >= 1 && m <= 12 {
			return first(m), first(m).AddDate(0, 1, -1), true
		}
	}
	return time.Time{}, time.Time{}, false
}

// rowPeriod is the Periodo a day is booked in: its month when the book is
// monthly, else its quarter.
func (p Period) rowPeriod(d time.Time) string {
	if p.Code != "0A" && p.Code[1] != 'T' {
		return p.Code
	}
	return QuarterOf(d).Code
}

// Entry is one row of the book: one invoice and tax rate.
type Entry struct {
	Year             int
	Period           string
	InvoiceType      string // F1, F2, F3, R1–R5
	IssueDate        time.Time
	OperationDate    time.Time // zero: the issue date's (left blank)
	Series, Number   string
	RecipientIDType  string // "" for a Spanish NIF; 02 NIF-IVA, 04 foreign id
	RecipientCountry string
	RecipientID      string
	RecipientName    string
	Clave            string // ClaveRegimen: 01 general, 02 export
	Calificacion     string // S1, S2, N1, N2; "" when exempt
	Exenta           string // E1–E6; "" when not exempt
	Total            *int64 // first row of an invoice only
	Base, Tax        int64
	Rate             *decimal.Decimal // nil: none (exempt, not subject)
	SurchargeRate    *decimal.Decimal
	Surcharge        int64
	WithholdingRate  *decimal.Decimal // first row only, with Withheld
	Withheld         *int64
	Voided           bool
}

// batch is how many invoices' lines are read per query.
const batch = 500

// Entries is the book of org's invoices dated in p, in the book's order.
func Entries(ctx context.Context, q *queries.Queries, orgID int64, p Period) ([]Entry, error) {
	from, to, ok := p.bounds()
	if !ok {
		return nil, ErrPeriod
	}
	invs, err := q.ListBookInvoices(ctx, queries.ListBookInvoicesParams{OrgID: orgID,
		FromDate: calendar.Date(from), ToDate: calendar.Date(to)})
	if err != nil {
		return nil, err
	}
	var out []Entry
	for start := 0; start < len(invs); start += batch {
		part := invs[start:min(start+batch, len(invs))]
		ids := make([]int64, len(part))
		for i, inv := range part {
			ids[i] = inv.ID
		}
		lines, err := q.ListBookInvoiceLines(ctx, queries.ListBookInvoiceLinesParams{OrgID: orgID, InvoiceIds: ids})
		if err != nil {
			return nil, err
		}
		byInvoice := map[int64][]queries.InvoiceLine{}
		for _, l := range lines {
			byInvoice[l.InvoiceID] = append(byInvoice[l.InvoiceID], l)
		}
		for _, inv := range part {
			rows, err := entries(inv, byInvoice[inv.ID], p)
			if err != nil {
				return nil, err
			}
			out = append(out, rows...)
		}
	}
	return out, nil
}

// entries are the rows of one invoice.
func entries(inv queries.ListBookInvoicesRow, lines []queries.InvoiceLine, p Period) ([]Entry, error) {
	ft := deref(inv.FiscalType)
	b, err := invoices.Book(inv.CorrectiveMethod, ft, inv.Parties, lines)
	if err != nil {
		return nil, err
	}
	d := inv.IssueDate.Time
	head := Entry{Year: d.Year(), Period: p.rowPeriod(d), InvoiceType: ft, IssueDate: d, Series: deref(inv.Series),
		Number: strings.TrimPrefix(deref(inv.FullNumber), deref(inv.Series)+"-"), Voided: inv.State == invoices.Voided}
	if inv.OperationDate.Valid && !inv.OperationDate.Time.Equal(d) {
		head.OperationDate = inv.OperationDate.Time
	}
	if r := b.Recipient; r != nil {
		head.RecipientName, head.RecipientID = r.NombreRazon, r.NIF
		if r.IDOtro != nil {
			head.RecipientIDType, head.RecipientCountry, head.RecipientID = r.IDOtro.IDType, r.IDOtro.CodigoPais, r.IDOtro.ID
		}
	}
	if head.Voided {
		return []Entry{head}, nil
	}
	desglose := b.Desglose
	if len(desglose) == 0 {
		// An invoice from before 0034: its stored totals, as one line.
		desglose = []verifactu.Detalle{{ClaveRegimen: verifactu.ClaveRegimenGeneral, CalificacionOperacion: verifactu.S1,
			BaseImponibleOimporteNoSujeto: inv.Base, CuotaRepercutida: inv.Tax}}
	}
	out := make([]Entry, len(desglose))
	for i, g := range desglose {
		e := head
		e.Clave, e.Calificacion, e.Exenta = g.ClaveRegimen, string(g.CalificacionOperacion), g.OperacionExenta
		e.Base, e.Tax, e.Surcharge = g.BaseImponibleOimporteNoSujeto, g.CuotaRepercutida, g.CuotaRecargoEquivalencia
		if g.CalificacionOperacion == verifactu.S1 && g.OperacionExenta == "" {
			e.Rate = ptr(g.TipoImpositivo)
			if !g.TipoRecargoEquivalencia.IsZero() {
				e.SurchargeRate = ptr(g.TipoRecargoEquivalencia)
			}
		}
		out[i] = e
	}
	out[0].Total = ptr(inv.Total)
	if inv.Withheld != 0 {
		out[0].Withheld = ptr(inv.Withheld)
		// One rate names the retention; an invoice withholding at several
		// (never in Pulso today: the rate is the customer's) leaves it blank.
		if w := b.Totals.Withholdings; len(w) == 1 {
			out[0].WithholdingRate = ptr(w[0].Rate)
		}
	}
	return out, nil
}

// figure is an amount or rate Pulso wrote itself (digits, a sign, a
// decimal comma): it cannot hide a formula, and the apostrophe that
// spreadsheet.Cell puts before a leading '-' would turn a negative amount
// into text.
type figure string

// cells are the row's values: strings, and amounts and rates as numbers
// (XLSX) or as the Spanish write them (CSV).
func (e Entry) cells(asNumber bool) []any {
	amount := func(v int64) any {
		if asNumber {
			// A spreadsheet cell holds a double: cents/100 is exact to the
			// cent displayed for any amount below 2^53 cents.
			return decimal.New(v, -2).InexactFloat64()
		}
		return figure(money.Input(v, "ES"))
	}
	optAmount := func(v *int64) any {
		if v == nil {
			return ""
		}
		return amount(*v)
	}
	rate := func(r *decimal.Decimal) any {
		if r == nil {
			return ""
		}
		if asNumber {
			return r.InexactFloat64()
		}
		return figure(money.Number(*r, "EUR"))
	}
	date := func(t time.Time) any {
		if t.IsZero() {
			return ""
		}
		return t.Format("02/01/2006")
	}
	row := []any{strconv.Itoa(e.Year), e.Period, e.InvoiceType, date(e.IssueDate), date(e.OperationDate),
		e.Series, e.Number, e.RecipientIDType, e.RecipientCountry, e.RecipientID, e.RecipientName}
	if e.Voided {
		row = append(row, "", "", "", "", "", "", "", "", "", "", "", "Anulada")
		return row
	}
	return append(row, e.Clave, e.Calificacion, e.Exenta, optAmount(e.Total), amount(e.Base), rate(e.Rate), amount(e.Tax),
		rate(e.SurchargeRate), optSurcharge(e, amount), rate(e.WithholdingRate), optAmount(e.Withheld), "")
}

// optSurcharge is the recargo's cuota, blank on rows without recargo.
func optSurcharge(e Entry, amount func(int64) any) any {
	if e.SurchargeRate == nil {
		return ""
	}
	return amount(e.Surcharge)
}

// WriteCSV writes the book as CSV the way Pulso's other exports do
// (spreadsheet.NewCSV), with decimal commas, every text cell made inert
// (spreadsheet.Cell).
func WriteCSV(w io.Writer, entries []Entry) error {
	cw, err := spreadsheet.NewCSV(w)
	if err != nil {
		return err
	}
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, e := range entries {
		vals := e.cells(false)
		row := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case figure:
				row[i] = string(v)
			case string:
				row[i] = spreadsheet.Cell(v)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Sheet is the workbook's one sheet.
const Sheet = "Facturas expedidas"

// WriteXLSX writes the book as a workbook of one sheet, amounts and rates
// as numbers with two decimals (so the accountant's sums work), text cells
// made inert.
func WriteXLSX(w io.Writer, entries []Entry) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", Sheet); err != nil {
		return err
	}
	numFmt := spreadsheet.MoneyFormat
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(Sheet)
	if err != nil {
		return err
	}
	header := make([]any, len(Columns))
	for i, c := range Columns {
		header[i] = c
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for n, e := range entries {
		vals := e.cells(true)
		for i, v := range vals {
			switch v := v.(type) {
			case string:
				vals[i] = spreadsheet.Cell(v)
			case float64:
				vals[i] = excelize.Cell{StyleID: style, Value: v}
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, n+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// FileName is the download's name: libro-expedidas-2026-1T.csv.
func (p Period) FileName(ext string) string {
	return "libro-expedidas-" + strconv.Itoa(p.Year) + "-" + p.Code + "." + ext
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
