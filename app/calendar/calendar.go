// Package calendar is an org's business calendar — working hours per
// weekday, holidays, time zone — and the SLA clock built on it: when does a
// task due "8 business hours" from now fall due, across nights, weekends,
// holidays and daylight-saving changes.
package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Window is a stretch of working time within a day, in minutes after
// midnight, local time: [Start, End).
type Window struct{ Start, End int }

// Week holds each weekday's windows, indexed by time.Weekday (0 = Sunday).
type Week [7][]Window

// Calendar is one org's.
type Calendar struct {
	Loc      *time.Location
	Week     Week
	Holidays map[Day]bool
}

// Day is a civil date in the calendar's zone.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// DayOf is t's civil date in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return Day{y, m, d}
}

// DefaultHours is what a new org's calendar says until an admin changes it.
const DefaultHours = "lun-vie 09:00-18:00"

var dayNames = map[string]time.Weekday{
	"lun": time.Monday, "mar": time.Tuesday, "mie": time.Wednesday, "mié": time.Wednesday, "jue": time.Thursday,
	"vie": time.Friday, "sab": time.Saturday, "sáb": time.Saturday, "dom": time.Sunday,
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday,
	"sat": time.Saturday, "sun": time.Sunday,
}

// order walks Monday to Sunday, the way ranges like "lun-vie" read.
var order = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// ErrHours is wrapped by every parse error; the message says what is wrong.
var ErrHours = errors.New("calendar: working hours")

// Parse reads working hours written the way people write them:
//
//	lun-vie 09:00-14:00, 15:00-18:00; sáb 10:00-13:00
//
// Lines or ";" separate groups; a group is days (a name, a range like
// "lun-vie", or a list "lun,mié") followed by windows "HH:MM-HH:MM". Spanish
// and English three-letter day names, any case. Windows of one day must not
// overlap; 24:00 ends a day. A day named twice is an error; days not named
// are not working days.
func Parse(spec string) (Week, error) {
	var w Week
	seen := map[time.Weekday]bool{}
	groups := strings.FieldsFunc(spec, func(r rune) bool { return r == ';' || r == '\n' })
	if len(groups) == 0 {
		return w, fmt.Errorf("%w: empty", ErrHours)
	}
	for _, g := range groups {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		daysPart, windowsPart, ok := strings.Cut(g, " ")
		if !ok {
			return w, fmt.Errorf("%w: %q has no hours", ErrHours, g)
		}
		days, err := parseDays(strings.ToLower(strings.TrimSpace(daysPart)))
		if err != nil {
			return w, err
		}
		var wins []Window
		for _, part := range strings.Split(windowsPart, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			win, err := parseWindow(part)
			if err != nil {
				return w, err
			}
			wins = append(wins, win)
		}
		if len(wins) == 0 {
			return w, fmt.Errorf("%w: %q has no hours", ErrHours, g)
		}
		sortWindows(wins)
		for i := 1; i < len(wins); i++ {
			if wins[i].Start < wins[i-1].End {
				return w, fmt.Errorf("%w: overlapping hours in %q", ErrHours, g)
			}
		}
		for _, d := range days {
			if seen[d] {
				return w, fmt.Errorf("%w: a day appears twice", ErrHours)
			}
			seen[d] = true
			w[d] = append([]Window(nil), wins...)
		}
	}
	if len(seen) == 0 {
		return w, fmt.Errorf("%w: empty", ErrHours)
	}
	return w, nil
}

func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, item := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(item, "-")
		a, ok := dayNames[from]
		if !ok {
			return nil, fmt.Errorf("%w: unknown day %q", ErrHours, from)
		}
		if !isRange {
			out = append(out, a)
			continue
		}
		b, ok := dayNames[to]
		if !ok {
			return nil, fmt.Errorf("%w: unknown day %q", ErrHours, to)
		}
		i, j := index(a), index(b)
		if j < i {
			return nil, fmt.Errorf("%w: day range %q runs backwards", ErrHours, item)
		}
		out = append(out, order[i:j+1]...)
	}
	return out, nil
}

func index(d time.Weekday) int {
	for i, x := range order {
		if x == d {
			return i
		}
	}
	return 0
}

func parseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("%w: %q is not HH:MM-HH:MM", ErrHours, s)
	}
	start, err := parseClock(strings.TrimSpace(a))
	if err != nil {
		return Window{}, err
	}
	end, err := parseClock(strings.TrimSpace(b))
	if err != nil {
		return Window{}, err
	}
	if end <= start {
		return Window{}, fmt.Errorf("%w: %q ends before it starts", ErrHours, s)
	}
	return Window{start, end}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("%w: %q is not HH:MM", ErrHours, s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%w: %q is not a time of day", ErrHours, s)
	}
	return hh*60 + mm, nil
}

func sortWindows(w []Window) {
	for i := 1; i < len(w); i++ {
		for j := i; j > 0 && w[j].Start < w[j-1].Start; j-- {
			w[j], w[j-1] = w[j-1], w[j]
		}
	}
}

// String writes the week back in Parse's format (Spanish day names, one
// group per run of days with the same hours).
func (w Week) String() string {
	names := map[time.Weekday]string{time.Monday: "lun", time.Tuesday: "mar", time.Wednesday: "mié", time.Thursday: "jue",
		time.Friday: "vie", time.Saturday: "sáb", time.Sunday: "dom"}
	var groups []string
	for i := 0; i < len(order); {
		d := order[i]
		if len(w[d]) == 0 {
			i++
			continue
		}
		j := i
		for j+1 < len(order) && sameWindows(w[order[j+1]], w[d]) {
			j++
		}
		days := names[d]
		if j > i {
			days += "-" + names[order[j]]
		}
		var ws []string
		for _, x := range w[d] {
			ws = append(ws, fmt.Sprintf("%02d:%02d-%02d:%02d", x.Start/60, x.Start%60, x.End/60, x.End%60))
		}
		groups = append(groups, days+" "+strings.Join(ws, ", "))
		i = j + 1
	}
	return strings.Join(groups, "; ")
}

func sameWindows(a, b []Window) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// maxSearchDays bounds the clock's walk: a calendar with no working time
// (every working day a holiday) never loops forever.
const maxSearchDays = 3 * 366

// ErrNoWorkingTime says the SLA cannot be met within three years.
var ErrNoWorkingTime = errors.New("calendar: no working time ahead")

// AddBusiness returns the instant d of working time after start: the clock
// runs only inside the week's windows on days that are not holidays, in the
// calendar's zone. Windows are built with time.Date per day, so a window on
// the day clocks change is as long as the wall clock says (a 09:00-18:00
// window is 9 hours of work whatever the offset; a window across the jump
// itself counts real elapsed time). A start outside working time starts at
// the next window; d = 0 returns start moved to working time.
func (c Calendar) AddBusiness(start time.Time, d time.Duration) (time.Time, error) {
	loc := c.Loc
	if loc == nil {
		loc = time.UTC
	}
	left := d
	t := start.In(loc)
	y, m, dd := t.Date()
	for i := 0; i < maxSearchDays; i++ {
		day := time.Date(y, m, dd+i, 0, 0, 0, 0, loc)
		if c.Holidays[Day{day.Year(), day.Month(), day.Day()}] {
			continue
		}
		for _, w := range c.Week[day.Weekday()] {
			ws := time.Date(day.Year(), day.Month(), day.Day(), w.Start/60, w.Start%60, 0, 0, loc)
			we := time.Date(day.Year(), day.Month(), day.Day(), w.End/60, w.End%60, 0, 0, loc)
			if !we.After(t) {
				continue
			}
			if ws.Before(t) {
				ws = t
			}
			if avail := we.Sub(ws); avail > left || (left == 0) {
				return ws.Add(left), nil
			} else if avail == left {
				return we, nil
			} else {
				left -= avail
			}
		}
	}
	return time.Time{}, ErrNoWorkingTime
}

// Deadline is when an SLA of minutes runs out for work started at start:
// working minutes on the calendar, or plain elapsed minutes.
func (c Calendar) Deadline(start time.Time, minutes int, business bool) (time.Time, error) {
	d := time.Duration(minutes) * time.Minute
	if !business {
		return start.Add(d), nil
	}
	return c.AddBusiness(start, d)
}

// Civil is t's calendar day, as t's own location has it, at UTC midnight:
// how Pulso keeps a date, which carries no zone (a date column, a due day,
// the day a rate starts), so two of them compare by their days alone.
func Civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Today is now's calendar day in loc (an org's zone) as Civil keeps it.
func Today(now time.Time, loc *time.Location) time.Time { return Civil(now.In(loc)) }

// Date is Civil(t) as a PostgreSQL date.
func Date(t time.Time) pgtype.Date { return pgtype.Date{Time: Civil(t), Valid: true} }

// DateOrNull is Date(t), or NULL for the zero time (a date left empty).
func DateOrNull(t time.Time) pgtype.Date {
	if t.IsZero() {
		return pgtype.Date{}
	}
	return Date(t)
}
