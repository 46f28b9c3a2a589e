package invoices_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/printing"
	"pulso/queries"
)

// The PDF carries what RD 1619/2012 art. 6 asks of a complete invoice (art.
// 7 of a simplified one), and the same invoice always gives the same bytes.
func TestInvoicePDFCarriesTheMandatoryContent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	day := today().AddDate(0, 0, -1)
	d := w.draft(t, invoices.DraftInput{Notes: "Pago por transferencia a 30 días.",
		Lines: []invoices.LineInput{w.line("Taladro percutor", "3", 8990, "21"), w.line("Manual de uso", "2", 1500, "4")}})
	var inv queries.Invoice
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: w.org.ID, InvoiceID: d.ID, Locale: "es", IssueDate: day,
			OperationDate: day.AddDate(0, 0, -10), Now: w.now})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	number := fmt.Sprintf("F-%d-0001", day.Year())
	pdfHas(t, inv.Pdf,
		"Factura", number, "Fecha: "+day.Format("02/01/2006"), "Fecha de operación: "+day.AddDate(0, 0, -10).Format("02/01/2006"),
		"EMISOR", "Facturas Norte S.L.", "B12345674", "Calle Mayor 1, 28013 Madrid",
		"CLIENTE", "Ferretería Ebro S.L.", "B87654321", "Av. Goya 10, 50006 Zaragoza, Zaragoza",
		"Taladro percutor", "Manual de uso", "89,90\u00a0€",
		"Base imponible", "299,70\u00a0€",
		"IVA 21 % sobre 269,70\u00a0€", "56,64\u00a0€",
		"IVA 4 % sobre 30,00\u00a0€", "1,20\u00a0€",
		"Total", "357,54\u00a0€", "Pago por transferencia a 30 días.")
	// Stored, re-rendered, downloaded: the same bytes.
	doc, err := invoices.Document(ctx, w.env.Q, w.org.ID, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := printing.Render(doc)
	b, _ := printing.Render(doc)
	stored, name, err := invoices.PDF(ctx, w.env.Q, w.org.ID, inv.ID)
	if err != nil || !bytes.Equal(a, b) || !bytes.Equal(a, stored) || !bytes.Equal(a, inv.Pdf) || name != "factura-"+number+".pdf" {
		t.Fatalf("the same invoice gives different bytes (%v, %q)", err, name)
	}
	if got := w.env.Count(`SELECT count(*) FROM invoices WHERE id = $1 AND pdf_sha256 = encode(sha256(pdf), 'hex')`, inv.ID); got != 1 {
		t.Error("the stored hash is not the PDF's")
	}
	// A draft has no PDF of an invoice yet.
	draft := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("X", "1", 100, "21")}})
	if _, _, err := invoices.PDF(ctx, w.env.Q, w.org.ID, draft.ID); err != invoices.ErrNotIssued {
		t.Errorf("PDF of a draft: %v", err)
	}
	// Another org's invoice is not found.
	other := worldIn(t, w.env, w.env.Org("Otra Org S.L."))
	if _, _, err := invoices.PDF(ctx, w.env.Q, other.org.ID, inv.ID); err != pgx.ErrNoRows {
		t.Errorf("another org's invoice: %v", err)
	}

	// A simplified invoice says so and names no recipient.
	s := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Caja de tornillos", "1", 1000, "21")}}).ID, time.Time{})
	pdfHas(t, s.Pdf, "Factura simplificada", fmt.Sprintf("FS-%d-0001", today().Year()), "B12345674", "12,10\u00a0€")
	if text := apptest.PDFText(t, s.Pdf); strings.Contains(text, "(CLIENTE)") || strings.Contains(text, "Ferreter") {
		t.Error("a simplified invoice prints a recipient")
	}

	// A corrective names what it corrects, how and why.
	r := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference,
		Reason: "Precio del taladro mal aplicado", Corrects: []int64{inv.ID},
		Lines: []invoices.LineInput{w.line("Taladro percutor (diferencia de precio)", "-3", 1000, "21")}}).ID, time.Time{})
	pdfHas(t, r.Pdf, "Factura rectificativa", fmt.Sprintf("R-%d-0001", today().Year()),
		"Rectifica la factura "+number+" de "+day.Format("02/01/2006")+" (R1, por diferencias)",
		"Motivo de la rectificación: Precio del taladro mal aplicado", "-36,30\u00a0€")
}

// Mexican and Argentinian orgs draft and issue internal invoices with
// their rates and series; the PDF says they are not fiscal yet, and the
// Spanish simplified limits do not apply.
func TestInternalInvoicesInMexicoAndArgentina(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	for _, c := range []struct {
		country, currency, zone, taxID, rate, note, total string
		price                                             int64
	}{
		{"MX", "MXN", "America/Mexico_City", "OEM010101AB1", "16", "Documento interno sin validez fiscal: aún no timbrado como CFDI.", "1,160.00", 100000},
		{"AR", "ARS", "America/Argentina/Buenos_Aires", "30712345678", "21", "Documento interno sin validez fiscal: aún sin CAE de ARCA.", "1.210,00", 100000},
	} {
		t.Run(c.country, func(t *testing.T) {
			org, err := env.Q.CreateOrg(ctx, queries.CreateOrgParams{Name: "Empresa " + c.country, Country: c.country, Currency: c.currency,
				TimeZone: c.zone, TaxID: c.taxID})
			if err != nil {
				t.Fatal(err)
			}
			w := worldIn(t, env, org)
			inv := w.mustIssue(t, w.draft(t, invoices.DraftInput{Series: "A", Lines: []invoices.LineInput{w.line("Servicio", "1", c.price, c.rate)}}).ID, time.Time{})
			if *inv.FullNumber != fmt.Sprintf("A-%d-0001", today().Year()) || inv.Currency != c.currency {
				t.Errorf("number %s, currency %s", *inv.FullNumber, inv.Currency)
			}
			pdfHas(t, inv.Pdf, c.note, c.total, "IVA "+c.rate+" %")
			// No 400 € limit on a simplified internal invoice.
			big := w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Mostrador", "1", 5_000_000, c.rate)}})
			if _, err := w.issue(big.ID, time.Time{}); err != nil {
				t.Errorf("a large internal simplified invoice: %v", err)
			}
		})
	}
}
