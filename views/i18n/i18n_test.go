package i18n

import (
	"context"
	"slices"
	"testing"
)

// Every message must exist in every locale, so switching to English never
// shows a Spanish leftover or a raw id.
func TestCatalogsHaveSameIDs(t *testing.T) {
	es, err := IDs("es")
	if err != nil {
		t.Fatal(err)
	}
	en, err := IDs("en")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(es)
	slices.Sort(en)
	for _, id := range es {
		if _, ok := slices.BinarySearch(en, id); !ok {
			t.Errorf("%q is in es.json but not in en.json", id)
		}
	}
	for _, id := range en {
		if _, ok := slices.BinarySearch(es, id); !ok {
			t.Errorf("%q is in en.json but not in es.json", id)
		}
	}
	if len(es) < 20 {
		t.Fatalf("catalog suspiciously small: %d ids", len(es))
	}
}

func TestLookupByLocale(t *testing.T) {
	es := WithLocale(context.Background(), "es")
	en := WithLocale(context.Background(), "en")
	if got := T(es, "nav.home"); got != "Inicio" {
		t.Errorf("es nav.home = %q", got)
	}
	if got := T(en, "nav.home"); got != "Home" {
		t.Errorf("en nav.home = %q", got)
	}
	if got := T(WithLocale(context.Background(), "fr"), "nav.home"); got != "Inicio" {
		t.Errorf("unknown locale should fall back to Spanish, got %q", got)
	}
	if got := Tf(en, "home.greeting", map[string]any{"Name": "Ana"}); got != "Hello, Ana" {
		t.Errorf("template data: got %q", got)
	}
	if got := T(es, "no.such.id"); got != "no.such.id" {
		t.Errorf("missing id should render as itself, got %q", got)
	}
}
