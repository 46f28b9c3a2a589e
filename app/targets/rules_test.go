package targets

import (
	"testing"
	"time"

	"pulso/app/stats"
)

func TestJudge(t *testing.T) {
	const target = 30_000_00 // 30.000,00 in a 30-day month: 1.000,00 a day
	for _, c := range []struct {
		name      string
		won       int64
		day, days int
		want      Threshold
		ok        bool
	}{
		{"nothing won on the 1st", 0, 1, 30, "", false},
		{"nothing won on the 15th: too early to say", 0, 15, 30, "", false},
		{"nothing won on the 16th", 0, 16, 30, Behind, true},
		// Pace on the 20th is 20.000,00; 70 % of it is 14.000,00.
		{"just under 70 % of pace", 13_999_99, 20, 30, Behind, true},
		{"exactly 70 % of pace", 14_000_00, 20, 30, "", false},
		{"ahead of pace", 25_000_00, 20, 30, "", false},
		{"reached early", 30_000_00, 3, 30, Reached, true},
		{"over the target", 45_000_00, 20, 30, Reached, true},
		{"reached beats behind", 30_000_00, 30, 30, Reached, true},
		{"last day, short", 20_000_00, 30, 30, Behind, true},
		{"a 31-day month's 31st at 70 %", 21_000_00, 31, 31, "", false},
		{"no days", 0, 20, 0, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Judge(c.won, target, c.day, c.days)
			if got != c.want || ok != c.ok {
				t.Errorf("Judge(%d, %d, %d, %d) = %q %v, want %q %v", c.won, target, c.day, c.days, got, ok, c.want, c.ok)
			}
		})
	}
	if _, ok := Judge(100, 0, 20, 30); ok {
		t.Error("no target judged")
	}
	// The largest target and the day's cross-multiplication stay exact.
	if got, ok := Judge(MaxWonAmount*7/10*20/31-1, MaxWonAmount, 20, 31); got != Behind || !ok {
		t.Errorf("max target: %q %v", got, ok)
	}
	if _, ok := Judge(MaxWonAmount*7/10*20/31+1, MaxWonAmount, 20, 31); ok {
		t.Error("max target just above 70 % of pace is behind")
	}
}

func TestPaceAndPercent(t *testing.T) {
	for _, c := range []struct {
		target    int64
		day, days int
		want      int64
	}{
		{30_000_00, 15, 30, 15_000_00},
		{10_000_00, 1, 31, 32_258}, // 322,58: rounded down
		{10_000_00, 31, 31, 10_000_00},
		{10_000_00, 0, 31, 0},
		{10_000_00, 40, 31, 10_000_00},
		{0, 10, 30, 0},
	} {
		if got := Pace(c.target, c.day, c.days); got != c.want {
			t.Errorf("Pace(%d, %d, %d) = %d, want %d", c.target, c.day, c.days, got, c.want)
		}
	}
	for _, c := range []struct {
		part, whole int64
		want        int
	}{{0, 100, 0}, {99_99, 100_00, 99}, {100, 100, 100}, {150, 100, 150}, {5000, 100, 999}, {10, 0, 0}, {-5, 100, 0}} {
		if got := Percent(c.part, c.whole); got != c.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", c.part, c.whole, got, c.want)
		}
	}
	for _, c := range []struct {
		won, target int64
		day         int
		want        Status
	}{{0, 0, 20, StatusNone}, {0, 100, 20, StatusBehind}, {100, 100, 2, StatusReached}, {0, 100, 10, StatusOnTrack}, {60, 100, 20, StatusOnTrack}} {
		if got := StatusOf(c.won, c.target, c.day, 30); got != c.want {
			t.Errorf("StatusOf(%d, %d, %d) = %s, want %s", c.won, c.target, c.day, got, c.want)
		}
	}
}

// The day is the org's: at 23:30 UTC on 15 March it is already the 16th in
// Madrid (behind pace may be judged) and still the 15th in Mexico City.
func TestElapsedInTheOrgsZone(t *testing.T) {
	madrid, _ := time.LoadLocation("Europe/Madrid")
	mexico, _ := time.LoadLocation("America/Mexico_City")
	now := time.Date(2026, 3, 15, 23, 30, 0, 0, time.UTC)
	march := stats.Month{Year: 2026, Month: time.March}
	for _, c := range []struct {
		m               stats.Month
		loc             *time.Location
		wantDay, wantOf int
	}{
		{march, madrid, 16, 31},
		{march, mexico, 15, 31},
		{stats.Month{Year: 2026, Month: time.February}, madrid, 28, 28},
		{stats.Month{Year: 2024, Month: time.February}, madrid, 29, 29},
		{stats.Month{Year: 2026, Month: time.April}, madrid, 0, 30},
	} {
		day, days := Elapsed(c.m, now, c.loc)
		if day != c.wantDay || days != c.wantOf {
			t.Errorf("Elapsed(%s, %s) = %d of %d, want %d of %d", c.m, c.loc, day, days, c.wantDay, c.wantOf)
		}
	}
	// New Year's Eve in Mexico is already January in Madrid.
	eve := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	if day, _ := Elapsed(stats.Month{Year: 2025, Month: time.December}, eve, mexico); day != 31 {
		t.Errorf("31 Dec in Mexico: day %d", day)
	}
	if day, _ := Elapsed(stats.Month{Year: 2025, Month: time.December}, eve, madrid); day != 31 {
		t.Errorf("December seen from January in Madrid: day %d (a past month has run all its days)", day)
	}
}

func TestMaySet(t *testing.T) {
	team := []int64{3, 7, 2} // web.Scope's: the team and the manager
	for _, c := range []struct {
		name   string
		role   string
		setter int64
		user   int64
		want   bool
	}{
		{"admin, anyone", "admin", 1, 4, true},
		{"admin, themselves", "admin", 1, 1, true},
		{"manager, their rep", "manager", 2, 3, true},
		{"manager, a rep of a manager under them", "manager", 2, 7, true},
		{"manager, themselves", "manager", 2, 2, false},
		{"manager, another team's rep", "manager", 2, 4, false},
		{"rep, themselves", "rep", 3, 3, false},
		{"accountant", "accountant", 6, 3, false},
	} {
		if got := MaySet(c.role, c.setter, c.user, team); got != c.want {
			t.Errorf("%s: MaySet = %v", c.name, got)
		}
	}
}

func TestParseInput(t *testing.T) {
	form := func(kv ...string) func(string) string {
		m := map[string]string{"user_id": "7", "month": "2026-03", "won_amount": "12.500,50"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	in, errs := ParseInput(form("deals", "4", "visits", " 12 "), "ES")
	if len(errs) != 0 || in.UserID != 7 || in.Month != (stats.Month{Year: 2026, Month: time.March}) || in.WonAmount != 12_500_50 ||
		in.Deals == nil || *in.Deals != 4 || in.Visits == nil || *in.Visits != 12 {
		t.Fatalf("good input: %+v %v", in, errs)
	}
	if in, errs := ParseInput(form("won_amount", "12,500.50"), "MX"); len(errs) != 0 || in.WonAmount != 12_500_50 || in.Deals != nil {
		t.Errorf("Mexican amount: %+v %v", in, errs)
	}
	for _, c := range []struct {
		field, value, want string
	}{
		{"won_amount", "", "validation.required"},
		{"won_amount", "-100", "targets.amount_invalid"},
		{"won_amount", "0", "targets.amount_invalid"},
		{"won_amount", "doce mil", "targets.amount_invalid"},
		{"won_amount", "12,345", "targets.amount_invalid"},
		{"won_amount", "1.000.000.000,01", "targets.amount_too_big"},
		{"won_amount", "99999999999999", "targets.amount_too_big"},
		{"deals", "0", "targets.count_invalid"},
		{"deals", "-3", "targets.count_invalid"},
		{"deals", "2,5", "targets.count_invalid"},
		{"visits", "10001", "targets.count_invalid"},
		{"visits", "muchas", "targets.count_invalid"},
		{"user_id", "", "validation.choice"},
		{"user_id", "abc", "validation.choice"},
		{"user_id", "-1", "validation.choice"},
		{"month", "2026-13", "targets.month_invalid"},
		{"month", "03/2026", "targets.month_invalid"},
		{"month", "1999-12", "targets.month_invalid"},
	} {
		_, errs := ParseInput(form(c.field, c.value), "ES")
		if errs[c.field] != c.want || len(errs) != 1 {
			t.Errorf("%s=%q: errors %v, want %s", c.field, c.value, errs, c.want)
		}
	}
	if _, errs := ParseInput(form("won_amount", "1.000.000.000,00"), "ES"); len(errs) != 0 {
		t.Errorf("the largest target is refused: %v", errs)
	}
}

func FuzzParseInput(f *testing.F) {
	for _, s := range []string{"12.500,50", "-1", "1e9", "", "9999999999999999999999"} {
		f.Add(s, "3")
	}
	f.Fuzz(func(t *testing.T, amount, deals string) {
		in, errs := ParseInput(func(k string) string {
			return map[string]string{"user_id": "1", "month": "2026-01", "won_amount": amount, "deals": deals}[k]
		}, "ES")
		if errs["won_amount"] == "" && (in.WonAmount <= 0 || in.WonAmount > MaxWonAmount) {
			t.Fatalf("accepted amount %d from %q", in.WonAmount, amount)
		}
		if errs["deals"] == "" && in.Deals != nil && (*in.Deals < 1 || *in.Deals > MaxCount) {
			t.Fatalf("accepted deals %d", *in.Deals)
		}
	})
}
