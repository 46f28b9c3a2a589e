package printing

import (
	"testing"

	"codeberg.org/go-pdf/fpdf"
)

// Every rune of the Basic Multilingual Plane and a few beyond it print as
// fpdf's own cp1252 translator prints them, so documents keep their bytes.
func TestCP1252IsFpdfsTranslation(t *testing.T) {
	theirs := fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("cp1252")
	for r := rune(0); r <= 0xFFFF+16; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue // surrogates are not runes a string holds
		}
		s := "a" + string(r) + "€ñ"
		if got, want := cp1252(s), theirs(s); got != want {
			t.Fatalf("U+%04X: %q, fpdf gives %q", r, got, want)
		}
	}
}
