package web

import (
	"context"
	"strconv"
	"time"

	"pulso/app/money"
	"pulso/app/tax"
	"pulso/queries"
	"pulso/views/components"
)

// RateOptions are the IVA rates in force today in p's country as a line
// editor offers them ("21 %"), with the general rate's id as the default
// of a new line.
func RateOptions(ctx context.Context, q *queries.Queries, p *Principal) ([]components.SelectOption, string, error) {
	return RateOptionsOn(ctx, q, p, p.Today(time.Now()))
}

// RateOptionsOn is RateOptions with the rates in force on day (a
// correction's lines take the corrected invoice's devengo's rates).
func RateOptionsOn(ctx context.Context, q *queries.Queries, p *Principal, day time.Time) ([]components.SelectOption, string, error) {
	rates, err := tax.IVAOn(ctx, q, p.OrgCountry, day)
	if err != nil || len(rates) == 0 {
		return nil, "", err
	}
	opts := make([]components.SelectOption, 0, len(rates))
	for _, r := range rates {
		id := strconv.FormatInt(r.ID, 10)
		opts = append(opts, components.SelectOption{Value: id, Label: money.Number(r.Rate, p.Currency) + " %", Raw: true})
	}
	return opts, opts[0].Value, nil
}
