package reportsweb

import (
	"strconv"

	"github.com/shopspring/decimal"

	"pulso/app/money"
)

// A sheet is a report as rows of typed values: the page, the PDF, the CSV
// and the workbook are all written from it, so they show the same numbers.
type sheet struct {
	title string
	// lines say what the numbers cover: org, period, filters.
	lines []string
	cols  []column
	rows  []row
}

type kind int

const (
	text    kind = iota
	amount       // minor units of the org's currency
	count        // a number of things
	percent      // 0–100, one decimal
	days         // one decimal
)

type column struct {
	label string
	kind  kind
}

type row struct {
	cells []value
	total bool
}

// value is one cell. none marks a figure that does not exist (a
// percentage of nothing, the average of no deals): shown as "—", left
// empty in files.
type value struct {
	kind kind
	n    int64
	d    decimal.Decimal
	s    string
	none bool
}

func txt(s string) value             { return value{kind: text, s: s} }
func cents(n int64) value            { return value{kind: amount, n: n} }
func number(n int64) value           { return value{kind: count, n: n} }
func measured(k kind, n int64) value { return value{kind: k, n: n} }

// ratio is a/b as a percentage rounded half up to one decimal; none when
// b is 0.
func ratio(a, b int64) value {
	if b == 0 {
		return value{kind: percent, none: true}
	}
	return value{kind: percent, d: decimal.NewFromInt(a).Mul(decimal.NewFromInt(100)).Div(decimal.NewFromInt(b)).Round(1)}
}

// average is seconds spread over n things, in days to one decimal; none
// when n is 0.
func average(seconds, n int64) value {
	if n == 0 {
		return value{kind: days, none: true}
	}
	return value{kind: days, d: decimal.NewFromInt(seconds).Div(decimal.NewFromInt(n * 86400)).Round(1)}
}

// display is a value as the page and the PDF show it: money in the org's
// currency (app/money), figures with its decimal mark.
func (v value) display(currency string) string {
	if v.none {
		return "—"
	}
	switch v.kind {
	case amount:
		return money.Format(v.n, currency)
	case count:
		return strconv.FormatInt(v.n, 10)
	case percent:
		return money.Number(v.d, currency) + "\u00a0%"
	case days:
		return money.Number(v.d, currency)
	}
	return v.s
}

// numeric reports whether a column holds figures (right-aligned).
func (k kind) numeric() bool { return k != text }
