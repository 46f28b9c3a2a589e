package verifactu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
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
// so that xmllint works offline (--nonet).
const (
	schemaRequest  = "verifactu/xsd/SuministroLR.xsd"
	schemaRecord   = "verifactu/xsd/SuministroInformacion.xsd"
	schemaResponse = "verifactu/xsd/RespuestaSuministro.xsd"
	schemaSOAP     = "verifactu/local/soap11-envelope-driver-NOT-OFFICIAL.xsd"
)

// xmllint validates doc against schema and returns xmllint's complaint, or
// "" when the document is valid. Without xmllint the test fails: a skipped
// validation would pass without checking anything (CI installs
// libxml2-utils).
func xmllint(t *testing.T, schema string, doc []byte) string {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint is not installed, so the XML cannot be validated against the AEAT schemas: install it (Debian: apt-get install libxml2-utils)")
	}
	catalog := conformance.Path(t, "verifactu/catalog.xml")
	schemaPath := conformance.Path(t, schema)
	f := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--nonet", "--noout", "--schema", schemaPath, f)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+catalog)
	out, err := cmd.CombinedOutput()
	if err == nil {
		if !strings.Contains(string(out), "validates") {
			t.Fatalf("xmllint exited 0 without saying the document validates: %s", out)
		}
		return ""
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("running xmllint: %v", err)
	}
	if len(out) == 0 {
		return err.Error()
	}
	return string(out)
}

func mustValidate(t *testing.T, schema string, doc []byte) {
	t.Helper()
	if msg := xmllint(t, schema, doc); msg != "" {
		t.Fatalf("does not validate against %s:\n%s\n--- document:\n%s", schema, msg, doc)
	}
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
