package tax_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/calendar"
	"pulso/app/tax"
	"pulso/queries"
)

func TestRatesOnAreTheSeededLawAndRespectValidity(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	want := map[string]string{
		"ES": "irpf 15, irpf 7, iva 21, iva 10, iva 4, iva 0, recargo 5.2, recargo 1.4, recargo 0.5",
		"MX": "iva 16, iva 8, iva 0",
		// The general rate leads (21 %: 27 % is for utilities).
		"AR": "iva 21, iva 27, iva 10.5, iva 0",
	}
	for country, w := range want {
		rs, err := tax.RatesOn(ctx, env.Q, country, day)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.Kind+" "+r.Rate.String())
		}
		if strings.Join(got, ", ") != w {
			t.Errorf("%s: %s, want %s", country, strings.Join(got, ", "), w)
		}
	}
	// A rate that ended is not offered after its end, and is before.
	env.Exec(`INSERT INTO tax_rates (country, kind, rate, label, valid_from, valid_to) VALUES ('ES', 'iva', 5, 'IVA 5 % temporal', '2023-01-01', '2024-10-01')`)
	for _, c := range []struct {
		day  time.Time
		want bool
	}{{time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), true}, {time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), false}, {day, false}} {
		rs, _ := tax.RatesOn(ctx, env.Q, "ES", c.day)
		has := false
		for _, r := range rs {
			has = has || r.Rate.Equal(decimal.NewFromInt(5))
		}
		if has != c.want {
			t.Errorf("5 %% on %s: %v", c.day.Format("2006-01-02"), has)
		}
	}
	// The seeded rates feed the totals exactly: a retailer in recargo at
	// 21 % + 5,2 % on 100,00 €.
	rs, _ := tax.RatesOn(ctx, env.Q, "ES", day)
	var iva, re decimal.Decimal
	for _, r := range rs {
		if r.Kind == "iva" && r.Rate.Equal(decimal.NewFromInt(21)) {
			iva = r.Rate
		}
		if r.Kind == "recargo" && r.Rate.Equal(decimal.RequireFromString("5.2")) {
			re = r.Rate
		}
	}
	tot, err := tax.Compute([]tax.Line{{Quantity: decimal.NewFromInt(1), UnitPrice: 10000, TaxRate: iva, Surcharge: re}})
	if err != nil || tot.Total != 12620 {
		t.Fatalf("total %d %v, want 12620", tot.Total, err)
	}
}

// Drafting reads the rates with the org and the customer (GetInvoiceContext,
// as JSON): decoded, they are the rates RatesOn lists for the org's day, in
// its order and to the last digit, on either side of a rate's end; and none
// without a time. The day is the org's: 22:30 UTC on the rate's last day
// is already the next day in Madrid, without it.
func TestDecodedRatesAreRatesOn(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	env.Exec(`INSERT INTO tax_rates (country, kind, rate, label, valid_from, valid_to) VALUES ('ES', 'iva', 5.25, 'IVA 5,25 % temporal', '2023-01-01', '2024-10-01')`)
	for _, country := range []string{"ES", "MX", "AR"} {
		org := env.Org("Tasas " + country)
		env.Exec(`UPDATE orgs SET country = $2 WHERE id = $1`, org.ID, country)
		loc, err := calendar.Zone(org.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{time.Date(2024, 9, 30, 15, 0, 0, 0, time.UTC), time.Date(2024, 9, 30, 22, 30, 0, 0, time.UTC),
			time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), time.Now()} {
			day := at.In(loc)
			want, err := tax.RatesOn(ctx, env.Q, country, day)
			if err != nil {
				t.Fatal(err)
			}
			row, err := env.Q.GetInvoiceContext(ctx, queries.GetInvoiceContextParams{OrgID: org.ID, RatesAt: &at})
			if err != nil {
				t.Fatal(err)
			}
			got, err := tax.DecodeRates(row.Rates)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s on %s: decoded %v, RatesOn %v", country, day.Format(time.DateOnly), got, want)
			}
		}
		row, err := env.Q.GetInvoiceContext(ctx, queries.GetInvoiceContextParams{OrgID: org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tax.DecodeRates(row.Rates); err != nil || len(got) != 0 {
			t.Errorf("%s without a day: %v, %v", country, got, err)
		}
	}
	if _, err := tax.DecodeRates([]byte(`[{"id": 1, "rate": "veintiuno"}]`)); err == nil {
		t.Error("a rate that is not a number decoded")
	}
}
