package calendar

import (
	"errors"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestAddBusiness(t *testing.T) {
	madrid, mexico, baires := zone(t, "Europe/Madrid"), zone(t, "America/Mexico_City"), zone(t, "America/Argentina/Buenos_Aires")
	split, _ := Parse("lun-vie 09:00-14:00, 15:00-18:00")
	nine, _ := Parse("lun-vie 09:00-18:00")
	always, _ := Parse("lun-dom 00:00-24:00")
	holidays := map[Day]bool{{2026, 12, 8}: true, {2026, 12, 25}: true}
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	cases := []struct {
		name  string
		cal   Calendar
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"within a window", Calendar{Loc: madrid, Week: split}, at(madrid, 2026, 11, 24, 10, 0), 2 * time.Hour, at(madrid, 2026, 11, 24, 12, 0)},
		{"across the lunch break", Calendar{Loc: madrid, Week: split}, at(madrid, 2026, 11, 23, 13, 30), time.Hour, at(madrid, 2026, 11, 23, 15, 30)},
		{"ends exactly at closing", Calendar{Loc: madrid, Week: split}, at(madrid, 2026, 11, 23, 17, 0), time.Hour, at(madrid, 2026, 11, 23, 18, 0)},
		{"friday evening to monday", Calendar{Loc: madrid, Week: split}, at(madrid, 2026, 11, 27, 17, 0), 2 * time.Hour, at(madrid, 2026, 11, 30, 10, 0)},
		{"saturday starts on monday", Calendar{Loc: madrid, Week: split}, at(madrid, 2026, 11, 28, 11, 0), 30 * time.Minute, at(madrid, 2026, 11, 30, 9, 30)},
		{"zero moves to working time", Calendar{Loc: madrid, Week: split}, at(madrid, 2026, 11, 28, 11, 0), 0, at(madrid, 2026, 11, 30, 9, 0)},
		{"night before a holiday", Calendar{Loc: madrid, Week: split, Holidays: holidays}, at(madrid, 2026, 12, 7, 17, 0), 2 * time.Hour, at(madrid, 2026, 12, 9, 10, 0)},
		{"christmas and the weekend", Calendar{Loc: madrid, Week: nine, Holidays: holidays}, at(madrid, 2026, 12, 24, 17, 0), 10 * time.Hour, at(madrid, 2026, 12, 28, 18, 0)},
		{"a week of work", Calendar{Loc: madrid, Week: nine}, at(madrid, 2026, 11, 23, 9, 0), 45 * time.Hour, at(madrid, 2026, 11, 27, 18, 0)},
		// Mexico City has had no daylight saving since 2022: UTC-6 all year.
		{"mexico before opening", Calendar{Loc: mexico, Week: nine}, at(mexico, 2026, 7, 13, 8, 0), time.Hour, time.Date(2026, 7, 13, 16, 0, 0, 0, time.UTC)},
		{"buenos aires over the weekend", Calendar{Loc: baires, Week: nine}, at(baires, 2026, 11, 27, 17, 30), time.Hour, time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)},
		// Madrid springs forward on Sunday 29 March 2026 at 02:00: four
		// hours of round-the-clock work from Saturday 23:00 end at 04:00.
		{"spring forward", Calendar{Loc: madrid, Week: always}, at(madrid, 2026, 3, 28, 23, 0), 4 * time.Hour, at(madrid, 2026, 3, 29, 4, 0)},
		// ...and falls back on Sunday 25 October at 03:00: two hours from
		// 01:30 summer time end at 02:30 winter time.
		{"fall back", Calendar{Loc: madrid, Week: always}, at(madrid, 2026, 10, 25, 1, 30), 2 * time.Hour, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)},
		// An office day on the Monday after the change is 9 wall-clock hours.
		{"office hours after the change", Calendar{Loc: madrid, Week: nine}, at(madrid, 2026, 3, 27, 17, 0), 2 * time.Hour, at(madrid, 2026, 3, 30, 10, 0)},
		{"start given in UTC", Calendar{Loc: madrid, Week: nine}, time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC), time.Hour, at(madrid, 2026, 11, 23, 10, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.cal.AddBusiness(c.start, c.d)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(c.want) {
				t.Fatalf("got %s, want %s", got, c.want.In(c.cal.Loc))
			}
		})
	}
}

func TestDeadlineCalendarHoursIgnoreTheCalendar(t *testing.T) {
	madrid := zone(t, "Europe/Madrid")
	nine, _ := Parse("lun-vie 09:00-18:00")
	start := time.Date(2026, 11, 28, 11, 0, 0, 0, madrid) // a Saturday
	got, err := Calendar{Loc: madrid, Week: nine}.Deadline(start, 90, false)
	if err != nil || !got.Equal(start.Add(90*time.Minute)) {
		t.Fatalf("calendar SLA: %s %v", got, err)
	}
	got, err = Calendar{Loc: madrid, Week: nine}.Deadline(start, 90, true)
	if err != nil || !got.Equal(time.Date(2026, 11, 30, 10, 30, 0, 0, madrid)) {
		t.Fatalf("business SLA: %s %v", got, err)
	}
}

func TestNoWorkingTimeIsAnError(t *testing.T) {
	if _, err := (Calendar{Loc: time.UTC}).AddBusiness(time.Now(), time.Hour); !errors.Is(err, ErrNoWorkingTime) {
		t.Fatalf("empty week: %v", err)
	}
}

func TestParse(t *testing.T) {
	good := []struct{ in, out string }{
		{"lun-vie 09:00-18:00", "lun-vie 09:00-18:00"},
		{"LUN-VIE 9:00-14:00,15:00-18:00; sáb 10:00-13:00", "lun-vie 09:00-14:00, 15:00-18:00; sáb 10:00-13:00"},
		{"mon,wed,fri 08:30-12:30\nsat 10:00-12:00", "lun 08:30-12:30; mié 08:30-12:30; vie 08:30-12:30; sáb 10:00-12:00"},
		{"lun-dom 00:00-24:00", "lun-dom 00:00-24:00"},
		{"mar 15:00-18:00, 09:00-14:00", "mar 09:00-14:00, 15:00-18:00"},
	}
	for _, c := range good {
		w, err := Parse(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := w.String(); got != c.out {
			t.Errorf("%q → %q, want %q", c.in, got, c.out)
		}
	}
	bad := []string{"", " ; ", "lun-vie", "lunes 09:00-18:00", "vie-lun 09:00-18:00", "lun 18:00-09:00", "lun 09:00-09:00",
		"lun 25:00-26:00", "lun 09:60-10:00", "lun 24:30-24:45", "lun 9-18", "lun 09:00-12:00, 11:00-13:00", "lun 09:00-12:00; lun-mar 13:00-14:00",
		"lun 09:00-12:00,", "lun 0900-1200"}
	for _, in := range bad {
		if _, err := Parse(in); !errors.Is(err, ErrHours) {
			if in == "lun 09:00-12:00," && err == nil {
				continue // a trailing comma is forgiven
			}
			t.Errorf("%q: %v, want an hours error", in, err)
		}
	}
}

// Parse never panics; what it accepts writes back to text that parses to
// the same week, and the clock always finds working time in it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"lun-vie 09:00-18:00", "sáb 10:00-13:00; dom 00:00-24:00", "mon,tue 8:00-9:00, 10:00-11:00", "x", "lun 24:00-24:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(w.String())
		if err != nil {
			t.Fatalf("%q → %q does not parse: %v", s, w.String(), err)
		}
		if back.String() != w.String() || !sameWeek(back, w) {
			t.Fatalf("%q → %q → %v, want %v", s, w.String(), back, w)
		}
		if _, err := (Calendar{Loc: time.UTC, Week: w}).AddBusiness(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 90*time.Minute); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	})
}

func sameWeek(a, b Week) bool {
	for d := range a {
		if !sameWindows(a[d], b[d]) {
			return false
		}
	}
	return true
}

// A date is the civil day where it was read, kept at UTC midnight: late
// evening in Mexico City is already the next day in Madrid, and the same
// instant gives each org its own day.
func TestDatesAreCivilDaysAtUTCMidnight(t *testing.T) {
	madrid, _ := Zone("Europe/Madrid")
	mexico, _ := Zone("America/Mexico_City")
	now := time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC) // 00:30 on 1 Jan in Madrid, 17:30 on 31 Dec in Mexico
	if got, want := Today(now, madrid), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Today in Madrid = %v, want %v", got, want)
	}
	if got, want := Today(now, mexico), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Today in Mexico City = %v, want %v", got, want)
	}
	// Civil keeps the day of t's own location, whatever its clock.
	late := time.Date(2026, 3, 29, 23, 59, 59, 999, madrid)
	if got, want := Civil(late), time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Civil(%v) = %v, want %v", late, got, want)
	}
	if d := Date(late); !d.Valid || !d.Time.Equal(Civil(late)) {
		t.Errorf("Date(%v) = %+v", late, d)
	}
	if d := DateOrNull(time.Time{}); d.Valid {
		t.Errorf("DateOrNull of the zero time = %+v, want NULL", d)
	}
	if d := DateOrNull(late); !d.Valid || !d.Time.Equal(Civil(late)) {
		t.Errorf("DateOrNull(%v) = %+v", late, d)
	}
}
