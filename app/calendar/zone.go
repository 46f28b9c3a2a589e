package calendar

import (
	"sync"
	"time"
)

// zones holds the zones Zone has parsed: time.LoadLocation reads and
// parses the zone file on every call (≈ 35 µs), and an org's zone is
// looked up on every page that shows a time and every document issued.
var zones sync.Map // name → *time.Location

// Zone is the time zone called name ("Europe/Madrid"), as
// time.LoadLocation gives it, parsed once per process.
func Zone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// ZoneOrUTC is Zone(name), or UTC when name cannot be read (a zone this
// binary's tzdata lacks): a date or time is then shown and kept in UTC
// rather than refused.
func ZoneOrUTC(name string) *time.Location {
	loc, err := Zone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
