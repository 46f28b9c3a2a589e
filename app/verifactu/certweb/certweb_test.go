package certweb_test

import (
	"net/url"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/verifactu/aeattest"
	"pulso/app/web"
)

// An admin uploads the PKCS#12 file and its password; the page shows the
// holder, NIF and expiry, never the password. Bad files and a wrong
// password get their field messages and store nothing; other roles may
// not see nor upload.
func TestCertificatePage(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Demo Ventas S.L.")
	admin := env.LoginAs(env.User(org, "admin@demo.test", web.RoleAdmin))
	ca := aeattest.NewCA(t, "Fake FNMT")
	p12 := ca.ClientPKCS12(t, aeattest.Client{Name: "DEMO VENTAS SL - B76543214"}, "clave-del-certificado")

	if r := admin.Get("/admin/verifactu/certificate"); r.Status != 200 || !strings.Contains(r.Body, `data-testid="cert-none"`) {
		t.Fatalf("page: %d", r.Status)
	}
	for _, c := range []struct {
		name, password string
		data           []byte
		want           string
	}{
		{"not PKCS#12", "x", []byte("esto no es un certificado"), "No es un certificado PKCS#12"},
		{"wrong password", "otra", p12, "Contraseña incorrecta"},
		{"no file", "x", nil, "Elija el archivo del certificado"},
	} {
		var files []apptest.File
		if c.data != nil {
			files = append(files, apptest.File{Field: "certificate", Name: "empresa.p12", Data: c.data})
		}
		r := admin.PostFiles("/admin/verifactu/certificate", url.Values{"password": {c.password}}, files...)
		if r.Status != 422 || !strings.Contains(r.Body, c.want) || !strings.Contains(r.Body, "field-error") {
			t.Errorf("%s: %d %q", c.name, r.Status, c.want)
		}
	}
	if n := env.Count(`SELECT count(*) FROM verifactu_certificates`); n != 0 {
		t.Fatalf("%d certificates stored from refused uploads", n)
	}

	r := admin.PostFiles("/admin/verifactu/certificate", url.Values{"password": {"clave-del-certificado"}},
		apptest.File{Field: "certificate", Name: "empresa.p12", Data: p12})
	if r.Status != 303 && r.Status != 302 {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	page := admin.Get("/admin/verifactu/certificate").Body
	for _, want := range []string{"DEMO VENTAS SL - B76543214", `data-testid="cert-nif">B76543214`, `data-testid="cert-not-after"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if strings.Contains(page, "clave-del-certificado") {
		t.Error("the page shows the password")
	}
	if held := env.Holding("clave-del-certificado"); len(held) != 0 {
		t.Errorf("the password is stored in clear in %v", held)
	}

	// A chain whose last exchange failed tells the admin why.
	env.Exec(`INSERT INTO verifactu_chains (org_id, issuer_nif) VALUES ($1, 'B76543214')`, org.ID)
	env.Exec(`INSERT INTO verifactu_senders (org_id, issuer_nif, last_outcome, last_error) VALUES ($1, 'B76543214', 'faulted', 'Codigo[4112]')`, org.ID)
	page = admin.Get("/admin/verifactu/certificate").Body
	if !strings.Contains(page, `data-testid="chain-problem"`) || !strings.Contains(page, "La AEAT rechazó el último envío de B76543214") || !strings.Contains(page, "Codigo[4112]") {
		t.Error("the page does not show the chain's problem")
	}

	for _, role := range []web.Role{web.RoleRep, web.RoleManager, web.RoleAccountant} {
		cl := env.LoginAs(env.User(org, string(role)+"@demo.test", role))
		if r := cl.Get("/admin/verifactu/certificate"); r.Status == 200 {
			t.Errorf("%s sees the certificate page", role)
		}
		if r := cl.PostFiles("/admin/verifactu/certificate", url.Values{"password": {"x"}}, apptest.File{Field: "certificate", Name: "a.p12", Data: p12}); r.Status < 400 {
			t.Errorf("%s uploaded a certificate: %d", role, r.Status)
		}
	}
}
