package verifactu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"pulso/app/apptest/conformance"
	"strings"
	"testing"
	"time"
)

type vectors struct {
	Huella []struct {
		ID     string            `json:"id"`
		Record string            `json:"record"`
		Fields map[string]string `json:"fields"`
		Input  string            `json:"input"`
		Huella string            `json:"huella"`
	} `json:"huella"`
	QR []struct {
		ID          string `json:"id"`
		Environment string `json:"environment"`
		System      string `json:"system"`
		NIF         string `json:"nif"`
		NumSerie    string `json:"numserie"`
		Fecha       string `json:"fecha"`
		Importe     string `json:"importe"`
		URL         string `json:"url"`
	} `json:"qr"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	var v vectors
	if err := json.Unmarshal(conformance.Read(t, "verifactu/test-vectors.json"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Huella) != 10 || len(v.QR) != 4 {
		t.Fatalf("test-vectors.json has %d huella and %d QR vectors, want 10 and 4", len(v.Huella), len(v.QR))
	}
	return v
}

// Every huella vector: the string built from the fields is the vector's
// input (so its SHA-256 is the vector's huella), and HuellaAlta /
// HuellaAnulacion give that huella.
func TestHuellaVectors(t *testing.T) {
	for _, v := range loadVectors(t).Huella {
		t.Run(v.ID, func(t *testing.T) {
			f := v.Fields
			var input, got string
			switch v.Record {
			case "RegistroAlta":
				input = huellaInput("IDEmisorFactura", f["IDEmisorFactura"], "NumSerieFactura", f["NumSerieFactura"],
					"FechaExpedicionFactura", f["FechaExpedicionFactura"], "TipoFactura", f["TipoFactura"],
					"CuotaTotal", f["CuotaTotal"], "ImporteTotal", f["ImporteTotal"], "Huella", f["Huella"],
					"FechaHoraHusoGenRegistro", f["FechaHoraHusoGenRegistro"])
				got = HuellaAlta(f["IDEmisorFactura"], f["NumSerieFactura"], f["FechaExpedicionFactura"], f["TipoFactura"],
					f["CuotaTotal"], f["ImporteTotal"], f["Huella"], f["FechaHoraHusoGenRegistro"])
			case "RegistroAnulacion":
				input = huellaInput("IDEmisorFacturaAnulada", f["IDEmisorFacturaAnulada"], "NumSerieFacturaAnulada", f["NumSerieFacturaAnulada"],
					"FechaExpedicionFacturaAnulada", f["FechaExpedicionFacturaAnulada"], "Huella", f["Huella"],
					"FechaHoraHusoGenRegistro", f["FechaHoraHusoGenRegistro"])
				got = HuellaAnulacion(f["IDEmisorFacturaAnulada"], f["NumSerieFacturaAnulada"], f["FechaExpedicionFacturaAnulada"],
					f["Huella"], f["FechaHoraHusoGenRegistro"])
			default:
				t.Fatalf("record %q", v.Record)
			}
			if input != v.Input {
				t.Errorf("input\n got %s\nwant %s", input, v.Input)
			}
			sum := sha256.Sum256([]byte(v.Input))
			if want := strings.ToUpper(hex.EncodeToString(sum[:])); want != v.Huella {
				t.Fatalf("the vector itself is inconsistent: sha256(input) = %s, huella = %s", want, v.Huella)
			}
			if got != v.Huella {
				t.Errorf("huella %s, want %s", got, v.Huella)
			}
		})
	}
}

// The AEAT's own chain (aeat-1 → aeat-2 → aeat-3), built as the invoicing
// code builds records (cents, dates, a time with its zone) and sealed:
// each huella is the AEAT's, and each record names the one before it.
func TestSealAEATChain(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	sis := sampleSistema("Empresa de prueba, S.L.", "89890001K")
	alta := func(num string) *Alta {
		// 12.35 of IVA on a base of 111.10: CuotaTotal 12.35, ImporteTotal 123.45.
		a := &Alta{
			IDFactura: IDFactura{"89890001K", num, date("01-01-2024")}, NombreRazonEmisor: "Empresa de prueba, S.L.",
			TipoFactura: F1, DescripcionOperacion: "Prueba", Destinatarios: []Persona{{NombreRazon: "Cliente", NIF: "A58818501"}},
			Desglose: []Detalle{s1("11.12", 11110, 1235)}, SistemaInformatico: sis,
		}
		a.CuotaTotal, a.ImporteTotal = Totals(a.Desglose)
		return a
	}
	first := alta("12345678/G33")
	if err := first.Seal(nil, time.Date(2024, 1, 1, 19, 20, 30, 0, cet)); err != nil {
		t.Fatal(err)
	}
	if first.Huella != "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60" {
		t.Fatalf("aeat-1 huella %s", first.Huella)
	}
	if first.Encadenamiento != nil {
		t.Fatal("the first record names a previous one")
	}
	prev := first.Link()
	second := alta("12345679/G34")
	if err := second.Seal(&prev, time.Date(2024, 1, 1, 19, 20, 35, 0, cet)); err != nil {
		t.Fatal(err)
	}
	if second.Huella != "F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97" {
		t.Fatalf("aeat-2 huella %s", second.Huella)
	}
	if *second.Encadenamiento != (Link{"89890001K", "12345678/G33", "01-01-2024", first.Huella}) {
		t.Fatalf("aeat-2 names %+v", second.Encadenamiento)
	}
	prev = second.Link()
	void := &Anulacion{IDFactura: IDFactura{"89890001K", "12345679/G34", date("01-01-2024")}, SistemaInformatico: sis}
	if err := void.Seal(&prev, time.Date(2024, 1, 1, 19, 20, 40, 0, cet)); err != nil {
		t.Fatal(err)
	}
	if void.Huella != "177547C0D57AC74748561D054A9CEC14B4C4EA23D1BEFD6F2E69E3A388F90C68" {
		t.Fatalf("aeat-3 huella %s", void.Huella)
	}

	// Written, read back and verified as a chain.
	var stored []Stored
	for _, r := range []Record{first, second, void} {
		b, err := MarshalRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		mustValidate(t, schemaRecord, b)
		s, err := ParseRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, s)
	}
	if err := VerifyChain(stored, nil); err != nil {
		t.Fatal(err)
	}
}

// Three records of one issuer chained by Seal: each names the previous
// one's invoice and huella; the chain verifies from the XML; a changed
// amount, a dropped record or a record moved to the front is reported at
// the first record that no longer holds.
func TestChainOfThree(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, madrid)
	var recs []*Alta
	var prev *Link
	for i, num := range []string{"F2026-0001", "F2026-0002", "F2026-0003"} {
		a := ordinaria(num)
		if err := a.Seal(prev, now.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if i == 0 && a.Encadenamiento != nil || i > 0 && *a.Encadenamiento != *prev {
			t.Fatalf("record %d names %+v, want %+v", i, a.Encadenamiento, prev)
		}
		if i > 0 && a.Encadenamiento.Huella != recs[i-1].Huella {
			t.Fatalf("record %d does not carry the previous huella", i)
		}
		l := a.Link()
		prev = &l
		recs = append(recs, a)
	}
	if recs[0].Huella == recs[1].Huella || recs[1].Huella == recs[2].Huella {
		t.Fatal("two records share a huella")
	}
	if got := recs[1].FechaHoraHusoGenRegistro; got != "2026-03-15T09:01:00+01:00" {
		t.Fatalf("generation time %s", got)
	}
	var xmls [][]byte
	var stored []Stored
	for _, a := range recs {
		b, err := MarshalRecord(a)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		xmls, stored = append(xmls, b), append(stored, s)
	}
	if err := VerifyChain(stored, nil); err != nil {
		t.Fatal(err)
	}
	// A continuation: the last two, given the first one's link.
	first := stored[0].Link()
	if err := VerifyChain(stored[1:], &first); err != nil {
		t.Fatal(err)
	}

	tampered, err := ParseRecord([]byte(strings.Replace(string(xmls[1]), "<sum1:ImporteTotal>1265.55<", "<sum1:ImporteTotal>1265.56<", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if tampered.ImporteTotal != "1265.56" {
		t.Fatalf("tampering did not happen: %s", tampered.ImporteTotal)
	}
	cases := []struct {
		name    string
		chain   []Stored
		index   int
		code    string
		contain string
	}{
		{"changed amount", []Stored{stored[0], tampered, stored[2]}, 1, BrokenHuella, "not what its fields give"},
		{"dropped record", []Stored{stored[0], stored[2]}, 1, BrokenLink, "names F2026-0002"},
		{"not the first", []Stored{stored[1], stored[2]}, 0, BrokenFirst, "names a previous one"},
		{"first in the middle", []Stored{stored[0], stored[1], stored[0]}, 2, BrokenNotFirst, "says it is the first"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyChain(c.chain, nil)
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *ChainError", err)
			}
			if ce.Index != c.index || ce.Code != c.code || !strings.Contains(ce.Reason, c.contain) {
				t.Fatalf("got %+v, want index %d, code %s and %q", ce, c.index, c.code, c.contain)
			}
		})
	}
}

// Seal refuses to chain to another issuer's record or to a malformed
// link, and refuses an invalid record before it is stamped.
func TestSealRefuses(t *testing.T) {
	a := ordinaria("F2026-0001")
	if err := a.Seal(nil, sealAt); err != nil {
		t.Fatal(err)
	}
	good := a.Link()
	bad := []Link{
		{"B00000000", good.NumSerieFactura, good.FechaExpedicionFactura, good.Huella},
		{good.IDEmisorFactura, good.NumSerieFactura, good.FechaExpedicionFactura, strings.ToLower(good.Huella)},
		{good.IDEmisorFactura, good.NumSerieFactura, good.FechaExpedicionFactura, good.Huella[:63]},
		{good.IDEmisorFactura, "", good.FechaExpedicionFactura, good.Huella},
		{good.IDEmisorFactura, good.NumSerieFactura, "2026-03-15", good.Huella},
	}
	for i, l := range bad {
		b := ordinaria("F2026-0002")
		if err := b.Seal(&l, sealAt); !errors.Is(err, ErrChain) {
			t.Errorf("link %d %+v: got %v, want ErrChain", i, l, err)
		}
		if b.Huella != "" {
			t.Errorf("link %d: a refused record got a huella", i)
		}
	}
	// Issue dates the AEAT refuses: after the generation day, in the
	// issuer's zone, or more than 20 years before it.
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	for when, ok := range map[time.Time]bool{
		time.Date(2026, 3, 15, 0, 0, 1, 0, madrid):     true, // its own day, just after midnight
		time.Date(2026, 3, 14, 23, 59, 59, 0, madrid):  false,
		time.Date(2026, 3, 14, 23, 30, 0, 0, time.UTC): true, // 00:30 on the 15th in Madrid, given in Madrid's zone below
		time.Date(2046, 3, 15, 9, 0, 0, 0, madrid):     true,
		time.Date(2046, 3, 16, 9, 0, 0, 0, madrid):     false,
	} {
		if when.Location() == time.UTC {
			when = when.In(madrid)
		}
		d := ordinaria("F2026-0002") // issued 15-03-2026
		err := d.Seal(nil, when)
		var fe *FieldError
		if ok && err != nil || !ok && (!errors.As(err, &fe) || fe.Field != "IDFactura.FechaExpedicionFactura") {
			t.Errorf("sealed at %v: %v", when, err)
		}
	}

	b := ordinaria("F2026-0002")
	b.CuotaTotal++
	var fe *FieldError
	if err := b.Seal(&good, sealAt); !errors.As(err, &fe) || fe.Field != "CuotaTotal" {
		t.Fatalf("got %v, want a CuotaTotal FieldError", err)
	}
}

// Amounts are written with exactly two decimals, and the huella hashes
// that text: the josemmo F2 vector (2.10 / 12.10) comes out of cents, its
// one-decimal trap does not.
func TestAmountsTwoDecimals(t *testing.T) {
	for cents, want := range map[int64]string{0: "0.00", 5: "0.05", 210: "2.10", 1210: "12.10", -50: "-0.50", -12345: "-123.45", 99_999_999_999_999: "999999999999.99"} {
		if got := Amount(cents); got != want {
			t.Errorf("Amount(%d) = %s, want %s", cents, got, want)
		}
	}
	for r, want := range map[string]string{"21": "21.00", "5.2": "5.20", "1.75": "1.75", "0": "0.00", "0.5": "0.50"} {
		if got := Rate(dec(r)); got != want {
			t.Errorf("Rate(%s) = %s, want %s", r, got, want)
		}
	}
	a := &Alta{
		IDFactura: IDFactura{"A00000000", "PRUEBA-0001", date("01-06-2025")}, NombreRazonEmisor: "Perico de los Palotes, S.A.",
		TipoFactura: F2, DescripcionOperacion: "Factura simplificada de prueba",
		Desglose:           []Detalle{s1("21", 1000, 210)},
		SistemaInformatico: sampleSistema("Perico de los Palotes, S.A.", "A00000000"),
	}
	a.CuotaTotal, a.ImporteTotal = Totals(a.Desglose)
	if err := a.Seal(nil, at("2025-06-01T10:20:30+02:00")); err != nil {
		t.Fatal(err)
	}
	if a.Huella != "F223F0A84F7D0C701C13C97CF10A1628FF9E46A003DDAEF3A804FBD799D82070" {
		t.Fatalf("huella %s, want josemmo-alta-f2-first's", a.Huella)
	}
	if a.Huella == "2F84D93E3EA0043DE8642B9A6F027071D7D7CDCFD29502872176BF3D99BB9009" {
		t.Fatal("amounts were hashed with one decimal")
	}
}

func TestTimestamp(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]time.Time{
		"2024-01-01T19:20:30+01:00": time.Date(2024, 1, 1, 19, 20, 30, 999_999_999, madrid),
		"2025-06-02T11:22:33+02:00": time.Date(2025, 6, 2, 11, 22, 33, 0, madrid),
		"2025-06-02T09:22:33+00:00": time.Date(2025, 6, 2, 9, 22, 33, 0, time.UTC),
		"2025-06-02T04:22:33-05:00": time.Date(2025, 6, 2, 9, 22, 33, 0, time.UTC).In(time.FixedZone("", -5*3600)),
	}
	for want, tm := range cases {
		if got := Timestamp(tm); got != want {
			t.Errorf("Timestamp(%v) = %s, want %s", tm, got, want)
		}
	}
	if got := Date(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); got != "01-01-2024" {
		t.Errorf("Date = %s", got)
	}
}
