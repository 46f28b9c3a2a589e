package tax

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"pulso/app/money"
	"pulso/queries"
)

// Rate is one tax rate in force (migration 0022 holds them, with sources).
type Rate struct {
	ID    int64
	Kind  string // iva | recargo | irpf
	Rate  decimal.Decimal
	Label string
}

// IVAOn lists a country's IVA rates in force on day, the general rate
// first (tax_rates.general), then highest first.
func IVAOn(ctx context.Context, q *queries.Queries, country string, day time.Time) ([]Rate, error) {
	rates, err := RatesOn(ctx, q, country, day)
	if err != nil {
		return nil, err
	}
	iva := rates[:0]
	for _, r := range rates {
		if r.Kind == "iva" {
			iva = append(iva, r)
		}
	}
	return iva, nil
}

// RatesOn lists a country's rates in force on day, by kind, highest first.
func RatesOn(ctx context.Context, q *queries.Queries, country string, day time.Time) ([]Rate, error) {
	rows, err := q.ListTaxRates(ctx, queries.ListTaxRatesParams{Country: country,
		OnDay: pgtype.Date{Time: time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC), Valid: true}})
	if err != nil {
		return nil, err
	}
	out := make([]Rate, 0, len(rows))
	for _, r := range rows {
		out = append(out, Rate{ID: r.ID, Kind: r.Kind, Rate: money.Decimal(r.Rate), Label: r.Label})
	}
	return out, nil
}
