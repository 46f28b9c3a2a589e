package verifactu

import (
	"time"

	"github.com/shopspring/decimal"
)

// TipoFactura is the invoice type of a RegistroAlta (XSD
// ClaveTipoFacturaType; RULES.md "TipoFactura").
type TipoFactura string

const (
	F1 TipoFactura = "F1" // complete invoice (RD 1619/2012 arts. 6, 7.2, 7.3)
	F2 TipoFactura = "F2" // simplified invoice, or one without the recipient (art. 6.1.d)
	F3 TipoFactura = "F3" // complete invoice replacing simplified ones
	R1 TipoFactura = "R1" // rectificativa: error fundado en derecho, LIVA art. 80.Uno and Dos
	R2 TipoFactura = "R2" // rectificativa: LIVA art. 80.Tres (concurso)
	R3 TipoFactura = "R3" // rectificativa: LIVA art. 80.Cuatro (bad debts)
	R4 TipoFactura = "R4" // rectificativa: other causes
	R5 TipoFactura = "R5" // rectificativa of simplified invoices
)

// Rectificativa says whether t corrects another invoice (R1–R5).
func (t TipoFactura) Rectificativa() bool {
	switch t {
	case R1, R2, R3, R4, R5:
		return true
	}
	return false
}

// needsRecipients: F1, F3 and R1–R4 must name the recipient (AEAT 1189);
// F2 and R5 must not (1190).
func (t TipoFactura) needsRecipients() bool { return t != F2 && t != R5 }

// AllowsRecipient says whether an invoice of type t may name p: an R2
// (the recipient in concurso, LIVA art. 80.Tres) names it by NIF or by
// IDOtro 02 (NIF-IVA) or 07 (not registered), AEAT 1192; an R3 (bad
// debts, art. 80.Cuatro) by NIF or IDOtro 07, AEAT 1191. Any other type
// takes any identification.
func (t TipoFactura) AllowsRecipient(p Persona) bool {
	if p.IDOtro == nil {
		return true
	}
	switch t {
	case R2:
		return p.IDOtro.IDType == "02" || p.IDOtro.IDType == "07"
	case R3:
		return p.IDOtro.IDType == "07"
	}
	return true
}

func (t TipoFactura) valid() bool { return t == F1 || t == F2 || t == F3 || t.Rectificativa() }

// TipoRectificativa is how a rectificativa corrects (XSD
// ClaveTipoRectificativaType).
type TipoRectificativa string

const (
	// PorSustitucion replaces the corrected invoice's amounts; the record
	// then carries ImporteRectificacion (AEAT 1118).
	PorSustitucion TipoRectificativa = "S"
	// PorDiferencias carries only the difference; ImporteRectificacion is
	// forbidden (1119).
	PorDiferencias TipoRectificativa = "I"
)

// SiNo is an optional S/N flag of the XSD; "" leaves the element out.
type SiNo string

const (
	Si SiNo = "S"
	No SiNo = "N"
)

// RechazoPrevio tells the AEAT that a record is sent again after it
// rejected an earlier one (XSD RechazoPrevioType). "" leaves it out.
type RechazoPrevio string

const (
	// RechazoPrevioNo: not a resubmission after a rejection.
	RechazoPrevioNo RechazoPrevio = "N"
	// RechazoPrevioSi: the AEAT rejected the previous submission of this
	// invoice's record (Incorrecto); this is the corrected one.
	RechazoPrevioSi RechazoPrevio = "S"
	// RechazoPrevioX: the record never reached the AEAT (kept by a system
	// that was not VERI*FACTU). With altas only together with Subsanacion=S.
	RechazoPrevioX RechazoPrevio = "X"
)

// Impuesto is the tax of a Desglose line (XSD ImpuestoType).
type Impuesto string

const (
	IVA   Impuesto = "01"
	IPSI  Impuesto = "02" // Ceuta and Melilla
	IGIC  Impuesto = "03" // Canary Islands
	Otros Impuesto = "05"
)

// Calificacion of a taxed or not-subject line (XSD
// CalificacionOperacionType). A line carries either a Calificacion or an
// OperacionExenta.
type Calificacion string

const (
	S1 Calificacion = "S1" // subject, not exempt, tax charged by the issuer
	S2 Calificacion = "S2" // subject, not exempt, reverse charge (the buyer accounts for it)
	N1 Calificacion = "N1" // not subject: LIVA arts. 7, 14 and others
	N2 Calificacion = "N2" // not subject by the place-of-supply rules
)

// ClaveRegimenGeneral is ClaveRegimen "01", the general regime; "02" is
// export (XSD IdOperacionesTrascendenciaTributariaType lists the rest).
const (
	ClaveRegimenGeneral     = "01"
	ClaveRegimenExportacion = "02"
)

// IDFactura names an invoice: issuer NIF, series and number, issue date.
// It identifies the invoice of an alta, the invoice an anulación voids and
// the invoices a rectificativa corrects or an F3 replaces.
type IDFactura struct {
	IDEmisorFactura        string    // issuer NIF, 9 characters
	NumSerieFactura        string    // series and number together, 1–60 printable ASCII characters
	FechaExpedicionFactura time.Time // issue date (only its year, month and day are written)
}

// IDOtro identifies a recipient without a Spanish NIF.
type IDOtro struct {
	CodigoPais string // ISO 3166-1 alpha-2; optional only with IDType 02 (NIF-IVA)
	IDType     string // 02 NIF-IVA, 03 passport, 04 ID in the country of residence, 05 residence certificate, 06 other document, 07 not registered
	ID         string // up to 20 characters
}

// Persona is a recipient (IDDestinatario): a name and either a Spanish NIF
// or an IDOtro.
type Persona struct {
	NombreRazon string
	NIF         string
	IDOtro      *IDOtro
}

// PersonaES is a person with a Spanish NIF: the Cabecera's ObligadoEmision
// and Representante.
type PersonaES struct {
	NombreRazon string
	NIF         string
}

// Detalle is one DetalleDesglose line: the tax of the lines that share a
// regime, qualification or exemption and rate. Amounts are cents; rates
// are percentages (21 for 21 %).
//
// Which optional elements are written follows from the qualification, so
// a record cannot contradict itself: an S1 line always carries
// TipoImpositivo and CuotaRepercutida (AEAT 1208), and the recargo pair
// when TipoRecargoEquivalencia is not zero (1284); S2, N1, N2 and exempt
// lines carry none of the four (1207, 1237, 1238, 1281), so their rate and
// cuotas must be zero.
type Detalle struct {
	Impuesto                      Impuesto     // "" leaves it out (the AEAT then treats the line as IVA)
	ClaveRegimen                  string       // mandatory for IVA, IPSI and IGIC (1245); ClaveRegimenGeneral for most lines
	CalificacionOperacion         Calificacion // either this…
	OperacionExenta               string       // …or the exemption cause E1–E8 (tax.ExemptCauses)
	TipoImpositivo                decimal.Decimal
	BaseImponibleOimporteNoSujeto int64
	CuotaRepercutida              int64
	TipoRecargoEquivalencia       decimal.Decimal
	CuotaRecargoEquivalencia      int64
}

// writesTax says whether the line carries TipoImpositivo and
// CuotaRepercutida, writesRecargo the recargo pair.
func (d Detalle) writesTax() bool     { return d.OperacionExenta == "" && d.CalificacionOperacion == S1 }
func (d Detalle) writesRecargo() bool { return d.writesTax() && !d.TipoRecargoEquivalencia.IsZero() }

// ImporteRectificacion is what a rectificativa por sustitución corrects:
// the corrected invoice's base and cuota (and recargo, when it had one).
type ImporteRectificacion struct {
	BaseRectificada         int64
	CuotaRectificada        int64
	CuotaRecargoRectificado *int64 // nil leaves it out
}

// SistemaInformatico names the program that produced the record (XSD
// SistemaInformaticoType). Build it with Pulso.
type SistemaInformatico struct {
	NombreRazon                 string // the producer of the program
	NIF                         string // the producer's NIF
	NombreSistemaInformatico    string // up to 30 characters
	IdSistemaInformatico        string // up to 2 characters
	Version                     string // up to 50 characters
	NumeroInstalacion           string // up to 100 characters
	TipoUsoPosibleSoloVerifactu bool
	TipoUsoPosibleMultiOT       bool
	IndicadorMultiplesOT        bool
}

// The name and code Pulso records as its SistemaInformatico.
const (
	SystemName = "Pulso"
	SystemID   = "PU"
)

// Pulso is the SistemaInformatico block of every record Pulso writes.
// producerName and producerNIF name who makes Pulso available (its
// declaración responsable names the same producer); version is the
// binary's own version (pulso version); installation tells this
// installation apart from others of the same producer; multipleIssuers is
// true when this installation keeps records for more than one obligado
// tributario (several Spanish orgs).
//
// Pulso only works as a VERI*FACTU system (every record is sent to the
// AEAT), hence TipoUsoPosibleSoloVerifactu; and one installation serves
// many orgs, each with its own chain, hence TipoUsoPosibleMultiOT.
func Pulso(producerName, producerNIF, version, installation string, multipleIssuers bool) SistemaInformatico {
	return SistemaInformatico{
		NombreRazon:                 producerName,
		NIF:                         producerNIF,
		NombreSistemaInformatico:    SystemName,
		IdSistemaInformatico:        SystemID,
		Version:                     version,
		NumeroInstalacion:           installation,
		TipoUsoPosibleSoloVerifactu: true,
		TipoUsoPosibleMultiOT:       true,
		IndicadorMultiplesOT:        multipleIssuers,
	}
}

// Alta is a RegistroAlta: the record of an issued invoice (fields in XSD
// order; RULES.md "RegistroAlta: fields ..."). Fill it, then Seal it,
// which chains it and computes its huella; MarshalRecord writes it.
type Alta struct {
	IDFactura         IDFactura
	RefExterna        string // optional reference of the issuer's own (≤ 60), echoed in the AEAT answer
	NombreRazonEmisor string
	// Subsanacion = Si: this alta corrects an earlier one of the same
	// invoice that the AEAT accepted with errors, or resends one it
	// rejected (then with RechazoPrevio = RechazoPrevioSi).
	Subsanacion   SiNo
	RechazoPrevio RechazoPrevio

	TipoFactura          TipoFactura
	TipoRectificativa    TipoRectificativa     // R1–R5 only, mandatory there (1114)
	FacturasRectificadas []IDFactura           // R1–R5 only (1117)
	FacturasSustituidas  []IDFactura           // F3 only (1116)
	ImporteRectificacion *ImporteRectificacion // PorSustitucion only, mandatory there (1118, 1119)
	FechaOperacion       time.Time             // zero: the operation date is the issue date (element left out)
	DescripcionOperacion string                // mandatory, ≤ 500

	FacturaSimplificadaArt7273          bool // an F1 (or F3, R1–R4) that is a "simplificada cualificada"
	FacturaSinIdentifDestinatarioArt61d bool // an F2 without the recipient over the simplified limit (art. 6.1.d)

	Destinatarios []Persona // mandatory for F1, F3, R1–R4; forbidden for F2, R5
	Desglose      []Detalle // 1 to 12 lines

	// CuotaTotal is Σ CuotaRepercutida + Σ CuotaRecargoEquivalencia
	// (AEAT 1216); ImporteTotal is Σ(BaseImponibleOimporteNoSujeto +
	// CuotaRepercutida + CuotaRecargoEquivalencia) (1210), so an IRPF
	// withholding is not subtracted from it. Validate checks both: use
	// Totals to compute them.
	CuotaTotal   int64
	ImporteTotal int64

	SistemaInformatico SistemaInformatico

	// Set by Seal.
	Encadenamiento           *Link  // the previous record of the chain; nil for the first (PrimerRegistro = S)
	FechaHoraHusoGenRegistro string // Timestamp of the generation time
	Huella                   string // 64 upper-case hex characters
}

// Anulacion is a RegistroAnulacion: the record that voids an issued
// invoice's alta (XSD RegistroFacturacionAnulacionType).
type Anulacion struct {
	IDFactura  IDFactura // the voided invoice (IDEmisorFacturaAnulada, …)
	RefExterna string
	// SinRegistroPrevio = Si: the invoice has no alta at the AEAT.
	SinRegistroPrevio SiNo
	// RechazoPrevio = RechazoPrevioSi: resent after the AEAT rejected this
	// anulación (only S or N are allowed here).
	RechazoPrevio RechazoPrevio

	SistemaInformatico SistemaInformatico

	// Set by Seal.
	Encadenamiento           *Link
	FechaHoraHusoGenRegistro string
	Huella                   string
}

// Totals computes CuotaTotal and ImporteTotal from the Desglose as the
// AEAT checks them (errors 1216 and 1210).
func Totals(desglose []Detalle) (cuotaTotal, importeTotal int64) {
	for _, d := range desglose {
		cuotaTotal += d.CuotaRepercutida + d.CuotaRecargoEquivalencia
		importeTotal += d.BaseImponibleOimporteNoSujeto + d.CuotaRepercutida + d.CuotaRecargoEquivalencia
	}
	return cuotaTotal, importeTotal
}
