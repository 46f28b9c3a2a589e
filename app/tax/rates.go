package tax

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"pulso/app/calendar"
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
	return IVA(rates), nil
}

// IVA keeps the IVA rates of rates, in their order.
func IVA(rates []Rate) []Rate {
	iva := rates[:0:0]
	for _, r := range rates {
		if r.Kind == "iva" {
			iva = append(iva, r)
		}
	}
	return iva
}

// RatesOn lists a country's rates in force on day, by kind, highest first.
func RatesOn(ctx context.Context, q *queries.Queries, country string, day time.Time) ([]Rate, error) {
	rows, err := q.ListTaxRates(ctx, queries.ListTaxRatesParams{Country: country, OnDay: calendar.Date(day)})
	if err != nil {
		return nil, err
	}
	out := make([]Rate, 0, len(rows))
	for _, r := range rows {
		out = append(out, Rate{ID: r.ID, Kind: r.Kind, Rate: money.Decimal(r.Rate), Label: r.Label})
	}
	return out, nil
}

// DecodeRates reads the rates a query returned as JSON rows of tax_rates
// (json_agg of what tax_rates_on lists, in its order), as RatesOn would
// return them. The rates are decoded exactly, from their digits.
func DecodeRates(b []byte) ([]Rate, error) {
	var rows []struct {
		ID    int64           `json:"id"`
		Kind  string          `json:"kind"`
		Rate  decimal.Decimal `json:"rate"`
		Label string          `json:"label"`
	}
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("tax: rates: %w", err)
	}
	out := make([]Rate, 0, len(rows))
	for _, r := range rows {
		out = append(out, Rate{ID: r.ID, Kind: r.Kind, Rate: r.Rate, Label: r.Label})
	}
	return out, nil
}
