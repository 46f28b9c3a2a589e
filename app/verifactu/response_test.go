package verifactu

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The answers in testdata/responses were written from
// RespuestaSuministro.xsd (no AEAT sample was available); each validates
// against it, so the parser is tested on answers the schema allows.
func TestResponsesValidate(t *testing.T) {
	for _, f := range []string{"correcto.xml", "parcial.xml", "incorrecto.xml"} {
		t.Run(f, func(t *testing.T) {
			doc := readFile(t, "testdata/responses/"+f)
			mustValidate(t, schemaResponse, element(t, doc, NamespaceRespuestaSuministro, "RespuestaRegFactuSistemaFacturacion"))
		})
	}
}

func TestParseResponseCorrecto(t *testing.T) {
	r, err := ParseResponse(readFile(t, "testdata/responses/correcto.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if r.EstadoEnvio != EnvioCorrecto || r.CSV != "A-7KQ2ZP9XW3LM8N" || r.TiempoEsperaEnvio != 60*time.Second {
		t.Fatalf("got %+v", r)
	}
	if r.NIFPresentador != "B76543214" || r.TimestampPresentacion != "2026-03-15T09:05:12+01:00" {
		t.Fatalf("presentación %q %q", r.NIFPresentador, r.TimestampPresentacion)
	}
	if r.Cabecera.ObligadoEmision != (PersonaES{"Demo Ventas, S.L.", "B76543214"}) || r.Cabecera.Representante != nil {
		t.Fatalf("cabecera %+v", r.Cabecera)
	}
	if len(r.Lines) != 2 || r.Lines[0].TipoOperacion != KindAlta || r.Lines[1].TipoOperacion != KindAnulacion {
		t.Fatalf("lines %+v", r.Lines)
	}
	for _, l := range r.Lines {
		if l.EstadoRegistro != Correcto || l.CodigoErrorRegistro != 0 || !l.Accepted() {
			t.Errorf("line %+v", l)
		}
	}
}

// One answer with each outcome a record can have; each line is found
// from the record that was sent.
func TestParseResponseParcial(t *testing.T) {
	r, err := ParseResponse(readFile(t, "testdata/responses/parcial.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if r.EstadoEnvio != EnvioParcialmenteCorrecto || r.TiempoEsperaEnvio != 2*time.Minute {
		t.Fatalf("envío %s, wait %s", r.EstadoEnvio, r.TiempoEsperaEnvio)
	}
	// The records as sent: a chain of four altas.
	var sent []Stored
	var prev *Link
	for _, num := range []string{"F2026-0001", "F2026-0002", "F2026-0003", "F2026-0004"} {
		a := ordinaria(num)
		if err := a.Seal(prev, sealAt); err != nil {
			t.Fatal(err)
		}
		b, err := MarshalRecord(a)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		l := a.Link()
		prev, sent = &l, append(sent, s)
	}
	want := []struct {
		estado   EstadoRegistro
		code     int
		accepted bool
		class    ErrorClass
	}{
		{Correcto, 0, true, ClassUnknown},
		{AceptadoConErrores, 2000, true, ClassAcceptedWithErrors},
		{Incorrecto, 1189, false, ClassRecord},
		{Incorrecto, CodeDuplicate, true, ClassRecord},
	}
	for i, s := range sent {
		l := r.Line(s)
		if l == nil {
			t.Fatalf("no line for %s", s.ID.NumSerieFactura)
		}
		w := want[i]
		if l.EstadoRegistro != w.estado || l.CodigoErrorRegistro != w.code || l.Accepted() != w.accepted || ClassOf(l.CodigoErrorRegistro) != w.class {
			t.Errorf("%s: got %s %d accepted=%v class=%v", s.ID.NumSerieFactura, l.EstadoRegistro, l.CodigoErrorRegistro, l.Accepted(), ClassOf(l.CodigoErrorRegistro))
		}
		if w.code != 0 {
			official, ok := ErrorText(w.code)
			if !ok || l.DescripcionErrorRegistro != official {
				t.Errorf("%s: description %q, official text %q", s.ID.NumSerieFactura, l.DescripcionErrorRegistro, official)
			}
		}
	}
	rejected := r.Line(sent[2])
	if rejected.Subsanacion != "S" || rejected.RechazoPrevio != "S" {
		t.Errorf("operación of the resubmission: %+v", rejected)
	}
	dup := r.Line(sent[3]).Duplicado
	if dup == nil || dup.IdPeticionRegistroDuplicado != "202603150900001234" || dup.EstadoRegistroDuplicado != "Correcta" {
		t.Errorf("duplicate %+v", dup)
	}
	if r.Line(Stored{Kind: KindAnulacion, ID: sent[0].ID}) != nil {
		t.Error("an anulación of F2026-0001 matched the alta's line")
	}
}

func TestParseResponseIncorrecto(t *testing.T) {
	r, err := ParseResponse(readFile(t, "testdata/responses/incorrecto.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if r.EstadoEnvio != EnvioIncorrecto || r.CSV != "" || r.TiempoEsperaEnvio != time.Hour {
		t.Fatalf("got %+v", r)
	}
	if len(r.Lines) != 1 || r.Lines[0].Accepted() || r.Lines[0].CodigoErrorRegistro != 1105 {
		t.Fatalf("lines %+v", r.Lines)
	}
}

// A SOAP fault refuses the whole request: it comes back as a *Fault with
// the AEAT code, and that code's class says so.
func TestParseResponseFault(t *testing.T) {
	_, err := ParseResponse(readFile(t, "testdata/responses/fault.xml"))
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("got %v, want a *Fault", err)
	}
	if f.Code != 4102 || f.FaultCode != "env:Client" || !strings.Contains(f.FaultString, "TipoFactura") {
		t.Fatalf("fault %+v", f)
	}
	if ClassOf(f.Code) != ClassSubmission {
		t.Fatalf("4102 is of class %v", ClassOf(f.Code))
	}
	noCode, err := ParseResponse([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Internal error</faultstring></s:Fault></s:Body></s:Envelope>`))
	if noCode != nil || !errors.As(err, &f) || f.Code != 0 || f.FaultString != "Internal error" {
		t.Fatalf("fault without a code: %v", err)
	}
}

// Answers that are not what the service sends are errors, never a
// Response with made-up states: an HTML error page from a proxy, another
// element, values outside the XSD's enumerations.
func TestParseResponseRefuses(t *testing.T) {
	good := string(readFile(t, "testdata/responses/correcto.xml"))
	bad := map[string]string{
		"html page":       "<html><body>502 Bad Gateway</body></html>",
		"empty":           "",
		"truncated":       good[:len(good)/2],
		"other element":   strings.ReplaceAll(good, "RespuestaRegFactuSistemaFacturacion", "RespuestaConsultaFactuSistemaFacturacion"),
		"other namespace": strings.Replace(good, NamespaceRespuestaSuministro, "urn:other", 1),
		"estado envío":    strings.Replace(good, "<tikR:EstadoEnvio>Correcto<", "<tikR:EstadoEnvio>Bien<", 1),
		"estado registro": strings.Replace(good, "<tikR:EstadoRegistro>Correcto<", "<tikR:EstadoRegistro>OK<", 1),
		"operación":       strings.Replace(good, "<tik:TipoOperacion>Alta<", "<tik:TipoOperacion>Baja<", 1),
		"wait":            strings.Replace(good, "<tikR:TiempoEsperaEnvio>60<", "<tikR:TiempoEsperaEnvio>soon<", 1),
		"wait too long":   strings.Replace(good, "<tikR:TiempoEsperaEnvio>60<", "<tikR:TiempoEsperaEnvio>99999<", 1),
		"code":            strings.Replace(good, "<tikR:EstadoRegistro>Correcto</tikR:EstadoRegistro>", "<tikR:EstadoRegistro>Incorrecto</tikR:EstadoRegistro><tikR:CodigoErrorRegistro>x1</tikR:CodigoErrorRegistro>", 1),
	}
	for name, doc := range bad {
		if r, err := ParseResponse([]byte(doc)); err == nil {
			t.Errorf("%s: parsed as %+v", name, r)
		} else if _, isFault := err.(*Fault); isFault || !errors.Is(err, ErrResponse) {
			t.Errorf("%s: got %v, want ErrResponse", name, err)
		}
	}
}

// The AEAT's list of codes is read with its sections and its letters.
func TestErrorCatalog(t *testing.T) {
	cases := []struct {
		code  int
		class ErrorClass
		text  string
	}{
		{4102, ClassSubmission, "El XML no cumple el esquema. Falta informar campo obligatorio."},
		{3501, ClassSubmission, "Error técnico de base de datos."},
		{1189, ClassRecord, "Si TipoFactura es F1 o F3 o R1 o R2 o R3 o R4 el bloque Destinatarios tiene que estar cumplimentado."},
		{3000, ClassRecord, "Registro de facturación duplicado."},
		{1214, ClassRecord, "El campo NumeroOTAlta debe ser númerico positivo de 4 posiciones."},
		{2000, ClassAcceptedWithErrors, "El cálculo de la huella suministrada es incorrecta."},
		{2007, ClassAcceptedWithErrors, "No debe informarse como primer registro, existen facturas emitidas con el obligado emisión y el sistema informático actual."},
	}
	for _, c := range cases {
		text, ok := ErrorText(c.code)
		if !ok || text != c.text || ClassOf(c.code) != c.class {
			t.Errorf("%d: %q %v class %v", c.code, text, ok, ClassOf(c.code))
		}
	}
	if _, ok := ErrorText(9999); ok || ClassOf(9999) != ClassUnknown {
		t.Error("9999 is not an AEAT code")
	}
	n := len(errorCatalog())
	if n < 240 {
		t.Fatalf("%d codes read from errores.properties", n)
	}
	for code, e := range errorCatalog() {
		if e.class == ClassUnknown || e.text == "" || strings.ContainsRune(e.text, '\uFFFD') || strings.Contains(e.text, "Ã") {
			t.Errorf("%d: %v %q", code, e.class, e.text)
		}
	}
}
