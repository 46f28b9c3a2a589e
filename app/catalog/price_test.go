package catalog

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestListPrice(t *testing.T) {
	p := func(n int64) *int64 { return &n }
	for _, c := range []struct {
		base    int64
		kind    string
		percent string
		item    *int64
		want    int64
	}{
		{10000, "percent", "-15", nil, 8500},
		{999, "percent", "-12.5", nil, 874}, // 874,125 → 874
		{1001, "percent", "-50", nil, 501},  // 500,5 → 501 (half away from zero)
		{3, "percent", "-99.99", nil, 1},    // never below a cent
		{10000, "percent", "7.25", nil, 10725},
		{10000, "fixed", "0", p(9450), 9450},
		{10000, "fixed", "0", nil, 10000}, // not in the list: base price
		{10000, "other", "10", nil, 10000},
	} {
		if got := ListPrice(c.base, c.kind, decimal.RequireFromString(c.percent), c.item); got != c.want {
			t.Errorf("ListPrice(%d, %s, %s) = %d, want %d", c.base, c.kind, c.percent, got, c.want)
		}
	}
}
