// Package verifactu writes and reads the AEAT's VERI*FACTU invoicing
// records (RD 1007/2023, Orden HAC/1177/2024): everything about them that
// needs no database and no web framework. The invoicing code calls it in
// the transaction that issues or voids an invoice; the sending job calls it
// to build requests and read answers; the chain page and `pulso verifactu
// verify` call it to check a chain. The rules it follows are in
// ../shared/conformance/RULES.md, section "Spain: VERI*FACTU"; its tests
// read the official schemas, samples and vectors from that conformance set
// (pulso/app/apptest/conformance), and keep in testdata only the AEAT
// answers written for Pulso.
//
// # Issuing: one record per invoice, chained per issuer
//
//	a := &verifactu.Alta{
//		IDFactura:            verifactu.IDFactura{IDEmisorFactura: orgNIF, NumSerieFactura: "F2026-0001", FechaExpedicionFactura: issueDate},
//		NombreRazonEmisor:    orgName,
//		TipoFactura:          verifactu.F1,
//		DescripcionOperacion: verifactu.CleanText(description),
//		Destinatarios:        []verifactu.Persona{{NombreRazon: customerName, NIF: customerNIF}},
//		Desglose:             lines, // one Detalle per tax group (tax.Totals.Taxes), cents and rates
//		SistemaInformatico:   verifactu.Pulso(producerName, producerNIF, buildVersion, installation, manyOrgs),
//	}
//	a.CuotaTotal, a.ImporteTotal = verifactu.Totals(a.Desglose)
//	err := a.Seal(prevLink, time.Now().In(orgZone)) // prevLink: *Link of the issuer's last record, nil for the first
//	xml, err := verifactu.MarshalRecord(a)           // store with a.Link() (the next prevLink) and a.Huella
//	url := verifactu.QRURL(verifactu.Production, a)  // the QR the PDF prints
//
// Amounts are int64 cents and rates exact decimals (percentages), as in
// app/tax; the record writes every amount with exactly two decimals (Amount)
// and hashes the very same text, so the XML, the huella and the QR agree.
// Validate (called by Seal and MarshalRecord) refuses, with a *FieldError
// naming the field, what the XSD or the AEAT's record rules would refuse.
// The issuer's chain must be serialised by the caller (lock the issuer's
// chain head in the issuing transaction): Seal only checks that prevLink is
// of the same issuer and well formed. An anulación is an Anulacion sealed
// the same way, in the same chain.
//
// Corrections: for a record the AEAT accepted with errors
// (AceptadoConErrores), seal a new Alta of the same invoice with
// Subsanacion = Si; for one it rejected (Incorrecto), with Subsanacion = Si
// and RechazoPrevio = RechazoPrevioSi (AEAT 1161). Each is a new record of
// the chain.
//
// # Sending
//
//	req, err := verifactu.BuildRequest(verifactu.Cabecera{ObligadoEmision: verifactu.PersonaES{NombreRazon: orgName, NIF: orgNIF}}, storedXMLs) // 1 to MaxRecords, chain order
//	body := verifactu.SOAP(req) // POST to SOAPEndpoint(env), Content-Type text/xml; charset=utf-8, SOAPAction ""
//	resp, err := verifactu.ParseResponse(answer) // *Fault when the AEAT refused the whole request
//	line := resp.Line(stored)                     // per record: EstadoRegistro, CodigoErrorRegistro, Duplicado
//	text, _ := verifactu.ErrorText(line.CodigoErrorRegistro)
//	wait := resp.TiempoEsperaEnvio                // before the next request of this issuer
//
// # Exported API
//
// Records: Alta, Anulacion, IDFactura, Persona, IDOtro, PersonaES, Detalle,
// ImporteRectificacion, SistemaInformatico, Pulso, SystemName, SystemID,
// TipoFactura (F1, F2, F3, R1–R5), TipoRectificativa (PorSustitucion,
// PorDiferencias), SiNo (Si, No), RechazoPrevio (RechazoPrevioNo,
// RechazoPrevioSi, RechazoPrevioX), Impuesto (IVA, IPSI, IGIC, Otros),
// Calificacion (S1, S2, N1, N2), ClaveRegimenGeneral,
// ClaveRegimenExportacion, Totals, CleanText, (*Alta|*Anulacion).Validate,
// FieldError.
//
// Chain: (*Alta|*Anulacion).Seal, .ComputeHuella, .Link; Link; TipoHuella;
// HuellaAlta, HuellaAnulacion (from texts); ParseRecord → Stored (Kind:
// KindAlta, KindAnulacion; .ComputeHuella, .Link); VerifyChain →
// *ChainError; ErrChain, ErrRecordXML.
//
// XML: Record, MarshalRecord, Cabecera, BuildRequest, SOAP, MaxRecords,
// Environment (Production, Test), SOAPEndpoint, the Namespace* constants,
// ErrTooManyRecords, ErrNoRecords, ErrNotSealed.
//
// Answers: ParseResponse → Response (EstadoEnvio: EnvioCorrecto,
// EnvioParcialmenteCorrecto, EnvioIncorrecto; TiempoEsperaEnvio; Lines),
// ResponseLine (EstadoRegistro: Correcto, AceptadoConErrores, Incorrecto;
// .Key, .Accepted), Duplicado, CodeDuplicate, RecordKey, (*Response).Line,
// Fault, ErrResponse; ErrorText and ClassOf (ClassSubmission, ClassRecord,
// ClassAcceptedWithErrors, ClassUnknown) from the AEAT's errores.properties.
//
// Formats: Amount (cents → "176.00"), Rate, Date (DD-MM-AAAA), Timestamp
// (2024-01-01T19:20:30+01:00).
//
// QR: QRURL (ValidarQR with nif, numserie, fecha, importe), NewQRCode
// (level M) → QRCode (.Size, .Dark for vector drawing, .PNG), QuietZone.
package verifactu
