// Package spreadsheet holds the rules for files people open in Excel,
// LibreOffice or Google Sheets (exports, import error files): no cell may
// run as a formula there (CSV injection), and every CSV Pulso writes opens
// by double click in a Spanish-speaking locale.
package spreadsheet

import (
	"encoding/csv"
	"io"
	"strings"

	"pulso/app/ident"
)

// Cell makes s inert as a spreadsheet cell, the OWASP way: a cell starting
// with = + - @, a tab or a carriage return gets a leading apostrophe, which
// spreadsheets take for "this is text". A phone in E.164 ("+34600…",
// digits only) cannot hide a formula and is kept as is.
func Cell(s string) string {
	if len(s) > 1 && s[0] == '+' && ident.Digits(s[1:]) {
		return s
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// NewCSV starts a CSV file on w the way every Pulso export writes one:
// UTF-8 with a byte-order mark, ';' between fields and CRLF line ends,
// because that is what Excel in a Spanish (or Mexican, Argentine) locale
// opens by double click: without the BOM it reads the bytes as
// Windows-1252 and mangles accents, and with ',' it puts every row in one
// column, since ',' is the decimal mark there. Text cells still go
// through Cell.
func NewCSV(w io.Writer) (*csv.Writer, error) {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true // what Excel writes and expects
	return cw, nil
}

// MoneyFormat is the number format of amount cells in a workbook: two
// decimals, grouped, so sums work and read as money.
const MoneyFormat = "#,##0.00"
