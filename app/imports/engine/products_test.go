package engine_test

import (
	"context"
	"strings"
	"testing"

	"pulso/app/imports/engine"
)

// A catalog file (CSV here, XLSX below) through the same machinery as
// leads: new codes inserted, known codes updated, groups created, bad rows
// reported by line with their reason.
func TestImportProducts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.Env.Exec(`INSERT INTO products (org_id, code, name, price, tax_rate_id)
		SELECT $1, 'TAL-01', 'Taladro viejo', 5000, id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`, w.Org.ID)
	csv := strings.Join([]string{
		"Código;Artículo;Descripción;Familia;Unidad;PVP;IVA",
		"TAL-01;Taladro percutor;Con maletín;Herramienta;ud;129,90;21", // 2 update
		"GUA-01;Guantes nitrilo;;Protección;unidades;9,95;21 %",        // 3 new
		"MON-H;Montaje;;Servicios;horas;40;",                           // 4 new, general rate
		"PAN-01;Pan;;Alimentación;kg;2,10;4",                           // 5 new at 4 %
		"GUA-01;Guantes repetidos;;;;1;21",                             // 6 duplicate code: skipped
		"MAL CODE;Con espacio;;;;1;21",                                 // 7 bad code
		"SIN-PRECIO;Sin precio;;;;;21",                                 // 8 no price
		"CERO;Precio cero;;;;0;21",                                     // 9 zero price
		"IVA-RARO;IVA inexistente;;;;10;17",                            // 10 unknown rate
		"UNI;Unidad rara;;;caja;10;21",                                 // 11 unknown unit
	}, "\n")
	imp := w.upload(t, "products", "catalogo.csv", "csv", "", []byte(csv),
		engine.AutoMap(engine.ProductFields, strings.Split("Código;Artículo;Descripción;Familia;Unidad;PVP;IVA", ";")))
	if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil {
		t.Fatal(err)
	}
	got := w.get(t, imp.ID)
	if got.Status != "done" || got.Inserted != 3 || got.Merged != 1 || got.Skipped != 1 || got.Errors != 5 {
		t.Fatalf("products: %s inserted %d updated %d skipped %d errors %d", got.Status, got.Inserted, got.Merged, got.Skipped, got.Errors)
	}
	if n := w.Env.Count(`SELECT count(*) FROM products p JOIN article_groups g ON g.id = p.group_id
		WHERE p.org_id = $1 AND p.code = 'TAL-01' AND p.name = 'Taladro percutor' AND p.price = 12990 AND p.description = 'Con maletín' AND g.name = 'Herramienta'`, w.Org.ID); n != 1 {
		t.Error("TAL-01 not updated with its group")
	}
	if n := w.Env.Count(`SELECT count(*) FROM products p JOIN tax_rates t ON t.id = p.tax_rate_id
		WHERE p.org_id = $1 AND ((p.code = 'MON-H' AND p.unit = 'h' AND t.rate = 21) OR (p.code = 'PAN-01' AND p.unit = 'kg' AND t.rate = 4 AND p.price = 210)
		OR (p.code = 'GUA-01' AND p.name = 'Guantes nitrilo' AND p.price = 995))`, w.Org.ID); n != 3 {
		t.Errorf("new products: %d of 3 as expected", n)
	}
	// The error file names each bad line's column and reason.
	data := w.errorFile(t, got)
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(data), "\xEF\xBB\xBF")), "\r\n")
	want := map[string]string{"7;": "Código: Código no válido", "8;": "PVP: Este campo es obligatorio", "9;": "PVP: Precio no válido",
		"10;": "IVA: Tipo de IVA no vigente", "11;": "Unidad: Unidad desconocida"}
	if len(lines) != 1+len(want) {
		t.Fatalf("error file:\n%s", data)
	}
	for _, l := range lines[1:] {
		for prefix, reason := range want {
			if strings.HasPrefix(l, prefix) && !strings.Contains(l, reason) {
				t.Errorf("line %s: %q lacks %q", prefix, l, reason)
			}
		}
	}

	// The same through XLSX, with numbers as cells.
	x := w.upload(t, "products", "catalogo.xlsx", "xlsx", "", xlsxFile(t, [][]any{{"Código", "Nombre", "Precio"}, {"XL-1", "Desde Excel", 12.5}}),
		engine.Mapping{"code": 0, "name": 1, "price": 2})
	if err := w.runner().Run(ctx, w.Org.ID, x.ID); err != nil {
		t.Fatal(err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM products WHERE org_id = $1 AND code = 'XL-1' AND price = 1250`, w.Org.ID); n != 1 {
		t.Errorf("xlsx product: %+v", w.get(t, x.ID))
	}
}
