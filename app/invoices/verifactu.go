package invoices

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"pulso/app/calendar"
	"pulso/app/tax"
	"pulso/app/verifactu"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// Recording says how this installation writes VERI*FACTU records. cmd/pulso
// sets Version to the binary's version at startup; the rest keeps its
// defaults until the installation's configuration names them.
var Recording = struct {
	// Env is the AEAT environment the records go to; the QR printed on
	// each invoice points at that environment's ValidarQR page.
	Env verifactu.Environment
	// Version is the SistemaInformatico's Version (pulso version).
	Version string
	// ProducerName and ProducerNIF name who makes this Pulso available
	// (its declaración responsable). Empty: the issuing org itself, as for
	// a business running its own copy.
	ProducerName, ProducerNIF string
	// ProducerAddress is where that producer is (its declaración
	// responsable states it).
	ProducerAddress string
	// Installation tells this installation apart from the producer's others.
	Installation string
}{Env: verifactu.Test, Version: "dev", Installation: "1"}

// sistema is the SistemaInformatico block of the records of issuer.
// Pulso serves many orgs from one installation, hence IndicadorMultiplesOT.
func sistema(issuer Party) verifactu.SistemaInformatico {
	name, nif := Recording.ProducerName, Recording.ProducerNIF
	if nif == "" {
		name, nif = verifactu.CleanText(issuer.Name), issuer.TaxID
	}
	return verifactu.Pulso(name, nif, Recording.Version, Recording.Installation, true)
}

// registroAlta builds the RegistroAlta of an issued invoice from what
// issuing froze: the parties, the fiscal type, the totals by tax group and,
// for a corrective or an F3, the invoices it corrects or replaces. It is
// not sealed. description is DescripcionOperacion.
func registroAlta(inv queries.Invoice, pt Parties, totals tax.Totals, corrected []queries.Invoice, description string) (*verifactu.Alta, error) {
	ft := verifactu.TipoFactura(deref(inv.FiscalType))
	a := &verifactu.Alta{
		IDFactura:            idFactura(inv, pt),
		NombreRazonEmisor:    verifactu.CleanText(pt.Issuer.Name),
		TipoFactura:          ft,
		DescripcionOperacion: verifactu.CleanText(description),
		SistemaInformatico:   sistema(pt.Issuer),
	}
	if inv.OperationDate.Valid {
		a.FechaOperacion = inv.OperationDate.Time
	}
	if c := pt.Customer; c != nil && namesRecipient(string(ft)) {
		a.Destinatarios = []verifactu.Persona{recipient(*c, pt.Tax)}
	}
	var ids []verifactu.IDFactura
	var base, cuota, recargo int64
	for _, c := range corrected {
		var cpt Parties
		if err := json.Unmarshal(c.Parties, &cpt); err != nil {
			return nil, err
		}
		ids = append(ids, idFactura(c, cpt))
		base, cuota, recargo = base+c.Base, cuota+c.Tax, recargo+c.Surcharge
	}
	switch {
	case ft.Rectificativa():
		a.FacturasRectificadas = ids
		a.TipoRectificativa = verifactu.PorDiferencias
		if deref(inv.CorrectiveMethod) == BySubstitution {
			// By substitution the record also says what the corrected
			// invoices amounted to (AEAT 1118).
			a.TipoRectificativa = verifactu.PorSustitucion
			a.ImporteRectificacion = &verifactu.ImporteRectificacion{BaseRectificada: base, CuotaRectificada: cuota}
			if recargo != 0 {
				a.ImporteRectificacion.CuotaRecargoRectificado = &recargo
			}
		}
	case ft == verifactu.F3:
		a.FacturasSustituidas = ids
	}
	a.Desglose = desglose(totals, pt.Tax)
	a.CuotaTotal, a.ImporteTotal = verifactu.Totals(a.Desglose)
	return a, nil
}

func idFactura(inv queries.Invoice, pt Parties) verifactu.IDFactura {
	return verifactu.IDFactura{IDEmisorFactura: pt.Issuer.TaxID, NumSerieFactura: deref(inv.FullNumber), FechaExpedicionFactura: inv.IssueDate.Time}
}

// recipient is the IDDestinatario: a Spanish customer by NIF, a foreign
// one by IDOtro — a reverse-charged EU business by its VAT number (02,
// NIF-IVA), anyone else by the tax id of their country (04).
func recipient(c Party, treat tax.CustomerTax) verifactu.Persona {
	p := verifactu.Persona{NombreRazon: verifactu.CleanText(c.Name)}
	if c.Country == "" || c.Country == "ES" {
		p.NIF = c.TaxID
		return p
	}
	idType := "04"
	if treat.Regime == tax.ReverseCharge {
		idType = "02"
	}
	p.IDOtro = &verifactu.IDOtro{CodigoPais: c.Country, IDType: idType, ID: c.TaxID}
	return p
}

// desglose is one DetalleDesglose per tax group of the totals, qualified
// by the customer's tax treatment:
//   - general and recargo de equivalencia: regime 01, S1 with the rate, base
//     and cuota (and the recargo's rate and cuota when there is one);
//   - exempt: regime 01, the exemption's cause (E1–E6);
//   - intra-EU reverse charge (services to an EU business): regime 01, N2.
//     The service is located in the customer's state (LIVA art. 69), so it
//     is not subject in Spain "por reglas de localización"; S2 is for the
//     reverse charges inside Spain (art. 84.Uno.2º), which Pulso does not
//     invoice;
//   - export: regime 02 (export), exempt E2 (LIVA art. 21).
func desglose(t tax.Totals, treat tax.CustomerTax) []verifactu.Detalle {
	var out []verifactu.Detalle
	for _, g := range t.Taxes {
		d := verifactu.Detalle{Impuesto: verifactu.IVA, ClaveRegimen: verifactu.ClaveRegimenGeneral, BaseImponibleOimporteNoSujeto: g.Base}
		switch treat.Regime {
		case tax.Exempt:
			d.OperacionExenta = treat.ExemptCause
		case tax.ReverseCharge:
			d.CalificacionOperacion = verifactu.N2
		case tax.Export:
			d.ClaveRegimen, d.OperacionExenta = verifactu.ClaveRegimenExportacion, "E2"
		default:
			d.CalificacionOperacion = verifactu.S1
			d.TipoImpositivo, d.CuotaRepercutida = g.Rate, g.Tax
			if !g.SurchargeRate.IsZero() {
				d.TipoRecargoEquivalencia, d.CuotaRecargoEquivalencia = g.SurchargeRate, g.SurchargeAmount
			}
		}
		if d.CalificacionOperacion != verifactu.S1 {
			d.TipoImpositivo = decimal.Zero
		}
		out = append(out, d)
	}
	return out
}

// description is the DescripcionOperacion: the lines' descriptions, as
// much of them as fits.
func description(lines []queries.InvoiceLine) string {
	var parts []string
	for _, l := range lines {
		parts = append(parts, l.Description)
	}
	s := verifactu.CleanText(strings.Join(parts, "; "))
	if r := []rune(s); len(r) > 500 {
		s = strings.TrimSpace(string(r[:497])) + "..."
	}
	if s == "" {
		s = "-"
	}
	return s
}

// qrCode is the VERI*FACTU QR of an issued invoice: the AEAT's ValidarQR
// URL of the invoice at level M (the PDF prints it 35 mm wide).
func qrCode(inv queries.Invoice, pt Parties, totals tax.Totals) (*verifactu.QRCode, error) {
	a := &verifactu.Alta{IDFactura: idFactura(inv, pt)}
	_, a.ImporteTotal = verifactu.Totals(desglose(totals, pt.Tax))
	return verifactu.NewQRCode(verifactu.QRURL(Recording.Env, a))
}

// writeRegistroAlta writes the invoice's VERI*FACTU RegistroAlta (RD
// 1007/2023), chained to its issuer's previous record, in the issuing
// transaction.
func writeRegistroAlta(ctx context.Context, tx pgx.Tx, s *issuing) error {
	a, err := registroAlta(s.inv, s.parties, s.totals, s.corrected, description(s.lines))
	if err != nil {
		return err
	}
	jobs := s.in.Jobs
	if s.in.Rehearsal {
		jobs = nil
	}
	// The head as load read it with the draft, when it is this issuer's.
	var known *chainHead
	if l := s.facts; l.ChainSeq != nil && a.IDFactura.IDEmisorFactura == l.TaxID {
		known = headAt(l.TaxID, *l.ChainSeq, l.ChainNumSerie, l.ChainFecha, l.ChainHuella)
	}
	_, err = record(ctx, tx, jobs, s.inv, a.IDFactura, string(a.TipoFactura), s.in.Now.In(s.loc), a, nil, known)
	return err
}

// altaOf builds the (unsealed) RegistroAlta of an invoice from its frozen
// data: at issue, and again for a corrected resubmission.
func altaOf(ctx context.Context, q *queries.Queries, inv queries.Invoice, pt Parties, totals tax.Totals, lines []queries.InvoiceLine) (*verifactu.Alta, error) {
	corrected, err := correctedBy(ctx, q, inv)
	if err != nil {
		return nil, err
	}
	return registroAlta(inv, pt, totals, corrected, description(lines))
}

// writeRegistroAnulacion writes the VERI*FACTU RegistroAnulacion of a
// voided invoice, in the issuer's chain (the issuer frozen on the invoice),
// in the voiding transaction.
func writeRegistroAnulacion(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], inv queries.Invoice, now time.Time) error {
	pt, loc, err := partiesOf(inv)
	if err != nil {
		return err
	}
	a := &verifactu.Anulacion{IDFactura: idFactura(inv, pt), SistemaInformatico: sistema(pt.Issuer)}
	_, err = record(ctx, tx, jobs, inv, a.IDFactura, "", now.In(loc), a, nil, nil)
	return err
}

// partiesOf reads the parties frozen on an issued invoice and its issuer's
// zone.
func partiesOf(inv queries.Invoice) (Parties, *time.Location, error) {
	var pt Parties
	if err := json.Unmarshal(inv.Parties, &pt); err != nil {
		return pt, nil, err
	}
	loc := calendar.ZoneOrUTC(pt.Zone)
	return pt, loc, nil
}

// EventRecordAnswered is the live event of an invoice whose VERI*FACTU
// record got the AEAT's answer (app/verifactu/sending announces it).
const EventRecordAnswered = "record_answered"

// ErrNotCorrectable: Resubmit was asked to correct a record the AEAT has
// not rejected nor accepted with errors (still waiting, or accepted).
var ErrNotCorrectable = errors.New("invoices: only a record the AEAT rejected or accepted with errors can be corrected")

// ErrVoidedSince: Resubmit was asked to correct the alta of an invoice
// voided since. Registering it again would register at the AEAT an invoice
// the business has cancelled: its anulación follows in the chain, and a
// correction would go out after it. The alta stays as the AEAT answered it.
var ErrVoidedSince = errors.New("invoices: the invoice has been voided since: its registration is not sent again")

// Resubmit writes the correction of a record the AEAT answered badly, in
// tx, as a new record at the head of the issuer's chain (RULES.md: 1xxx and
// 3xxx reject the record, 2xxx accept it but it must be corrected; the
// XSD's Subsanacion and RechazoPrevio say which):
//   - a rejected alta (Incorrecto) is resubmitted with Subsanacion = S and
//     RechazoPrevio = S (AEAT 1161: RechazoPrevio = S needs Subsanacion = S);
//   - an alta accepted with errors (AceptadoConErrores) gets a subsanación,
//     Subsanacion = S;
//   - a rejected anulación is resubmitted with RechazoPrevio = S (an
//     anulación has no Subsanacion).
//
// The record is built again from the invoice's frozen data by the current
// code, sealed now (a fresh FechaHoraHusoGenRegistro) and chained after the
// issuer's last record, so whatever the AEAT objected to in how the record
// was written, chained or timed is written anew; the rejected record stays
// in the chain as it was and is never sent again. A record has at most one
// correction (verifactu_records_one_correction): asking again returns the
// one written. The correction is queued for sending with jobs (nil: the
// sweep sends it).
func Resubmit(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], orgID, recordID int64, now time.Time) (queries.VerifactuRecord, error) {
	q := queries.New(tx)
	bad, err := q.GetVerifactuRecord(ctx, queries.GetVerifactuRecordParams{OrgID: orgID, ID: recordID})
	if err != nil {
		return bad, err
	}
	if c, err := q.VerifactuCorrectionOf(ctx, queries.VerifactuCorrectionOfParams{OrgID: orgID, ID: &bad.ID}); err == nil {
		return c, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return c, err
	}
	rejected := bad.Status == "rejected"
	if !rejected && (bad.Status != "accepted_with_errors" || bad.Kind != "alta") {
		return bad, ErrNotCorrectable
	}
	inv, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: orgID, ID: bad.InvoiceID})
	if err != nil {
		return bad, err
	}
	if bad.Kind == "alta" && inv.State == Voided {
		return bad, ErrVoidedSince
	}
	pt, loc, err := partiesOf(inv)
	if err != nil {
		return bad, err
	}
	if bad.Kind == "anulacion" {
		a := &verifactu.Anulacion{IDFactura: idFactura(inv, pt), SistemaInformatico: sistema(pt.Issuer), RechazoPrevio: verifactu.RechazoPrevioSi}
		return record(ctx, tx, jobs, inv, a.IDFactura, "", now.In(loc), a, &bad.ID, nil)
	}
	lines, err := q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: orgID, InvoiceID: inv.ID})
	if err != nil {
		return bad, err
	}
	totals, err := Totals(inv, lines)
	if err != nil {
		return bad, err
	}
	a, err := altaOf(ctx, q, inv, pt, totals, lines)
	if err != nil {
		return bad, err
	}
	a.Subsanacion = verifactu.Si
	if rejected {
		a.RechazoPrevio = verifactu.RechazoPrevioSi
	}
	return record(ctx, tx, jobs, inv, a.IDFactura, string(a.TipoFactura), now.In(loc), a, &bad.ID, nil)
}

// sealable is an Alta or an Anulacion.
type sealable interface {
	verifactu.Record
	Validate() error
	Seal(prev *verifactu.Link, at time.Time) error
	Link() verifactu.Link
}

// chainHead is where an issuer's chain stands: the position of its last
// record and the link the next one names (nil before the first).
type chainHead struct {
	seq  int64
	last *verifactu.Link
}

// record seals r after the last record of the issuer's chain at the time
// at, stores it (naming the record it corrects, if any), moves the head and
// queues the chain's sending job with jobs (nil: the periodic sweep sends
// it within a minute). The head is known when the caller read it earlier in
// the transaction (issuing reads it with the draft): the record is sealed
// after it and stored only if the head has not moved since. Otherwise, or
// when it did move, the head is locked, and the record sealed after it and
// stored under that lock, which is held until the transaction ends: one
// issuer's records are stored one at a time, each after the one it names.
func record(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], inv queries.Invoice, id verifactu.IDFactura, tipo string, at time.Time, r sealable, corrects *int64, known *chainHead) (queries.VerifactuRecord, error) {
	q := queries.New(tx)
	nif := id.IDEmisorFactura
	var none queries.VerifactuRecord
	if err := r.Validate(); err != nil {
		return none, refused(err)
	}
	p, rec, err := appendAfter(ctx, q, inv, tipo, at, r, corrects, known)
	if err == nil && rec == nil {
		// Another record went first (or the head was not known).
		var locked *chainHead
		if locked, err = lockHead(ctx, q, inv.OrgID, nif); err == nil {
			if p, rec, err = appendAfter(ctx, q, inv, tipo, at, r, corrects, locked); err == nil && rec == nil {
				err = errChainMoved
			}
		}
	}
	if err != nil {
		return none, err
	}
	if jobs != nil {
		if _, err := jobs.InsertTx(ctx, tx, jobargs.VerifactuSend{OrgID: inv.OrgID, IssuerNIF: nif}, nil); err != nil {
			return none, err
		}
	}
	// The record as stored: what was written, and what the database made
	// (a new record has no answer yet).
	return queries.VerifactuRecord{OrgID: inv.OrgID, ID: rec.ID, InvoiceID: p.InvoiceID, Kind: p.Kind, IssuerNif: p.IssuerNif,
		Seq: p.Seq, NumSerie: p.NumSerie, FechaExpedicion: p.FechaExpedicion, TipoFactura: p.TipoFactura, Huella: p.Huella,
		PrevNumSerie: p.PrevNumSerie, PrevFecha: p.PrevFecha, PrevHuella: p.PrevHuella, GeneratedAtText: p.GeneratedAtText,
		Xml: p.Xml, Status: rec.Status, CreatedAt: rec.CreatedAt, CorrectsID: p.CorrectsID}, nil
}

// lockHead locks the issuer's chain head until the transaction ends,
// creating it on the issuer's first record.
func lockHead(ctx context.Context, q *queries.Queries, orgID int64, nif string) (*chainHead, error) {
	lock := queries.LockVerifactuChainParams{OrgID: orgID, IssuerNif: nif}
	h, err := q.LockVerifactuChain(ctx, lock)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := q.EnsureVerifactuChain(ctx, queries.EnsureVerifactuChainParams{OrgID: orgID, IssuerNif: nif}); err != nil {
			return nil, err
		}
		h, err = q.LockVerifactuChain(ctx, lock)
	}
	if err != nil {
		return nil, err
	}
	return headAt(nif, h.LastSeq, h.LastNumSerie, h.LastFecha, h.LastHuella), nil
}

// headAt is the head of nif's chain as verifactu_chains keeps it: the
// position of the last record and its number, date and huella (none
// before the first).
func headAt(nif string, seq int64, numSerie, fecha, huella *string) *chainHead {
	h := &chainHead{seq: seq}
	if huella != nil {
		h.last = &verifactu.Link{IDEmisorFactura: nif, NumSerieFactura: deref(numSerie), FechaExpedicionFactura: deref(fecha), Huella: *huella}
	}
	return h
}

// appendAfter seals r after head and stores it if the head is still
// there; rec is nil when it is not (or head is nil), and nothing was
// written.
func appendAfter(ctx context.Context, q *queries.Queries, inv queries.Invoice, tipo string, at time.Time, r sealable, corrects *int64, head *chainHead) (queries.AppendVerifactuRecordParams, *queries.AppendVerifactuRecordRow, error) {
	var p queries.AppendVerifactuRecordParams
	if head == nil {
		return p, nil, nil
	}
	if err := r.Seal(head.last, at); err != nil {
		return p, nil, refused(err)
	}
	xml, err := verifactu.MarshalRecord(r)
	if err != nil {
		return p, nil, err
	}
	link := r.Link()
	p = queries.AppendVerifactuRecordParams{OrgID: inv.OrgID, InvoiceID: inv.ID, Kind: "anulacion", IssuerNif: link.IDEmisorFactura, Seq: head.seq + 1,
		NumSerie: link.NumSerieFactura, FechaExpedicion: link.FechaExpedicionFactura, Huella: link.Huella, Xml: xml, CorrectsID: corrects,
		GeneratedAtText: r.GeneratedAt()}
	if tipo != "" {
		p.Kind, p.TipoFactura = "alta", &tipo
	}
	if prev := head.last; prev != nil {
		p.PrevNumSerie, p.PrevFecha, p.PrevHuella = &prev.NumSerieFactura, &prev.FechaExpedicionFactura, &prev.Huella
	}
	rec, err := q.AppendVerifactuRecord(ctx, p)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil, nil
	}
	if err != nil {
		return p, nil, err
	}
	return p, &rec, nil
}

// refused turns what the AEAT would refuse (a malformed NIF, a name left
// empty) into a field message: the user can correct it, and the issue
// rolls back with its number.
func refused(err error) error {
	var fe *verifactu.FieldError
	if errors.As(err, &fe) {
		return Invalid{"record": {ID: "invoices.record_refused", Params: map[string]any{"Field": fe.Field, "Reason": fe.Reason}}}
	}
	return err
}

// errChainMoved: the chain head was not where the record was sealed after,
// which the lock makes impossible unless something bypassed it.
var errChainMoved = errors.New("invoices: the VERI*FACTU chain head moved while it was locked")
