package verifactu

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EstadoEnvio is the state of a whole submission (RespuestaSuministro.xsd
// EstadoEnvioType).
type EstadoEnvio string

const (
	EnvioCorrecto             EstadoEnvio = "Correcto"
	EnvioParcialmenteCorrecto EstadoEnvio = "ParcialmenteCorrecto" // at least one record Incorrecto
	EnvioIncorrecto           EstadoEnvio = "Incorrecto"           // every record Incorrecto
)

// EstadoRegistro is the state of one record (EstadoRegistroType).
type EstadoRegistro string

const (
	// Correcto: registered.
	Correcto EstadoRegistro = "Correcto"
	// AceptadoConErrores: registered, but it must be corrected with a
	// subsanación (a new alta with Subsanacion = S); 2xxx codes.
	AceptadoConErrores EstadoRegistro = "AceptadoConErrores"
	// Incorrecto: rejected, not registered; 1xxx and 3xxx codes. Fix and
	// send again (Subsanacion = S, RechazoPrevio = S), unless it is a
	// duplicate (3000), which the AEAT already holds.
	Incorrecto EstadoRegistro = "Incorrecto"
)

// CodeDuplicate is AEAT error 3000, "Registro de facturación duplicado":
// the AEAT already holds this record (an earlier send got through but its
// answer was lost). The line then carries RegistroDuplicado with the state
// of the record the AEAT holds.
const CodeDuplicate = 3000

// CodeAlreadyCancelled is AEAT error 3001, "El registro de facturación ya
// ha sido dado de baja": the invoice an anulación cancels is cancelled at
// the AEAT already — what a resent anulación gets when the answer to its
// first send was lost.
const CodeAlreadyCancelled = 3001

// Response is the AEAT's answer to a RegFactuSistemaFacturacion request
// (RespuestaRegFactuSistemaFacturacion).
type Response struct {
	CSV string // the submission's secure verification code; only when not rejected whole
	// NIFPresentador and TimestampPresentacion (DatosPresentacion): who
	// presented and when; only when not rejected whole.
	NIFPresentador        string
	TimestampPresentacion string
	Cabecera              Cabecera
	// TiempoEsperaEnvio is how long to wait before the next request of
	// this obligado (flow control: send again after this wait, or before
	// it only when MaxRecords records are waiting).
	TiempoEsperaEnvio time.Duration
	EstadoEnvio       EstadoEnvio
	Lines             []ResponseLine
}

// ResponseLine is the answer for one record (RespuestaLinea).
type ResponseLine struct {
	IDFactura         struct{ IDEmisorFactura, NumSerieFactura, FechaExpedicionFactura string }
	TipoOperacion     Kind // Alta or Anulacion
	Subsanacion       string
	RechazoPrevio     string
	SinRegistroPrevio string
	RefExterna        string
	EstadoRegistro    EstadoRegistro
	// CodigoErrorRegistro is 0 when the record has no error; its official
	// text is ErrorText(code).
	CodigoErrorRegistro      int
	DescripcionErrorRegistro string
	// Duplicado is set when the record was refused as a duplicate (3000).
	Duplicado *Duplicado
}

// Duplicado is the record the AEAT already holds (RegistroDuplicadoType).
type Duplicado struct {
	IdPeticionRegistroDuplicado string
	// EstadoRegistroDuplicado: Correcta, AceptadaConErrores or Anulada.
	EstadoRegistroDuplicado  string
	CodigoErrorRegistro      int
	DescripcionErrorRegistro string
}

// Key identifies the record a line answers: the line's IDFactura and
// operation, the same as RecordKey gives for the record sent.
func (l ResponseLine) Key() string {
	return string(l.TipoOperacion) + "|" + l.IDFactura.IDEmisorFactura + "|" + l.IDFactura.NumSerieFactura + "|" + l.IDFactura.FechaExpedicionFactura
}

// RecordKey is the key of a record sent, to find its ResponseLine.
func RecordKey(s Stored) string {
	return string(s.Kind) + "|" + s.ID.IDEmisorFactura + "|" + s.ID.NumSerieFactura + "|" + s.ID.FechaExpedicionFactura
}

// Accepted says whether the AEAT holds a record for the invoice the line
// answers: Correcto, AceptadoConErrores, or refused as a duplicate (3000)
// of one it already holds, whose state is then in Duplicado. Sending it
// again would only be refused again.
func (l ResponseLine) Accepted() bool {
	return l.EstadoRegistro == Correcto || l.EstadoRegistro == AceptadoConErrores || l.CodigoErrorRegistro == CodeDuplicate
}

// Fault is a SOAP fault: the AEAT refused the request as a whole before
// answering it record by record (a schema error, 4102, a certificate
// without the right to present, 4112, …). Code is the AEAT code when the
// fault text starts with one ("Codigo[4102].…"), else 0.
type Fault struct {
	FaultCode   string
	FaultString string
	Code        int
}

func (f *Fault) Error() string { return "verifactu: AEAT fault " + f.FaultCode + ": " + f.FaultString }

// Transient says whether the fault is one of the AEAT's own technical
// errors (errores.properties: "Error técnico…", a service not active),
// which go away by themselves, unlike a request or a certificate it
// refuses: the same records are sent again after the usual back-off.
func (f *Fault) Transient() bool {
	switch f.Code {
	case 3500, 3501, // error técnico de base de datos
		4108, // error técnico al obtener el certificado
		4110, // error técnico al comprobar los apoderamientos
		4111, // error técnico al crear el trámite
		4128, // error técnico en la recuperación del valor del Gestor de Tablas
		4134: // servicio no activo
		return true
	}
	return false
}

// ErrResponse is returned for an answer that is neither a
// RespuestaRegFactuSistemaFacturacion nor a SOAP fault.
var ErrResponse = errors.New("verifactu: unexpected answer")

type xmlPersona struct {
	NombreRazon string `xml:"NombreRazon"`
	NIF         string `xml:"NIF"`
}

type xmlResponse struct {
	CSV               string `xml:"CSV"`
	DatosPresentacion struct {
		NIFPresentador        string `xml:"NIFPresentador"`
		TimestampPresentacion string `xml:"TimestampPresentacion"`
	} `xml:"DatosPresentacion"`
	Cabecera struct {
		ObligadoEmision xmlPersona  `xml:"ObligadoEmision"`
		Representante   *xmlPersona `xml:"Representante"`
	} `xml:"Cabecera"`
	TiempoEsperaEnvio string `xml:"TiempoEsperaEnvio"`
	EstadoEnvio       string `xml:"EstadoEnvio"`
	RespuestaLinea    []struct {
		IDFactura struct {
			IDEmisorFactura        string `xml:"IDEmisorFactura"`
			NumSerieFactura        string `xml:"NumSerieFactura"`
			FechaExpedicionFactura string `xml:"FechaExpedicionFactura"`
		} `xml:"IDFactura"`
		Operacion struct {
			TipoOperacion     string `xml:"TipoOperacion"`
			Subsanacion       string `xml:"Subsanacion"`
			RechazoPrevio     string `xml:"RechazoPrevio"`
			SinRegistroPrevio string `xml:"SinRegistroPrevio"`
		} `xml:"Operacion"`
		RefExterna               string `xml:"RefExterna"`
		EstadoRegistro           string `xml:"EstadoRegistro"`
		CodigoErrorRegistro      string `xml:"CodigoErrorRegistro"`
		DescripcionErrorRegistro string `xml:"DescripcionErrorRegistro"`
		RegistroDuplicado        *struct {
			IdPeticionRegistroDuplicado string `xml:"IdPeticionRegistroDuplicado"`
			EstadoRegistroDuplicado     string `xml:"EstadoRegistroDuplicado"`
			CodigoErrorRegistro         string `xml:"CodigoErrorRegistro"`
			DescripcionErrorRegistro    string `xml:"DescripcionErrorRegistro"`
		} `xml:"RegistroDuplicado"`
	} `xml:"RespuestaLinea"`
}

type xmlFault struct {
	FaultCode   string `xml:"faultcode"`
	FaultString string `xml:"faultstring"`
}

// ParseResponse reads the AEAT's answer: a SOAP envelope (or the bare
// element) holding RespuestaRegFactuSistemaFacturacion, or a SOAP fault,
// returned as a *Fault error. Elements are matched by name within the
// AEAT namespaces, whatever prefixes the answer uses.
func ParseResponse(b []byte) (*Response, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrResponse, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case se.Name.Space == NamespaceSOAP && (se.Name.Local == "Envelope" || se.Name.Local == "Body" || se.Name.Local == "Header"):
			if se.Name.Local == "Header" {
				if err := d.Skip(); err != nil {
					return nil, fmt.Errorf("%w: %v", ErrResponse, err)
				}
			}
		case se.Name.Space == NamespaceSOAP && se.Name.Local == "Fault":
			var f xmlFault
			if err := d.DecodeElement(&f, &se); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrResponse, err)
			}
			return nil, newFault(f)
		case se.Name.Space == NamespaceRespuestaSuministro && se.Name.Local == "RespuestaRegFactuSistemaFacturacion":
			var x xmlResponse
			if err := d.DecodeElement(&x, &se); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrResponse, err)
			}
			return x.response()
		default:
			return nil, fmt.Errorf("%w: element {%s}%s", ErrResponse, se.Name.Space, se.Name.Local)
		}
	}
}

func newFault(x xmlFault) *Fault {
	f := &Fault{FaultCode: strings.TrimSpace(x.FaultCode), FaultString: strings.TrimSpace(x.FaultString)}
	// The AEAT writes its code as "Codigo[4102].El XML no cumple…".
	if rest, ok := strings.CutPrefix(f.FaultString, "Codigo["); ok {
		if n, _, ok := strings.Cut(rest, "]"); ok {
			f.Code, _ = strconv.Atoi(n)
		}
	}
	return f
}

func code(field, s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q is not a number", ErrResponse, field, s)
	}
	return n, nil
}

func (x xmlResponse) response() (*Response, error) {
	r := &Response{
		CSV:                   strings.TrimSpace(x.CSV),
		NIFPresentador:        strings.TrimSpace(x.DatosPresentacion.NIFPresentador),
		TimestampPresentacion: strings.TrimSpace(x.DatosPresentacion.TimestampPresentacion),
		EstadoEnvio:           EstadoEnvio(strings.TrimSpace(x.EstadoEnvio)),
	}
	r.Cabecera.ObligadoEmision = PersonaES(x.Cabecera.ObligadoEmision)
	if p := x.Cabecera.Representante; p != nil {
		rep := PersonaES(*p)
		r.Cabecera.Representante = &rep
	}
	switch r.EstadoEnvio {
	case EnvioCorrecto, EnvioParcialmenteCorrecto, EnvioIncorrecto:
	default:
		return nil, fmt.Errorf("%w: EstadoEnvio %q", ErrResponse, r.EstadoEnvio)
	}
	// Tipo6Type: up to four digits of seconds.
	wait := strings.TrimSpace(x.TiempoEsperaEnvio)
	if wait != "" {
		n, err := strconv.Atoi(wait)
		if err != nil || n < 0 || len(wait) > 4 {
			return nil, fmt.Errorf("%w: TiempoEsperaEnvio %q", ErrResponse, wait)
		}
		r.TiempoEsperaEnvio = time.Duration(n) * time.Second
	}
	for i, xl := range x.RespuestaLinea {
		var l ResponseLine
		l.IDFactura.IDEmisorFactura = strings.TrimSpace(xl.IDFactura.IDEmisorFactura)
		l.IDFactura.NumSerieFactura = strings.TrimSpace(xl.IDFactura.NumSerieFactura)
		l.IDFactura.FechaExpedicionFactura = strings.TrimSpace(xl.IDFactura.FechaExpedicionFactura)
		l.TipoOperacion = Kind(strings.TrimSpace(xl.Operacion.TipoOperacion))
		l.Subsanacion = strings.TrimSpace(xl.Operacion.Subsanacion)
		l.RechazoPrevio = strings.TrimSpace(xl.Operacion.RechazoPrevio)
		l.SinRegistroPrevio = strings.TrimSpace(xl.Operacion.SinRegistroPrevio)
		l.RefExterna = strings.TrimSpace(xl.RefExterna)
		l.EstadoRegistro = EstadoRegistro(strings.TrimSpace(xl.EstadoRegistro))
		l.DescripcionErrorRegistro = strings.TrimSpace(xl.DescripcionErrorRegistro)
		if l.TipoOperacion != KindAlta && l.TipoOperacion != KindAnulacion {
			return nil, fmt.Errorf("%w: line %d: TipoOperacion %q", ErrResponse, i, l.TipoOperacion)
		}
		switch l.EstadoRegistro {
		case Correcto, AceptadoConErrores, Incorrecto:
		default:
			return nil, fmt.Errorf("%w: line %d: EstadoRegistro %q", ErrResponse, i, l.EstadoRegistro)
		}
		var err error
		if l.CodigoErrorRegistro, err = code("CodigoErrorRegistro", xl.CodigoErrorRegistro); err != nil {
			return nil, err
		}
		if dup := xl.RegistroDuplicado; dup != nil {
			l.Duplicado = &Duplicado{
				IdPeticionRegistroDuplicado: strings.TrimSpace(dup.IdPeticionRegistroDuplicado),
				EstadoRegistroDuplicado:     strings.TrimSpace(dup.EstadoRegistroDuplicado),
				DescripcionErrorRegistro:    strings.TrimSpace(dup.DescripcionErrorRegistro),
			}
			if l.Duplicado.CodigoErrorRegistro, err = code("RegistroDuplicado/CodigoErrorRegistro", dup.CodigoErrorRegistro); err != nil {
				return nil, err
			}
		}
		r.Lines = append(r.Lines, l)
	}
	return r, nil
}

// Line finds the answer for a record sent (nil when the answer has none).
func (r *Response) Line(s Stored) *ResponseLine {
	k := RecordKey(s)
	for i := range r.Lines {
		if r.Lines[i].Key() == k {
			return &r.Lines[i]
		}
	}
	return nil
}
