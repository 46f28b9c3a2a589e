package aeattest

import (
	"fmt"
	"testing"
	"time"

	"pulso/app/verifactu"

	"github.com/shopspring/decimal"
)

var rate21 = decimal.NewFromInt(21)

// Issuer is the obligado of the records Chain makes (the subject of
// Client's default certificate).
var Issuer = verifactu.PersonaES{NombreRazon: "Demo Ventas, S.L.", NIF: "B76543214"}

// Chain seals n F1 altas of Issuer numbered F2026-<first>… onwards,
// chained after prev (nil: the issuer's first record), and returns their
// stored XML in chain order and the Link of the last one.
func Chain(tb testing.TB, prev *verifactu.Link, first, n int) ([][]byte, *verifactu.Link) {
	tb.Helper()
	day := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		tb.Fatal(err)
	}
	sealAt := time.Date(2026, 3, 15, 9, 0, 0, 0, madrid)
	sistema := verifactu.Pulso("Pulso Software, S.L.", "B12345674", "v0.0.0-test", "test-01", true)
	out := make([][]byte, 0, n)
	for i := range n {
		num := first + i
		a := &verifactu.Alta{
			IDFactura:            verifactu.IDFactura{IDEmisorFactura: Issuer.NIF, NumSerieFactura: fmt.Sprintf("F2026-%05d", num), FechaExpedicionFactura: day},
			NombreRazonEmisor:    Issuer.NombreRazon,
			TipoFactura:          verifactu.F1,
			DescripcionOperacion: "Venta de material de oficina",
			Destinatarios:        []verifactu.Persona{{NombreRazon: "Cliente Uno, S.A.", NIF: "A58818501"}},
			Desglose: []verifactu.Detalle{{
				Impuesto: verifactu.IVA, ClaveRegimen: verifactu.ClaveRegimenGeneral, CalificacionOperacion: verifactu.S1,
				TipoImpositivo: rate21, BaseImponibleOimporteNoSujeto: 10000, CuotaRepercutida: 2100,
			}},
			SistemaInformatico: sistema,
		}
		a.CuotaTotal, a.ImporteTotal = verifactu.Totals(a.Desglose)
		if err := a.Seal(prev, sealAt.Add(time.Duration(num)*time.Second)); err != nil {
			tb.Fatal(err)
		}
		b, err := verifactu.MarshalRecord(a)
		if err != nil {
			tb.Fatal(err)
		}
		l := a.Link()
		prev, out = &l, append(out, b)
	}
	return out, prev
}
