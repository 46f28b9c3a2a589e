package plans

import (
	"maps"
	"testing"
)

func TestDraftProblems(t *testing.T) {
	n := func(v int32) *int32 { return &v }
	priced := func(overage int64) map[string]Price {
		return map[string]Price{"EUR": {1900, overage}, "MXN": {39900, overage}, "ARS": {1990000, overage}}
	}
	ok := Draft{Code: "inicial", Name: "Inicial", Vouchers: n(250), StoreUsers: 1, AtLimit: Block, Active: true, Prices: priced(0)}
	for _, tc := range []struct {
		name  string
		isNew bool
		edit  func(*Draft)
		want  map[string]string
	}{
		{"valid", true, func(*Draft) {}, map[string]string{}},
		{"unlimited", false, func(d *Draft) { d.Vouchers = nil }, map[string]string{}},
		{"no store users", false, func(d *Draft) { d.StoreUsers = 0 }, map[string]string{}},
		{"zero vouchers", false, func(d *Draft) { d.Vouchers = n(0) }, map[string]string{"vouchers": "operator.vouchers_range"}},
		{"negative vouchers", false, func(d *Draft) { d.Vouchers = n(-1) }, map[string]string{"vouchers": "operator.vouchers_range"}},
		{"too many vouchers", false, func(d *Draft) { d.Vouchers = n(MaxVouchers + 1) }, map[string]string{"vouchers": "operator.vouchers_range"}},
		{"negative store users", false, func(d *Draft) { d.StoreUsers = -1 }, map[string]string{"store_users": "operator.store_users_range"}},
		{"policy", false, func(d *Draft) { d.AtLimit = "free" }, map[string]string{"at_limit": "validation.choice"}},
		{"name", false, func(d *Draft) { d.Name = " " }, map[string]string{"name": "validation.required"}},
		{"name spaces", false, func(d *Draft) { d.Name = " Inicial" }, map[string]string{"name": "validation.bad_chars"}},
		{"name control", false, func(d *Draft) { d.Name = "Ini\x00cial" }, map[string]string{"name": "validation.bad_chars"}},
		{"code of an edit is not checked", false, func(d *Draft) { d.Code = "" }, map[string]string{}},
		{"code", true, func(d *Draft) { d.Code = "Pro" }, map[string]string{"code": "operator.code_invalid"}},
		{"code too long", true, func(d *Draft) { d.Code = "a23456789012345678901234567890123" }, map[string]string{"code": "operator.code_invalid"}},
		{"missing currency", false, func(d *Draft) { delete(d.Prices, "ARS") }, map[string]string{"monthly_ARS": "operator.price_required"}},
		{"negative price", false, func(d *Draft) { d.Prices["EUR"] = Price{-1, 0} }, map[string]string{"monthly_EUR": "operator.price_invalid"}},
		{"overage priced", false, func(d *Draft) { d.AtLimit, d.Prices = Overage, priced(5) }, map[string]string{}},
		{"overage unpriced", false, func(d *Draft) { d.AtLimit = Overage; d.Prices["MXN"] = Price{39900, 100} },
			map[string]string{"overage_EUR": "operator.overage_required", "overage_ARS": "operator.overage_required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			d.Prices = maps.Clone(ok.Prices)
			tc.edit(&d)
			if got := d.Problems(tc.isNew); !maps.Equal(got, tc.want) {
				t.Errorf("Problems = %v, want %v", got, tc.want)
			}
		})
	}
}
