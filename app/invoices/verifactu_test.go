package invoices_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/apptest/conformance"
	"pulso/app/invoices"
	"pulso/app/verifactu"
	"pulso/queries"
)

// records is the org's chain for its NIF, in order, read back from the
// stored XML.
func (w *world) records(t *testing.T) ([]queries.VerifactuRecord, []verifactu.Stored) {
	t.Helper()
	rs, err := w.env.Q.ListVerifactuRecords(context.Background(), queries.ListVerifactuRecordsParams{OrgID: w.org.ID, IssuerNif: "B12345674"})
	if err != nil {
		t.Fatal(err)
	}
	var st []verifactu.Stored
	for i, r := range rs {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d is at position %d: a gap", i+1, r.Seq)
		}
		s, err := verifactu.ParseRecord(r.Xml)
		if err != nil {
			t.Fatalf("record %d: %v\n%s", r.Seq, err, r.Xml)
		}
		if s.Huella != r.Huella || s.FechaHoraHusoGenRegistro != r.GeneratedAtText || s.ID.NumSerieFactura != r.NumSerie ||
			s.ID.FechaExpedicionFactura != r.FechaExpedicion || (s.Prev == nil) != (r.PrevHuella == nil) ||
			s.Prev != nil && (s.Prev.Huella != *r.PrevHuella || s.Prev.NumSerieFactura != *r.PrevNumSerie) {
			t.Errorf("record %d: the columns do not say what its XML says", r.Seq)
		}
		st = append(st, s)
	}
	return rs, st
}

// validateRequest wraps the records in a RegFactuSistemaFacturacion as the
// sending job will and validates it against the AEAT's SuministroLR.xsd.
func (w *world) validateRequest(t *testing.T, rs []queries.VerifactuRecord) {
	t.Helper()
	var xmls [][]byte
	for _, r := range rs {
		xmls = append(xmls, r.Xml)
	}
	req, err := verifactu.BuildRequest(verifactu.Cabecera{ObligadoEmision: verifactu.PersonaES{NombreRazon: w.org.Name, NIF: "B12345674"}}, xmls)
	if err != nil {
		t.Fatal(err)
	}
	conformance.MustValidate(t, "verifactu/xsd/SuministroLR.xsd", req)
}

// Issuing writes exactly one sealed alta per invoice, valid against the
// AEAT schema, whose huella recomputes and which chains to the record
// before it; voiding adds an anulación to the same chain; a proforma
// writes nothing.
func TestIssuingAndVoidingWriteChainedRecords(t *testing.T) {
	w := newWorld(t)
	regime := func(r, cause string) func(*queries.CreateCustomerParams) {
		return func(p *queries.CreateCustomerParams) { p.TaxRegime, p.ExemptCause = &r, &cause }
	}
	a := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Ladrillo <macizo> \"rojo\"", "10", 250, "21"), w.line("Pan", "2", 100, "4")}}).ID, time.Time{})
	b := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Mostrador", "1", 1000, "21")}}).ID, time.Time{})
	w.draft(t, invoices.DraftInput{Kind: invoices.Proforma, Lines: []invoices.LineInput{w.line("Oferta", "1", 1000, "21")}})
	issued := []queries.Invoice{a, b}
	// Each tax treatment's Desglose (see invoices.desglose).
	wants := map[int][]string{0: {"<sum1:CalificacionOperacion>S1</sum1:CalificacionOperacion>", "<sum1:TipoImpositivo>4.00</sum1:TipoImpositivo>"}}
	for i, c := range []struct{ regime, cause, want string }{
		{"exempt", "E1", "<sum1:OperacionExenta>E1</sum1:OperacionExenta>"},
		{"recargo", "", "<sum1:TipoRecargoEquivalencia>5.20</sum1:TipoRecargoEquivalencia>"},
		{"reverse_charge", "", "<sum1:CalificacionOperacion>N2</sum1:CalificacionOperacion>"},
		{"export", "", "<sum1:ClaveRegimen>02</sum1:ClaveRegimen>"},
	} {
		cu := w.newCustomer(t, fmt.Sprintf("Cliente %d S.L.", i), fmt.Sprintf("B1111111%d", i), regime(c.regime, c.cause))
		issued = append(issued, w.mustIssue(t, w.draft(t, invoices.DraftInput{CustomerID: &cu, Lines: []invoices.LineInput{w.line("Servicio", "1", 10000, "21")}}).ID, time.Time{}))
		wants[len(issued)-1] = []string{c.want}
	}

	rs, st := w.records(t)
	if len(rs) != len(issued) {
		t.Fatalf("%d records after issuing %d invoices and drafting a proforma", len(rs), len(issued))
	}
	for i, inv := range issued {
		if rs[i].InvoiceID != inv.ID || rs[i].Kind != "alta" || *rs[i].TipoFactura != *inv.FiscalType || rs[i].NumSerie != *inv.FullNumber || rs[i].Status != "pending" {
			t.Errorf("record %d: invoice %d, kind %s, type %v, number %s, status %s", i+1, rs[i].InvoiceID, rs[i].Kind, *rs[i].TipoFactura, rs[i].NumSerie, rs[i].Status)
		}
		if st[i].ImporteTotal != verifactu.Amount(inv.Base+inv.Tax+inv.Surcharge) {
			t.Errorf("record %d: ImporteTotal %s for an invoice of %d", i+1, st[i].ImporteTotal, inv.Total)
		}
	}
	for i, ws := range wants {
		for _, want := range ws {
			if !strings.Contains(string(rs[i].Xml), want) {
				t.Errorf("record %d lacks %s:\n%s", i+1, want, rs[i].Xml)
			}
		}
	}
	if st[0].Prev != nil || st[1].Prev == nil || st[1].Prev.Huella != st[0].Huella {
		t.Errorf("the second record does not chain to the first: %+v", st[1].Prev)
	}
	if strings.Contains(string(rs[1].Xml), "Destinatarios") {
		t.Error("the F2 names a recipient")
	}
	if !strings.Contains(string(rs[0].Xml), "Ladrillo ‹macizo› ”rojo”") {
		t.Errorf("the description was not cleaned for the AEAT:\n%s", rs[0].Xml)
	}

	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: w.org.ID, InvoiceID: b.ID, UserID: &w.user.ID, Reason: "Emitida por error", Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rs, st = w.records(t)
	last := len(rs) - 1
	if len(rs) != len(issued)+1 || rs[last].Kind != "anulacion" || rs[last].InvoiceID != b.ID || st[last].Kind != verifactu.KindAnulacion ||
		rs[last].NumSerie != *b.FullNumber || rs[last].TipoFactura != nil {
		t.Fatalf("voiding left %d records, the last %s of invoice %d", len(rs), rs[last].Kind, rs[last].InvoiceID)
	}
	if err := verifactu.VerifyChain(st, nil); err != nil {
		t.Fatal(err)
	}
	w.validateRequest(t, rs)
	for _, s := range st {
		if !strings.HasSuffix(s.FechaHoraHusoGenRegistro, "+01:00") && !strings.HasSuffix(s.FechaHoraHusoGenRegistro, "+02:00") {
			t.Errorf("generated at %s, not in Madrid's zone", s.FechaHoraHusoGenRegistro)
		}
	}
}

// 32 issuers at once, in two series (so the series locks do not serialise
// them: only the chain head does), leave one unbroken chain of 32 records
// and no gap in either series.
func TestConcurrentIssuersLeaveAnUnbrokenChain(t *testing.T) {
	w := newWorld(t)
	ids := make([]int64, 32)
	for i := range ids {
		in := invoices.DraftInput{Lines: []invoices.LineInput{w.line(fmt.Sprintf("Artículo %d", i), "1", int64(1000+i), "21")}}
		if i%2 == 1 {
			in.Kind = invoices.Simplified
		}
		ids[i] = w.draft(t, in).ID
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := w.issue(id, time.Time{}); err != nil {
				t.Errorf("issue %d: %v", id, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	rs, st := w.records(t)
	if len(rs) != 32 {
		t.Fatalf("%d records for 32 invoices", len(rs))
	}
	if err := verifactu.VerifyChain(st, nil); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"F", "FS"} {
		if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND series = $2 AND state = 'issued' AND number BETWEEN 1 AND 16`, w.org.ID, code); n != 16 {
			t.Errorf("series %s: %d of numbers 1–16 issued", code, n)
		}
	}
	w.validateRequest(t, rs)
}

// A record cannot be changed nor deleted by SQL; only its sending state can.
func TestVerifactuRecordsAreFrozen(t *testing.T) {
	w := newWorld(t)
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Servicio", "1", 1000, "21")}}).ID, time.Time{})
	ctx := context.Background()
	for _, sql := range []string{
		`UPDATE verifactu_records SET huella = repeat('A', 64) WHERE org_id = $1`,
		`UPDATE verifactu_records SET xml = xml || '\x20'::bytea WHERE org_id = $1`,
		`UPDATE verifactu_records SET generated_at_text = '2026-01-01T00:00:00+01:00' WHERE org_id = $1`,
		`DELETE FROM verifactu_records WHERE org_id = $1`,
		`TRUNCATE verifactu_records CASCADE`,
	} {
		if _, err := w.env.DB.Exec(ctx, strings.ReplaceAll(sql, "$1", fmt.Sprint(w.org.ID))); err == nil || !strings.Contains(err.Error(), "VERI*FACTU record") {
			t.Errorf("%s: %v", sql, err)
		}
	}
	if _, err := w.env.DB.Exec(ctx, `UPDATE verifactu_records SET status = 'accepted_with_errors', answer_code = 2000, answer_text = 'x', sent_at = now() WHERE org_id = $1`, w.org.ID); err != nil {
		t.Errorf("the sending state cannot be recorded: %v", err)
	}
	if n := w.env.Count(`SELECT count(*) FROM verifactu_records WHERE org_id = $1 AND status = 'accepted_with_errors'`, w.org.ID); n != 1 {
		t.Errorf("%d records", n)
	}
}

// A Mexican org's internal invoices write no VERI*FACTU record and print no QR.
func TestMexicanOrgWritesNoRecord(t *testing.T) {
	env := apptest.New(t)
	org, err := env.Q.CreateOrg(context.Background(), queries.CreateOrgParams{Name: "Empresa MX", Country: "MX", Currency: "MXN",
		TimeZone: "America/Mexico_City", TaxID: "OEM010101AB1"})
	if err != nil {
		t.Fatal(err)
	}
	w := worldIn(t, env, org)
	inv := w.mustIssue(t, w.draft(t, invoices.DraftInput{Series: "A", Lines: []invoices.LineInput{w.line("Servicio", "1", 1000, "16")}}).ID, time.Time{})
	if n := env.Count(`SELECT count(*) FROM verifactu_records`); n != 0 {
		t.Errorf("%d records", n)
	}
	if strings.Contains(apptest.PDFText(t, inv.Pdf), "QR tributario") {
		t.Error("the MX invoice prints the AEAT QR")
	}
}

// The issued PDF's QR decodes (zbarimg over the rendered first page) to
// the AEAT ValidarQR URL of that invoice.
func TestInvoicePDFCarriesTheAEATQR(t *testing.T) {
	w := newWorld(t)
	inv := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Servicio", "3", 1234, "21")}}).ID, time.Time{})
	pdfHas(t, inv.Pdf, "QR tributario:", "VERI*FACTU")
	got := apptest.PDFFirstPageQR(t, inv.Pdf)
	want := verifactu.QRURL(invoices.Recording.Env, &verifactu.Alta{
		IDFactura:    verifactu.IDFactura{IDEmisorFactura: "B12345674", NumSerieFactura: *inv.FullNumber, FechaExpedicionFactura: inv.IssueDate.Time},
		ImporteTotal: inv.Base + inv.Tax + inv.Surcharge})
	if got != want {
		t.Errorf("QR says %q, want %q", got, want)
	}
	if !strings.Contains(want, "importe=44.79") {
		t.Errorf("URL %s", want)
	}
	// Rebuilding the PDF from what issuing froze gives the QR again.
	d, err := invoices.Document(context.Background(), w.env.Q, w.org.ID, inv.ID)
	if err != nil || d.QR == nil {
		t.Fatalf("document: %v, QR %v", err, d.QR)
	}
}

// Correctives and replacements name what they correct or replace: R1 by
// difference, R4 by substitution with the corrected amounts, R5 of a
// simplified invoice without recipient, F3 replacing simplified invoices.
// All validate against the AEAT's request schema.
func TestCorrectiveAndReplacementRecords(t *testing.T) {
	w := newWorld(t)
	a := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Taladro", "2", 10000, "21")}}).ID, time.Time{})
	s1 := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Mostrador", "1", 1000, "21")}}).ID, time.Time{})
	s2 := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Mostrador", "1", 2000, "21")}}).ID, time.Time{})
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference,
		Reason: "Precio mal aplicado", Corrects: []int64{a.ID}, Lines: []invoices.LineInput{w.line("Taladro (abono)", "-1", 1000, "21")}}).ID, time.Time{})
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R4", Method: invoices.BySubstitution,
		Reason: "Cantidad", Corrects: []int64{a.ID}, Lines: []invoices.LineInput{w.line("Taladro", "1", 10000, "21")}}).ID, time.Time{})
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R5", Method: invoices.ByDifference,
		Reason: "Devolución", Corrects: []int64{s1.ID}, Lines: []invoices.LineInput{w.line("Mostrador (abono)", "-1", 1000, "21")}}).ID, time.Time{})
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Replacement, Corrects: []int64{s2.ID},
		Lines: []invoices.LineInput{w.line("Mostrador", "1", 2000, "21")}}).ID, time.Time{})

	rs, st := w.records(t)
	if len(rs) != 7 {
		t.Fatalf("%d records", len(rs))
	}
	if err := verifactu.VerifyChain(st, nil); err != nil {
		t.Fatal(err)
	}
	w.validateRequest(t, rs)
	for i, wants := range map[int][]string{
		3: {"<sum1:TipoFactura>R1</sum1:TipoFactura>", "<sum1:TipoRectificativa>I</sum1:TipoRectificativa>", "<sum1:FacturasRectificadas>", *a.FullNumber, "<sum1:CuotaTotal>-2.10</sum1:CuotaTotal>"},
		4: {"<sum1:TipoRectificativa>S</sum1:TipoRectificativa>", "<sum1:BaseRectificada>200.00</sum1:BaseRectificada>", "<sum1:CuotaRectificada>42.00</sum1:CuotaRectificada>"},
		5: {"<sum1:TipoFactura>R5</sum1:TipoFactura>", *s1.FullNumber},
		6: {"<sum1:TipoFactura>F3</sum1:TipoFactura>", "<sum1:FacturasSustituidas>", *s2.FullNumber, "<sum1:Destinatarios>"},
	} {
		for _, want := range wants {
			if !strings.Contains(string(rs[i].Xml), want) {
				t.Errorf("record %d lacks %s:\n%s", i+1, want, rs[i].Xml)
			}
		}
	}
	if strings.Contains(string(rs[5].Xml), "Destinatarios") {
		t.Error("the R5 names a recipient")
	}
}

// Each org keeps its own chain even under the same NIF, and an org holding
// its chain never holds up another's issuing.
func TestOrgsChainApart(t *testing.T) {
	w := newWorld(t)
	other := worldIn(t, w.env, w.env.Org("Otra S.L.")) // the same NIF, B12345674
	ctx := context.Background()
	tx, err := w.env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	q := queries.New(tx)
	if err := q.EnsureVerifactuChain(ctx, queries.EnsureVerifactuChainParams{OrgID: w.org.ID, IssuerNif: "B12345674"}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.LockVerifactuChain(ctx, queries.LockVerifactuChainParams{OrgID: w.org.ID, IssuerNif: "B12345674"}); err != nil {
		t.Fatal(err)
	}
	// The other org issues while the first org's chain is locked: were it
	// to wait for that lock, it would wait until this test ends, so the
	// issue runs with a lock_timeout of its own.
	err = other.tx(func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '10s'`); err != nil {
			return err
		}
		_, err := invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: other.org.ID, InvoiceID: other.draft(t, invoices.DraftInput{
			Lines: []invoices.LineInput{other.line("Servicio", "1", 1000, "21")}}).ID, UserID: &other.user.ID, Locale: "es", Now: time.Now()})
		return err
	})
	if err != nil {
		t.Fatalf("another org's issuing waits for this org's chain: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Servicio", "1", 1000, "21")}}).ID, time.Time{})
	for _, x := range []*world{w, other} {
		rs, st := x.records(t)
		if len(rs) != 1 || st[0].Prev != nil {
			t.Errorf("org %d: %d records, the first chained to %+v", x.org.ID, len(rs), st[0].Prev)
		}
	}
}

// A record the AEAT would refuse (here the org's NIF is not 9 characters)
// refuses the issue with a field message: no number, no record.
func TestIssueRefusedWhenTheRecordWouldBe(t *testing.T) {
	w := newWorld(t)
	w.env.Exec(`UPDATE orgs SET tax_id = 'B1234567' WHERE id = $1`, w.org.ID)
	_, err := w.issue(w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Servicio", "1", 1000, "21")}}).ID, time.Time{})
	if problem(err, "record") != "invoices.record_refused" {
		t.Fatalf("issue with a malformed NIF: %v", err)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND state = 'issued'`, w.org.ID) + w.env.Count(`SELECT count(*) FROM verifactu_records WHERE org_id = $1`, w.org.ID); n != 0 {
		t.Errorf("%d issued invoices and records after the refusal", n)
	}
}

// A sale at tax-included prices is invoiced as it was made: a simplified
// invoice whose lines carry the prices paid, its total exactly their sum
// (12,01 €, which no net base at 21 % reaches), each rate's base and tax
// taken out of it, in the record (valid against the AEAT schema) and on
// the PDF, which says the prices include IVA. Only a simplified invoice
// may be priced so.
func TestSimplifiedInvoicePricedTaxIncluded(t *testing.T) {
	w := newWorld(t)
	inv := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, PricesIncludeTax: true,
		Lines: []invoices.LineInput{w.line("Pegatina", "1", 1201, "21"), w.line("Pan", "3", 130, "4")}}).ID, time.Time{})
	// 12,01 ÷ 1,21 = 9,93 (IVA 2,08); 3,90 ÷ 1,04 = 3,75 (IVA 0,15).
	if !inv.PricesIncludeTax || inv.Total != 1591 || inv.Base != 1368 || inv.Tax != 223 {
		t.Fatalf("total %d, base %d, tax %d (prices include tax: %t)", inv.Total, inv.Base, inv.Tax, inv.PricesIncludeTax)
	}
	rs, st := w.records(t)
	if len(rs) != 1 || st[0].ImporteTotal != "15.91" || st[0].CuotaTotal != "2.23" {
		t.Fatalf("record: total %s, cuota %s", st[0].ImporteTotal, st[0].CuotaTotal)
	}
	for _, want := range []string{"<sum1:BaseImponibleOimporteNoSujeto>9.93</sum1:BaseImponibleOimporteNoSujeto>", "<sum1:CuotaRepercutida>2.08</sum1:CuotaRepercutida>",
		"<sum1:BaseImponibleOimporteNoSujeto>3.75</sum1:BaseImponibleOimporteNoSujeto>", "<sum1:CuotaRepercutida>0.15</sum1:CuotaRepercutida>"} {
		if !strings.Contains(string(rs[0].Xml), want) {
			t.Errorf("record lacks %s:\n%s", want, rs[0].Xml)
		}
	}
	w.validateRequest(t, rs)
	pdfHas(t, inv.Pdf, "Precios con IVA incluido", "12,01\u00a0€", "3,90\u00a0€", "IVA 21 % sobre 9,93\u00a0€", "2,08\u00a0€", "15,91\u00a0€")

	// Part of it given back: an R5 by difference priced the same way, −5,00
	// (base −4,13, IVA −0,87), in the chain and valid for the AEAT.
	r5 := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R5", Method: invoices.ByDifference,
		Reason: "Devolución parcial", Corrects: []int64{inv.ID}, PricesIncludeTax: true,
		Lines: []invoices.LineInput{w.line("Devolución", "-1", 500, "21")}}).ID, time.Time{})
	if !r5.PricesIncludeTax || r5.Total != -500 || r5.Base != -413 || r5.Tax != -87 {
		t.Fatalf("R5: total %d, base %d, tax %d", r5.Total, r5.Base, r5.Tax)
	}
	rs, _ = w.records(t)
	if len(rs) != 2 || !strings.Contains(string(rs[1].Xml), "<sum1:ImporteTotal>-5.00</sum1:ImporteTotal>") {
		t.Fatalf("R5 record:\n%s", rs[len(rs)-1].Xml)
	}
	w.validateRequest(t, rs)

	// Exchanged for a full invoice (F3) and corrected by substitution (R5)
	// with the ticket's lines as the forms copy them, without saying how
	// they are priced: priced as the ticket was, the same 15,91 € (taken
	// as net, they were 18,59 €, IVA added twice). The F3 replaces a twin
	// ticket: one an R5 has corrected is no longer exchanged.
	ticket := w.lines(t, inv.ID)
	twin := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, PricesIncludeTax: true,
		Lines: []invoices.LineInput{w.line("Pegatina", "1", 1201, "21"), w.line("Pan", "3", 130, "4")}}).ID, time.Time{})
	f3 := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Replacement, Corrects: []int64{twin.ID}, Lines: ticket}).ID, time.Time{})
	r5sub := w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R5", Method: invoices.BySubstitution,
		Reason: "Datos del ticket", Corrects: []int64{inv.ID}, Lines: ticket})
	for _, got := range []queries.Invoice{f3, r5sub} {
		if !got.PricesIncludeTax || got.Total != inv.Total || got.Base != inv.Base || got.Tax != inv.Tax {
			t.Errorf("%s of the ticket: total %d, base %d, tax %d (prices include tax: %t), want the ticket's %d, %d, %d",
				got.Kind, got.Total, got.Base, got.Tax, got.PricesIncludeTax, inv.Total, inv.Base, inv.Tax)
		}
	}
	rs, _ = w.records(t)
	if len(rs) != 4 || !strings.Contains(string(rs[3].Xml), "<sum1:ImporteTotal>15.91</sum1:ImporteTotal>") {
		t.Fatalf("F3 record:\n%s", rs[len(rs)-1].Xml)
	}
	w.validateRequest(t, rs)

	// Any other kind is refused with the reason, and so is a customer with
	// recargo de equivalencia.
	err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: w.org.ID, Kind: invoices.Ordinary, CustomerID: &w.customer, PricesIncludeTax: true,
			Lines: []invoices.LineInput{w.line("X", "1", 121, "21")}, Now: w.now})
		return err
	})
	var bad invoices.Invalid
	if !errors.As(err, &bad) || bad["kind"].ID != "invoices.prices_include_tax_simplified" {
		t.Errorf("an ordinary invoice priced tax included: %v", err)
	}
	re := w.newCustomer(t, "Minorista S.L.", "B22222222", func(p *queries.CreateCustomerParams) { r := "recargo"; p.TaxRegime = &r })
	err = w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: w.org.ID, Kind: invoices.Simplified, CustomerID: &re, PricesIncludeTax: true,
			Lines: []invoices.LineInput{w.line("X", "1", 121, "21")}, Now: w.now})
		return err
	})
	if !errors.As(err, &bad) || bad["customer"].ID != "invoices.prices_include_tax_simplified" {
		t.Errorf("recargo customer priced tax included: %v", err)
	}
	// The database holds the rule too.
	ord := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("X", "1", 100, "21")}})
	if _, err := w.env.DB.Exec(context.Background(), `UPDATE invoices SET prices_include_tax = true WHERE org_id = $1 AND id = $2`, w.org.ID, ord.ID); err == nil {
		t.Error("an ordinary invoice stored as priced tax included")
	}
}

// The correction Resubmit writes comes back as the database stores it
// (what the database made is read back, the rest is what was written),
// and it is the record a second Resubmit finds.
func TestResubmitReturnsTheStoredCorrection(t *testing.T) {
	w := newWorld(t)
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Servicio", "1", 10000, "21")}}).ID, time.Time{})
	rs, _ := w.records(t)
	w.env.Exec(`UPDATE verifactu_records SET status = 'rejected', answer_code = 1189, sent_at = now(), answered_at = now() WHERE id = $1`, rs[0].ID)
	var fix, again queries.VerifactuRecord
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if fix, err = invoices.Resubmit(ctx, tx, nil, w.org.ID, rs[0].ID, time.Now()); err != nil {
			return err
		}
		again, err = invoices.Resubmit(ctx, tx, nil, w.org.ID, rs[0].ID, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	stored, err := w.env.Q.GetVerifactuRecord(context.Background(), queries.GetVerifactuRecordParams{OrgID: w.org.ID, ID: fix.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fix, stored) || !reflect.DeepEqual(again, stored) {
		t.Errorf("Resubmit returned\n%+v\nand then\n%+v\nthe database holds\n%+v", fix, again, stored)
	}
	if stored.Seq != 2 || *stored.CorrectsID != rs[0].ID || stored.Status != "pending" {
		t.Errorf("correction %+v", stored)
	}
}

// The alta of an invoice voided since is not corrected, whatever the AEAT
// answered it: its anulación follows in the chain, and a correction sent
// after it would register the voided invoice again. The anulación itself
// can still be corrected.
func TestResubmitLeavesAVoidedInvoicesAltaAlone(t *testing.T) {
	w := newWorld(t)
	inv := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Servicio", "1", 10000, "21")}}).ID, time.Time{})
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: w.org.ID, InvoiceID: inv.ID, UserID: &w.user.ID, Reason: "Emitida por error", Now: w.now})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rs, _ := w.records(t)
	if len(rs) != 2 || rs[0].Kind != "alta" || rs[1].Kind != "anulacion" {
		t.Fatalf("records %+v", rs)
	}
	for _, status := range []string{"rejected", "accepted_with_errors"} {
		w.env.Exec(`UPDATE verifactu_records SET status = $2, answer_code = 1104, sent_at = now(), answered_at = now() WHERE id = $1`, rs[0].ID, status)
		err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
			_, err := invoices.Resubmit(ctx, tx, nil, w.org.ID, rs[0].ID, time.Now())
			return err
		})
		if !errors.Is(err, invoices.ErrVoidedSince) {
			t.Errorf("alta %s of a voided invoice: %v, want ErrVoidedSince", status, err)
		}
	}
	w.env.Exec(`UPDATE verifactu_records SET status = 'rejected', answer_code = 3002, sent_at = now(), answered_at = now() WHERE id = $1`, rs[1].ID)
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Resubmit(ctx, tx, nil, w.org.ID, rs[1].ID, time.Now())
		return err
	}); err != nil {
		t.Errorf("correcting the anulación: %v", err)
	}
	if after, _ := w.records(t); len(after) != 3 || after[2].Kind != "anulacion" || after[2].CorrectsID == nil || *after[2].CorrectsID != rs[1].ID {
		t.Errorf("records after the corrections: %d, want the anulación's correction alone", len(after))
	}
}

// Issuing reads the chain's head with the draft, before it waits for
// anything: when another issue of the org stores its record in between,
// the record is sealed again after that one, not stored after a head that
// has moved. Here a simplified invoice loads while an ordinary one holds
// the org's voucher count, and records after it.
func TestARecordIsSealedAfterAHeadThatMovedSinceLoading(t *testing.T) {
	w := newWorld(t)
	first := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Primero", "1", 1000, "21")}}).ID
	second := w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Segundo", "1", 500, "21")}}).ID
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Cero", "1", 100, "21")}}).ID, time.Time{})

	issued, release := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		errs <- w.tx(func(ctx context.Context, tx pgx.Tx) error {
			_, err := invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: w.org.ID, InvoiceID: first, Locale: "es", Now: w.now})
			close(issued)
			if err == nil {
				<-release
			}
			return err
		})
	}()
	<-issued
	go func() {
		_, err := w.issue(second, time.Time{})
		errs <- err
	}()
	// The second issuer has read the head and waits for the first.
	for w.env.Count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rs, st := w.records(t)
	if len(rs) != 3 || rs[1].InvoiceID != first || rs[2].InvoiceID != second || *rs[2].PrevHuella != rs[1].Huella {
		t.Fatalf("records %+v", rs)
	}
	if err := verifactu.VerifyChain(st, nil); err != nil {
		t.Fatal(err)
	}
}
