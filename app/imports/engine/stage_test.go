package engine

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"pulso/app/ident"
)

var headers = []string{"Empresa", "Contacto", "Correo", "Teléfono", "NIF", "País", "Provincia", "Ciudad", "Etiquetas", "Notas", "Propietario"}
var full = Mapping{"name": 0, "contact_name": 1, "email": 2, "phone": 3, "tax_id": 4, "country": 5, "province": 6, "city": 7, "tags": 8, "notes": 9, "owner_email": 10}

func TestStageLead(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cells   []string
		wantCol string
		wantErr string
		check   func(t *testing.T, name, email, phone, tax, country string, tags []string)
	}{
		{name: "good", cells: []string{"Acme", "Ana", " ANA@Acme.ES", "600 111 222", "b-12345674", "", "Madrid", "Getafe", "VIP, feria;vip|", "hola", "Rep@X.es"},
			check: func(t *testing.T, name, email, phone, tax, country string, tags []string) {
				if name != "Acme" || email != "ana@acme.es" || phone != "+34600111222" || tax != "B12345674" || country != "ES" || !slices.Equal(tags, []string{"vip", "feria"}) {
					t.Errorf("got %q %q %q %q %q %q", name, email, phone, tax, country, tags)
				}
			}},
		{name: "mexico by name", cells: []string{"Mx", "", "", "55 1234 5678", "", "México"},
			check: func(t *testing.T, name, email, phone, tax, country string, tags []string) {
				if country != "MX" || phone != "+525512345678" {
					t.Errorf("got %q %q", country, phone)
				}
			}},
		{name: "name from contact", cells: []string{"", "Solo Contacto"},
			check: func(t *testing.T, name, _, _, _, _ string, _ []string) {
				if name != "Solo Contacto" {
					t.Errorf("name %q", name)
				}
			}},
		{name: "short row", cells: []string{"Corta"}},
		{name: "no name at all", cells: []string{"", "", ""}, wantCol: "Empresa", wantErr: "validation.required"},
		{name: "bad email", cells: []string{"A", "", "a@", ""}, wantCol: "Correo", wantErr: ident.ErrEmailInvalid.MessageID},
		{name: "bad phone", cells: []string{"A", "", "", "12"}, wantCol: "Teléfono"},
		{name: "bad tax id", cells: []string{"A", "", "", "", "B12345678"}, wantCol: "NIF"},
		{name: "bad country", cells: []string{"A", "", "", "", "", "Francia"}, wantCol: "País", wantErr: "imports.err_country"},
		{name: "long name", cells: []string{strings.Repeat("a", 201)}, wantCol: "Empresa", wantErr: "validation.too_long"},
		{name: "control char", cells: []string{"A\x07b"}, wantCol: "Empresa", wantErr: "validation.bad_chars"},
		{name: "long tag", cells: []string{"A", "", "", "", "", "", "", "", strings.Repeat("t", 41)}, wantCol: "Etiquetas", wantErr: "leads.tag_invalid"},
		{name: "bad owner", cells: []string{"A", "", "", "", "", "", "", "", "", "", "nadie"}, wantCol: "Propietario"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := StageLead(Row{Line: 5, Cells: tc.cells, Mapping: full, Headers: headers}, "ES")
			if p.Line != 5 {
				t.Errorf("line %d", p.Line)
			}
			if p.ErrorColumn != tc.wantCol || (tc.wantErr != "" && p.ErrorID != tc.wantErr) || (tc.wantCol != "" && p.ErrorID == "") {
				t.Fatalf("error %q %q, want %q %q", p.ErrorColumn, p.ErrorID, tc.wantCol, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, p.Name, p.Email, p.Phone, p.TaxID, p.Country, p.Tags)
			}
		})
	}
}

func TestStagePortfolio(t *testing.T) {
	t.Parallel()
	m := Mapping{"tax_id": 0, "agent": 1, "custom_agent": 2, "billing_initial": 3, "billing_recommended": 4, "billing_final": 5, "billing_diff": 6}
	cases := []struct {
		cells   []string
		wantErr string
		initial int64
	}{
		{[]string{"b12345674", "rep@x.es", "", "1.234,56", "2000", "1500.00", "265,44"}, "", 123456},
		{[]string{"B12345674", "", "jefe@x.es", "10", "", "10", ""}, "", 1000},
		{[]string{"B12345674", "rep@x.es", "", "10", "", "12", "3"}, "imports.err_billing_diff", 0},
		{[]string{"B12345674", "rep@x.es", "", "10", "", "", "0"}, "imports.err_billing_diff", 0},
		{[]string{"B12345674", "rep@x.es", "", "diez"}, "imports.err_money", 0},
		{[]string{"", "rep@x.es"}, "validation.required", 0},
		{[]string{"B12345674"}, "validation.required", 0},
		{[]string{"X", "rep@x.es"}, "any", 0},
		{[]string{"B12345674", "no-email"}, "any", 0},
	}
	for i, tc := range cases {
		p := StagePortfolio(Row{Line: 2, Cells: tc.cells, Mapping: m, Headers: PortfolioHeaders}, "ES")
		switch {
		case tc.wantErr == "" && p.ErrorID != "":
			t.Errorf("case %d: unexpected %s (%s)", i, p.ErrorID, p.ErrorColumn)
		case tc.wantErr == "any" && p.ErrorID == "", tc.wantErr != "" && tc.wantErr != "any" && p.ErrorID != tc.wantErr:
			t.Errorf("case %d: error %q, want %q", i, p.ErrorID, tc.wantErr)
		case tc.wantErr == "" && (p.BillingInitial == nil || *p.BillingInitial != tc.initial):
			t.Errorf("case %d: initial %v", i, p.BillingInitial)
		}
	}
}

func TestAutoMap(t *testing.T) {
	t.Parallel()
	got := AutoMap(LeadFields, []string{"Razón social", "E-Mail", "TELÉFONO", "x", "Observaciones", "Owner Email", "Company"})
	want := Mapping{"name": 0, "email": 1, "phone": 2, "notes": 4, "owner_email": 5}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s → %d, want %d", k, got[k], v)
		}
	}
	pf := AutoMap(PortfolioFields, PortfolioHeaders)
	for i, f := range []string{"tax_id", "agent", "custom_agent", "billing_initial", "billing_recommended", "billing_final", "billing_diff"} {
		if pf[f] != i {
			t.Errorf("portfolio %s → %d, want %d", f, pf[f], i)
		}
	}
}

func FuzzStageLead(f *testing.F) {
	f.Add("Acme", "ana@acme.es", "600111222", "B12345674", "ES", "vip,feria")
	f.Add("", "x@", "+52 55", "XAXX010101000", "méxico", ";;")
	f.Fuzz(func(t *testing.T, name, email, phone, tax, country, tags string) {
		cells := []string{name, "", email, phone, tax, country, "", "", tags, "", ""}
		p := StageLead(Row{Line: 3, Cells: cells, Mapping: full, Headers: headers}, "ES")
		if p.ErrorID != "" {
			if p.ErrorColumn == "" {
				t.Fatal("an error without a column")
			}
			return
		}
		// A good row satisfies the leads table's checks.
		if strings.TrimSpace(p.Name) == "" || utf8.RuneCountInString(p.Name) > 200 || p.Email != strings.ToLower(p.Email) ||
			(p.Phone != "" && !strings.HasPrefix(p.Phone, "+")) || !slices.Contains([]string{"ES", "MX", "AR"}, p.Country) || len(p.Tags) > 20 {
			t.Fatalf("accepted a row the table would refuse: %+v", p)
		}
		if email != "" {
			if again, err := ident.NormalizeEmail(p.Email); err != nil || again != p.Email {
				t.Fatalf("e-mail %q not in ident's normal form", p.Email)
			}
		}
	})
}

func FuzzStagePortfolio(f *testing.F) {
	f.Add("B12345674", "rep@x.es", "", "1.234,56", "1", "1.300,00", "65,44")
	f.Fuzz(func(t *testing.T, tax, agent, custom, initial, rec, final, diff string) {
		p := StagePortfolio(Row{Line: 2, Cells: []string{tax, agent, custom, initial, rec, final, diff}, Mapping: AutoMap(PortfolioFields, PortfolioHeaders), Headers: PortfolioHeaders}, "ES")
		if p.ErrorID == "" && diff != "" && (p.BillingFinal == nil || p.BillingInitial == nil) {
			t.Fatal("a difference was accepted without both figures")
		}
	})
}
