// Package series numbers documents (quotes, orders, delivery notes,
// invoices): gapless and correlative per series code and year, taken inside
// the transaction that issues the document (migration 0018 explains the
// lock that makes it so).
package series

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/calendar"
	"pulso/queries"
)

// Kinds of numbered documents. Invoices are numbered by what the AEAT
// records them as: complete invoices (F1, summary invoices among them, and
// F3) share Invoice series, simplified ones (F2) have their own, and
// correctives (R1–R5) theirs, as RD 1619/2012 art. 6.1.a requires.
// Proformas are never numbered.
const (
	Quote        = "quote"
	Order        = "order"
	DeliveryNote = "delivery_note"
	Invoice      = "invoice"
	Simplified   = "simplified"
	Corrective   = "corrective"
)

// ErrKindMismatch is returned when a code is already the series of another
// kind of document: a quote and an invoice may never share numbers.
var ErrKindMismatch = errors.New("series: the code numbers another kind of document")

// ErrCode is returned for codes the printed number cannot carry.
var ErrCode = errors.New("series: code must be 1 to 10 capital letters or digits")

var codePattern = regexp.MustCompile(`^[A-Z0-9]{1,10}$`)

// Number is one taken number.
type Number struct {
	Code string
	Year int
	N    int
	// Latest is the latest date numbered in the series this year, this
	// number's included: after the date it was taken for, that date is
	// earlier than a number already given (invoices refuse it).
	Latest time.Time
}

// String prints the number as documents show it: P-2026-0001. Four digits
// at least; a series that passes 9999 in a year simply grows (P-2026-10000).
func (n Number) String() string { return fmt.Sprintf("%s-%d-%04d", n.Code, n.Year, n.N) }

// Take returns the next number of the series for a document dated day
// (its year, as the calendar of day's location has it). Call it in the
// issuing transaction (q bound to it): the series stays locked until that
// transaction ends, and a rollback returns the number and the date.
func Take(ctx context.Context, q *queries.Queries, orgID int64, kind, code string, day time.Time) (Number, error) {
	if !codePattern.MatchString(code) {
		return Number{}, ErrCode
	}
	date := calendar.Date(day)
	year := date.Time.Year()
	r, err := q.TakeNumber(ctx, queries.TakeNumberParams{OrgID: orgID, Kind: kind, Code: code, Year: int32(year), Day: date})
	if errors.Is(err, pgx.ErrNoRows) {
		return Number{}, ErrKindMismatch
	}
	if err != nil {
		return Number{}, err
	}
	return Number{Code: code, Year: year, N: int(r.LastNumber), Latest: r.LastDate.Time}, nil
}

// LastDate is the latest date numbered in the series in year (zero: none
// yet). Outside the issuing transaction it can move before the caller
// takes a number; Take's Number.Latest is the one to refuse a date by.
func LastDate(ctx context.Context, q *queries.Queries, orgID int64, code string, year int) (time.Time, error) {
	d, err := q.SeriesLastDate(ctx, queries.SeriesLastDateParams{OrgID: orgID, Code: code, Year: int32(year)})
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	return d.Time, err
}
