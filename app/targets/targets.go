// Package targets owns monthly sales targets: who may set one, what counts
// as behind pace or reached, reading a target's progress (from app/stats,
// which owns the numbers) and raising its alerts through the alert centre
// (app/tasks owns alerts). The rules here are pure; the web side is
// targetsweb, the jobs are in workers.
package targets

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"pulso/app/money"
	"pulso/app/stats"
)

// MaxWonAmount is the largest monthly target, in minor units
// (1.000.000.000,00): anything above is a typo, not a target. The schema
// (0041) has the same cap.
const MaxWonAmount = 100_000_000_000

// MaxCount caps the optional deal and visit targets (the schema's too).
const MaxCount = 10_000

// The "behind pace" rule: from the 16th of the month, below 70 % of the
// target pro-rated to the day. Earlier in the month a slow start is normal
// and an alert would be noise.
const (
	behindPercent  = 70
	behindAfterDay = 15
)

// Threshold is a line a target's progress can cross, each alerted once.
type Threshold string

const (
	Behind  Threshold = "behind"
	Reached Threshold = "reached"
)

// Status is how a target stands, as the progress bar says it in words
// (colour is never the only signal).
type Status string

const (
	StatusNone    Status = "none" // no target set
	StatusOnTrack Status = "on_track"
	StatusBehind  Status = "behind"
	StatusReached Status = "reached"
)

// Elapsed is how far month m has run at now in loc: the day of the month
// it is (counting today whole) and the month's length. A past month has run
// all its days, a future one none.
func Elapsed(m stats.Month, now time.Time, loc *time.Location) (day, days int) {
	days = time.Date(m.Year, m.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	cur := stats.MonthOf(now, loc)
	switch {
	case cur == m:
		return now.In(loc).Day(), days
	case m.Before(cur):
		return days, days
	}
	return 0, days
}

// Pace is the part of target due by the end of day `day` of a month of
// `days` days, rounded down to the minor unit. It places the bar's marker;
// Judge compares exactly, without this rounding.
func Pace(target int64, day, days int) int64 {
	if days <= 0 || target <= 0 || day <= 0 {
		return 0
	}
	return target * int64(min(day, days)) / int64(days)
}

// Judge is the threshold progress has crossed: reached when won is at least
// the target; behind when, after the 15th, won is below 70 % of the target
// pro-rated to the day. ok is false when neither holds.
func Judge(won, target int64, day, days int) (t Threshold, ok bool) {
	if target <= 0 || days <= 0 {
		return "", false
	}
	if won >= target {
		return Reached, true
	}
	// won < target ≤ MaxWonAmount, so neither side overflows:
	// won/target < 0.70 × day/days, cross-multiplied to stay exact.
	if day > behindAfterDay && won*100*int64(days) < behindPercent*target*int64(min(day, days)) {
		return Behind, true
	}
	return "", false
}

// StatusOf is Judge in words for the bar.
func StatusOf(won, target int64, day, days int) Status {
	if target <= 0 {
		return StatusNone
	}
	switch t, _ := Judge(won, target, day, days); t {
	case Reached:
		return StatusReached
	case Behind:
		return StatusBehind
	}
	return StatusOnTrack
}

// Percent is part of whole in whole percent, rounded down (a bar at 99 %
// has not reached it), 0 without a whole, and at most 999 so a label stays
// short.
func Percent(part, whole int64) int {
	if whole <= 0 || part <= 0 {
		return 0
	}
	if part >= whole*10 {
		return 999
	}
	return int(part * 100 / whole)
}

// MaySet reports whether a setter may set the target of user: an admin
// anyone's; a manager the people on their team (team: everyone who reports
// to them, directly or not; never their own target, which is their
// manager's or an admin's call); nobody else. Roles are web.Role values as
// text (workers import this package, not web).
func MaySet(setterRole string, setterID, user int64, team []int64) bool {
	switch setterRole {
	case "admin":
		return true
	case "manager":
		return user != setterID && slices.Contains(team, user)
	}
	return false
}

// Input is a target as a setter typed it, validated.
type Input struct {
	UserID    int64
	Month     stats.Month
	WonAmount int64
	Deals     *int32
	Visits    *int32
}

// ParseMonth reads "2006-01" (an <input type="month">), for years 2000 to
// 2100.
func ParseMonth(s string) (stats.Month, bool) {
	t, err := time.Parse("2006-01", strings.TrimSpace(s))
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return stats.Month{}, false
	}
	return stats.Month{Year: t.Year(), Month: t.Month()}, true
}

// ParseInput validates a target form (fields user_id, month, won_amount,
// deals, visits; amounts as the org's country writes them) into an Input,
// with an error message id per bad field. Whether the setter may set the
// user's target is MaySet's question, asked with the user loaded.
func ParseInput(get func(string) string, country string) (Input, map[string]string) {
	var in Input
	errs := map[string]string{}
	if id, err := strconv.ParseInt(strings.TrimSpace(get("user_id")), 10, 64); err != nil || id <= 0 {
		errs["user_id"] = "validation.choice"
	} else {
		in.UserID = id
	}
	if m, ok := ParseMonth(get("month")); ok {
		in.Month = m
	} else {
		errs["month"] = "targets.month_invalid"
	}
	switch raw := strings.TrimSpace(get("won_amount")); {
	case raw == "":
		errs["won_amount"] = "validation.required"
	default:
		n, err := money.Parse(raw, country)
		switch {
		case err != nil || n <= 0:
			errs["won_amount"] = "targets.amount_invalid"
		case n > MaxWonAmount:
			errs["won_amount"] = "targets.amount_too_big"
		default:
			in.WonAmount = n
		}
	}
	for _, f := range []struct {
		name string
		dst  **int32
	}{{"deals", &in.Deals}, {"visits", &in.Visits}} {
		raw := strings.TrimSpace(get(f.name))
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxCount {
			errs[f.name] = "targets.count_invalid"
			continue
		}
		v := int32(n)
		*f.dst = &v
	}
	return in, errs
}
