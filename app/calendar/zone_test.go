package calendar

import (
	"testing"
	"time"
)

func TestZoneIsTheNamedZoneParsedOnce(t *testing.T) {
	first, err := Zone("America/Argentina/Buenos_Aires")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Zone("America/Argentina/Buenos_Aires")
	if err != nil || again != first {
		t.Fatalf("second lookup: %p, %v; first %p", again, err, first)
	}
	if _, off := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC).In(first).Zone(); off != -3*3600 {
		t.Errorf("Buenos Aires offset %d", off)
	}
	madrid, err := Zone("Europe/Madrid")
	if err != nil || madrid == first {
		t.Fatalf("Madrid: %v", err)
	}
	if _, off := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC).In(madrid).Zone(); off != 2*3600 {
		t.Errorf("Madrid summer offset %d", off)
	}
	for _, bad := range []string{"Europe/Atlantis", "../../etc/passwd"} {
		if loc, err := Zone(bad); err == nil || loc != nil {
			t.Errorf("%q: %v, %v", bad, loc, err)
		}
	}
}

func TestZoneOrUTCFallsBackToUTC(t *testing.T) {
	madrid, err := Zone("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	if got := ZoneOrUTC("Europe/Madrid"); got != madrid {
		t.Errorf("ZoneOrUTC(Europe/Madrid) = %v, want Zone's %v", got, madrid)
	}
	for _, name := range []string{"Marte/Olympus", "../../etc/passwd"} {
		if got := ZoneOrUTC(name); got != time.UTC {
			t.Errorf("ZoneOrUTC(%q) = %v, want UTC", name, got)
		}
	}
}
