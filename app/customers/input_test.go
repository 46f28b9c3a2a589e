package customers

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func validForm() Form {
	return Form{"legal_name": "Ferretería Sol S.L.", "country": "ES", "tax_id": "B12345674", "email": "Compras@Sol.ES",
		"phone": "600 11 22 33", "iban": "es91 2100 0418 4502 0005 1332", "payment_terms_days": "60", "tags": "Feria, vip, feria"}
}

func TestParseCustomer(t *testing.T) {
	in, e := parse(validForm())
	if len(e) != 0 {
		t.Fatalf("valid form: %v", e)
	}
	if in.TaxID != "B12345674" || in.Email != "compras@sol.es" || in.Phone != "+34600112233" || in.IBAN != "ES9121000418450200051332" ||
		in.PaymentTermsDays != 60 || strings.Join(in.Tags, ",") != "feria,vip" {
		t.Errorf("normalised: %+v", in)
	}
	for _, tc := range []struct {
		name  string
		set   map[string]string
		field string
		msg   string
	}{
		{"legal name required", map[string]string{"legal_name": ""}, "legal_name", "validation.required"},
		{"legal name too long", map[string]string{"legal_name": strings.Repeat("x", 201)}, "legal_name", "validation.too_long"},
		{"control chars", map[string]string{"trade_name": "a\x00b"}, "trade_name", "validation.bad_chars"},
		{"country", map[string]string{"country": "FR"}, "country", "validation.choice"},
		{"NIF check letter", map[string]string{"tax_id": "12345678A"}, "tax_id", "ident.taxid_check"},
		{"CIF check", map[string]string{"tax_id": "B12345675"}, "tax_id", "ident.taxid_check"},
		{"RFC shape", map[string]string{"country": "MX", "tax_id": "XYZ", "phone": ""}, "tax_id", "ident.taxid_format"},
		{"CUIT check", map[string]string{"country": "AR", "tax_id": "20-12345678-0", "phone": ""}, "tax_id", "ident.taxid_check"},
		{"IBAN mod 97", map[string]string{"iban": "ES9221000418450200051332"}, "iban", "ident.iban_check"},
		{"IBAN country", map[string]string{"iban": "MX12345"}, "iban", "ident.iban_country"},
		{"email", map[string]string{"email": "no-at-sign"}, "email", "ident.email_invalid"},
		{"phone", map[string]string{"phone": "12"}, "phone", "ident.phone_invalid"},
		{"terms negative", map[string]string{"payment_terms_days": "-1"}, "payment_terms_days", "customers.terms_invalid"},
		{"terms too long", map[string]string{"payment_terms_days": "366"}, "payment_terms_days", "customers.terms_invalid"},
		{"terms text", map[string]string{"payment_terms_days": "treinta"}, "payment_terms_days", "customers.terms_invalid"},
		{"mandate without date", map[string]string{"sepa_mandate_ref": "M-1"}, "sepa_mandate_date", "customers.mandate_date_required"},
		{"mandate without IBAN", map[string]string{"sepa_mandate_ref": "M-1", "sepa_mandate_date": "2024-01-31", "iban": ""}, "iban", "customers.mandate_needs_iban"},
		{"mandate bad date", map[string]string{"sepa_mandate_ref": "M-1", "sepa_mandate_date": "31/01/2024"}, "sepa_mandate_date", "customers.date_invalid"},
		{"mandate ref too long", map[string]string{"sepa_mandate_ref": strings.Repeat("M", 36), "sepa_mandate_date": "2024-01-31"}, "sepa_mandate_ref", "validation.too_long"},
		{"owner", map[string]string{"owner_id": "abc"}, "owner_id", "validation.choice"},
		{"tag too long", map[string]string{"tags": strings.Repeat("t", 41)}, "tags", "customers.tag_invalid"},
		{"too many tags", map[string]string{"tags": "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u"}, "tags", "customers.too_many_tags"},
		{"contact needs a name", map[string]string{"contact_email": "ana@sol.es"}, "contact_name", "validation.required"},
		{"contact phone", map[string]string{"contact_name": "Ana", "contact_phone": "1"}, "contact_phone", "ident.phone_invalid"},
		{"street too long", map[string]string{"billing_street": strings.Repeat("c", 301)}, "billing_street", "validation.too_long"},
		{"version", map[string]string{"version": "x"}, "version", "validation.choice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := validForm()
			for k, v := range tc.set {
				f[k] = v
			}
			_, e := parse(f)
			if e[tc.field] != tc.msg {
				t.Errorf("%s: got %q (all: %v), want %q", tc.field, e[tc.field], e, tc.msg)
			}
		})
	}
}

func TestParseContact(t *testing.T) {
	c, e := parseContact(Form{"name": "Ana Pérez", "email": "ANA@SOL.ES", "phone": "+52 55 1234 5678", "is_primary": "1"}, "MX")
	if len(e) != 0 || c.Email != "ana@sol.es" || c.Phone != "+525512345678" || !c.Primary {
		t.Errorf("%+v %v", c, e)
	}
	if _, e := parseContact(Form{"name": ""}, "ES"); e["name"] != "validation.required" {
		t.Errorf("empty name: %v", e)
	}
}

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in, country string
		want        int64
		ok          bool
	}{
		{"1.234,56", "ES", 123456, true},
		{"1234,56", "ES", 123456, true},
		{"1234,5", "ES", 123450, true},
		{"1234", "ES", 123400, true},
		{"1.234", "ES", 123400, true}, // a thousands dot, not decimals
		{"1.234.567", "ES", 123456700, true},
		{"1234.56", "ES", 123456, true}, // phone keypads offer only "."
		{"12.5", "ES", 1250, true},
		{"1.234,56 €", "ES", 123456, true},
		{"0", "ES", 0, true},
		{"1,234.56", "MX", 123456, true},
		{"$1,234.56", "MX", 123456, true},
		{"1234,56", "MX", 123456, true},
		{"$ 1.234,56", "AR", 123456, true},
		{"1,234", "MX", 123400, true},
		{"", "ES", 0, false},
		{"abc", "ES", 0, false},
		{"1,234", "ES", 0, false}, // three decimals: refused, not guessed
		{"1,2345", "ES", 0, false},
		{"1.23.4", "ES", 0, false},
		{"12.34.567,00", "ES", 0, false},
		{"-5", "ES", 0, false},
		{"1e5", "ES", 0, false},
		{"1,", "ES", 0, false},
		{"99999999999999999999", "ES", 0, false},
		{"1000000000000,01", "ES", 0, false},
		{"1000000000000", "ES", 100000000000000, true},
	} {
		got, err := ParseAmount(tc.in, tc.country)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d ok=%v", tc.in, tc.country, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1.234,56", "1,234.56", "0,01", "€", "1..2", "９"} {
		f.Add(s, "ES")
		f.Add(s, "MX")
	}
	f.Fuzz(func(t *testing.T, s, country string) {
		n, err := ParseAmount(s, country)
		if err != nil {
			return
		}
		if n < 0 || n > maxAmount {
			t.Fatalf("%q → %d out of range", s, n)
		}
		// What FormatMoney writes reads back as the same amount.
		cur := map[string]string{"MX": "MXN", "AR": "ARS"}[country]
		if cur == "" {
			cur, country = "EUR", "ES"
		}
		back, err := ParseAmount(strings.NewReplacer("\u00a0", " ", "MXN", "").Replace(FormatMoney(n, cur)), country)
		if err != nil || back != n {
			t.Fatalf("%q → %d → %q → %d, %v", s, n, FormatMoney(n, cur), back, err)
		}
	})
}

func TestFormatMoney(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{123456, "EUR", "1.234,56\u00a0€"},
		{5, "EUR", "0,05\u00a0€"},
		{100000000, "EUR", "1.000.000,00\u00a0€"},
		{-123456, "EUR", "-1.234,56\u00a0€"},
		{123456, "MXN", "$1,234.56\u00a0MXN"},
		{123456, "ARS", "$\u00a01.234,56"},
		{0, "EUR", "0,00\u00a0€"},
		{99, "USD", "0,99\u00a0USD"},
	} {
		if got := FormatMoney(tc.minor, tc.currency); got != tc.want {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}

func FuzzParseCustomer(f *testing.F) {
	f.Add("Sol", "ES", "B12345674", "ES9121000418450200051332", "30", "a,b", "2024-01-01")
	f.Add("", "MX", "GODE561231GR8", "", "x", "", "")
	f.Fuzz(func(t *testing.T, name, country, taxID, iban, terms, tags, date string) {
		in, e := parse(Form{"legal_name": name, "country": country, "tax_id": taxID, "iban": iban,
			"payment_terms_days": terms, "tags": tags, "sepa_mandate_ref": "R", "sepa_mandate_date": date})
		if len(e) > 0 {
			return
		}
		// Whatever passes fits the database's checks.
		if in.LegalName == "" || utf8.RuneCountInString(in.LegalName) > 200 || in.PaymentTermsDays < 0 || in.PaymentTermsDays > 365 ||
			strings.Contains(in.IBAN, " ") || strings.ToUpper(in.IBAN) != in.IBAN || len(in.Tags) > 20 || in.SepaMandateDate == nil {
			t.Fatalf("accepted %+v", in)
		}
	})
}

func TestSpreadsheetSafe(t *testing.T) {
	for in, want := range map[string]string{"=HYPERLINK(1)": "'=HYPERLINK(1)", "+34600": "+34600", "+34 =1": "'+34 =1", "-1+1": "'-1+1", "Sol": "Sol", "": "", "@x": "'@x"} {
		if got := spreadsheetSafe(in); got != want {
			t.Errorf("%q → %q", in, got)
		}
	}
}

// What a form shows an amount as parses back to the same cents.
func TestAmountInputRoundTrips(t *testing.T) {
	for _, country := range []string{"ES", "MX", "AR"} {
		for _, minor := range []int64{1, 9, 10, 99, 100, 12345, 123456789} {
			s := AmountInput(minor, country)
			got, err := ParseAmount(s, country)
			if err != nil || got != minor {
				t.Errorf("%s: %d → %q → %d (%v)", country, minor, s, got, err)
			}
		}
	}
}
