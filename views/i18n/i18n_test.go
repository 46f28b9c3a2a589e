package i18n

import (
	"context"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
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

// Every message id written in the code exists in the catalog: a string
// literal that looks like an id ("leads.saved") and starts with a prefix
// the catalog uses must resolve, so a typo or a forgotten key fails here
// instead of showing a raw id to a user.
func TestCodeUsesOnlyCatalogIDs(t *testing.T) {
	ids, err := IDs("es")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	prefixes := map[string]bool{}
	for _, id := range ids {
		known[id] = true
		prefixes[strings.SplitN(id, ".", 2)[0]] = true
	}
	literal := regexp.MustCompile(`"([a-z_]+\.[a-z_0-9.]*[a-z_0-9])"`)
	root := filepath.Join("..", "..")
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "static" || d.Name() == "queries") {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, "_templ.go") || strings.HasSuffix(path, "_test.go") ||
			!(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".templ")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, loc := range literal.FindAllStringSubmatchIndex(string(src), -1) {
			id := string(src[loc[2]:loc[3]])
			if strings.HasSuffix(string(src[max(0, loc[0]-5):loc[0]]), "Name(") {
				continue // a route name in app.go, not a message
			}
			// Ids built by concatenation ("role." + r) end in a dot and
			// are not matched; file names and hosts have other prefixes.
			if !prefixes[strings.SplitN(id, ".", 2)[0]] {
				continue
			}
			checked++
			if !known[id] {
				t.Errorf("%s uses %q, which is not in es.json", path, id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d ids found in the code: the scan is not working", checked)
	}
}

// Label writes what `{ i18n.T(ctx, id) }` does in a template: the message
// in the context's language, HTML-escaped.
func TestLabelIsTEscaped(t *testing.T) {
	for _, locale := range Locales {
		ctx := WithLocale(context.Background(), locale)
		ids, err := IDs(locale)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range append(ids, "no.such.id", `a<b>&"c'`) {
			var b strings.Builder
			if err := Label(id).Render(ctx, &b); err != nil {
				t.Fatal(err)
			}
			if want := html.EscapeString(T(ctx, id)); b.String() != want {
				t.Errorf("%s Label(%q) = %q, want %q", locale, id, b.String(), want)
			}
		}
	}
	var b strings.Builder
	_ = Label("nav.home").Render(WithLocale(context.Background(), "en"), &b)
	if b.String() != "Home" {
		t.Errorf("en nav.home = %q", b.String())
	}
}

// Messages with fields are filled in without go-i18n; for every such
// message of every catalog, the result must be go-i18n's own.
func TestFieldsFilledAsGoI18n(t *testing.T) {
	bundleOnce.Do(load)
	n := 0
	for _, locale := range Locales {
		for id, m := range fielded[locale] {
			for _, value := range []any{`Ana <b> & "Bo"`, 0, 1234567, int64(-42), ""} {
				data := map[string]any{}
				for _, name := range m.names {
					data[name] = value
				}
				want, err := localizers[locale].Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
				if err != nil {
					t.Fatal(err)
				}
				if got := In(locale, id, data); got != want {
					t.Errorf("%s %s with %v: %q, go-i18n says %q", locale, id, value, got, want)
				}
				n++
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d messages with fields checked", n)
	}
	// What fill does not handle goes to go-i18n: a missing field, a float.
	ctx := WithLocale(context.Background(), "es")
	if got := Tf(ctx, "notifications.bell_label", map[string]any{}); got != "Avisos: <no value> sin leer" {
		t.Errorf("missing field: %q", got)
	}
	if got := Tf(ctx, "notifications.bell_label", map[string]any{"Count": 2.5}); got != "Avisos: 2.5 sin leer" {
		t.Errorf("float field: %q", got)
	}
	if got := Tf(ctx, "notifications.bell_label", map[string]any{"Count": int64(3)}); got != "Avisos: 3 sin leer" {
		t.Errorf("int64 field: %q", got)
	}
}

func TestSplit(t *testing.T) {
	for _, tt := range []struct {
		in    string
		ok    bool
		names []string
	}{
		{"Avisos: {{.Count}} sin leer", true, []string{"Count"}},
		{"{{.A}}{{ .B }}", true, []string{"A", "B"}},
		{"Hola {{.Name | upper}}", false, nil},
		{"{{if .X}}x{{end}}", false, nil},
		{"sin campos", false, nil},
	} {
		m, ok := split(tt.in)
		if ok != tt.ok || !slices.Equal(m.names, tt.names) {
			t.Errorf("split(%q) = %v %v, want %v %v", tt.in, m.names, ok, tt.names, tt.ok)
		}
	}
}
