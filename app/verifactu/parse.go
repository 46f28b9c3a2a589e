package verifactu

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// Kind tells an alta from an anulación.
type Kind string

const (
	KindAlta      Kind = "Alta"
	KindAnulacion Kind = "Anulacion"
)

// Stored is what the chain needs of a record read back from its XML (a
// stored record, or a sample): every value is the element's text.
type Stored struct {
	Kind Kind
	// ID is the invoice the record is about (for an anulación, the voided
	// one), as text.
	ID                       struct{ IDEmisorFactura, NumSerieFactura, FechaExpedicionFactura string }
	TipoFactura              string // altas only
	CuotaTotal               string // altas only
	ImporteTotal             string // altas only
	Prev                     *Link  // nil when the record says PrimerRegistro = S
	FechaHoraHusoGenRegistro string
	TipoHuella               string
	Huella                   string // as the record claims it
}

// ErrRecordXML is returned by ParseRecord for bytes that are not one
// RegistroAlta or RegistroAnulacion of the AEAT namespace.
var ErrRecordXML = errors.New("verifactu: not a RegistroAlta or RegistroAnulacion")

type xmlID struct {
	IDEmisorFactura               string `xml:"IDEmisorFactura"`
	NumSerieFactura               string `xml:"NumSerieFactura"`
	FechaExpedicionFactura        string `xml:"FechaExpedicionFactura"`
	IDEmisorFacturaAnulada        string `xml:"IDEmisorFacturaAnulada"`
	NumSerieFacturaAnulada        string `xml:"NumSerieFacturaAnulada"`
	FechaExpedicionFacturaAnulada string `xml:"FechaExpedicionFacturaAnulada"`
}

type xmlRecord struct {
	XMLName        xml.Name
	IDFactura      xmlID  `xml:"IDFactura"`
	TipoFactura    string `xml:"TipoFactura"`
	CuotaTotal     string `xml:"CuotaTotal"`
	ImporteTotal   string `xml:"ImporteTotal"`
	Encadenamiento struct {
		PrimerRegistro   string `xml:"PrimerRegistro"`
		RegistroAnterior *struct {
			IDEmisorFactura        string `xml:"IDEmisorFactura"`
			NumSerieFactura        string `xml:"NumSerieFactura"`
			FechaExpedicionFactura string `xml:"FechaExpedicionFactura"`
			Huella                 string `xml:"Huella"`
		} `xml:"RegistroAnterior"`
	} `xml:"Encadenamiento"`
	FechaHoraHusoGenRegistro string `xml:"FechaHoraHusoGenRegistro"`
	TipoHuella               string `xml:"TipoHuella"`
	Huella                   string `xml:"Huella"`
}

// ParseRecord reads a record's chain fields back from its XML (the
// element alone, as MarshalRecord writes it, or the AEAT samples'
// records). It checks the root only, not the schema.
func ParseRecord(b []byte) (Stored, error) {
	var r xmlRecord
	d := xml.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&r); err != nil {
		return Stored{}, fmt.Errorf("%w: %v", ErrRecordXML, err)
	}
	// Nothing but white space may follow the record: BuildRequest copies
	// these bytes into a request.
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if cd, ok := tok.(xml.CharData); !ok || len(bytes.TrimSpace(cd)) > 0 {
			return Stored{}, fmt.Errorf("%w: content after the record", ErrRecordXML)
		}
	}
	if r.XMLName.Space != NamespaceSuministroInformacion {
		return Stored{}, fmt.Errorf("%w: root is {%s}%s", ErrRecordXML, r.XMLName.Space, r.XMLName.Local)
	}
	var s Stored
	switch r.XMLName.Local {
	case "RegistroAlta":
		s.Kind = KindAlta
		s.ID.IDEmisorFactura, s.ID.NumSerieFactura, s.ID.FechaExpedicionFactura = r.IDFactura.IDEmisorFactura, r.IDFactura.NumSerieFactura, r.IDFactura.FechaExpedicionFactura
		s.TipoFactura, s.CuotaTotal, s.ImporteTotal = r.TipoFactura, r.CuotaTotal, r.ImporteTotal
	case "RegistroAnulacion":
		s.Kind = KindAnulacion
		s.ID.IDEmisorFactura, s.ID.NumSerieFactura, s.ID.FechaExpedicionFactura = r.IDFactura.IDEmisorFacturaAnulada, r.IDFactura.NumSerieFacturaAnulada, r.IDFactura.FechaExpedicionFacturaAnulada
	default:
		return Stored{}, fmt.Errorf("%w: root is %s", ErrRecordXML, r.XMLName.Local)
	}
	if s.ID.IDEmisorFactura == "" {
		return Stored{}, fmt.Errorf("%w: no IDFactura", ErrRecordXML)
	}
	if p := r.Encadenamiento.RegistroAnterior; p != nil {
		s.Prev = &Link{p.IDEmisorFactura, p.NumSerieFactura, p.FechaExpedicionFactura, p.Huella}
	}
	s.FechaHoraHusoGenRegistro, s.TipoHuella, s.Huella = r.FechaHoraHusoGenRegistro, r.TipoHuella, r.Huella
	return s, nil
}

// ComputeHuella recomputes the huella from the record's own texts.
func (s Stored) ComputeHuella() string {
	prev := ""
	if s.Prev != nil {
		prev = s.Prev.Huella
	}
	if s.Kind == KindAnulacion {
		return HuellaAnulacion(s.ID.IDEmisorFactura, s.ID.NumSerieFactura, s.ID.FechaExpedicionFactura, prev, s.FechaHoraHusoGenRegistro)
	}
	return HuellaAlta(s.ID.IDEmisorFactura, s.ID.NumSerieFactura, s.ID.FechaExpedicionFactura, s.TipoFactura, s.CuotaTotal, s.ImporteTotal, prev, s.FechaHoraHusoGenRegistro)
}

// Link is what the next record names of this one.
func (s Stored) Link() Link {
	return Link{s.ID.IDEmisorFactura, s.ID.NumSerieFactura, s.ID.FechaExpedicionFactura, strings.TrimSpace(s.Huella)}
}

// ChainError points at the first record of a chain that does not hold:
// its position in the slice given to VerifyChain, what kind of fault it
// is (one of the Broken… codes, for a page to explain in its language)
// and what is wrong in detail.
type ChainError struct {
	Index  int
	Code   string
	Reason string
}

// The kinds of ChainError.
const (
	BrokenTipoHuella = "tipo_huella" // TipoHuella is not 01
	BrokenHuella     = "huella"      // the huella is not what the record's fields give
	BrokenFirst      = "first"       // the first record names a previous one
	BrokenNotFirst   = "not_first"   // a later record says PrimerRegistro
	BrokenLink       = "link"        // the record names another record as previous
	BrokenIssuer     = "issuer"      // the record belongs to another issuer's chain
)

func (e *ChainError) Error() string {
	return fmt.Sprintf("verifactu: chain broken at record %d: %s", e.Index, e.Reason)
}

// VerifyChain checks one issuer's records in chain order, as `pulso
// verifactu verify` and the chain page do: each record's huella must be
// what its fields give, the first must say PrimerRegistro (unless
// continues, the Link of the record before the first one given, is not
// nil) and every other must name the record before it, huella included.
// It returns nil or the first broken link as a *ChainError.
func VerifyChain(records []Stored, continues *Link) error {
	prev := continues
	for i, r := range records {
		if r.TipoHuella != TipoHuella {
			return &ChainError{i, BrokenTipoHuella, fmt.Sprintf("TipoHuella is %q, not %s", r.TipoHuella, TipoHuella)}
		}
		if got := r.ComputeHuella(); got != strings.TrimSpace(r.Huella) {
			return &ChainError{i, BrokenHuella, fmt.Sprintf("its huella %s is not what its fields give (%s)", r.Huella, got)}
		}
		switch {
		case prev == nil && r.Prev != nil:
			return &ChainError{i, BrokenFirst, "the first record names a previous one"}
		case prev != nil && r.Prev == nil:
			return &ChainError{i, BrokenNotFirst, "says it is the first record, but follows " + prev.NumSerieFactura}
		case prev != nil && *r.Prev != *prev:
			return &ChainError{i, BrokenLink, fmt.Sprintf("names %s %s %s as previous, the previous record is %s %s %s",
				r.Prev.NumSerieFactura, r.Prev.FechaExpedicionFactura, r.Prev.Huella, prev.NumSerieFactura, prev.FechaExpedicionFactura, prev.Huella)}
		}
		if prev != nil && r.ID.IDEmisorFactura != prev.IDEmisorFactura {
			return &ChainError{i, BrokenIssuer, "belongs to issuer " + r.ID.IDEmisorFactura + ", the chain to " + prev.IDEmisorFactura}
		}
		l := r.Link()
		prev = &l
	}
	return nil
}
