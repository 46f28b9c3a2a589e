package sends_test

import (
	"errors"
	"testing"
	"time"

	"pulso/app/invoices"
	"pulso/app/invoices/sends"
)

// A form's date and time are read in the org's zone, whatever the season;
// anything else is a field message on "at".
func TestParseAt(t *testing.T) {
	t.Parallel()
	madrid, _ := time.LoadLocation("Europe/Madrid")
	mexico, _ := time.LoadLocation("America/Mexico_City")
	for _, c := range []struct {
		date, clock string
		loc         *time.Location
		want        string // UTC, "" = refused
	}{
		{"2027-01-15", "09:30", madrid, "2027-01-15T08:30:00Z"}, // CET
		{"2027-07-15", "09:30", madrid, "2027-07-15T07:30:00Z"}, // CEST
		{" 2027-07-15 ", " 23:59 ", madrid, "2027-07-15T21:59:00Z"},
		{"2027-07-15", "09:30", mexico, "2027-07-15T15:30:00Z"},
		{"2027-02-31", "09:30", madrid, ""},
		{"15/07/2027", "09:30", madrid, ""},
		{"2027-07-15", "9h", madrid, ""},
		{"2027-07-15", "", madrid, ""},
		{"", "09:30", madrid, ""},
	} {
		got, err := sends.ParseAt(c.date, c.clock, c.loc)
		if c.want == "" {
			var bad invoices.Invalid
			if !errors.As(err, &bad) || bad["at"].ID != "invoices.sends.at_invalid" {
				t.Errorf("%q %q: %v, %v; want a message on at", c.date, c.clock, got, err)
			}
			continue
		}
		if err != nil || got.UTC().Format(time.RFC3339) != c.want {
			t.Errorf("%q %q in %s: %v %v, want %s", c.date, c.clock, c.loc, got.UTC(), err, c.want)
		}
	}
}

func TestClientURL(t *testing.T) {
	t.Parallel()
	if got := sends.ClientURL("https://pulso.example.com/", "abc"); got != "https://pulso.example.com/i/abc" {
		t.Errorf("ClientURL = %s", got)
	}
}
