package verifactu

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TipoHuella is the only hash type the XSD knows: 01, SHA-256.
const TipoHuella = "01"

// Link is what a record names of the record before it in its chain
// (Encadenamiento/RegistroAnterior): the IDFactura of the invoice that
// record is about (for an anulación, the voided invoice) and its huella,
// all as the text its XML carries. Altas and anulaciones share one chain
// per issuer NIF. Keep the Link of each org's last record (Alta.Link,
// Anulacion.Link) and pass it to the next Seal.
type Link struct {
	IDEmisorFactura        string
	NumSerieFactura        string
	FechaExpedicionFactura string // DD-MM-AAAA
	Huella                 string
}

// ErrChain is returned by Seal when the previous record cannot be chained
// to: another issuer's chain, or a malformed huella.
var ErrChain = errors.New("verifactu: previous record does not belong to this chain")

// HuellaAlta is the huella of a RegistroAlta from the texts of its XML
// elements (RULES.md "Hash chain"): SHA-256 over
// IDEmisorFactura=…&NumSerieFactura=…&FechaExpedicionFactura=…&TipoFactura=…&CuotaTotal=…&ImporteTotal=…&Huella=…&FechaHoraHusoGenRegistro=…
// in upper-case hex, where Huella is the previous record's ("" for the
// first record of a chain).
func HuellaAlta(idEmisorFactura, numSerieFactura, fechaExpedicionFactura, tipoFactura, cuotaTotal, importeTotal, huellaAnterior, fechaHoraHusoGenRegistro string) string {
	return huella(
		"IDEmisorFactura", idEmisorFactura,
		"NumSerieFactura", numSerieFactura,
		"FechaExpedicionFactura", fechaExpedicionFactura,
		"TipoFactura", tipoFactura,
		"CuotaTotal", cuotaTotal,
		"ImporteTotal", importeTotal,
		"Huella", huellaAnterior,
		"FechaHoraHusoGenRegistro", fechaHoraHusoGenRegistro,
	)
}

// HuellaAnulacion is the huella of a RegistroAnulacion: SHA-256 over
// IDEmisorFacturaAnulada=…&NumSerieFacturaAnulada=…&FechaExpedicionFacturaAnulada=…&Huella=…&FechaHoraHusoGenRegistro=…
func HuellaAnulacion(idEmisorFacturaAnulada, numSerieFacturaAnulada, fechaExpedicionFacturaAnulada, huellaAnterior, fechaHoraHusoGenRegistro string) string {
	return huella(
		"IDEmisorFacturaAnulada", idEmisorFacturaAnulada,
		"NumSerieFacturaAnulada", numSerieFacturaAnulada,
		"FechaExpedicionFacturaAnulada", fechaExpedicionFacturaAnulada,
		"Huella", huellaAnterior,
		"FechaHoraHusoGenRegistro", fechaHoraHusoGenRegistro,
	)
}

// huella hashes name=value pairs joined with &. Values are the elements'
// text trimmed of surrounding spaces, neither escaped nor URL-encoded; an
// empty value still writes its "Name=".
func huella(pairs ...string) string {
	sum := sha256.Sum256([]byte(huellaInput(pairs...)))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func huellaInput(pairs ...string) string {
	var b strings.Builder
	for i := 0; i < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pairs[i])
		b.WriteByte('=')
		b.WriteString(strings.TrimSpace(pairs[i+1]))
	}
	return b.String()
}

// huellaOK: 64 upper-case hex characters, as huella writes them.
func huellaOK(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// prevHuella is the huella a record's Encadenamiento names: "" for the
// first record of a chain.
func prevHuella(enc *Link) string {
	if enc == nil {
		return ""
	}
	return enc.Huella
}

// chainTo is the Encadenamiento of a record of issuer nif that follows
// prev (nil: the first record), after checkPrev; a copy, so the record
// does not share the caller's link.
func chainTo(prev *Link, nif string) (*Link, error) {
	if err := checkPrev(prev, nif); err != nil {
		return nil, err
	}
	if prev == nil {
		return nil, nil
	}
	p := *prev
	return &p, nil
}

// checkPrev refuses to chain a record of issuer nif to prev when prev
// belongs to another issuer's chain (one chain per obligado tributario,
// Orden HAC/1177/2024) or is not a record Pulso could have sealed.
func checkPrev(prev *Link, nif string) error {
	if prev == nil {
		return nil
	}
	switch {
	case prev.IDEmisorFactura != nif:
		return fmt.Errorf("%w: it is %s's, this record is %s's", ErrChain, prev.IDEmisorFactura, nif)
	case !huellaOK(prev.Huella):
		return fmt.Errorf("%w: its huella %q is not 64 upper-case hex characters", ErrChain, prev.Huella)
	case !numSerieOK(prev.NumSerieFactura):
		return fmt.Errorf("%w: its NumSerieFactura %q is not valid", ErrChain, prev.NumSerieFactura)
	case !dateTextOK(prev.FechaExpedicionFactura):
		return fmt.Errorf("%w: its FechaExpedicionFactura %q is not DD-MM-AAAA", ErrChain, prev.FechaExpedicionFactura)
	}
	return nil
}

// Seal validates the alta, chains it to prev (nil: the first record of
// the issuer's chain) and stamps it with its generation time and huella.
// at must be the real time of generation (the AEAT compares it with its
// own clock, error 2004), in the zone whose offset the record should
// show. Call it inside the transaction that issues the invoice; prev must
// be the chain's last record when the record is stored (hold the chain's
// head, or store only if it has not moved, and seal again if it has).
func (a *Alta) Seal(prev *Link, at time.Time) error {
	if err := a.Validate(); err != nil {
		return err
	}
	// The AEAT refuses an issue date after the day the record is made
	// (1112) or more than 20 years before it (1133).
	issued := Date(a.IDFactura.FechaExpedicionFactura)
	day := at.Format(time.DateOnly)
	if a.IDFactura.FechaExpedicionFactura.Format(time.DateOnly) > day {
		return fieldErr("IDFactura.FechaExpedicionFactura", "%s is after the record's generation date (AEAT 1112)", issued)
	}
	if a.IDFactura.FechaExpedicionFactura.Format(time.DateOnly) < at.AddDate(-20, 0, 0).Format(time.DateOnly) {
		return fieldErr("IDFactura.FechaExpedicionFactura", "%s is more than 20 years old (AEAT 1133)", issued)
	}
	enc, err := chainTo(prev, a.IDFactura.IDEmisorFactura)
	if err != nil {
		return err
	}
	a.Encadenamiento = enc
	a.FechaHoraHusoGenRegistro = Timestamp(at)
	a.Huella = a.ComputeHuella()
	return nil
}

// ComputeHuella is the huella the alta's current fields give.
func (a *Alta) ComputeHuella() string {
	return HuellaAlta(a.IDFactura.IDEmisorFactura, a.IDFactura.NumSerieFactura, Date(a.IDFactura.FechaExpedicionFactura),
		string(a.TipoFactura), Amount(a.CuotaTotal), Amount(a.ImporteTotal), prevHuella(a.Encadenamiento), a.FechaHoraHusoGenRegistro)
}

// Link is what the next record of the chain names of this one.
func (a *Alta) Link() Link {
	return Link{a.IDFactura.IDEmisorFactura, a.IDFactura.NumSerieFactura, Date(a.IDFactura.FechaExpedicionFactura), a.Huella}
}

// GeneratedAt is when Seal made the record, as the record writes it.
func (a *Alta) GeneratedAt() string { return a.FechaHoraHusoGenRegistro }

// Seal is Alta.Seal for an anulación.
func (a *Anulacion) Seal(prev *Link, at time.Time) error {
	if err := a.Validate(); err != nil {
		return err
	}
	enc, err := chainTo(prev, a.IDFactura.IDEmisorFactura)
	if err != nil {
		return err
	}
	a.Encadenamiento = enc
	a.FechaHoraHusoGenRegistro = Timestamp(at)
	a.Huella = a.ComputeHuella()
	return nil
}

// ComputeHuella is the huella the anulación's current fields give.
func (a *Anulacion) ComputeHuella() string {
	return HuellaAnulacion(a.IDFactura.IDEmisorFactura, a.IDFactura.NumSerieFactura, Date(a.IDFactura.FechaExpedicionFactura),
		prevHuella(a.Encadenamiento), a.FechaHoraHusoGenRegistro)
}

// Link is what the next record of the chain names of this one: the voided
// invoice's IDFactura and this record's huella.
func (a *Anulacion) Link() Link {
	return Link{a.IDFactura.IDEmisorFactura, a.IDFactura.NumSerieFactura, Date(a.IDFactura.FechaExpedicionFactura), a.Huella}
}

// GeneratedAt is Alta.GeneratedAt for an anulación.
func (a *Anulacion) GeneratedAt() string { return a.FechaHoraHusoGenRegistro }
