package aeattest

import (
	"fmt"
	"time"

	"pulso/app/verifactu"

	"github.com/shopspring/decimal"
)

// Issuer is the obligado of the records Chain makes (the subject of
// Client's default certificate).
var Issuer = verifactu.PersonaES{NombreRazon: "Demo Ventas, S.L.", NIF: "B76543214"}

var rate21 = decimal.NewFromInt(21)

// alta is invoice F2026-<num> of Issuer: 100.00 € plus 21 % IVA.
func alta(num int) *verifactu.Alta {
	a := &verifactu.Alta{
		IDFactura:            verifactu.IDFactura{IDEmisorFactura: Issuer.NIF, NumSerieFactura: fmt.Sprintf("F2026-%05d", num), FechaExpedicionFactura: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)},
		NombreRazonEmisor:    Issuer.NombreRazon,
		TipoFactura:          verifactu.F1,
		DescripcionOperacion: "Venta de material de oficina",
		Destinatarios:        []verifactu.Persona{{NombreRazon: "Cliente Uno, S.A.", NIF: "A58818501"}},
		Desglose: []verifactu.Detalle{{
			Impuesto: verifactu.IVA, ClaveRegimen: verifactu.ClaveRegimenGeneral, CalificacionOperacion: verifactu.S1,
			TipoImpositivo: rate21, BaseImponibleOimporteNoSujeto: 10000, CuotaRepercutida: 2100,
		}},
		SistemaInformatico: verifactu.Pulso("Pulso Software, S.L.", "B12345674", "v0.0.0-test", "test-01", true),
	}
	a.CuotaTotal, a.ImporteTotal = verifactu.Totals(a.Desglose)
	return a
}

// seal seals a after prev at a fixed time (no test depends on today) a
// second apart per call, and returns its stored XML and Link.
func seal(tb TB, a *verifactu.Alta, prev *verifactu.Link, second int) ([]byte, *verifactu.Link) {
	tb.Helper()
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.Seal(prev, time.Date(2026, 3, 15, 9, 0, second, 0, madrid)); err != nil {
		tb.Fatal(err)
	}
	b, err := verifactu.MarshalRecord(a)
	if err != nil {
		tb.Fatal(err)
	}
	l := a.Link()
	return b, &l
}

// Chain seals n F1 altas of Issuer numbered F2026-<first>… onwards,
// chained after prev (nil: the issuer's first record), and returns their
// stored XML in chain order and the Link of the last one.
func Chain(tb TB, prev *verifactu.Link, first, n int) ([][]byte, *verifactu.Link) {
	tb.Helper()
	out := make([][]byte, 0, n)
	for i := range n {
		var b []byte
		b, prev = seal(tb, alta(first+i), prev, first+i)
		out = append(out, b)
	}
	return out, prev
}

// Subsanacion seals, after prev, a correction of invoice F2026-<num>:
// Subsanacion = S, and RechazoPrevio = S when the AEAT had rejected it.
func Subsanacion(tb TB, prev *verifactu.Link, num int, rejected bool) []byte {
	tb.Helper()
	a := alta(num)
	a.Subsanacion = verifactu.Si
	if rejected {
		a.RechazoPrevio = verifactu.RechazoPrevioSi
	}
	b, _ := seal(tb, a, prev, 3000+num)
	return b
}
