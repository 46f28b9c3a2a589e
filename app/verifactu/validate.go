package verifactu

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// FieldError is a record field Validate refuses: its path in the record
// (e.g. "Destinatarios[0].NIF") and why. Validate catches what would make
// the request fail the XSD (AEAT 4102, which rejects every record sent
// with it) and what the AEAT rejects a record for by its own rules (the
// 1xxx codes named in each reason), so that a record is refused while the
// invoice is being issued, not days later.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return "verifactu: " + e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// forbiddenChars are the characters the AEAT refuses in a text field
// (error 1287: <, >, ", ', =).
const forbiddenChars = `<>"'=`

// text checks a free-text field: its length in characters, no characters
// the AEAT refuses, no control characters (they cannot be written in XML
// 1.0 or would change in transit), no surrounding spaces (the huella trims
// them, so the stored text and the hashed text would differ).
func text(field, s string, min, max int) error {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		return fieldErr(field, "is not valid UTF-8")
	case n < min && min == 1:
		return fieldErr(field, "is required")
	case n < min || n > max:
		return fieldErr(field, "must have %d to %d characters, has %d", min, max, n)
	case strings.ContainsAny(s, forbiddenChars):
		return fieldErr(field, "contains one of %s, which the AEAT refuses (error 1287)", forbiddenChars)
	case strings.TrimSpace(s) != s:
		return fieldErr(field, "starts or ends with a space")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff {
			return fieldErr(field, "contains a control character")
		}
	}
	return nil
}

// CleanText makes free text (a name, a description) acceptable to the
// AEAT: the characters it refuses (error 1287) become their typographic
// look-alikes (’ ” ‹ › and a hyphen for =), control characters and runs
// of spaces become one space, surrounding spaces go. Never use it on a
// NumSerieFactura: the record's number must be the printed one.
func CleanText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "") {
		switch {
		case r == '\'':
			r = '’'
		case r == '"':
			r = '”'
		case r == '<':
			r = '‹'
		case r == '>':
			r = '›'
		case r == '=':
			r = '-'
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff:
			r = ' '
		}
		if r == ' ' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// numSerieOK: 1–60 printable ASCII characters (XSD TextoIDFacturaType,
// AEAT 1130; the QR spec allows ASCII 32–126 only), none that the AEAT
// refuses, no surrounding spaces.
func numSerieOK(s string) bool {
	if len(s) < 1 || len(s) > 60 || strings.TrimSpace(s) != s || strings.ContainsAny(s, forbiddenChars) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 32 || s[i] > 126 {
			return false
		}
	}
	return true
}

// nifOK: the XSD's NIFType is exactly 9 characters; a NIF is upper-case
// letters and digits. Whether it is a real, registered NIF is the
// customer form's and the AEAT census's business (errors 4107, 1109).
func nifOK(s string) bool {
	if len(s) != 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func nif(field, s string) error {
	if !nifOK(s) {
		return fieldErr(field, "must be a NIF of 9 upper-case letters and digits, is %q", s)
	}
	return nil
}

// dateOK: the date can be written as DD-MM-AAAA with a 4-digit year.
func dateOK(t time.Time) bool { return !t.IsZero() && t.Year() >= 1000 && t.Year() <= 9999 }

func dateTextOK(s string) bool {
	_, err := time.Parse(dateLayout, s)
	return err == nil && len(s) == 10
}

func amount(field string, cents int64) error {
	if cents > maxAmountCents || cents < -maxAmountCents {
		return fieldErr(field, "is beyond 12 integer digits")
	}
	return nil
}

func (id IDFactura) validate(field string) error {
	if err := nif(field+".IDEmisorFactura", id.IDEmisorFactura); err != nil {
		return err
	}
	if !numSerieOK(id.NumSerieFactura) {
		return fieldErr(field+".NumSerieFactura", "must be 1 to 60 printable ASCII characters without %s or surrounding spaces (AEAT 1130), is %q", forbiddenChars, id.NumSerieFactura)
	}
	if !dateOK(id.FechaExpedicionFactura) {
		return fieldErr(field+".FechaExpedicionFactura", "is required")
	}
	return nil
}

func (p Persona) validate(field string) error {
	if err := text(field+".NombreRazon", p.NombreRazon, 1, 120); err != nil {
		return err
	}
	switch {
	case p.NIF != "" && p.IDOtro != nil:
		return fieldErr(field, "has both NIF and IDOtro")
	case p.NIF != "":
		return nif(field+".NIF", p.NIF)
	case p.IDOtro == nil:
		return fieldErr(field, "needs a NIF or an IDOtro")
	}
	o := p.IDOtro
	if !slices.Contains([]string{"02", "03", "04", "05", "06", "07"}, o.IDType) {
		return fieldErr(field+".IDOtro.IDType", "must be 02 to 07, is %q", o.IDType)
	}
	if o.CodigoPais == "" && o.IDType != "02" {
		return fieldErr(field+".IDOtro.CodigoPais", "is required unless IDType is 02 (AEAT 1111)")
	}
	if o.CodigoPais != "" && !slices.Contains(countries, o.CodigoPais) {
		return fieldErr(field+".IDOtro.CodigoPais", "%q is not a country code of the XSD", o.CodigoPais)
	}
	return text(field+".IDOtro.ID", o.ID, 1, 20)
}

// Validate checks the block as the XSD and the AEAT would, so an
// installation's settings (producer, installation number) are refused at
// startup rather than on the first invoice issued.
func (s SistemaInformatico) Validate() error { return s.validate() }

func (s SistemaInformatico) validate() error {
	const f = "SistemaInformatico"
	if err := text(f+".NombreRazon", s.NombreRazon, 1, 120); err != nil {
		return err
	}
	if err := nif(f+".NIF", s.NIF); err != nil {
		return err
	}
	if err := text(f+".NombreSistemaInformatico", s.NombreSistemaInformatico, 1, 30); err != nil {
		return err
	}
	if err := text(f+".IdSistemaInformatico", s.IdSistemaInformatico, 1, 2); err != nil {
		return err
	}
	if err := text(f+".Version", s.Version, 1, 50); err != nil {
		return err
	}
	return text(f+".NumeroInstalacion", s.NumeroInstalacion, 1, 100)
}

func (d Detalle) validate(field string) error {
	if !slices.Contains([]Impuesto{"", IVA, IPSI, IGIC, Otros}, d.Impuesto) {
		return fieldErr(field+".Impuesto", "must be 01, 02, 03 or 05, is %q", d.Impuesto)
	}
	regimes := []string{"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "14", "15", "17", "18", "19", "20", "21"}
	switch {
	case d.ClaveRegimen == "" && d.Impuesto != Otros:
		return fieldErr(field+".ClaveRegimen", "is required for IVA, IPSI and IGIC (AEAT 1245)")
	case d.ClaveRegimen != "" && !slices.Contains(regimes, d.ClaveRegimen):
		return fieldErr(field+".ClaveRegimen", "%q is not a regime key of the XSD", d.ClaveRegimen)
	case d.CalificacionOperacion != "" && d.OperacionExenta != "":
		return fieldErr(field, "has both CalificacionOperacion and OperacionExenta")
	case d.CalificacionOperacion == "" && d.OperacionExenta == "":
		return fieldErr(field, "needs CalificacionOperacion or OperacionExenta")
	case d.CalificacionOperacion != "" && !slices.Contains([]Calificacion{S1, S2, N1, N2}, d.CalificacionOperacion):
		return fieldErr(field+".CalificacionOperacion", "must be S1, S2, N1 or N2, is %q", d.CalificacionOperacion)
	case d.OperacionExenta != "" && !slices.Contains([]string{"E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"}, d.OperacionExenta):
		return fieldErr(field+".OperacionExenta", "must be E1 to E8, is %q", d.OperacionExenta)
	case d.ClaveRegimen == ClaveRegimenExportacion && d.Impuesto != IPSI && d.Impuesto != Otros && d.OperacionExenta == "":
		return fieldErr(field+".OperacionExenta", "is required with ClaveRegimen 02, export (AEAT 1286)")
	case !rateOK(d.TipoImpositivo):
		return fieldErr(field+".TipoImpositivo", "must be 0 to 999.99 with at most 2 decimals, is %s", d.TipoImpositivo)
	case !rateOK(d.TipoRecargoEquivalencia):
		return fieldErr(field+".TipoRecargoEquivalencia", "must be 0 to 999.99 with at most 2 decimals, is %s", d.TipoRecargoEquivalencia)
	case !d.writesTax() && (!d.TipoImpositivo.IsZero() || d.CuotaRepercutida != 0):
		return fieldErr(field, "only an S1 line carries TipoImpositivo and CuotaRepercutida (AEAT 1207, 1237, 1238)")
	case !d.writesTax() && (!d.TipoRecargoEquivalencia.IsZero() || d.CuotaRecargoEquivalencia != 0):
		return fieldErr(field, "only an S1 line carries the recargo de equivalencia (AEAT 1281)")
	case d.TipoRecargoEquivalencia.IsZero() && d.CuotaRecargoEquivalencia != 0:
		return fieldErr(field+".TipoRecargoEquivalencia", "is required with CuotaRecargoEquivalencia (AEAT 1284)")
	}
	if err := amount(field+".BaseImponibleOimporteNoSujeto", d.BaseImponibleOimporteNoSujeto); err != nil {
		return err
	}
	if err := amount(field+".CuotaRepercutida", d.CuotaRepercutida); err != nil {
		return err
	}
	return amount(field+".CuotaRecargoEquivalencia", d.CuotaRecargoEquivalencia)
}

// Validate refuses an alta the XSD or the AEAT's record rules would
// refuse (see FieldError). It does not judge the invoice itself (numbering,
// simplified-invoice limits of RD 1619/2012 art. 4, the 4-year limit of a
// rectificativa): that is the invoicing code's.
func (a *Alta) Validate() error {
	if err := a.IDFactura.validate("IDFactura"); err != nil {
		return err
	}
	if a.RefExterna != "" {
		if err := text("RefExterna", a.RefExterna, 1, 60); err != nil {
			return err
		}
	}
	if err := text("NombreRazonEmisor", a.NombreRazonEmisor, 1, 120); err != nil {
		return err
	}
	if a.Subsanacion != "" && a.Subsanacion != Si && a.Subsanacion != No {
		return fieldErr("Subsanacion", "must be S or N, is %q", a.Subsanacion)
	}
	switch a.RechazoPrevio {
	case "", RechazoPrevioNo:
	case RechazoPrevioSi, RechazoPrevioX:
		if a.Subsanacion != Si {
			return fieldErr("RechazoPrevio", "%s needs Subsanacion S (AEAT 1153, 1161)", a.RechazoPrevio)
		}
	default:
		return fieldErr("RechazoPrevio", "must be N, S or X, is %q (AEAT 1171)", a.RechazoPrevio)
	}
	t := a.TipoFactura
	if !t.valid() {
		return fieldErr("TipoFactura", "must be F1, F2, F3 or R1 to R5, is %q", t)
	}
	switch {
	case t.Rectificativa() && a.TipoRectificativa != PorSustitucion && a.TipoRectificativa != PorDiferencias:
		return fieldErr("TipoRectificativa", "a rectificativa must say S (sustitución) or I (diferencias) (AEAT 1114)")
	case !t.Rectificativa() && a.TipoRectificativa != "":
		return fieldErr("TipoRectificativa", "only a rectificativa has one")
	case !t.Rectificativa() && len(a.FacturasRectificadas) > 0:
		return fieldErr("FacturasRectificadas", "only a rectificativa corrects invoices (AEAT 1117)")
	case t != F3 && len(a.FacturasSustituidas) > 0:
		return fieldErr("FacturasSustituidas", "only an F3 replaces invoices (AEAT 1116)")
	case a.TipoRectificativa == PorSustitucion && a.ImporteRectificacion == nil:
		return fieldErr("ImporteRectificacion", "is required for a rectificativa por sustitución (AEAT 1118)")
	case a.TipoRectificativa != PorSustitucion && a.ImporteRectificacion != nil:
		return fieldErr("ImporteRectificacion", "is only for a rectificativa por sustitución (AEAT 1119)")
	case len(a.FacturasRectificadas) > 1000 || len(a.FacturasSustituidas) > 1000:
		return fieldErr("FacturasRectificadas", "at most 1000 invoices")
	}
	for i, id := range a.FacturasRectificadas {
		if err := id.validate(fmt.Sprintf("FacturasRectificadas[%d]", i)); err != nil {
			return err
		}
	}
	for i, id := range a.FacturasSustituidas {
		if err := id.validate(fmt.Sprintf("FacturasSustituidas[%d]", i)); err != nil {
			return err
		}
	}
	if r := a.ImporteRectificacion; r != nil {
		if err := amount("ImporteRectificacion.BaseRectificada", r.BaseRectificada); err != nil {
			return err
		}
		if err := amount("ImporteRectificacion.CuotaRectificada", r.CuotaRectificada); err != nil {
			return err
		}
		if r.CuotaRecargoRectificado != nil {
			if err := amount("ImporteRectificacion.CuotaRecargoRectificado", *r.CuotaRecargoRectificado); err != nil {
				return err
			}
		}
	}
	if !a.FechaOperacion.IsZero() && !dateOK(a.FechaOperacion) {
		return fieldErr("FechaOperacion", "cannot be written as DD-MM-AAAA")
	}
	if err := text("DescripcionOperacion", a.DescripcionOperacion, 1, 500); err != nil {
		return err
	}
	if a.FacturaSimplificadaArt7273 && (t == F2 || t == R5) {
		return fieldErr("FacturaSimplificadaArt7273", "only with F1, F3 or R1 to R4 (AEAT 1183)")
	}
	switch {
	case t.needsRecipients() && len(a.Destinatarios) == 0:
		return fieldErr("Destinatarios", "%s must name the recipient (AEAT 1189)", t)
	case !t.needsRecipients() && len(a.Destinatarios) > 0:
		return fieldErr("Destinatarios", "%s must not name a recipient (AEAT 1190)", t)
	case len(a.Destinatarios) > 1000:
		return fieldErr("Destinatarios", "at most 1000 recipients")
	}
	for i, p := range a.Destinatarios {
		field := fmt.Sprintf("Destinatarios[%d]", i)
		if err := p.validate(field); err != nil {
			return err
		}
		if p.NIF == a.IDFactura.IDEmisorFactura {
			return fieldErr(field+".NIF", "is the issuer's own NIF (AEAT 1193)")
		}
		if !t.AllowsRecipient(p) {
			return fieldErr(field+".IDOtro.IDType", "%s names its recipient by NIF or by IDType %s, is %s (AEAT %s)",
				t, map[TipoFactura]string{R2: "02 or 07", R3: "07"}[t], p.IDOtro.IDType, map[TipoFactura]string{R2: "1192", R3: "1191"}[t])
		}
	}
	if len(a.Desglose) < 1 || len(a.Desglose) > 12 {
		return fieldErr("Desglose", "must have 1 to 12 lines, has %d", len(a.Desglose))
	}
	for i, d := range a.Desglose {
		if err := d.validate(fmt.Sprintf("Desglose[%d]", i)); err != nil {
			return err
		}
	}
	if err := amount("CuotaTotal", a.CuotaTotal); err != nil {
		return err
	}
	if err := amount("ImporteTotal", a.ImporteTotal); err != nil {
		return err
	}
	cuota, total := Totals(a.Desglose)
	if a.CuotaTotal != cuota {
		return fieldErr("CuotaTotal", "is %s, the Desglose gives %s (AEAT 1216)", Amount(a.CuotaTotal), Amount(cuota))
	}
	if a.ImporteTotal != total {
		return fieldErr("ImporteTotal", "is %s, the Desglose gives %s (AEAT 1210)", Amount(a.ImporteTotal), Amount(total))
	}
	return a.SistemaInformatico.validate()
}

// macrodato: the AEAT wants Macrodato = S exactly when |ImporteTotal| ≥
// 100 000 000 € (errors 1138, 1139).
func (a *Alta) macrodato() bool {
	const limit = 100_000_000_00
	return a.ImporteTotal >= limit || a.ImporteTotal <= -limit
}

// Validate refuses an anulación the XSD or the AEAT would refuse.
func (a *Anulacion) Validate() error {
	if err := a.IDFactura.validate("IDFactura"); err != nil {
		return err
	}
	if a.RefExterna != "" {
		if err := text("RefExterna", a.RefExterna, 1, 60); err != nil {
			return err
		}
	}
	if a.SinRegistroPrevio != "" && a.SinRegistroPrevio != Si && a.SinRegistroPrevio != No {
		return fieldErr("SinRegistroPrevio", "must be S or N, is %q", a.SinRegistroPrevio)
	}
	if a.RechazoPrevio != "" && a.RechazoPrevio != RechazoPrevioSi && a.RechazoPrevio != RechazoPrevioNo {
		return fieldErr("RechazoPrevio", "an anulación admits S or N, is %q", a.RechazoPrevio)
	}
	return a.SistemaInformatico.validate()
}
