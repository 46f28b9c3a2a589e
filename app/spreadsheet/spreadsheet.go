// Package spreadsheet holds the one rule for text Pulso writes into files
// people open in Excel, LibreOffice or Google Sheets (exports, import error
// files): no cell may run as a formula there (CSV injection).
package spreadsheet

import (
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
