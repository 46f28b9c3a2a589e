package ledgerweb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/verifactu"
	"pulso/app/verifactu/ledger"
	"pulso/app/verifactu/ledger/ledgertest"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/i18n"
)

// fixture: an org with three invoices issued and one voided (four
// records), one accepted and one rejected by the AEAT, and its accountant
// and rep; plus a neighbour org with records of its own.
type fixture struct {
	env        *apptest.Env
	b          *ledgertest.Biller
	invs       []queries.Invoice
	accountant queries.User
	rep        queries.User
	other      *ledgertest.Biller
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := apptest.New(t)
	f := &fixture{env: env, b: ledgertest.Setup(t, env, env.Org("Registros Norte S.L."))}
	f.invs = f.b.Issue(t, 3)
	f.b.Void(t, f.invs[0])
	env.Exec(`UPDATE verifactu_records SET status = 'accepted' WHERE org_id = $1 AND seq = 1`, f.b.Org.ID)
	env.Exec(`UPDATE verifactu_records SET status = 'rejected', answer_code = 1104, answer_text = 'Valor del campo NIF del bloque Destinatario no es correcto' WHERE org_id = $1 AND seq = 2`, f.b.Org.ID)
	f.accountant = env.User(f.b.Org, "contable@norte.test", web.RoleAccountant)
	f.rep = env.User(f.b.Org, "comercial@norte.test", web.RoleRep)
	f.other = ledgertest.Setup(t, env, env.Org("Registros Sur S.L."))
	f.other.Issue(t, 1)
	return f
}

func (f *fixture) recordID(t *testing.T, org int64, seq int) int64 {
	t.Helper()
	return int64(f.env.Count(`SELECT id FROM verifactu_records WHERE org_id = $1 AND seq = $2`, org, seq))
}

func TestRecordsPage(t *testing.T) {
	f := newFixture(t)
	c := f.env.LoginAs(f.accountant)

	res := c.Get("/verifactu")
	if res.Status != 200 {
		t.Fatalf("status %d\n%s", res.Status, res.Body)
	}
	for status, n := range map[string]int{"pending": 2, "sent": 0, "accepted": 1, "accepted_with_errors": 0, "rejected": 1} {
		if want := fmt.Sprintf(`data-testid="count-%s">%d<`, status, n); !strings.Contains(res.Body, want) {
			t.Errorf("counts: no %s", want)
		}
	}
	if n := strings.Count(res.Body, `data-testid="record"`); n != 4 {
		t.Fatalf("%d records listed, want 4 (the neighbour's are not the org's)", n)
	}
	// Each record links its invoice and its XML, and shows the AEAT's answer.
	rejected := f.recordID(t, f.b.Org.ID, 2)
	for _, want := range []string{
		fmt.Sprintf(`href="/invoices/%d"`, f.invs[1].ID),
		fmt.Sprintf(`href="/verifactu/records/%d/xml"`, rejected),
		"1104 Valor del campo NIF del bloque Destinatario no es correcto",
		"Rechazado", "Aceptado", "Pendiente de envío", "Anulación",
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	filtered := func(query string, want int) string {
		t.Helper()
		res := c.Get("/verifactu?" + query)
		if res.Status != 200 {
			t.Fatalf("%s: status %d", query, res.Status)
		}
		if n := strings.Count(res.Body, `data-testid="record"`); n != want {
			t.Fatalf("%s: %d records, want %d", query, n, want)
		}
		return res.Body
	}
	if body := filtered("status=rejected", 1); !strings.Contains(body, fmt.Sprintf(`id="record-%d"`, rejected)) {
		t.Error("the rejected filter lists another record")
	}
	if body := filtered("kind=anulacion", 1); !strings.Contains(body, fmt.Sprintf(`href="/invoices/%d"`, f.invs[0].ID)) {
		t.Error("the anulación is not the voided invoice's")
	}
	filtered("status=pending&kind=alta", 1)
	filtered("status=sent", 0)
	filtered(fmt.Sprintf("before=%d", f.recordID(t, f.b.Org.ID, 3)), 2)

	// A filter that does not exist is said next to the filter, not a 500.
	res = c.Get("/verifactu?status=borrado")
	if res.Status != 422 || !strings.Contains(res.Body, "Elija un valor de la lista.") || strings.Contains(res.Body, `data-testid="record"`) {
		t.Fatalf("bad filter: status %d", res.Status)
	}
	if res := c.Get("/verifactu?before=abc"); res.Status != 404 {
		t.Fatalf("bad cursor: %d", res.Status)
	}
}

// The XML downloads as the very bytes stored (and sent to the AEAT).
func TestRecordXMLDownload(t *testing.T) {
	f := newFixture(t)
	c := f.env.LoginAs(f.accountant)
	id := f.recordID(t, f.b.Org.ID, 4) // the anulación
	var stored []byte
	if err := f.env.DB.QueryRow(context.Background(), `SELECT xml FROM verifactu_records WHERE org_id = $1 AND id = $2`, f.b.Org.ID, id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	res := c.Get(fmt.Sprintf("/verifactu/records/%d/xml", id))
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/xml; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	want := fmt.Sprintf(`attachment; filename="verifactu-%s-000004-anulacion-%s.xml"`, ledgertest.NIF, *f.invs[0].FullNumber)
	if cd := res.Header.Get("Content-Disposition"); cd != want {
		t.Errorf("Content-Disposition %q, want %q", cd, want)
	}
	if res.Body != string(stored) {
		t.Fatal("the download differs from the stored XML")
	}
	if _, err := verifactu.ParseRecord([]byte(res.Body)); err != nil {
		t.Fatal(err)
	}
	// Another org's record, and ids that are no record, are not found.
	for _, path := range []string{fmt.Sprintf("/verifactu/records/%d/xml", f.recordID(t, f.other.Org.ID, 1)), "/verifactu/records/0/xml", "/verifactu/records/x/xml"} {
		if res := c.Get(path); res.Status != 404 {
			t.Errorf("%s: %d", path, res.Status)
		}
	}
}

func TestVerifyPage(t *testing.T) {
	f := newFixture(t)
	c := f.env.LoginAs(f.accountant)
	res := c.Get("/verifactu/verify")
	if res.Status != 200 || !strings.Contains(res.Body, `data-testid="verify-ok"`) || strings.Contains(res.Body, `data-testid="break"`) {
		t.Fatalf("clean chain: %d\n%s", res.Status, res.Body)
	}
	target := f.recordID(t, f.b.Org.ID, 2)
	ledgertest.Tamper(t, f.env, `UPDATE verifactu_records SET xml = convert_to(replace(convert_from(xml, 'UTF8'), '>121.00<', '>12.10<'), 'UTF8')
		WHERE org_id = $1 AND id = $2`, f.b.Org.ID, target)
	res = c.Get("/verifactu/verify")
	if res.Status != 200 || !strings.Contains(res.Body, `data-testid="verify-broken"`) {
		t.Fatalf("broken chain: %d", res.Status)
	}
	for _, want := range []string{
		"Primer eslabón roto: posición 2.",
		"La huella no corresponde a los datos del registro",
		fmt.Sprintf(`href="/verifactu/records/%d/xml"`, target),
		fmt.Sprintf(`href="/invoices/%d"`, f.invs[1].ID),
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("verify page lacks %q", want)
		}
	}
	// The neighbour's chain is not the org's business, and holds anyway.
	res = f.env.LoginAs(f.other.User).Get("/verifactu/verify")
	if !strings.Contains(res.Body, `data-testid="verify-ok"`) || strings.Contains(res.Body, `data-testid="break"`) {
		t.Fatal("the neighbour sees a broken chain")
	}
}

// Billing roles use the pages; a rep or a manager is refused; the
// declaration is for everyone.
func TestRoles(t *testing.T) {
	f := newFixture(t)
	id := f.recordID(t, f.b.Org.ID, 1)
	billing := []string{"/verifactu", "/verifactu/verify", fmt.Sprintf("/verifactu/records/%d/xml", id)}
	manager := f.env.User(f.b.Org, "jefa@norte.test", web.RoleManager)
	for _, u := range []queries.User{f.b.User, f.accountant} {
		c := f.env.LoginAs(u)
		for _, p := range append(billing, "/verifactu/declaracion") {
			if res := c.Get(p); res.Status != 200 {
				t.Errorf("%s %s: %d", u.Role, p, res.Status)
			}
		}
		if home := c.Get("/"); !strings.Contains(home.Body, `href="/verifactu"`) {
			t.Errorf("%s: no VERI*FACTU entry in the navigation", u.Role)
		}
	}
	for _, u := range []queries.User{f.rep, manager} {
		c := f.env.LoginAs(u)
		for _, p := range billing {
			if res := c.Get(p); res.Status != 403 {
				t.Errorf("%s %s: %d, want 403", u.Role, p, res.Status)
			}
		}
		res := c.Get("/verifactu/declaracion")
		if res.Status != 200 || strings.Contains(res.Body, `href="/verifactu/verify"`) {
			t.Errorf("%s declaration: %d, or it links pages they may not open", u.Role, res.Status)
		}
		if home := c.Get("/"); strings.Contains(home.Body, `href="/verifactu"`) {
			t.Errorf("%s: the navigation offers VERI*FACTU", u.Role)
		}
	}
}

// The declaration names what the binary writes in every record's
// SistemaInformatico: the producer, Pulso, its version and installation.
func TestDeclaracion(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Declara S.L."))
	saved := invoices.Recording
	t.Cleanup(func() { invoices.Recording = saved })
	c := env.LoginAs(b.User)

	// No producer configured: each org is its own producer.
	invoices.Recording.Version = "1.4.2-test"
	res := c.Get("/verifactu/declaracion")
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	for _, want := range []string{
		`data-testid="producer-name">Declara S.L.<`, `data-testid="producer-nif">` + ledgertest.NIF + `<`,
		`data-testid="version">1.4.2-test<`, ">Pulso<", ">PU<", "Calle Mayor 1, 28013 Madrid",
		"artículo 13 del Reglamento aprobado por el Real Decreto 1007/2023", "Orden HAC/1177/2024",
		"exclusivamente para funcionar como VERI*FACTU", "Pruebas (preproducción)", "artículo 29.2.j) de la Ley 58/2003",
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("declaration lacks %q", want)
		}
	}

	// A producer configured for the installation is the one named.
	invoices.Recording.ProducerName, invoices.Recording.ProducerNIF = "Pulso Software S.L.", "A28083806"
	invoices.Recording.Installation, invoices.Recording.Env = "madrid-01", verifactu.Production
	invoices.Recording.ProducerAddress = "Paseo de la Castellana 1, 28046 Madrid"
	res = c.Get("/verifactu/declaracion")
	for _, want := range []string{`data-testid="producer-name">Pulso Software S.L.<`, `data-testid="producer-nif">A28083806<`, ">madrid-01<", ">Producción<",
		">Paseo de la Castellana 1, 28046 Madrid<", "En Paseo de la Castellana 1, 28046 Madrid"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("declaration lacks %q", want)
		}
	}
	// English on request.
	env.Exec(`UPDATE users SET locale = 'en' WHERE id = $1`, b.User.ID)
	if res := env.LoginAs(b.User).Get("/verifactu/declaracion"); !strings.Contains(res.Body, "Statement of compliance") {
		t.Error("no English declaration")
	}
}

// Every kind of broken link, state and record kind the pages name has
// its text in both languages (the keys are built at run time, so the
// catalog's own check cannot see them).
func TestMessages(t *testing.T) {
	var ids []string
	for _, p := range []string{verifactu.BrokenTipoHuella, verifactu.BrokenHuella, verifactu.BrokenFirst, verifactu.BrokenNotFirst, verifactu.BrokenLink, verifactu.BrokenIssuer,
		string(ledger.Gap), string(ledger.BadXML), string(ledger.Columns), string(ledger.Head)} {
		ids = append(ids, "verifactu.ledger.problem."+p)
	}
	for _, s := range ledger.Statuses {
		ids = append(ids, "verifactu.ledger.status."+s)
	}
	for _, k := range ledger.Kinds {
		ids = append(ids, "verifactu.ledger.kind."+k)
	}
	for _, id := range ids {
		for _, l := range []string{"es", "en"} {
			if i18n.In(l, id, nil) == id {
				t.Errorf("%s has no %s text", id, l)
			}
		}
	}
}

// A long list pages by id, newest first, keeping its filters.
func TestRecordsPaging(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Paginas S.L."))
	inv := b.Issue(t, 1)[0]
	// 60 more altas in a chain of their own: the list reads the columns
	// only, so they need not be real records (the check would refuse them).
	env.Exec(`INSERT INTO verifactu_chains (org_id, issuer_nif, last_seq, last_num_serie, last_fecha, last_huella) VALUES ($1, 'A28083806', 60, 'X', '01-12-2026', repeat('A', 64))`, b.Org.ID)
	env.Exec(`INSERT INTO verifactu_records (org_id, invoice_id, kind, issuer_nif, seq, num_serie, fecha_expedicion, tipo_factura, huella,
			prev_num_serie, prev_fecha, prev_huella, generated_at_text, xml)
		SELECT $1, $2, 'alta', 'A28083806', n, 'P-' || n, '01-12-2026', 'F1', repeat('A', 64),
			CASE WHEN n > 1 THEN 'P-' || (n - 1) END, CASE WHEN n > 1 THEN '01-12-2026' END, CASE WHEN n > 1 THEN repeat('A', 64) END,
			'2026-12-01T10:00:00+01:00', '<x/>'::bytea
		FROM generate_series(1, 60) AS n`, b.Org.ID, inv.ID)
	c := env.LoginAs(b.User)
	res := c.Get("/verifactu?kind=alta")
	if n := strings.Count(res.Body, `data-testid="record"`); n != 50 || !strings.Contains(res.Body, ">P-60<") || strings.Contains(res.Body, ">P-10<") {
		t.Fatalf("page 1: %d records", n)
	}
	i := strings.Index(res.Body, `data-testid="more"`)
	j := strings.LastIndex(res.Body[:i], `href="`)
	more := strings.ReplaceAll(res.Body[j+len(`href="`):strings.Index(res.Body[j+len(`href="`):], `"`)+j+len(`href="`)], "&amp;", "&")
	if !strings.HasPrefix(more, "/verifactu?before=") || !strings.HasSuffix(more, "&kind=alta") {
		t.Fatalf("more link %q", more)
	}
	res = c.Get(more)
	if n := strings.Count(res.Body, `data-testid="record"`); n != 11 || !strings.Contains(res.Body, ">P-10<") || !strings.Contains(res.Body, ">"+*inv.FullNumber+"<") ||
		strings.Contains(res.Body, `data-testid="more"`) {
		t.Fatalf("page 2: %d records", n)
	}
}

// A record the AEAT refused gets its corrected resubmission from the
// records page, once, by billing only; an accepted record does not.
func TestResubmitFromTheRecordsPage(t *testing.T) {
	f := newFixture(t)
	c := f.env.LoginAs(f.accountant)
	rejected, accepted := f.recordID(t, f.b.Org.ID, 2), f.recordID(t, f.b.Org.ID, 1)
	page := c.Get("/verifactu")
	if n := strings.Count(page.Body, `data-testid="record-resubmit"`); n != 1 ||
		!strings.Contains(page.Body, fmt.Sprintf(`action="/verifactu/records/%d/resubmit"`, rejected)) {
		t.Fatalf("%d resubmit buttons, want one on the rejected record", n)
	}
	if res := f.env.LoginAs(f.rep).Post(fmt.Sprintf("/verifactu/records/%d/resubmit", rejected), nil); res.Status != 403 {
		t.Errorf("rep: %d", res.Status)
	}
	for range 2 {
		if res := c.Post(fmt.Sprintf("/verifactu/records/%d/resubmit", rejected), nil); res.Status != 303 {
			t.Fatalf("resubmit: %d %.300s", res.Status, res.Body)
		}
	}
	var xml string
	if err := f.env.DB.QueryRow(context.Background(), `SELECT convert_from(xml, 'UTF8') FROM verifactu_records WHERE org_id = $1 AND corrects_id = $2`,
		f.b.Org.ID, rejected).Scan(&xml); err != nil {
		t.Fatalf("the correction (once): %v", err)
	}
	if !strings.Contains(xml, "<sum1:Subsanacion>S</sum1:Subsanacion>") || !strings.Contains(xml, "<sum1:RechazoPrevio>S</sum1:RechazoPrevio>") {
		t.Errorf("the correction does not say so: %.600s", xml)
	}
	if strings.Contains(c.Get("/verifactu").Body, `data-testid="record-resubmit"`) {
		t.Error("a corrected record still offers its resubmission")
	}
	before := f.env.Count(`SELECT count(*) FROM verifactu_records WHERE org_id = $1`, f.b.Org.ID)
	if res := c.Post(fmt.Sprintf("/verifactu/records/%d/resubmit", accepted), nil); res.Status != 303 {
		t.Errorf("accepted record: %d", res.Status)
	}
	if n := f.env.Count(`SELECT count(*) FROM verifactu_records WHERE org_id = $1`, f.b.Org.ID); n != before {
		t.Error("an accepted record was resubmitted")
	}
	if res := c.Post(fmt.Sprintf("/verifactu/records/%d/resubmit", f.recordID(t, f.other.Org.ID, 1)), nil); res.Status != 404 {
		t.Errorf("another org's record: %d", res.Status)
	}
}
