package dashboardweb

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"pulso/app/money"
	dashboardview "pulso/views/dashboard"
	"pulso/views/i18n"
)

// numbers formats what a tile shows for one viewer: money in the org's
// currency, counts, percentages and durations in their language.
type numbers struct {
	locale, currency string
}

func (n numbers) money(minor int64) string { return money.Format(minor, n.currency) }

func (n numbers) count(v int64) string { return strconv.FormatInt(v, 10) }

// decimal1 is v rounded half away from zero to one decimal, written the
// way the currency's country writes numbers (10,5 or 10.5).
func (n numbers) decimal1(v decimal.Decimal) string {
	return money.Number(v.Round(1), n.currency)
}

// percent writes a percentage with the locale's spacing ("12 %", "12%").
func (n numbers) percent(s string) string {
	if n.locale == "en" {
		return s + "%"
	}
	return s + "\u00a0%"
}

// share is part of whole as a percentage with one decimal ("—" when whole
// is zero: there is nothing to divide).
func (n numbers) share(part, whole int64) string {
	if whole == 0 {
		return "—"
	}
	return n.percent(n.decimal1(ratio(part, whole).Mul(decimal.NewFromInt(100))))
}

func ratio(part, whole int64) decimal.Decimal {
	if whole == 0 {
		return decimal.Zero
	}
	return decimal.NewFromInt(part).Div(decimal.NewFromInt(whole))
}

// days is seconds as days with one decimal ("3,5 d").
func (n numbers) days(seconds int64) string {
	return i18n.In(n.locale, "dashboard.days", map[string]any{"N": n.decimal1(decimal.NewFromInt(seconds).Div(decimal.NewFromInt(86400)))})
}

// duration is a median wait as people say it: minutes under an hour,
// hours under two days, days beyond; "—" when nothing got there.
func (n numbers) duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Hour:
		return i18n.In(n.locale, "dashboard.minutes", map[string]any{"N": int64(d.Round(time.Minute) / time.Minute)})
	case d < 48*time.Hour:
		return i18n.In(n.locale, "dashboard.hours", map[string]any{"N": n.decimal1(decimal.NewFromFloat(d.Hours()))})
	}
	return n.days(int64(d / time.Second))
}

// delta compares cur with prev: the direction, the change in percent of
// prev (rounded to a whole percent), and prev as shown. upGood says
// whether more is better (won) or worse (lost, overdue).
func (n numbers) delta(cur, prev int64, upGood bool, against, prevText, testID string) dashboardview.Delta {
	d := dashboardview.Delta{Against: against, Prev: prevText, TestID: testID}
	switch {
	case cur == prev:
		d.Dir, d.Change = "same", n.percent("0")
		return d
	case prev == 0:
		d.Dir, d.Good = "new", upGood
		return d
	case cur > prev:
		d.Dir, d.Good = "up", upGood
	default:
		d.Dir, d.Good = "down", !upGood
	}
	pct := decimal.NewFromInt(cur - prev).Mul(decimal.NewFromInt(100)).Div(decimal.NewFromInt(prev).Abs()).Round(0)
	sign := "+"
	if pct.IsNegative() {
		sign = "−"
		pct = pct.Neg()
	}
	d.Change = n.percent(sign + pct.String())
	return d
}

// pointsDelta compares two rates (part/whole) in percentage points, for
// conversion and SLA compliance, where a percent of a percent misleads.
func (n numbers) pointsDelta(cur, prev decimal.Decimal, curWhole, prevWhole int64, against, prevText, testID string) dashboardview.Delta {
	d := dashboardview.Delta{Against: against, Prev: prevText, TestID: testID}
	switch {
	case curWhole == 0 && prevWhole == 0:
		d.Dir = "same"
		return d
	case prevWhole == 0:
		d.Dir = "new"
		return d
	case curWhole == 0:
		d.Dir = "none" // no rate now to compare
		return d
	}
	diff := cur.Sub(prev).Mul(decimal.NewFromInt(100)).Round(1)
	switch diff.Sign() {
	case 0:
		d.Dir = "same"
	case 1:
		d.Dir, d.Good = "up", true
	default:
		d.Dir = "down"
	}
	sign := "+"
	if diff.IsNegative() {
		sign = "−"
		diff = diff.Neg()
	}
	d.Change = sign + n.decimal1(diff) + "\u00a0" + i18n.In(n.locale, "dashboard.points", nil)
	return d
}
