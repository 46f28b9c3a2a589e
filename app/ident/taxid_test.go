package ident_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"pulso/app/ident"
)

// Valid examples. Those marked "by hand" were checked with pencil and paper
// against RULES.md; the real entity NIFs are public (company letterheads);
// the RFCs marked "SAT test" are the test taxpayers of SAT's CFDI sandbox.
func TestNormalizeTaxIDSpain(t *testing.T) {
	t.Parallel()
	valid := []struct{ in, want string }{
		// DNI. 12345678 mod 23 = 14 → Z (by hand).
		{"12345678Z", "12345678Z"},
		{"12345678z", "12345678Z"},
		{"12.345.678-Z", "12345678Z"},
		{" 12 345 678 Z ", "12345678Z"},
		{"12345678 - Z", "12345678Z"},
		{"ES12345678Z", "12345678Z"},
		{"es 12345678-z", "12345678Z"},
		{"00000001R", "00000001R"},
		{"87654321X", "87654321X"},
		{"45678912S", "45678912S"},
		{"05536168E", "05536168E"},
		{"5536168E", "05536168E"}, // 7-digit DNI, leading zero left out
		{"1234567L", "01234567L"}, // 1234567 mod 23 = 19 → L (by hand)
		{"99999999R", "99999999R"},
		{"12345678\u00a0Z", "12345678Z"}, // no-break space
		{"12345678\u2010Z", "12345678Z"}, // Unicode hyphen
		// NIE. X→0: 01234567 mod 23 = 19 → L (by hand); Y→1: 11234567
		// mod 23 = 10 → X (by hand); Z→2: 21234567 mod 23 = 1 → R.
		{"X1234567L", "X1234567L"},
		{"x-1234567-l", "X1234567L"},
		{"Y1234567X", "Y1234567X"},
		{"Z1234567R", "Z1234567R"},
		{"X0000001R", "X0000001R"},
		{"Y7654321G", "Y7654321G"},
		{"Z9999999H", "Z9999999H"},
		{"ESX1234567L", "X1234567L"},
		// K, L, M: the DNI rule on the 7 digits.
		{"K1234567L", "K1234567L"},
		{"L7654321J", "L7654321J"},
		{"M2345678T", "M2345678T"},
		// Entity NIF. B1234567: Luhn sum 26 → control 4 = "D" (by hand).
		{"B12345674", "B12345674"},
		{"B1234567D", "B1234567D"}, // letter form accepted for B too
		{"b-12345674", "B12345674"},
		{"ESB12345674", "B12345674"},
		{"Q2826000H", "Q2826000H"}, // AEAT; 2826000: sum 22 → 8 = "H" (by hand)
		{"Q28260008", "Q28260008"}, // digit form accepted for Q too
		{"A28015865", "A28015865"}, // Telefónica
		{"A39000013", "A39000013"},
		{"A48265169", "A48265169"},
		{"A08663619", "A08663619"},
		{"A15075062", "A15075062"},
		{"A28017895", "A28017895"},
		{"P2807900B", "P2807900B"},
		{"S2833002E", "S2833002E"},
		{"Q2818014I", "Q2818014I"},
		{"G28029643", "G28029643"},
		{"N0012345E", "N0012345E"},
		{"W0012345E", "W0012345E"},
		{"R0800010A", "R0800010A"},
		{"U87654323", "U87654323"},
		{"U8765432C", "U8765432C"},
		{"V4123456H", "V4123456H"},
		{"V41234568", "V41234568"},
		{"J12345674", "J12345674"},
		{"E1234567D", "E1234567D"},
		{"C12345674", "C12345674"},
		{"D1234567D", "D1234567D"},
		{"F12345674", "F12345674"},
		{"H12345674", "H12345674"},
		{"ESE12345674", "E12345674"},
	}
	for _, tc := range valid {
		got, err := ident.NormalizeTaxID(tc.in, "ES")
		if err != nil || got != tc.want {
			t.Errorf("NormalizeTaxID(%q, ES) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	invalid := []struct{ in, want string }{
		{"", "ident.taxid_format"},
		{"   ", "ident.taxid_format"},
		{"-.-", "ident.taxid_format"},
		{"12345678A", "ident.taxid_check"},
		{"12345679Z", "ident.taxid_check"}, // one digit off
		{"21345678Z", "ident.taxid_check"}, // two digits swapped
		{"1234567Z", "ident.taxid_check"},
		{"123456789", "ident.taxid_format"},
		{"12345678", "ident.taxid_format"},
		{"123456Z", "ident.taxid_format"},
		{"123456789Z", "ident.taxid_format"},
		{"12345678ZZ", "ident.taxid_format"},
		{"12345678Ñ", "ident.taxid_format"},
		{"12345678_Z", "ident.taxid_format"},
		{"12345678/Z", "ident.taxid_format"},
		{"X1234567A", "ident.taxid_check"},
		{"X12345678L", "ident.taxid_format"},
		{"X123456L", "ident.taxid_format"},
		{"Y1234567L", "ident.taxid_check"},
		{"K1234567A", "ident.taxid_check"},
		{"B12345675", "ident.taxid_check"},
		{"B1234567E", "ident.taxid_check"},
		{"B1234567Z", "ident.taxid_format"}, // Z is never a control letter
		{"Q2826000A", "ident.taxid_check"},
		{"B1234567", "ident.taxid_format"},
		{"B123456745", "ident.taxid_format"},
		{"I12345674", "ident.taxid_format"}, // no entity letter I
		{"O12345674", "ident.taxid_format"},
		{"T12345674", "ident.taxid_format"},
		{"ES", "ident.taxid_format"},
		{"ES1234567", "ident.taxid_format"},
		{"FR12345678Z", "ident.taxid_format"}, // another country's VAT prefix
		{"ESES12345678Z", "ident.taxid_format"},
		{"12345678Ｚ", "ident.taxid_format"}, // full-width Z
		{"１2345678Z", "ident.taxid_format"}, // full-width 1
		{"Х1234567L", "ident.taxid_format"}, // Cyrillic Х
		{"В12345674", "ident.taxid_format"}, // Cyrillic В
		{"12345678\u200bZ", "ident.taxid_format"},
		{"12345678\x00Z", "ident.taxid_format"},
		{"\xff12345678Z", "ident.taxid_format"},
		{strings.Repeat("1", 300), "ident.taxid_format"},
	}
	for _, tc := range invalid {
		got, err := ident.NormalizeTaxID(tc.in, "ES")
		wantErr(t, tc.in, err, tc.want)
		if got != "" {
			t.Errorf("NormalizeTaxID(%q, ES) returned %q with an error", tc.in, got)
		}
	}
}

func TestNormalizeTaxIDMexico(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in, want string
		checkOK  bool
	}{
		{"GODE561231GR8", "GODE561231GR8", true},
		{"gode 561231 gr8", "GODE561231GR8", true},
		{"GODE-561231-GR8", "GODE561231GR8", true},
		{"MAB9307148T4", "MAB9307148T4", true},
		{"MAB-930714-8T4", "MAB9307148T4", true},
		{"EKU9003173C9", "EKU9003173C9", true},   // SAT test
		{"XIA190128J61", "XIA190128J61", true},   // SAT test
		{"CACX7605101P8", "CACX7605101P8", true}, // SAT test
		{"URE180429TM6", "URE180429TM6", true},   // SAT test
		{"IIA040805DZ4", "IIA040805DZ4", true},
		{"SAT970701NN3", "SAT970701NN3", true},
		{"H&E951128469", "H&E951128469", true},
		{"h&e951128469", "H&E951128469", true},
		{"PEÑA800101AB8", "PEÑA800101AB8", true},
		{"peña800101ab8", "PEÑA800101AB8", true},
		{"PEN\u0303A800101AB8", "PEÑA800101AB8", true}, // decomposed Ñ
		{"ÑEO800101A18", "ÑEO800101A18", true},
		{"A&B900101XY5", "A&B900101XY5", true},
		{"BAR840229R3A", "BAR840229R3A", true},   // check character A; 1984 was a leap year
		{"GARC000229K22", "GARC000229K22", true}, // 29 Feb 2000
		{"LOMP8206281H9", "LOMP8206281H9", true},
		{"HEGJ820506M13", "HEGJ820506M13", true},
		{"PEMJ010131R95", "PEMJ010131R95", true},
		{"XAXX010101000", "XAXX010101000", true}, // generic: its check character would be 4
		{"XEXX010101000", "XEXX010101000", true},
		{"xaxx-010101-000", "XAXX010101000", true},
		// Right shape, wrong check character: accepted, with a warning.
		{"VACE460910SX6", "VACE460910SX6", false},
		{"MOCJ851212AB1", "MOCJ851212AB1", false},
		{"AAA010101AAA", "AAA010101AAA", false},
		{"GODE561231GR9", "GODE561231GR9", false},
	}
	for _, tc := range valid {
		got, err := ident.NormalizeTaxID(tc.in, "MX")
		if err != nil || got != tc.want {
			t.Errorf("NormalizeTaxID(%q, MX) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if ok := ident.RFCCheckOK(tc.in); ok != tc.checkOK {
			t.Errorf("RFCCheckOK(%q) = %v, want %v", tc.in, ok, tc.checkOK)
		}
	}
	invalid := []string{
		"", "   ",
		"GODE561231GR", "GODE561231", "COMG600703", "GODE561231GR8X", "GO561231GR8",
		"GODE561331GR8", // month 13
		"GODE560031GR8", // month 00
		"GODE561200GR8", // day 00
		"GODE561232GR8", // day 32
		"GODE560230GR8", // 30 February
		"GODE570229GR8", // 29 February, not a leap year
		"GODE560431GR8", // 31 April
		"G0DE561231GR8", // digit in the name part
		"GODE561231GRB", // last character must be a digit or A
		"GODE561231G_8",
		"GODE56123IGR8", // letter in the date
		"ÑAÑO800101AB",  // 12 characters but 4 letters
		"GODÉ561231GR8", // accented letter other than Ñ
		"ＧODE561231GR8", // full-width G
		"GОDE561231GR8", // Cyrillic О
		"GODE561231GR8\u200b",
		"ES12345678Z", "20055361682",
	}
	for _, in := range invalid {
		got, err := ident.NormalizeTaxID(in, "MX")
		wantErr(t, in, err, "ident.taxid_format")
		if got != "" {
			t.Errorf("NormalizeTaxID(%q, MX) returned %q with an error", in, got)
		}
		if ident.RFCCheckOK(in) {
			t.Errorf("RFCCheckOK(%q) = true for an invalid RFC", in)
		}
	}
}

func TestNormalizeTaxIDArgentina(t *testing.T) {
	t.Parallel()
	valid := []struct{ in, want string }{
		// 2,0,0,5,5,3,6,1,6,8 × 5,4,3,2,7,6,5,4,3,2 = 141; 141 mod 11 = 9;
		// 11 − 9 = 2 (by hand).
		{"20-05536168-2", "20055361682"},
		{"20055361682", "20055361682"},
		{"20 05536168 2", "20055361682"},
		{"20.05536168.2", "20055361682"},
		{" 20-05536168-2 ", "20055361682"},
		{"30-50001091-2", "30500010912"},
		{"30-54668997-9", "30546689979"},
		{"27-12345678-0", "27123456780"},
		{"20-12345678-6", "20123456786"},
		{"33-69345023-9", "33693450239"},
		{"20-00000000-1", "20000000001"},
		{"34-99903208-9", "34999032089"},
		{"50-00000001-6", "50000000016"},
		{"20-32964233-0", "20329642330"},
		{"23-12345678-5", "23123456785"},
		{"24-12345678-1", "24123456781"},
		{"30-71000000-6", "30710000006"},
		{"51-00000000-4", "51000000004"},
		{"55-00000220-7", "55000002207"},
	}
	for _, tc := range valid {
		got, err := ident.NormalizeTaxID(tc.in, "AR")
		if err != nil || got != tc.want {
			t.Errorf("NormalizeTaxID(%q, AR) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if f := ident.FormatCUIT(got); f != got[:2]+"-"+got[2:10]+"-"+got[10:] {
			t.Errorf("FormatCUIT(%q) = %q", got, f)
		}
	}
	invalid := []struct{ in, want string }{
		{"", "ident.taxid_format"},
		{"  ", "ident.taxid_format"},
		{"20-05536168-3", "ident.taxid_check"},
		{"20-05536186-2", "ident.taxid_check"}, // swapped digits
		{"23-12345678-9", "ident.taxid_check"},
		{"20-12345676-9", "ident.taxid_check"}, // r = 1: never issued (python-stdnum would accept 9)
		{"20-12345676-0", "ident.taxid_check"},
		{"20-05536164-9", "ident.taxid_check"},
		{"2005536168", "ident.taxid_format"},
		{"200553616822", "ident.taxid_format"},
		{"21-05536168-2", "ident.taxid_format"}, // no type 21
		{"10-05536168-2", "ident.taxid_format"},
		{"00-00000000-0", "ident.taxid_format"},
		{"20-0553616B-2", "ident.taxid_format"},
		{"20/05536168/2", "ident.taxid_format"},
		{"２0-05536168-2", "ident.taxid_format"},
		{"20-05536168-٢", "ident.taxid_format"},
	}
	for _, tc := range invalid {
		got, err := ident.NormalizeTaxID(tc.in, "AR")
		wantErr(t, tc.in, err, tc.want)
		if got != "" {
			t.Errorf("NormalizeTaxID(%q, AR) returned %q with an error", tc.in, got)
		}
	}
}

func TestFormatCUIT(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"20055361682":   "20-05536168-2",
		"30500010912":   "30-50001091-2",
		"20-05536168-2": "20-05536168-2",
		"2005536168":    "2005536168",
		"":              "",
		"2005536168X":   "2005536168X",
	} {
		if got := ident.FormatCUIT(in); got != want {
			t.Errorf("FormatCUIT(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeTaxIDCountry(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"", "FR", "US", "ESP", "España", " ES"} {
		_, err := ident.NormalizeTaxID("12345678Z", c)
		wantErr(t, c, err, "ident.country_unknown")
	}
	for _, c := range []string{"es", "Es"} {
		if got, err := ident.NormalizeTaxID("12345678Z", c); err != nil || got != "12345678Z" {
			t.Errorf("country %q: %q, %v", c, got, err)
		}
	}
}

func FuzzNormalizeTaxID(f *testing.F) {
	for _, s := range []string{
		"12345678Z", "12.345.678-z", "ES12345678Z", "1234567L", "X1234567L", "K1234567L", "B12345674",
		"Q2826000H", "GODE 561231 GR8", "PEN\u0303A800101AB8", "ÑEO800101A18", "H&E951128469",
		"XAXX010101000", "20-05536168-2", "20-12345676-9", "12345678Ｚ", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []string{"ES", "MX", "AR"} {
			got, err := ident.NormalizeTaxID(s, c)
			if err != nil {
				if got != "" {
					t.Fatalf("%q/%s: %q returned with error %v", s, c, got, err)
				}
				continue
			}
			again, err := ident.NormalizeTaxID(got, c)
			if err != nil || again != got {
				t.Fatalf("NormalizeTaxID(%q, %s) = %q, but NormalizeTaxID(%q) = %q, %v", s, c, got, got, again, err)
			}
			if !utf8.ValidString(got) || strings.Trim(got, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ&Ñ") != "" {
				t.Fatalf("NormalizeTaxID(%q, %s) = %q: not canonical", s, c, got)
			}
			switch c {
			case "ES":
				if len(got) != 9 {
					t.Fatalf("NormalizeTaxID(%q, ES) = %q: not 9 characters", s, got)
				}
			case "MX":
				if n := utf8.RuneCountInString(got); n != 12 && n != 13 {
					t.Fatalf("NormalizeTaxID(%q, MX) = %q: not 12 or 13 characters", s, got)
				}
				if ident.RFCCheckOK(got) != ident.RFCCheckOK(s) {
					t.Fatalf("RFCCheckOK differs between %q and its normal form %q", s, got)
				}
			case "AR":
				if len(got) != 11 || ident.FormatCUIT(got) == got {
					t.Fatalf("NormalizeTaxID(%q, AR) = %q: not 11 digits", s, got)
				}
			}
		}
	})
}

// Every check in this package catches every single wrong digit: the DNI
// rule because 23 is prime, the entity NIF's Luhn digit, the CUIT's mod 11
// (all weights below 11), and mod 97 over the whole IBAN.
func TestSingleWrongDigitIsCaught(t *testing.T) {
	t.Parallel()
	cases := []struct {
		value string
		norm  func(string) (string, error)
	}{
		{"12345678Z", es}, {"05536168E", es}, {"X1234567L", es}, {"Y7654321G", es}, {"K1234567L", es},
		{"B12345674", es}, {"Q2826000H", es}, {"A28015865", es},
		{"20055361682", ar}, {"30546689979", ar},
		{"ES9121000418450200051332", ident.NormalizeIBAN}, {"GB82WEST12345698765432", ident.NormalizeIBAN},
		{"DE89370400440532013000", ident.NormalizeIBAN}, {"FR1420041010050500013M02606", ident.NormalizeIBAN},
	}
	for _, tc := range cases {
		if got, err := tc.norm(tc.value); err != nil || got != tc.value {
			t.Fatalf("%q is not valid: %q, %v", tc.value, got, err)
		}
		for i := 0; i < len(tc.value); i++ {
			if tc.value[i] < '0' || tc.value[i] > '9' {
				continue
			}
			for d := byte('0'); d <= '9'; d++ {
				if d == tc.value[i] {
					continue
				}
				typo := tc.value[:i] + string(d) + tc.value[i+1:]
				if got, err := tc.norm(typo); err == nil {
					t.Errorf("typo %q of %q accepted as %q", typo, tc.value, got)
				}
			}
		}
	}
}

func es(s string) (string, error) { return ident.NormalizeTaxID(s, "ES") }
func ar(s string) (string, error) { return ident.NormalizeTaxID(s, "AR") }
