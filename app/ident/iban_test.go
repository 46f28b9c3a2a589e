package ident_test

import (
	"strings"
	"testing"

	"pulso/app/ident"
)

func TestNormalizeIBAN(t *testing.T) {
	t.Parallel()
	valid := []struct{ in, want string }{
		// ES91 2100 0418 45 0200051332: CCC control digits 4 (over
		// 0021000418: 95 mod 11 = 7, 11 − 7) and 5 (over 0200051332: 105
		// mod 11 = 6, 11 − 6), by hand.
		{"ES9121000418450200051332", "ES9121000418450200051332"},
		{"ES91 2100 0418 4502 0005 1332", "ES9121000418450200051332"},
		{"es91 2100 0418 4502 0005 1332", "ES9121000418450200051332"},
		{"  ES91-2100-0418-4502-0005-1332 ", "ES9121000418450200051332"},
		{"IBAN ES91 2100 0418 4502 0005 1332", "ES9121000418450200051332"},
		{"ES91 2100 0418 4502 0005 1332" + strings.Repeat(" ", 40), "ES9121000418450200051332"},
		{"ES91\u00a02100\u00a00418\u00a04502\u00a00005\u00a01332", "ES9121000418450200051332"},
		{"ES7921000813610123456789", "ES7921000813610123456789"},
		{"ES6621000418401234567891", "ES6621000418401234567891"},
		{"ES7000491500010512345678", "ES7000491500010512345678"},
		{"ES5500810216780001234567", "ES5500810216780001234567"},
		{"ES5820854444061234567890", "ES5820854444061234567890"},
		{"ES8901820000910123456789", "ES8901820000910123456789"},
		{"ES5814650100961234567890", "ES5814650100961234567890"},
		{"ES8200730100550000000001", "ES8200730100550000000001"},
		{"ES7530580000409999999999", "ES7530580000409999999999"},
		{"GB82WEST12345698765432", "GB82WEST12345698765432"},
		{"GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"},
		{"DE89370400440532013000", "DE89370400440532013000"},
		{"DE89 3704 0044 0532 0130 00", "DE89370400440532013000"},
		{"DE98370400440000000042", "DE98370400440000000042"},
		{"DE02370400440000000024", "DE02370400440000000024"},
		{"FR1420041010050500013M02606", "FR1420041010050500013M02606"},
		{"fr14 2004 1010 0505 0001 3m02 606", "FR1420041010050500013M02606"},
		{"IT60X0542811101000000123456", "IT60X0542811101000000123456"},
		{"NL91ABNA0417164300", "NL91ABNA0417164300"},
		{"BE68539007547034", "BE68539007547034"},
		{"AT611904300234573201", "AT611904300234573201"},
		{"CH9300762011623852957", "CH9300762011623852957"},
		{"PT50000201231234567890154", "PT50000201231234567890154"},
		{"NO9386011117947", "NO9386011117947"},
		{"MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001S"},
		{"SE4550000000058398257466", "SE4550000000058398257466"},
		{"PL61109010140000071219812874", "PL61109010140000071219812874"},
		{"IE29AIBK93115212345678", "IE29AIBK93115212345678"},
		{"LU280019400644750000", "LU280019400644750000"},
		{"FI2112345600000785", "FI2112345600000785"},
		{"DK5000400440116243", "DK5000400440116243"},
		{"AD1200012030200359100100", "AD1200012030200359100100"},
		{"SM86U0322509800000000270100", "SM86U0322509800000000270100"},
		{"MC5811222000010123456789030", "MC5811222000010123456789030"},
		{"GI75NWBK000000007099453", "GI75NWBK000000007099453"},
		{"AL47212110090000000235698741", "AL47212110090000000235698741"},
		{"RS35260005601001611379", "RS35260005601001611379"},
		{"MD24AG000225100013104168", "MD24AG000225100013104168"},
		{"ME25505000012345678951", "ME25505000012345678951"},
		{"MK07250120000058984", "MK07250120000058984"},
		{"BR1800360305000010009795493C1", "BR1800360305000010009795493C1"},
		{"LC55HEMM000100010012001200023015", "LC55HEMM000100010012001200023015"},
		{"RU0304452522540817810538091310419", "RU0304452522540817810538091310419"},
		{"SC18SSCB11010000000000001497USD", "SC18SSCB11010000000000001497USD"},
		{"YE15CBYE0001018861234567891234", "YE15CBYE0001018861234567891234"},
		{"XK051212012345678906", "XK051212012345678906"},
		{"FO6264600001631634", "FO6264600001631634"},
		{"GL4489640001000206", "GL4489640001000206"},
	}
	for _, tc := range valid {
		got, err := ident.NormalizeIBAN(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeIBAN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	invalid := []struct{ in, want string }{
		{"", "ident.iban_format"},
		{"   ", "ident.iban_format"},
		{"ES", "ident.iban_format"},
		{"ES91", "ident.iban_format"},
		{"IBAN", "ident.iban_format"},
		{"9121000418450200051332ES", "ident.iban_format"},
		{"ES912100041845020005133", "ident.iban_format"},   // 23 characters
		{"ES91210004184502000513320", "ident.iban_format"}, // 25 characters
		{"ES542100041845020005133A", "ident.iban_format"},  // Spanish BBAN is all digits
		{"GB82WEST1234569876543X", "ident.iban_format"},
		{"GB821EST12345698765432", "ident.iban_format"}, // bank code is letters
		{"ESAB21000418450200051332", "ident.iban_format"},
		{"ES91_2100_0418_4502_0005_1332", "ident.iban_format"},
		{"ES91/2100/0418/4502/0005/1332", "ident.iban_format"},
		{"ES9121000418450200051332\x00", "ident.iban_format"},
		{"ＥＳ9121000418450200051332", "ident.iban_format"},                                    // full-width letters
		{"ЕS9121000418450200051332", "ident.iban_format"},                                    // Cyrillic Е
		{"ES91 2100 0418 4502 0005" + strings.Repeat(" ", 40) + "1332", "ident.iban_format"}, // > 64 characters
		{"ES9221000418450200051332", "ident.iban_check"},                                     // check digits off by one
		{"ES9121000418450200051333", "ident.iban_check"},
		{"ES9121000418450200051323", "ident.iban_check"}, // swapped digits
		{"ES2921000418460200051332", "ident.iban_check"}, // mod 97 fine, first CCC digit wrong
		{"ES3221000418350200051332", "ident.iban_check"}, // mod 97 fine, both CCC digits wrong
		{"ES1000491500051234567892", "ident.iban_check"}, // CCC fine, mod 97 not
		{"GB81WEST12345698765432", "ident.iban_check"},
		{"DE89370400440532013001", "ident.iban_check"},
		{"DE01370400440000000042", "ident.iban_check"}, // mod 97 fine, but 01 is never issued
		{"DE99370400440000000024", "ident.iban_check"}, // likewise 99
		{"DE00370400440532013000", "ident.iban_check"},
		{"MX92002180000118359719", "ident.iban_country"}, // Mexico has CLABE, not IBAN
		{"US8412345678901234", "ident.iban_country"},
		{"AR1234567890123456789012", "ident.iban_country"},
		{"XX9121000418450200051332", "ident.iban_country"},
		{"IBANIBAN", "ident.iban_country"},
		{"002180000118359719", "ident.iban_format"}, // a CLABE
	}
	for _, tc := range invalid {
		got, err := ident.NormalizeIBAN(tc.in)
		wantErr(t, tc.in, err, tc.want)
		if got != "" {
			t.Errorf("NormalizeIBAN(%q) returned %q with an error", tc.in, got)
		}
	}
}

func TestFormatIBAN(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ES9121000418450200051332":          "ES91 2100 0418 4502 0005 1332",
		"ES91 2100 0418 4502 0005 1332":     "ES91 2100 0418 4502 0005 1332",
		"es9121000418450200051332":          "ES91 2100 0418 4502 0005 1332",
		"DE89370400440532013000":            "DE89 3704 0044 0532 0130 00",
		"NO9386011117947":                   "NO93 8601 1117 947",
		"RU0304452522540817810538091310419": "RU03 0445 2522 5408 1781 0538 0913 1041 9",
		"ES91":                              "ES91",
		"":                                  "",
	} {
		if got := ident.FormatIBAN(in); got != want {
			t.Errorf("FormatIBAN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInSEPA(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"ES9121000418450200051332":      true,
		"ES91 2100 0418 4502 0005 1332": true,
		"GB82WEST12345698765432":        true,
		"CH9300762011623852957":         true,
		"GI75NWBK000000007099453":       true,
		"RS35260005601001611379":        true,
		"BR1800360305000010009795493C1": false,
		"FO6264600001631634":            false,
		"MX92002180000118359719":        false,
		"":                              false,
	} {
		if got := ident.InSEPA(in); got != want {
			t.Errorf("InSEPA(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzNormalizeIBAN(f *testing.F) {
	for _, s := range []string{
		"ES9121000418450200051332", "ES91 2100 0418 4502 0005 1332", "IBAN GB82 WEST 1234 5698 7654 32",
		"DE89370400440532013000", "FR1420041010050500013M02606", "DE01370400440000000042",
		"ES2921000418460200051332", "MX92002180000118359719", "MT84MALT011000012345MTLCAST001S", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ident.NormalizeIBAN(s)
		if err != nil {
			if got != "" {
				t.Fatalf("%q: %q returned with error %v", s, got, err)
			}
			return
		}
		again, err := ident.NormalizeIBAN(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeIBAN(%q) = %q, but NormalizeIBAN(%q) = %q, %v", s, got, got, again, err)
		}
		if len(got) < 15 || len(got) > 34 || strings.Trim(got, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Fatalf("NormalizeIBAN(%q) = %q: not a compact IBAN", s, got)
		}
		formatted := ident.FormatIBAN(got)
		if back, err := ident.NormalizeIBAN(formatted); err != nil || back != got {
			t.Fatalf("FormatIBAN(%q) = %q does not normalise back: %q, %v", got, formatted, back, err)
		}
	})
}
