package verifactu

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"pulso/app/apptest/conformance"
	"slices"
	"strings"
	"testing"
	"time"
)

var placeholderHuella = strings.Repeat("A", 64)

// The three official-sample messages, rebuilt from their data: the request
// Pulso writes equals the sample apart from white space, comments and
// repeated namespace declarations, and its huella is the sample's.
func TestSamplesRebuilt(t *testing.T) {
	f1 := &Alta{
		IDFactura:            IDFactura{"00000000B", "PRUEBA-0002", date("02-06-2025")},
		NombreRazonEmisor:    "El Nombre del Emisor, S.L.",
		Subsanacion:          No,
		TipoFactura:          F1,
		FechaOperacion:       date("15-05-2025"),
		DescripcionOperacion: "Factura de prueba",
		Destinatarios: []Persona{
			{NombreRazon: "El Destinatario, S.L.", NIF: "11111111B"},
			{NombreRazon: "Louise Dubois", IDOtro: &IDOtro{CodigoPais: "FR", IDType: "02", ID: "FR52422961982"}},
		},
		Desglose:           []Detalle{s1("21", 10000, 2100), s1("10", 5000, 500)},
		SistemaInformatico: sampleSistema("El Nombre del Emisor, S.L.", "00000000B"),
	}
	f1.CuotaTotal, f1.ImporteTotal = Totals(f1.Desglose)
	f2 := &Alta{
		IDFactura:            IDFactura{"A00000000", "PRUEBA-0002", date("02-06-2025")},
		NombreRazonEmisor:    "Perico de los Palotes, S.A.",
		Subsanacion:          No,
		TipoFactura:          F2,
		FechaOperacion:       date("15-05-2025"),
		DescripcionOperacion: "Factura simplificada de prueba",
		Desglose:             []Detalle{s1("21", 10000, 2100)},
		SistemaInformatico:   sampleSistema("Perico de los Palotes, S.A.", "A00000000"),
	}
	f2.CuotaTotal, f2.ImporteTotal = Totals(f2.Desglose)
	void := &Anulacion{
		IDFactura:          IDFactura{"A00000000", "12345679/G34", date("01-01-2024")},
		RechazoPrevio:      RechazoPrevioSi,
		SistemaInformatico: sampleSistema("Perico de los Palotes, S.A.", "A00000000"),
	}

	cases := []struct {
		sample, record string
		rec            interface {
			Record
			Seal(*Link, time.Time) error
		}
		prev   Link
		at     string
		cab    PersonaES
		huella string
	}{
		{"regfactu-alta-f1.xml", "josemmo-registration-record-f1.xml", f1,
			Link{"00000000B", "PRUEBA-001", "01-06-2025", placeholderHuella}, "2025-06-02T11:22:33+02:00",
			PersonaES{"El Nombre del Emisor, S.L.", "00000000B"}, "8B042C064EE8260DE86766B4C4878DD1347377D00C7D7C97043E126B1215F2A6"},
		{"regfactu-alta-f2.xml", "josemmo-registration-record-f2.xml", f2,
			Link{"A00000000", "PRUEBA-001", "01-06-2025", placeholderHuella}, "2025-06-02T20:30:40+02:00",
			PersonaES{"Perico de los Palotes, S.A.", "A00000000"}, "4566062C5A5D7DA4E0E876C0994071CD807962629F8D3C1F33B91EDAA65B2BA1"},
		{"regfactu-anulacion.xml", "josemmo-cancellation-record.xml", void,
			Link{"A00000000", "12345679/G34", "01-01-2024", "F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97"}, "2024-01-01T19:20:40+01:00",
			PersonaES{"Perico de los Palotes, S.A.", "A00000000"}, "5DCAFD630E24AA03BCE2D3E6F595BAE802555F4604AF830F0340F3338B4935F6"},
	}
	for _, c := range cases {
		t.Run(c.sample, func(t *testing.T) {
			if err := c.rec.Seal(&c.prev, at(c.at)); err != nil {
				t.Fatal(err)
			}
			rec, err := MarshalRecord(c.rec)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.rec.Link().Huella; got != c.huella {
				t.Fatalf("huella %s, want the sample's %s", got, c.huella)
			}
			if got, want := normalize(rec), normalize(conformance.Read(t, "verifactu/samples/records/"+c.record)); got != want {
				t.Fatalf("record differs from the sample\n got %s\nwant %s", got, want)
			}
			mustValidate(t, schemaRecord, rec)
			req, err := BuildRequest(Cabecera{ObligadoEmision: c.cab}, [][]byte{rec})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := normalize(req), normalize(conformance.Read(t, "verifactu/samples/"+c.sample)); got != want {
				t.Fatalf("request differs from the sample\n got %s\nwant %s", got, want)
			}
			mustValidate(t, schemaRequest, req)
			env := SOAP(req)
			mustValidate(t, schemaSOAP, env)
			if c.sample == "regfactu-alta-f1.xml" {
				if got, want := normalize(env), normalize(conformance.Read(t, "verifactu/samples/soap/soap-regfactu-alta-f1.xml")); got != want {
					t.Fatalf("SOAP envelope differs from the sample\n got %s\nwant %s", got, want)
				}
			}
			// The sample's own record reads back to the same chain fields.
			fromSample, err := ParseRecord(conformance.Read(t, "verifactu/samples/records/"+c.record))
			if err != nil {
				t.Fatal(err)
			}
			if fromSample.ComputeHuella() != c.huella || fromSample.Huella != c.huella {
				t.Fatalf("sample record: claims %s, recomputes to %s", fromSample.Huella, fromSample.ComputeHuella())
			}
		})
	}
}

// varied is one chain of records of every kind the invoicing code will
// write, each exercising optional parts of the schema.
func varied(t *testing.T) []Record {
	t.Helper()
	const nif = "B76543214"
	sis := pulsoSistema
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 7, 1, 10, 0, 0, 0, madrid)
	corrected := IDFactura{nif, "F2026-0001", date("15-03-2026")}
	recargo := int64(260)

	withTotals := func(a *Alta) *Alta {
		a.CuotaTotal, a.ImporteTotal = Totals(a.Desglose)
		return a
	}
	full := withTotals(&Alta{
		IDFactura: IDFactura{nif, "F2026-0100", date("30-06-2026")}, RefExterna: "inv-100",
		NombreRazonEmisor: "Demo Ventas, S.L.", TipoFactura: F1, FechaOperacion: date("28-06-2026"),
		DescripcionOperacion: "Material, servicios y envíos",
		Destinatarios: []Persona{
			{NombreRazon: "Comercial Ñandú, S.L.", NIF: "B58818501"},
			{NombreRazon: "Société Générale de Café", IDOtro: &IDOtro{CodigoPais: "FR", IDType: "02", ID: "FR40303265045"}},
			{NombreRazon: "John Smith", IDOtro: &IDOtro{CodigoPais: "US", IDType: "03", ID: "X1234567"}},
		},
		Desglose: []Detalle{
			s1("21", 100000, 21000),
			{Impuesto: IVA, ClaveRegimen: ClaveRegimenGeneral, CalificacionOperacion: S1, TipoImpositivo: dec("10"), BaseImponibleOimporteNoSujeto: 20000,
				CuotaRepercutida: 2000, TipoRecargoEquivalencia: dec("1.4"), CuotaRecargoEquivalencia: 280},
			{Impuesto: IVA, ClaveRegimen: ClaveRegimenGeneral, OperacionExenta: "E1", BaseImponibleOimporteNoSujeto: 5000},
			{Impuesto: IVA, ClaveRegimen: ClaveRegimenGeneral, CalificacionOperacion: S2, BaseImponibleOimporteNoSujeto: 7000},
			{Impuesto: IVA, ClaveRegimen: "08", CalificacionOperacion: N1, BaseImponibleOimporteNoSujeto: 300},
			{Impuesto: IVA, ClaveRegimen: ClaveRegimenExportacion, OperacionExenta: "E2", BaseImponibleOimporteNoSujeto: 9900},
			{Impuesto: IGIC, ClaveRegimen: ClaveRegimenGeneral, CalificacionOperacion: S1, TipoImpositivo: dec("7"), BaseImponibleOimporteNoSujeto: 1000, CuotaRepercutida: 70},
			{Impuesto: Otros, CalificacionOperacion: N2, BaseImponibleOimporteNoSujeto: 100},
		},
		SistemaInformatico: sis,
	})
	sustitucion := withTotals(&Alta{
		IDFactura: IDFactura{nif, "R2026-0001", date("01-07-2026")}, NombreRazonEmisor: "Demo Ventas, S.L.",
		TipoFactura: R1, TipoRectificativa: PorSustitucion, FacturasRectificadas: []IDFactura{corrected},
		ImporteRectificacion: &ImporteRectificacion{BaseRectificada: 105050, CuotaRectificada: 21505, CuotaRecargoRectificado: &recargo},
		DescripcionOperacion: "Rectificación por error en el precio",
		Destinatarios:        []Persona{{NombreRazon: "Cliente Uno, S.A.", NIF: "A58818501"}},
		Desglose:             []Detalle{s1("21", 90000, 18900)}, SistemaInformatico: sis,
	})
	diferencias := withTotals(&Alta{
		IDFactura: IDFactura{nif, "R2026-0002", date("01-07-2026")}, NombreRazonEmisor: "Demo Ventas, S.L.",
		TipoFactura: R4, TipoRectificativa: PorDiferencias, FacturasRectificadas: []IDFactura{corrected, {nif, "F2026-0002", date("16-03-2026")}},
		DescripcionOperacion: "Abono por devolución",
		Destinatarios:        []Persona{{NombreRazon: "Cliente Uno, S.A.", NIF: "A58818501"}},
		Desglose:             []Detalle{s1("21", -10000, -2100)}, SistemaInformatico: sis,
	})
	simplificadaRect := withTotals(&Alta{
		IDFactura: IDFactura{nif, "TR2026-0001", date("01-07-2026")}, NombreRazonEmisor: "Demo Ventas, S.L.",
		TipoFactura: R5, TipoRectificativa: PorDiferencias, FacturasRectificadas: []IDFactura{{nif, "T2026-0040", date("20-06-2026")}},
		DescripcionOperacion: "Devolución de ticket", Desglose: []Detalle{s1("21", -1000, -210)}, SistemaInformatico: sis,
	})
	canje := withTotals(&Alta{
		IDFactura: IDFactura{nif, "F2026-0101", date("01-07-2026")}, NombreRazonEmisor: "Demo Ventas, S.L.",
		TipoFactura: F3, FacturasSustituidas: []IDFactura{{nif, "T2026-0041", date("21-06-2026")}, {nif, "T2026-0042", date("21-06-2026")}},
		DescripcionOperacion: "Factura completa en sustitución de tiques",
		Destinatarios:        []Persona{{NombreRazon: "Cliente Uno, S.A.", NIF: "A58818501"}},
		Desglose:             []Detalle{s1("21", 5000, 1050)}, SistemaInformatico: sis,
	})
	sinDestinatario := withTotals(&Alta{
		IDFactura: IDFactura{nif, "T2026-0043", date("01-07-2026")}, NombreRazonEmisor: "Demo Ventas, S.L.",
		TipoFactura: F2, FacturaSinIdentifDestinatarioArt61d: true, DescripcionOperacion: "Venta al contado",
		Desglose: []Detalle{s1("21", 400000, 84000)}, SistemaInformatico: sis,
	})
	cualificada := withTotals(&Alta{
		IDFactura: IDFactura{nif, "T2026-0044", date("01-07-2026")}, NombreRazonEmisor: "Demo Ventas, S.L.",
		TipoFactura: F1, FacturaSimplificadaArt7273: true, DescripcionOperacion: "Venta con datos del cliente",
		Destinatarios: []Persona{{NombreRazon: "Cliente Uno, S.A.", NIF: "A58818501"}},
		Desglose:      []Detalle{s1("10", 2000, 200)}, SistemaInformatico: sis,
	})
	subsanacion := ordinaria("F2026-0100")
	subsanacion.IDFactura.FechaExpedicionFactura = date("30-06-2026")
	subsanacion.Subsanacion, subsanacion.RechazoPrevio = Si, RechazoPrevioSi
	macro := withTotals(&Alta{
		IDFactura: IDFactura{nif, "F2026-0102", date("01-07-2026")}, NombreRazonEmisor: "Demo Ventas, S.L.",
		TipoFactura: F1, DescripcionOperacion: "Venta de un edificio",
		Destinatarios: []Persona{{NombreRazon: "Cliente Uno, S.A.", NIF: "A58818501"}},
		Desglose:      []Detalle{s1("21", 100_000_000_00, 21_000_000_00)}, SistemaInformatico: sis,
	})
	anulacion := &Anulacion{IDFactura: IDFactura{nif, "F2026-0102", date("01-07-2026")}, RefExterna: "void-102", SistemaInformatico: sis}
	sinPrevio := &Anulacion{IDFactura: IDFactura{nif, "F2025-0999", date("31-12-2025")}, SinRegistroPrevio: Si, RechazoPrevio: RechazoPrevioNo, SistemaInformatico: sis}

	recs := []Record{full, sustitucion, diferencias, simplificadaRect, canje, sinDestinatario, cualificada, subsanacion, macro, anulacion, sinPrevio}
	var prev *Link
	for i, r := range recs {
		var err error
		switch r := r.(type) {
		case *Alta:
			err = r.Seal(prev, now.Add(time.Duration(i)*time.Second))
		case *Anulacion:
			err = r.Seal(prev, now.Add(time.Duration(i)*time.Second))
		}
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		l := r.Link()
		prev = &l
	}
	return recs
}

// Every kind of record validates alone and in one request (with a
// Representante), and the request in its SOAP envelope; the optional
// elements that follow from the data are there.
func TestVariedRecordsValidate(t *testing.T) {
	var xmls [][]byte
	var stored []Stored
	for i, r := range varied(t) {
		b, err := MarshalRecord(r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		mustValidate(t, schemaRecord, b)
		s, err := ParseRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		xmls, stored = append(xmls, b), append(stored, s)
	}
	if err := VerifyChain(stored, nil); err != nil {
		t.Fatal(err)
	}
	req, err := BuildRequest(Cabecera{
		ObligadoEmision: PersonaES{"Demo Ventas, S.L.", "B76543214"},
		Representante:   &PersonaES{"Gestoría López, S.L.", "B11111111"},
	}, xmls)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, schemaRequest, req)
	mustValidate(t, schemaSOAP, SOAP(req))

	all := string(req)
	for _, want := range []string{
		"<sum1:Representante>", "<sum1:TipoRecargoEquivalencia>1.40</sum1:TipoRecargoEquivalencia>",
		"<sum1:CuotaRecargoEquivalencia>2.80</sum1:CuotaRecargoEquivalencia>", "<sum1:OperacionExenta>E2</sum1:OperacionExenta>",
		"<sum1:CuotaRecargoRectificado>2.60</sum1:CuotaRecargoRectificado>", "<sum1:BaseImponibleOimporteNoSujeto>-100.00<",
		"<sum1:Macrodato>S</sum1:Macrodato>", "<sum1:FacturaSinIdentifDestinatarioArt61d>S<", "<sum1:FacturaSimplificadaArt7273>S<",
		"<sum1:SinRegistroPrevio>S</sum1:SinRegistroPrevio>", "<sum1:RechazoPrevio>S</sum1:RechazoPrevio>",
		"<sum1:NombreSistemaInformatico>Pulso</sum1:NombreSistemaInformatico>", "<sum1:Version>v1.4.0-3-gabcdef0</sum1:Version>",
		"<sum1:IndicadorMultiplesOT>S</sum1:IndicadorMultiplesOT>", "<sum1:NombreRazon>Comercial Ñandú, S.L.</sum1:NombreRazon>",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("request lacks %s", want)
		}
	}
	// S2, N1, N2 and exempt lines carry no rate nor cuota: the full
	// invoice writes the rates of its three S1 lines only.
	first := string(xmls[0])
	if n := strings.Count(first, "<sum1:TipoImpositivo>"); n != 3 {
		t.Errorf("the F1 has %d TipoImpositivo, want 3 (its S1 lines)", n)
	}
	if strings.Count(string(xmls[8]), "Macrodato") != 2 || strings.Count(first, "Macrodato") != 0 {
		t.Error("Macrodato must be written exactly for the invoice of 100 000 000 € or more")
	}
}

// The biggest request the AEAT takes, 1000 records, validates; one more
// is refused, and so is an empty one.
func TestRequestLimits(t *testing.T) {
	cab := Cabecera{ObligadoEmision: PersonaES{"Demo Ventas, S.L.", "B76543214"}}
	var recs [][]byte
	var prev *Link
	start := at("2026-03-15T09:00:00+01:00")
	for i := range MaxRecords + 1 {
		a := ordinaria(fmt.Sprintf("F2026-%05d", i+1))
		if err := a.Seal(prev, start.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		b, err := MarshalRecord(a)
		if err != nil {
			t.Fatal(err)
		}
		l := a.Link()
		prev, recs = &l, append(recs, b)
	}
	req, err := BuildRequest(cab, recs[:MaxRecords])
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(req, []byte("<sum:RegistroFactura>")); n != MaxRecords {
		t.Fatalf("%d records in the request", n)
	}
	mustValidate(t, schemaRequest, req)
	if _, err := BuildRequest(cab, recs); !errors.Is(err, ErrTooManyRecords) {
		t.Fatalf("1001 records: got %v, want ErrTooManyRecords", err)
	}
	if _, err := BuildRequest(cab, nil); !errors.Is(err, ErrNoRecords) {
		t.Fatalf("no records: got %v, want ErrNoRecords", err)
	}
}

// BuildRequest takes stored record bytes, so it checks them: another
// issuer's record, something that is not a record, text around it.
func TestBuildRequestRefuses(t *testing.T) {
	cab := Cabecera{ObligadoEmision: PersonaES{"Demo Ventas, S.L.", "B76543214"}}
	a := ordinaria("F2026-0001")
	if err := a.Seal(nil, sealAt); err != nil {
		t.Fatal(err)
	}
	good, err := MarshalRecord(a)
	if err != nil {
		t.Fatal(err)
	}
	other := ordinaria("F2026-0001")
	other.IDFactura.IDEmisorFactura, other.SistemaInformatico = "B99999999", pulsoSistema
	if err := other.Seal(nil, sealAt); err != nil {
		t.Fatal(err)
	}
	otherXML, err := MarshalRecord(other)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"another issuer":    otherXML,
		"not XML":           []byte("hola"),
		"another element":   []byte(`<sum1:Cabecera xmlns:sum1="` + NamespaceSuministroInformacion + `"><sum1:IDFactura><sum1:IDEmisorFactura>B76543214</sum1:IDEmisorFactura></sum1:IDFactura></sum1:Cabecera>`),
		"another namespace": bytes.ReplaceAll(good, []byte(NamespaceSuministroInformacion), []byte("urn:x")),
		"declaration first": append([]byte(`<?xml version="1.0"?>`), good...),
		"element after":     append(append([]byte{}, good...), []byte(`<sum:Cabecera xmlns:sum="x"/>`)...),
		"comment after":     append(append([]byte{}, good...), []byte(`<!-- x -->`)...),
	}
	for name, rec := range bad {
		if req, err := BuildRequest(cab, [][]byte{good, rec}); err == nil {
			t.Errorf("%s: accepted:\n%s", name, req)
		}
	}
	badCab := []Cabecera{
		{ObligadoEmision: PersonaES{"", "B76543214"}},
		{ObligadoEmision: PersonaES{"Demo", "B7654321"}},
		{ObligadoEmision: PersonaES{"Demo", "B76543214"}, Representante: &PersonaES{"Gestoría", "123"}},
	}
	for i, c := range badCab {
		if _, err := BuildRequest(c, [][]byte{good}); err == nil {
			t.Errorf("cabecera %d accepted", i)
		}
	}
}

// MarshalRecord writes only what Seal stamped: an unsealed record, or one
// changed after sealing, is refused rather than sent with a wrong huella.
func TestMarshalRefusesUnsealed(t *testing.T) {
	a := ordinaria("F2026-0001")
	if _, err := MarshalRecord(a); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("unsealed: got %v", err)
	}
	if err := a.Seal(nil, sealAt); err != nil {
		t.Fatal(err)
	}
	a.IDFactura.NumSerieFactura = "F2026-0009"
	if _, err := MarshalRecord(a); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("changed after Seal: got %v", err)
	}
	v := &Anulacion{IDFactura: IDFactura{"B76543214", "F2026-0001", date("15-03-2026")}, SistemaInformatico: pulsoSistema}
	if _, err := MarshalRecord(v); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("unsealed anulación: got %v", err)
	}
}

// Validate refuses what the XSD or the AEAT would refuse, naming the
// field; each case starts from a valid alta and breaks one thing.
func TestValidateRefuses(t *testing.T) {
	if err := ordinaria("F2026-0001").Validate(); err != nil {
		t.Fatalf("the base alta is refused: %v", err)
	}
	cases := []struct {
		field string
		mod   func(a *Alta)
	}{
		{"IDFactura.IDEmisorFactura", func(a *Alta) { a.IDFactura.IDEmisorFactura = "B7654321" }},
		{"IDFactura.IDEmisorFactura", func(a *Alta) { a.IDFactura.IDEmisorFactura = "b76543214" }},
		{"IDFactura.NumSerieFactura", func(a *Alta) { a.IDFactura.NumSerieFactura = "" }},
		{"IDFactura.NumSerieFactura", func(a *Alta) { a.IDFactura.NumSerieFactura = strings.Repeat("9", 61) }},
		{"IDFactura.NumSerieFactura", func(a *Alta) { a.IDFactura.NumSerieFactura = "FAÇ-1" }},
		{"IDFactura.NumSerieFactura", func(a *Alta) { a.IDFactura.NumSerieFactura = " F-1" }},
		{"IDFactura.NumSerieFactura", func(a *Alta) { a.IDFactura.NumSerieFactura = "F<1>" }},
		{"IDFactura.NumSerieFactura", func(a *Alta) { a.IDFactura.NumSerieFactura = "F-1\n" }},
		{"IDFactura.FechaExpedicionFactura", func(a *Alta) { a.IDFactura.FechaExpedicionFactura = time.Time{} }},
		{"NombreRazonEmisor", func(a *Alta) { a.NombreRazonEmisor = "" }},
		{"NombreRazonEmisor", func(a *Alta) { a.NombreRazonEmisor = strings.Repeat("ñ", 121) }},
		{"NombreRazonEmisor", func(a *Alta) { a.NombreRazonEmisor = "L'Oreal" }},
		{"NombreRazonEmisor", func(a *Alta) { a.NombreRazonEmisor = "Bad\x00name" }},
		{"NombreRazonEmisor", func(a *Alta) { a.NombreRazonEmisor = "Bad \xff name" }},
		{"RefExterna", func(a *Alta) { a.RefExterna = strings.Repeat("r", 61) }},
		{"Subsanacion", func(a *Alta) { a.Subsanacion = "Y" }},
		{"RechazoPrevio", func(a *Alta) { a.RechazoPrevio = RechazoPrevioSi }},
		{"RechazoPrevio", func(a *Alta) { a.Subsanacion, a.RechazoPrevio = No, RechazoPrevioX }},
		{"RechazoPrevio", func(a *Alta) { a.Subsanacion, a.RechazoPrevio = Si, "Z" }},
		{"TipoFactura", func(a *Alta) { a.TipoFactura = "F4" }},
		{"TipoRectificativa", func(a *Alta) { a.TipoFactura = R1 }},
		{"TipoRectificativa", func(a *Alta) { a.TipoRectificativa = PorDiferencias }},
		{"FacturasRectificadas", func(a *Alta) { a.FacturasRectificadas = []IDFactura{a.IDFactura} }},
		{"FacturasSustituidas", func(a *Alta) { a.FacturasSustituidas = []IDFactura{a.IDFactura} }},
		{"ImporteRectificacion", func(a *Alta) { a.TipoFactura, a.TipoRectificativa = R1, PorSustitucion }},
		{"ImporteRectificacion", func(a *Alta) {
			a.TipoFactura, a.TipoRectificativa, a.ImporteRectificacion = R1, PorDiferencias, &ImporteRectificacion{}
		}},
		{"FacturasRectificadas[0].NumSerieFactura", func(a *Alta) {
			a.TipoFactura, a.TipoRectificativa = R4, PorDiferencias
			a.FacturasRectificadas = []IDFactura{{"B76543214", "", date("01-01-2026")}}
		}},
		{"ImporteRectificacion.BaseRectificada", func(a *Alta) {
			a.TipoFactura, a.TipoRectificativa = R1, PorSustitucion
			a.ImporteRectificacion = &ImporteRectificacion{BaseRectificada: maxAmountCents + 1}
		}},
		{"DescripcionOperacion", func(a *Alta) { a.DescripcionOperacion = "" }},
		{"DescripcionOperacion", func(a *Alta) { a.DescripcionOperacion = strings.Repeat("d", 501) }},
		{"DescripcionOperacion", func(a *Alta) { a.DescripcionOperacion = "Descuento = 10%" }},
		{"Destinatarios", func(a *Alta) { a.Destinatarios = nil }},
		{"Destinatarios", func(a *Alta) { a.TipoFactura = F2 }},
		{"Destinatarios", func(a *Alta) { a.TipoFactura, a.TipoRectificativa = R5, PorDiferencias }},
		{"FacturaSimplificadaArt7273", func(a *Alta) { a.TipoFactura, a.Destinatarios, a.FacturaSimplificadaArt7273 = F2, nil, true }},
		{"Destinatarios[0].NIF", func(a *Alta) { a.Destinatarios[0].NIF = "A5881850" }},
		{"Destinatarios[0].NIF", func(a *Alta) { a.Destinatarios[0].NIF = a.IDFactura.IDEmisorFactura }},
		{"Destinatarios[0]", func(a *Alta) { a.Destinatarios[0].NIF = "" }},
		{"Destinatarios[0]", func(a *Alta) { a.Destinatarios[0].IDOtro = &IDOtro{"FR", "02", "FR1"} }},
		{"Destinatarios[0].NombreRazon", func(a *Alta) { a.Destinatarios[0].NombreRazon = "" }},
		{"Destinatarios[0].IDOtro.IDType", func(a *Alta) { a.Destinatarios[0] = Persona{NombreRazon: "X", IDOtro: &IDOtro{"FR", "01", "FR1"}} }},
		{"Destinatarios[0].IDOtro.CodigoPais", func(a *Alta) { a.Destinatarios[0] = Persona{NombreRazon: "X", IDOtro: &IDOtro{"", "03", "P1"}} }},
		{"Destinatarios[0].IDOtro.CodigoPais", func(a *Alta) { a.Destinatarios[0] = Persona{NombreRazon: "X", IDOtro: &IDOtro{"ZZ", "03", "P1"}} }},
		{"Destinatarios[0].IDOtro.ID", func(a *Alta) {
			a.Destinatarios[0] = Persona{NombreRazon: "X", IDOtro: &IDOtro{"FR", "02", strings.Repeat("1", 21)}}
		}},
		{"Destinatarios[0].IDOtro.IDType", func(a *Alta) {
			a.TipoFactura, a.TipoRectificativa = R3, PorDiferencias
			a.FacturasRectificadas = []IDFactura{{"B76543214", "F-1", date("01-01-2026")}}
			a.Destinatarios[0] = Persona{NombreRazon: "X", IDOtro: &IDOtro{"FR", "02", "FR1"}}
		}},
		{"Destinatarios[0].IDOtro.IDType", func(a *Alta) {
			a.TipoFactura, a.TipoRectificativa = R2, PorDiferencias
			a.FacturasRectificadas = []IDFactura{{"B76543214", "F-1", date("01-01-2026")}}
			a.Destinatarios[0] = Persona{NombreRazon: "X", IDOtro: &IDOtro{"MA", "04", "MA1"}}
		}},
		{"Desglose", func(a *Alta) { a.Desglose = nil }},
		{"Desglose", func(a *Alta) {
			for range 11 {
				a.Desglose = append(a.Desglose, s1("21", 100, 21))
			}
			a.CuotaTotal, a.ImporteTotal = Totals(a.Desglose)
		}},
		{"Desglose[0].Impuesto", func(a *Alta) { a.Desglose[0].Impuesto = "04" }},
		{"Desglose[0].ClaveRegimen", func(a *Alta) { a.Desglose[0].ClaveRegimen = "" }},
		{"Desglose[0].ClaveRegimen", func(a *Alta) { a.Desglose[0].ClaveRegimen = "12" }},
		{"Desglose[0]", func(a *Alta) { a.Desglose[0].OperacionExenta = "E1" }},
		{"Desglose[0]", func(a *Alta) { a.Desglose[0].CalificacionOperacion = "" }},
		{"Desglose[0].CalificacionOperacion", func(a *Alta) { a.Desglose[0].CalificacionOperacion = "S3" }},
		{"Desglose[0].OperacionExenta", func(a *Alta) {
			a.Desglose[0] = Detalle{Impuesto: IVA, ClaveRegimen: "01", OperacionExenta: "E9", BaseImponibleOimporteNoSujeto: 100000}
			a.CuotaTotal, a.ImporteTotal = Totals(a.Desglose)
		}},
		{"Desglose[0].OperacionExenta", func(a *Alta) { a.Desglose[0].ClaveRegimen = ClaveRegimenExportacion }},
		{"Desglose[0].TipoImpositivo", func(a *Alta) { a.Desglose[0].TipoImpositivo = dec("21.125") }},
		{"Desglose[0].TipoImpositivo", func(a *Alta) { a.Desglose[0].TipoImpositivo = dec("-21") }},
		{"Desglose[0].TipoRecargoEquivalencia", func(a *Alta) { a.Desglose[0].TipoRecargoEquivalencia = dec("1000") }},
		{"Desglose[0]", func(a *Alta) { a.Desglose[0].CalificacionOperacion = S2 }},
		{"Desglose[0]", func(a *Alta) {
			a.Desglose[0] = Detalle{Impuesto: IVA, ClaveRegimen: "01", OperacionExenta: "E1", BaseImponibleOimporteNoSujeto: 100000, TipoImpositivo: dec("21")}
		}},
		{"Desglose[0]", func(a *Alta) {
			a.Desglose[0] = Detalle{Impuesto: IVA, ClaveRegimen: "01", CalificacionOperacion: N1, BaseImponibleOimporteNoSujeto: 100000, CuotaRecargoEquivalencia: 1}
		}},
		{"Desglose[0].TipoRecargoEquivalencia", func(a *Alta) { a.Desglose[0].CuotaRecargoEquivalencia = 520 }},
		{"Desglose[0].BaseImponibleOimporteNoSujeto", func(a *Alta) { a.Desglose[0].BaseImponibleOimporteNoSujeto = maxAmountCents + 1 }},
		{"CuotaTotal", func(a *Alta) { a.CuotaTotal-- }},
		{"ImporteTotal", func(a *Alta) { a.ImporteTotal -= 15000 }}, // an IRPF withholding subtracted
		{"CuotaTotal", func(a *Alta) { a.CuotaTotal = -maxAmountCents - 1 }},
		{"SistemaInformatico.NombreRazon", func(a *Alta) { a.SistemaInformatico.NombreRazon = "" }},
		{"SistemaInformatico.NIF", func(a *Alta) { a.SistemaInformatico.NIF = "" }},
		{"SistemaInformatico.NombreSistemaInformatico", func(a *Alta) { a.SistemaInformatico.NombreSistemaInformatico = strings.Repeat("P", 31) }},
		{"SistemaInformatico.IdSistemaInformatico", func(a *Alta) { a.SistemaInformatico.IdSistemaInformatico = "PUL" }},
		{"SistemaInformatico.Version", func(a *Alta) { a.SistemaInformatico.Version = "" }},
		{"SistemaInformatico.Version", func(a *Alta) { a.SistemaInformatico.Version = strings.Repeat("1", 51) }},
		{"SistemaInformatico.NumeroInstalacion", func(a *Alta) { a.SistemaInformatico.NumeroInstalacion = "" }},
	}
	for _, c := range cases {
		a := ordinaria("F2026-0001")
		c.mod(a)
		err := a.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a FieldError", c.field, err)
			continue
		}
		if fe.Field != c.field {
			t.Errorf("%s: refused for %s: %s", c.field, fe.Field, fe.Reason)
		}
	}

	void := func() *Anulacion {
		return &Anulacion{IDFactura: IDFactura{"B76543214", "F2026-0001", date("15-03-2026")}, SistemaInformatico: pulsoSistema}
	}
	badVoids := map[string]func(a *Anulacion){
		"IDFactura.IDEmisorFactura": func(a *Anulacion) { a.IDFactura.IDEmisorFactura = "" },
		"IDFactura.NumSerieFactura": func(a *Anulacion) { a.IDFactura.NumSerieFactura = "" },
		"RefExterna":                func(a *Anulacion) { a.RefExterna = "a=b" },
		"SinRegistroPrevio":         func(a *Anulacion) { a.SinRegistroPrevio = "X" },
		"RechazoPrevio":             func(a *Anulacion) { a.RechazoPrevio = RechazoPrevioX },
		"SistemaInformatico.NIF":    func(a *Anulacion) { a.SistemaInformatico.NIF = "1" },
	}
	for field, mod := range badVoids {
		a := void()
		mod(a)
		var fe *FieldError
		if err := a.Validate(); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("anulación %s: got %v", field, err)
		}
	}
}

// The recipients an R2 or R3 may name (AEAT 1191, 1192), as
// TestValidateRefuses checks the ones they may not.
func TestRecipientsOfR2AndR3(t *testing.T) {
	for _, c := range []struct {
		tipo TipoFactura
		who  Persona
	}{
		{R2, Persona{NombreRazon: "X", NIF: "A58818501"}},
		{R2, Persona{NombreRazon: "X", IDOtro: &IDOtro{"FR", "02", "FR12345678901"}}},
		{R2, Persona{NombreRazon: "X", IDOtro: &IDOtro{"ES", "07", "X1"}}},
		{R3, Persona{NombreRazon: "X", NIF: "A58818501"}},
		{R3, Persona{NombreRazon: "X", IDOtro: &IDOtro{"ES", "07", "X1"}}},
		{R4, Persona{NombreRazon: "X", IDOtro: &IDOtro{"MA", "04", "MA1"}}},
	} {
		a := ordinaria("R-1")
		a.TipoFactura, a.TipoRectificativa, a.Destinatarios = c.tipo, PorDiferencias, []Persona{c.who}
		a.FacturasRectificadas = []IDFactura{{"B76543214", "F-1", date("01-01-2026")}}
		if err := a.Validate(); err != nil {
			t.Errorf("%s to %+v: %v", c.tipo, c.who.IDOtro, err)
		}
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"L'Oréal \"España\"": "L’Oréal ”España”",
		"a<b>c = d":          "a‹b›c - d",
		"  uno\n\tdos  ":     "uno dos",
		"bad \xff byte":      "bad byte",
		"":                   "",
	} {
		got := CleanText(in)
		if got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
		if got != "" {
			if err := text("x", got, 1, 500); err != nil {
				t.Errorf("CleanText(%q) still refused: %v", in, err)
			}
		}
	}
}

// The validation the tests rely on can fail: the negative samples are
// refused by xmllint with the reason the README gives.
func TestXmllintRefusesInvalidSamples(t *testing.T) {
	want := map[string]string{
		"missing-tipofactura.xml": "TipoFactura",
		"bad-date-format.xml":     "2025-06-02",
		"bad-amount-comma.xml":    "176,00",
	}
	files, err := filepath.Glob(conformance.Path(t, "verifactu/samples/invalid/*.xml"))
	if err != nil || len(files) != len(want) {
		t.Fatalf("invalid samples: %v %v", files, err)
	}
	for _, f := range files {
		msg := xmllint(t, schemaRequest, readFile(t, f))
		if msg == "" || !strings.Contains(msg, want[filepath.Base(f)]) {
			t.Errorf("%s: xmllint said %q", f, msg)
		}
	}
}

// The country list Validate uses is the XSD's, in its order.
func TestCountriesMatchXSD(t *testing.T) {
	xsd := string(conformance.Read(t, "verifactu/xsd/SuministroInformacion.xsd"))
	start := strings.Index(xsd, `<simpleType name="CountryType2">`)
	end := strings.Index(xsd[start:], "</simpleType>")
	var codes []string
	for _, part := range strings.Split(xsd[start:start+end], `<enumeration value="`)[1:] {
		codes = append(codes, part[:strings.IndexByte(part, '"')])
	}
	if !slices.Equal(codes, countries) {
		t.Fatalf("countries differ from the XSD's CountryType2 (%d codes there, %d here)", len(codes), len(countries))
	}
}
