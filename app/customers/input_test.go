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
