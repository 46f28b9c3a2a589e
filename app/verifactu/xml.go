package verifactu

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// The namespaces of the AEAT schemas. Their path says "tike" although the
// files are published under "tikeV1.0": both are right, the namespace is
// not to be "fixed" (verifactu/README.md).
const (
	NamespaceSuministroLR          = "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/SuministroLR.xsd"
	NamespaceSuministroInformacion = "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/SuministroInformacion.xsd"
	NamespaceRespuestaSuministro   = "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/RespuestaSuministro.xsd"
	NamespaceSOAP                  = "http://schemas.xmlsoap.org/soap/envelope/"
)

// MaxRecords is the most RegistroFactura elements one request may carry
// (SuministroLR.xsd maxOccurs; AEAT errors 4113, 4114 otherwise).
const MaxRecords = 1000

var (
	// ErrTooManyRecords: more than MaxRecords records for one request.
	ErrTooManyRecords = errors.New("verifactu: more than 1000 records in one request")
	// ErrNoRecords: a request needs at least one record.
	ErrNoRecords = errors.New("verifactu: a request needs at least one record")
	// ErrNotSealed: MarshalRecord was given a record Seal has not stamped.
	ErrNotSealed = errors.New("verifactu: record is not sealed")
)

// xw writes the AEAT XML the way the samples are laid out: one element per
// line, four spaces per level, the prefixes sum (SuministroLR) and sum1
// (SuministroInformacion). The layout is cosmetic; element order is what
// the XSD checks, and it is the order of the calls.
type xw struct {
	b     bytes.Buffer
	depth int
}

func (w *xw) indent() {
	for range w.depth {
		w.b.WriteString("    ")
	}
}

func (w *xw) open(name string) {
	w.indent()
	w.b.WriteString("<" + name + ">\n")
	w.depth++
}

func (w *xw) close(name string) {
	w.depth--
	w.indent()
	w.b.WriteString("</" + name + ">\n")
}

func (w *xw) leaf(name, value string) {
	w.indent()
	w.b.WriteString("<" + name + ">")
	xml.EscapeText(&w.b, []byte(value)) //nolint:errcheck // a bytes.Buffer does not fail
	w.b.WriteString("</" + name + ">\n")
}

func (w *xw) optional(name, value string) {
	if value != "" {
		w.leaf(name, value)
	}
}

func yesNo(b bool) string {
	if b {
		return "S"
	}
	return "N"
}

func (w *xw) idFactura(wrapper string, id IDFactura) {
	w.open(wrapper)
	w.leaf("sum1:IDEmisorFactura", id.IDEmisorFactura)
	w.leaf("sum1:NumSerieFactura", id.NumSerieFactura)
	w.leaf("sum1:FechaExpedicionFactura", Date(id.FechaExpedicionFactura))
	w.close(wrapper)
}

func (w *xw) personaES(wrapper string, p PersonaES) {
	w.open(wrapper)
	w.leaf("sum1:NombreRazon", p.NombreRazon)
	w.leaf("sum1:NIF", p.NIF)
	w.close(wrapper)
}

func (w *xw) persona(wrapper string, p Persona) {
	w.open(wrapper)
	w.leaf("sum1:NombreRazon", p.NombreRazon)
	if p.IDOtro != nil {
		w.open("sum1:IDOtro")
		w.optional("sum1:CodigoPais", p.IDOtro.CodigoPais)
		w.leaf("sum1:IDType", p.IDOtro.IDType)
		w.leaf("sum1:ID", p.IDOtro.ID)
		w.close("sum1:IDOtro")
	} else {
		w.leaf("sum1:NIF", p.NIF)
	}
	w.close(wrapper)
}

func (w *xw) encadenamiento(prev *Link) {
	w.open("sum1:Encadenamiento")
	if prev == nil {
		w.leaf("sum1:PrimerRegistro", "S")
	} else {
		w.open("sum1:RegistroAnterior")
		w.leaf("sum1:IDEmisorFactura", prev.IDEmisorFactura)
		w.leaf("sum1:NumSerieFactura", prev.NumSerieFactura)
		w.leaf("sum1:FechaExpedicionFactura", prev.FechaExpedicionFactura)
		w.leaf("sum1:Huella", prev.Huella)
		w.close("sum1:RegistroAnterior")
	}
	w.close("sum1:Encadenamiento")
}

func (w *xw) sistema(s SistemaInformatico) {
	w.open("sum1:SistemaInformatico")
	w.leaf("sum1:NombreRazon", s.NombreRazon)
	w.leaf("sum1:NIF", s.NIF)
	w.leaf("sum1:NombreSistemaInformatico", s.NombreSistemaInformatico)
	w.leaf("sum1:IdSistemaInformatico", s.IdSistemaInformatico)
	w.leaf("sum1:Version", s.Version)
	w.leaf("sum1:NumeroInstalacion", s.NumeroInstalacion)
	w.leaf("sum1:TipoUsoPosibleSoloVerifactu", yesNo(s.TipoUsoPosibleSoloVerifactu))
	w.leaf("sum1:TipoUsoPosibleMultiOT", yesNo(s.TipoUsoPosibleMultiOT))
	w.leaf("sum1:IndicadorMultiplesOT", yesNo(s.IndicadorMultiplesOT))
	w.close("sum1:SistemaInformatico")
}

// Record is a sealed Alta or Anulacion.
type Record interface {
	// Link is what the next record of the chain names of this one.
	Link() Link
	// GeneratedAt is the FechaHoraHusoGenRegistro Seal wrote: the string
	// the huella and the XML carry.
	GeneratedAt() string
	marshal() ([]byte, error)
}

// MarshalRecord writes a sealed record as a standalone element
// (sum1:RegistroAlta or sum1:RegistroAnulacion with its namespace
// declared on it), the form that goes inside a request's RegistroFactura
// unchanged. Store these bytes with the invoice: they are the record the
// AEAT receives and auditors may ask for, and BuildRequest takes them.
// The record is validated again, and its huella recomputed from the
// fields, so a record changed after Seal is refused.
func MarshalRecord(r Record) ([]byte, error) { return r.marshal() }

func (a *Alta) marshal() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.Huella == "" || a.FechaHoraHusoGenRegistro == "" || a.Huella != a.ComputeHuella() {
		return nil, ErrNotSealed
	}
	var w xw
	w.b.WriteString(`<sum1:RegistroAlta xmlns:sum1="` + NamespaceSuministroInformacion + `">` + "\n")
	w.depth = 1
	w.leaf("sum1:IDVersion", "1.0")
	w.idFactura("sum1:IDFactura", a.IDFactura)
	w.optional("sum1:RefExterna", a.RefExterna)
	w.leaf("sum1:NombreRazonEmisor", a.NombreRazonEmisor)
	w.optional("sum1:Subsanacion", string(a.Subsanacion))
	w.optional("sum1:RechazoPrevio", string(a.RechazoPrevio))
	w.leaf("sum1:TipoFactura", string(a.TipoFactura))
	w.optional("sum1:TipoRectificativa", string(a.TipoRectificativa))
	if len(a.FacturasRectificadas) > 0 {
		w.open("sum1:FacturasRectificadas")
		for _, id := range a.FacturasRectificadas {
			w.idFactura("sum1:IDFacturaRectificada", id)
		}
		w.close("sum1:FacturasRectificadas")
	}
	if len(a.FacturasSustituidas) > 0 {
		w.open("sum1:FacturasSustituidas")
		for _, id := range a.FacturasSustituidas {
			w.idFactura("sum1:IDFacturaSustituida", id)
		}
		w.close("sum1:FacturasSustituidas")
	}
	if r := a.ImporteRectificacion; r != nil {
		w.open("sum1:ImporteRectificacion")
		w.leaf("sum1:BaseRectificada", Amount(r.BaseRectificada))
		w.leaf("sum1:CuotaRectificada", Amount(r.CuotaRectificada))
		if r.CuotaRecargoRectificado != nil {
			w.leaf("sum1:CuotaRecargoRectificado", Amount(*r.CuotaRecargoRectificado))
		}
		w.close("sum1:ImporteRectificacion")
	}
	if !a.FechaOperacion.IsZero() {
		w.leaf("sum1:FechaOperacion", Date(a.FechaOperacion))
	}
	w.leaf("sum1:DescripcionOperacion", a.DescripcionOperacion)
	if a.FacturaSimplificadaArt7273 {
		w.leaf("sum1:FacturaSimplificadaArt7273", "S")
	}
	if a.FacturaSinIdentifDestinatarioArt61d {
		w.leaf("sum1:FacturaSinIdentifDestinatarioArt61d", "S")
	}
	if a.macrodato() {
		w.leaf("sum1:Macrodato", "S")
	}
	if len(a.Destinatarios) > 0 {
		w.open("sum1:Destinatarios")
		for _, p := range a.Destinatarios {
			w.persona("sum1:IDDestinatario", p)
		}
		w.close("sum1:Destinatarios")
	}
	w.open("sum1:Desglose")
	for _, d := range a.Desglose {
		w.open("sum1:DetalleDesglose")
		w.optional("sum1:Impuesto", string(d.Impuesto))
		w.optional("sum1:ClaveRegimen", d.ClaveRegimen)
		if d.OperacionExenta != "" {
			w.leaf("sum1:OperacionExenta", d.OperacionExenta)
		} else {
			w.leaf("sum1:CalificacionOperacion", string(d.CalificacionOperacion))
		}
		if d.writesTax() {
			w.leaf("sum1:TipoImpositivo", Rate(d.TipoImpositivo))
		}
		w.leaf("sum1:BaseImponibleOimporteNoSujeto", Amount(d.BaseImponibleOimporteNoSujeto))
		if d.writesTax() {
			w.leaf("sum1:CuotaRepercutida", Amount(d.CuotaRepercutida))
		}
		if d.writesRecargo() {
			w.leaf("sum1:TipoRecargoEquivalencia", Rate(d.TipoRecargoEquivalencia))
			w.leaf("sum1:CuotaRecargoEquivalencia", Amount(d.CuotaRecargoEquivalencia))
		}
		w.close("sum1:DetalleDesglose")
	}
	w.close("sum1:Desglose")
	w.leaf("sum1:CuotaTotal", Amount(a.CuotaTotal))
	w.leaf("sum1:ImporteTotal", Amount(a.ImporteTotal))
	w.encadenamiento(a.Encadenamiento)
	w.sistema(a.SistemaInformatico)
	w.leaf("sum1:FechaHoraHusoGenRegistro", a.FechaHoraHusoGenRegistro)
	w.leaf("sum1:TipoHuella", TipoHuella)
	w.leaf("sum1:Huella", a.Huella)
	w.b.WriteString("</sum1:RegistroAlta>\n")
	return w.b.Bytes(), nil
}

func (a *Anulacion) marshal() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.Huella == "" || a.FechaHoraHusoGenRegistro == "" || a.Huella != a.ComputeHuella() {
		return nil, ErrNotSealed
	}
	var w xw
	w.b.WriteString(`<sum1:RegistroAnulacion xmlns:sum1="` + NamespaceSuministroInformacion + `">` + "\n")
	w.depth = 1
	w.leaf("sum1:IDVersion", "1.0")
	w.open("sum1:IDFactura")
	w.leaf("sum1:IDEmisorFacturaAnulada", a.IDFactura.IDEmisorFactura)
	w.leaf("sum1:NumSerieFacturaAnulada", a.IDFactura.NumSerieFactura)
	w.leaf("sum1:FechaExpedicionFacturaAnulada", Date(a.IDFactura.FechaExpedicionFactura))
	w.close("sum1:IDFactura")
	w.optional("sum1:RefExterna", a.RefExterna)
	w.optional("sum1:SinRegistroPrevio", string(a.SinRegistroPrevio))
	w.optional("sum1:RechazoPrevio", string(a.RechazoPrevio))
	w.encadenamiento(a.Encadenamiento)
	w.sistema(a.SistemaInformatico)
	w.leaf("sum1:FechaHoraHusoGenRegistro", a.FechaHoraHusoGenRegistro)
	w.leaf("sum1:TipoHuella", TipoHuella)
	w.leaf("sum1:Huella", a.Huella)
	w.b.WriteString("</sum1:RegistroAnulacion>\n")
	return w.b.Bytes(), nil
}

// Cabecera is the header of a request: the obligado tributario whose
// records it carries, and the representative who sends them for it, if
// any (a gestoría presenting with its own certificate).
type Cabecera struct {
	ObligadoEmision PersonaES
	Representante   *PersonaES
}

func (c Cabecera) validate() error {
	if err := text("Cabecera.ObligadoEmision.NombreRazon", c.ObligadoEmision.NombreRazon, 1, 120); err != nil {
		return err
	}
	if err := nif("Cabecera.ObligadoEmision.NIF", c.ObligadoEmision.NIF); err != nil {
		return err
	}
	if r := c.Representante; r != nil {
		if err := text("Cabecera.Representante.NombreRazon", r.NombreRazon, 1, 120); err != nil {
			return err
		}
		return nif("Cabecera.Representante.NIF", r.NIF)
	}
	return nil
}

// BuildRequest writes a RegFactuSistemaFacturacion request: the Cabecera
// and one RegistroFactura per record, in the order given (send a chain's
// records in chain order). records are MarshalRecord's output, as stored.
// Each is parsed back and must be a RegistroAlta or RegistroAnulacion of
// the Cabecera's obligado (AEAT 1108), so nothing else can be slipped into
// the request. More than MaxRecords records are refused.
func BuildRequest(c Cabecera, records [][]byte) ([]byte, error) {
	switch {
	case len(records) == 0:
		return nil, ErrNoRecords
	case len(records) > MaxRecords:
		return nil, fmt.Errorf("%w (%d)", ErrTooManyRecords, len(records))
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	var w xw
	w.b.WriteString(xml.Header)
	w.b.WriteString(`<sum:RegFactuSistemaFacturacion xmlns:sum="` + NamespaceSuministroLR + `" xmlns:sum1="` + NamespaceSuministroInformacion + `">` + "\n")
	w.open("sum:Cabecera")
	w.personaES("sum1:ObligadoEmision", c.ObligadoEmision)
	if c.Representante != nil {
		w.personaES("sum1:Representante", *c.Representante)
	}
	w.close("sum:Cabecera")
	for i, rec := range records {
		p, err := ParseRecord(rec)
		if err != nil {
			return nil, fmt.Errorf("verifactu: record %d: %w", i, err)
		}
		if p.ID.IDEmisorFactura != c.ObligadoEmision.NIF {
			return nil, fmt.Errorf("verifactu: record %d is %s's, the request is %s's (AEAT 1108)", i, p.ID.IDEmisorFactura, c.ObligadoEmision.NIF)
		}
		// Only the element itself: a declaration or comment before it
		// would break the request.
		rec = bytes.TrimSpace(rec)
		if bytes.HasPrefix(rec, []byte("<?")) || bytes.HasPrefix(rec, []byte("<!")) {
			return nil, fmt.Errorf("verifactu: record %d: %w: something precedes the element", i, ErrRecordXML)
		}
		w.b.WriteString("<sum:RegistroFactura>\n")
		w.b.Write(rec)
		w.b.WriteString("\n</sum:RegistroFactura>\n")
	}
	w.b.WriteString("</sum:RegFactuSistemaFacturacion>\n")
	return w.b.Bytes(), nil
}

// SOAP wraps a request in the SOAP 1.1 envelope the AEAT service expects
// (operation RegFactuSistemaFacturacion, document style: POST it to
// SOAPEndpoint with Content-Type "text/xml; charset=utf-8" and the header
// SOAPAction: "" as SistemaFacturacion.wsdl declares).
func SOAP(request []byte) []byte {
	body := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(request), []byte(strings.TrimSpace(xml.Header))))
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="` + NamespaceSOAP + `">` + "\n")
	b.WriteString("<soapenv:Header/>\n<soapenv:Body>\n")
	b.Write(body)
	b.WriteString("\n</soapenv:Body>\n</soapenv:Envelope>\n")
	return b.Bytes()
}

// Environment is the AEAT environment records go to: the real one or the
// test one (pre-production), which has its own hosts for the web service
// and for the QR's validation page.
type Environment int

const (
	Production Environment = iota
	Test
)

// SOAPEndpoint is the VERI*FACTU web service for certificates of a person
// or company (SistemaFacturacion.wsdl; seal certificates use other hosts).
func SOAPEndpoint(env Environment) string {
	if env == Test {
		return "https://prewww1.aeat.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
	}
	return "https://www1.agenciatributaria.gob.es/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
}
