package ident_test

import (
	"strings"
	"testing"

	"pulso/app/ident"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".es"
	if len(long) != 254 {
		t.Fatalf("len(long) = %d", len(long))
	}
	valid := []struct{ in, want string }{
		{"ana@ferreteria-sol.es", "ana@ferreteria-sol.es"},
		{" Ana@Ferreteria-Sol.ES ", "ana@ferreteria-sol.es"},
		{"\tJUAN.PEREZ@EMPRESA.COM.MX\r\n", "juan.perez@empresa.com.mx"},
		{"ventas+feria2025@tienda.com.ar", "ventas+feria2025@tienda.com.ar"},
		{"o'neill@example.ie", "o'neill@example.ie"},
		{"a_b-c@sub.dominio-1.es", "a_b-c@sub.dominio-1.es"},
		{"x@a.io", "x@a.io"},
		{"info@xn--espaa-rta.es", "info@xn--espaa-rta.es"},
		{"peña@españa.es", "peña@españa.es"},
		{"PEÑA@ESPAÑA.ES", "peña@españa.es"},
		{"pen\u0303a@espan\u0303a.es", "peña@españa.es"}, // decomposed ñ composes
		{"josé@correo.mx", "josé@correo.mx"},
		{"a@b.c", "a@b.c"},
		{long, long},
		{"1234@123.com", "1234@123.com"},
	}
	for _, tc := range valid {
		got, err := ident.NormalizeEmail(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	invalid := []string{
		"", "   ", "\t\n",
		"ana", "ana@", "@empresa.es", "ana@@empresa.es", "ana@empresa", "ana@localhost",
		"Ana <ana@empresa.es>", "<ana@empresa.es>", "\"Ana\" <ana@empresa.es>",
		"ana@empresa.es (Ana)", "ana(x)@empresa.es",
		`"ana"@empresa.es`, `"ana maria"@empresa.es`,
		"ana@[192.168.1.1]", "ana@[IPv6:::1]", "ana@192.168.1.1", "ana@10.0.0.1",
		"ana maria@empresa.es", "ana@empresa .es", "ana@empresa.es.", "ana@.empresa.es",
		"ana..maria@empresa.es", ".ana@empresa.es", "ana.@empresa.es", "ana@empresa..es",
		"ana@-empresa.es", "ana@empresa-.es", "ana@emp_resa.es", "ana@emp!resa.es",
		"ana@empresa.es, luis@empresa.es", "ana@empresa.es;",
		"ana\x00@empresa.es", "ana\x7f@empresa.es", "ana@empresa.es\x1b",
		"ana\u200b@empresa.es", "ana@empr\u00adesa.es", "\u202eana@empresa.es",
		"ana\u00a0maria@empresa.es",
		"ana\xff@empresa.es", "\xc3@empresa.es",
		"ana@\ufffd.es",
		strings.Repeat("a", 65) + "@empresa.es",
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", 64) + ".es",
		"a" + long,
		"ana@" + strings.Repeat("b.", 130) + "es",
	}
	for _, in := range invalid {
		got, err := ident.NormalizeEmail(in)
		wantErr(t, in, err, "ident.email_invalid")
		if got != "" {
			t.Errorf("NormalizeEmail(%q) returned %q with an error", in, got)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"ana@ferreteria-sol.es", " Ana@Ferreteria-Sol.ES ", "Ana <ana@x.es>", `"a b"@x.es`,
		"peña@españa.es", "pen\u0303a@x.es", "a@[1.2.3.4]", "a@1.2.3.4", "ǅ@x.es", "K@x.es", "İ@x.es",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ident.NormalizeEmail(s)
		if err != nil {
			if got != "" {
				t.Fatalf("%q: %q returned with error %v", s, got, err)
			}
			wantErr(t, s, err, "ident.email_invalid")
			return
		}
		again, err := ident.NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeEmail(%q) = %q, but NormalizeEmail(%q) = %q, %v", s, got, got, again, err)
		}
		if got != strings.ToLower(got) || len(got) > 254 || strings.Count(got, "@") != 1 || strings.ContainsAny(got, " <>()[]\"") {
			t.Fatalf("NormalizeEmail(%q) = %q: not a plain lower-case addr-spec", s, got)
		}
	})
}
