package ident_test

import (
	"strings"
	"testing"

	"pulso/app/ident"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	valid := []struct{ in, country, want string }{
		// Spain: mobiles 6/7, landlines 8/9, typed every which way.
		{"600 11 22 33", "ES", "+34600112233"},
		{"600112233", "ES", "+34600112233"},
		{"600-112-233", "ES", "+34600112233"},
		{"600.11.22.33", "ES", "+34600112233"},
		{" 600 112 233 ", "ES", "+34600112233"},
		{"+34 600 11 22 33", "ES", "+34600112233"},
		{"+34600112233", "ES", "+34600112233"},
		{"0034 600 11 22 33", "ES", "+34600112233"},
		{"(+34) 600 11 22 33", "ES", "+34600112233"},
		{"+34 (600) 11-22-33", "ES", "+34600112233"},
		{"34 600 11 22 33", "ES", "+34600112233"},
		{"600\u00a011\u00a022\u00a033", "ES", "+34600112233"}, // no-break spaces from a web page
		{"600\u201311\u201322\u201333", "ES", "+34600112233"}, // en dashes from a word processor
		{"711 22 33 44", "ES", "+34711223344"},
		{"91 123 45 67", "ES", "+34911234567"},
		{"93 412 00 00", "ES", "+34934120000"},
		{"963 00 00 00", "ES", "+34963000000"},
		{"900 100 200", "ES", "+34900100200"},
		{"928 12 34 56", "ES", "+34928123456"},
		{"+34 600 11 22 33", "MX", "+34600112233"}, // international from any country
		{"0034600112233", "AR", "+34600112233"},
		// Mexico: 10 digits since 2019; the old prefixes are still typed.
		{"55 1234 5678", "MX", "+525512345678"},
		{"(55) 1234-5678", "MX", "+525512345678"},
		{"+52 55 1234 5678", "MX", "+525512345678"},
		{"+52 1 55 1234 5678", "MX", "+525512345678"},
		{"+5215512345678", "ES", "+525512345678"},
		{"0052 1 55 1234 5678", "MX", "+525512345678"},
		{"044 55 1234 5678", "MX", "+525512345678"},
		{"045 55 1234 5678", "MX", "+525512345678"},
		{"01 55 1234 5678", "MX", "+525512345678"},
		{"33 3123 4567", "MX", "+523331234567"},
		{"81 8123 4567", "MX", "+528181234567"},
		{"800 123 4567", "MX", "+528001234567"},
		{"999 123 4567", "MX", "+529991234567"},
		// Argentina: mobiles are +54 9 <area> <number>; nationally they
		// are written 0 <area> 15 <number>.
		{"011 15 2345-6789", "AR", "+5491123456789"},
		{"11 15 2345 6789", "AR", "+5491123456789"},
		{"+54 9 11 2345-6789", "AR", "+5491123456789"},
		{"+54 9 11 2345 6789", "ES", "+5491123456789"},
		{"00 54 9 11 2345 6789", "AR", "+5491123456789"},
		{"011 4321-1234", "AR", "+541143211234"},
		{"+54 11 4321 1234", "AR", "+541143211234"},
		{"0351 15 612-3456", "AR", "+5493516123456"},
		{"(0351) 423-4567", "AR", "+543514234567"},
		{"0341 15 555 1234", "AR", "+5493415551234"},
		{"0800 222 1234", "AR", "+548002221234"},
		// Other countries, typed internationally.
		{"+1 650 253 0000", "ES", "+16502530000"},
		{"+44 20 7946 0958", "ES", "+442079460958"},
		{"+49 30 901820", "ES", "+4930901820"},
		{"+33 1 42 68 53 00", "MX", "+33142685300"},
		{"600" + strings.Repeat(" ", 31) + "112233", "ES", "+34600112233"}, // 40 characters
		{"600112233", "es", "+34600112233"},
	}
	for _, tc := range valid {
		got, err := ident.NormalizePhone(tc.in, tc.country)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %s) = %q, %v; want %q", tc.in, tc.country, got, err, tc.want)
		}
	}

	invalid := []struct{ in, country, want string }{
		{"", "ES", "ident.phone_invalid"},
		{"   ", "ES", "ident.phone_invalid"},
		{"12", "ES", "ident.phone_invalid"},
		{"60011223", "ES", "ident.phone_invalid"},       // one digit short
		{"6001122334", "ES", "ident.phone_invalid"},     // one digit long
		{"500 11 22 33", "ES", "ident.phone_invalid"},   // no such range
		{"+34 0600112233", "ES", "ident.phone_invalid"}, // trunk 0 that Spain does not have
		{"+34 (0) 600112233", "ES", "ident.phone_invalid"},
		{"600 11 22 33 +", "ES", "ident.phone_invalid"},
		{"++34600112233", "ES", "ident.phone_invalid"},
		{"600+112233", "ES", "ident.phone_invalid"},
		{"+", "ES", "ident.phone_invalid"},
		{"00", "ES", "ident.phone_invalid"},
		{"0000000000", "ES", "ident.phone_invalid"},
		{"+999 1234567", "ES", "ident.phone_invalid"}, // no such country code
		// Fuzz finding: phonenumbers calls this German number valid, but its
		// 16 digits do not fit E.164.
		{"+4921000000000000", "ES", "ident.phone_invalid"},
		{"900-FLORES", "ES", "ident.phone_invalid"}, // vanity numbers are not accepted
		{"tel:+34600112233", "ES", "ident.phone_invalid"},
		{"600 11 22 33 o 600 11 22 34", "ES", "ident.phone_invalid"},
		{"６００１１２２３３", "ES", "ident.phone_invalid"},       // full-width digits
		{"٦٠٠١١٢٢٣٣", "ES", "ident.phone_invalid"},       // Arabic-Indic digits
		{"600\u200b112233", "ES", "ident.phone_invalid"}, // zero-width space
		{"600\x00112233", "ES", "ident.phone_invalid"},
		{"\xff600112233", "ES", "ident.phone_invalid"},
		{"600 11 22 33 " + strings.Repeat(" ", 30), "ES", ""},                     // trailing spaces are trimmed first
		{"600" + strings.Repeat(" ", 32) + "112233", "ES", "ident.phone_invalid"}, // 41 characters
		{"55 1234 567", "MX", "ident.phone_invalid"},
		{"+52 1 55 1234 567", "MX", "ident.phone_invalid"},
		{"15 2345 6789", "AR", "ident.phone_invalid"}, // mobile without area code
		{"600 11 22 33 ext. 12", "ES", "ident.phone_extension"},
		{"600 11 22 33 x12", "ES", "ident.phone_extension"},
		{"+52 55 1234 5678 ext 101", "MX", "ident.phone_extension"},
		{"600112233", "FR", "ident.country_unknown"},
		{"+34600112233", "", "ident.country_unknown"},
		{"600112233", "España", "ident.country_unknown"},
	}
	for _, tc := range invalid {
		got, err := ident.NormalizePhone(tc.in, tc.country)
		wantErr(t, tc.in, err, tc.want)
		if tc.want != "" && got != "" {
			t.Errorf("NormalizePhone(%q) returned %q with an error", tc.in, got)
		}
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"600 11 22 33", "+34600112233", "0034 600112233", "011 15 2345-6789", "+54 9 11 2345 6789",
		"+52 1 55 1234 5678", "044 55 1234 5678", "01 55 1234 5678", "600 11 22 33 ext. 12", "+1 650 253 0000",
		"(0351) 423-4567", "+44 20 7946 0958", "0800 222 1234", "+800 1234 5678", "+882 1234 5678",
	} {
		f.Add(s)
	}
	countries := []string{"ES", "MX", "AR"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range countries {
			got, err := ident.NormalizePhone(s, c)
			if err != nil {
				if got != "" {
					t.Fatalf("%q/%s: %q returned with error %v", s, c, got, err)
				}
				continue
			}
			if len(got) < 3 || len(got) > 16 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
				t.Fatalf("NormalizePhone(%q, %s) = %q: not E.164", s, c, got)
			}
			for _, c2 := range countries {
				again, err := ident.NormalizePhone(got, c2)
				if err != nil || again != got {
					t.Fatalf("NormalizePhone(%q, %s) = %q, but NormalizePhone(%q, %s) = %q, %v", s, c, got, got, c2, again, err)
				}
			}
		}
	})
}

// BenchmarkNormalizePhone is the per-row cost of a lead import; the inputs
// cycle over the three countries and the usual spellings.
func BenchmarkNormalizePhone(b *testing.B) {
	inputs := []struct{ s, c string }{
		{"600 11 22 33", "ES"}, {"+34 91 123 45 67", "ES"}, {"0034600112233", "ES"},
		{"55 1234 5678", "MX"}, {"+52 1 55 1234 5678", "MX"},
		{"011 15 2345-6789", "AR"}, {"+54 9 11 2345 6789", "AR"}, {"(0351) 423-4567", "AR"},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := inputs[i%len(inputs)]
		if _, err := ident.NormalizePhone(in.s, in.c); err != nil {
			b.Fatal(in.s, err)
		}
		i++
	}
}
