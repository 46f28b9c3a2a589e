package verifactu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"os"
	"pulso/app/apptest/conformance"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// The schemas the tests validate against are the official AEAT files of
// the project's conformance set (pulso/app/apptest/conformance; sources in
// its SOURCES.md); its catalog maps the xmldsig import to the set's copy
// so that xmllint works offline (--nonet; conformance.XMLLint).
const (
	schemaRequest  = "verifactu/xsd/SuministroLR.xsd"
	schemaRecord   = "verifactu/xsd/SuministroInformacion.xsd"
	schemaResponse = "verifactu/xsd/RespuestaSuministro.xsd"
	schemaSOAP     = "verifactu/local/soap11-envelope-driver-NOT-OFFICIAL.xsd"
)

// xmllint and mustValidate are conformance.XMLLint and MustValidate.
func xmllint(t *testing.T, schema string, doc []byte) string {
	t.Helper()
	return conformance.XMLLint(t, schema, doc)
}

func mustValidate(t *testing.T, schema string, doc []byte) {
	t.Helper()
	conformance.MustValidate(t, schema, doc)
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func date(s string) time.Time {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// sistema is the SistemaInformatico of the AEAT samples (Test SIF).
func sampleSistema(name, nif string) SistemaInformatico {
	return SistemaInformatico{
		NombreRazon: name, NIF: nif, NombreSistemaInformatico: "Test SIF", IdSistemaInformatico: "TS",
		Version: "0.0.1", NumeroInstalacion: "01234", TipoUsoPosibleSoloVerifactu: true,
	}
}

// pulsoSistema is Pulso's block as the invoicing code will build it.
var pulsoSistema = Pulso("Pulso Software, S.L.", "B12345674", "v1.4.0-3-gabcdef0", "prod-01", true)

// s1 is a general-regime IVA line.
func s1(rate string, base, cuota int64) Detalle {
	return Detalle{Impuesto: IVA, ClaveRegimen: ClaveRegimenGeneral, CalificacionOperacion: S1,
		TipoImpositivo: dec(rate), BaseImponibleOimporteNoSujeto: base, CuotaRepercutida: cuota}
}

// ordinaria is a valid F1 alta of issuer B76543214 with two VAT rates.
func ordinaria(num string) *Alta {
	a := &Alta{
		IDFactura:            IDFactura{"B76543214", num, date("15-03-2026")},
		NombreRazonEmisor:    "Demo Ventas, S.L.",
		TipoFactura:          F1,
		DescripcionOperacion: "Venta de material de oficina",
		Destinatarios:        []Persona{{NombreRazon: "Cliente Uno, S.A.", NIF: "A58818501"}},
		Desglose:             []Detalle{s1("21", 100000, 21000), s1("10", 5050, 505)},
		SistemaInformatico:   pulsoSistema,
	}
	a.CuotaTotal, a.ImporteTotal = Totals(a.Desglose)
	return a
}

var (
	reDecl     = regexp.MustCompile(`<\?xml[^>]*\?>`)
	reComment  = regexp.MustCompile(`(?s)<!--.*?-->`)
	reBetween  = regexp.MustCompile(`>\s+<`)
	reRedeclNS = regexp.MustCompile(` xmlns:sum1="[^"]*"`)
)

// normalize strips what does not change an XML document's meaning for the
// comparison with the samples: the declaration, comments, white space
// between elements, and sum1's repeated namespace declarations (the
// samples' records redeclare it, as MarshalRecord's do).
func normalize(b []byte) string {
	s := reDecl.ReplaceAllString(string(b), "")
	s = reComment.ReplaceAllString(s, "")
	s = reBetween.ReplaceAllString(strings.TrimSpace(s), "><")
	return reRedeclNS.ReplaceAllString(s, "")
}

// element returns the bytes of the first element named local in ns, for
// validating a response's body against its own schema (its namespaces are
// declared on it in the test files).
func element(t *testing.T, doc []byte, ns, local string) []byte {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("no {%s}%s: %v", ns, local, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == ns && se.Name.Local == local {
			if err := d.Skip(); err != nil {
				t.Fatal(err)
			}
			return doc[start:d.InputOffset()]
		}
	}
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// sealAt is when the tests' records of 15-03-2026 are made: a fixed time,
// so that no test depends on today's date.
var sealAt = at("2026-03-15T10:00:00+01:00")

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func parseRate(s string) (decimal.Decimal, error) { return decimal.NewFromString(s) }
