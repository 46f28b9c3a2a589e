package verifactu

import (
	"pulso/app/apptest/conformance"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The XSD's patterns for amounts and rates (ImporteSgn12.2Type,
// Tipo2.2Type), anchored as XSD patterns are.
var (
	reAmount = regexp.MustCompile(`^(\+|-)?\d{1,12}(\.\d{0,2})?$`)
	reRate   = regexp.MustCompile(`^\d{1,3}(\.\d{0,2})?$`)
)

// Amount writes every amount the XSD allows with exactly two decimals and
// reads back to the same cents.
func FuzzAmount(f *testing.F) {
	for _, c := range []int64{0, 1, -1, 99, 100, -12345, maxAmountCents, -maxAmountCents} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c int64) {
		if c > maxAmountCents || c < -maxAmountCents {
			return
		}
		s := Amount(c)
		if !reAmount.MatchString(s) || len(s)-strings.IndexByte(s, '.') != 3 {
			t.Fatalf("Amount(%d) = %q", c, s)
		}
		back, err := strconv.ParseInt(strings.Replace(s, ".", "", 1), 10, 64)
		if err != nil || back != c {
			t.Fatalf("Amount(%d) = %q reads back as %d", c, s, back)
		}
	})
}

// A rate Validate accepts is written to the XSD's pattern.
func FuzzRate(f *testing.F) {
	for _, s := range []string{"21", "5.2", "1.75", "0", "999.99", "0.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseRate(s)
		if err != nil || !rateOK(d) {
			return
		}
		if !reRate.MatchString(Rate(d)) {
			t.Fatalf("Rate(%s) = %q", s, Rate(d))
		}
	})
}

// CleanText's output is always accepted as text by Validate (when not
// empty and short enough) and never grows the text's characters.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"L'Oréal", "a=b", "  x\n\ty  ", "\xff\xfe", "<tag>", "\u0085x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CleanText(s)
		if !utf8.ValidString(c) {
			t.Fatalf("CleanText(%q) = %q is not UTF-8", s, c)
		}
		if n := utf8.RuneCountInString(c); n > 0 && n <= 500 {
			if err := text("x", c, 1, 500); err != nil {
				t.Fatalf("CleanText(%q) = %q: %v", s, c, err)
			}
		}
		if utf8.RuneCountInString(c) > utf8.RuneCountInString(s) {
			t.Fatalf("CleanText(%q) = %q grew", s, c)
		}
	})
}

// The readers of stored records and of the AEAT's answers never panic on
// any input, and a record they accept recomputes to some huella.
func FuzzParseRecord(f *testing.F) {
	f.Add(string(conformance.Read(f, "verifactu/samples/records/josemmo-registration-record-f1.xml")))
	f.Add(string(conformance.Read(f, "verifactu/samples/records/josemmo-cancellation-record.xml")))
	f.Add("<a/>")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord([]byte(s))
		if err == nil && len(r.ComputeHuella()) != 64 {
			t.Fatal("huella is not 64 characters")
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	for _, name := range []string{"correcto.xml", "parcial.xml", "incorrecto.xml", "fault.xml"} {
		f.Add(string(mustRead(f, "testdata/responses/"+name)))
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseResponse([]byte(s))
		if err == nil && r == nil {
			t.Fatal("no response and no error")
		}
	})
}
