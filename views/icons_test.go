package views

import (
	"context"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"pulso/static"
	"pulso/views/i18n"
)

// usedIcons is every icon name the views draw: navigation for every kind of
// user, the admin tools, flash and severity kinds, and the bell.
func usedIcons() []string {
	names := []string{"bell", "info", "success", "warning", "error", severityKind("urgent"), severityKind("warning"), severityKind("info")}
	for _, items := range [][]navItem{navItems("rep", false, false, false), navItems("accountant", true, false, false), navItems("admin", true, true, true)} {
		for _, it := range items {
			names = append(names, it.icon)
		}
	}
	for _, t := range append(AdminTools, OperatorTools...) {
		names = append(names, t.Icon)
	}
	return names
}

func render(t *testing.T, ctx context.Context, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// spriteSymbols parses the sprite as XML: what a browser's <use> sees.
func spriteSymbols(t *testing.T, data []byte) map[string]int {
	t.Helper()
	var sprite struct {
		XMLName xml.Name `xml:"svg"`
		Symbols []struct {
			ID       string `xml:"id,attr"`
			ViewBox  string `xml:"viewBox,attr"`
			Stroke   string `xml:"stroke,attr"`
			Children []struct {
				XMLName xml.Name
			} `xml:",any"`
		} `xml:"symbol"`
	}
	if err := xml.Unmarshal(data, &sprite); err != nil {
		t.Fatalf("sprite is not well-formed XML: %v", err)
	}
	symbols := map[string]int{}
	for _, s := range sprite.Symbols {
		if s.ViewBox != "0 0 24 24" || s.Stroke != "currentColor" {
			t.Errorf("symbol %q: viewBox %q, stroke %q; icons are 24×24 line drawings in the text colour", s.ID, s.ViewBox, s.Stroke)
		}
		if _, dup := symbols[s.ID]; dup {
			t.Errorf("symbol %q twice", s.ID)
		}
		symbols[s.ID] = len(s.Children)
	}
	return symbols
}

func TestEveryIconIsASymbolOfTheSprite(t *testing.T) {
	asset, ok := static.Lookup(spriteFile)
	if !ok {
		t.Fatalf("%s is not embedded", spriteFile)
	}
	symbols := spriteSymbols(t, asset.Data)
	url := static.URL(spriteFile)
	hashed, ok := static.Lookup(strings.TrimPrefix(url, "/static/"))
	if !ok || !hashed.Immutable || hashed.ContentType != "image/svg+xml" {
		t.Fatalf("%s: found %v, immutable %v, type %q", url, ok, hashed.Immutable, hashed.ContentType)
	}
	for _, name := range usedIcons() {
		if symbols[name] == 0 {
			t.Errorf("icon %q has no symbol with a drawing in %s", name, spriteFile)
		}
		want := `<svg class="icon" width="20" height="20" aria-hidden="true"><use href="` + url + `#` + name + `"></use></svg>`
		if got := render(t, context.Background(), icon(name)); got != want {
			t.Errorf("icon(%q) = %s, want %s", name, got, want)
		}
	}
	if len(icons()) != len(symbols) {
		t.Errorf("icons() knows %d names, the sprite has %d symbols", len(icons()), len(symbols))
	}
}

func TestUnknownIconDrawsInfo(t *testing.T) {
	got := render(t, context.Background(), icon("no-such-icon"))
	if !strings.HasSuffix(got, `#info"></use></svg>`) {
		t.Errorf("unknown icon = %s, want the info symbol", got)
	}
}

var useHref = regexp.MustCompile(`<use href="([^"#]+)#([^"]+)">`)

func pageCtx(locale string, s *Shell) context.Context {
	return WithShell(i18n.WithLocale(context.Background(), locale), s)
}

// Every page draws its icons from the sprite: one per navigation item, the
// bell and the flashes, each naming a symbol that exists.
func TestLayoutIconsUseTheSprite(t *testing.T) {
	asset, _ := static.Lookup(spriteFile)
	symbols := spriteSymbols(t, asset.Data)
	admin := &User{Name: "Ana", Email: "ana@example.test", Role: "admin", OrgName: "Org", Unread: 3, Billing: true, Sells: true}
	s := &Shell{User: admin, Nav: "users", Flashes: []Flash{{Kind: "success", Message: "ok"}, {Kind: "error", Message: "no"}}}
	page := render(t, pageCtx("es", s), Layout(templ.NopComponent))
	if strings.Contains(page, "<path") || strings.Contains(page, "<circle") {
		t.Error("the page still draws an icon inline")
	}
	uses := useHref.FindAllStringSubmatch(page, -1)
	if want := len(navItems("admin", true, true, false)) + 1 + 2; len(uses) != want {
		t.Errorf("%d icons on the page, want %d (nav items, bell, two flashes)", len(uses), want)
	}
	for _, u := range uses {
		if u[1] != static.URL(spriteFile) {
			t.Errorf("icon from %s, want %s", u[1], static.URL(spriteFile))
		}
		if symbols[u[2]] == 0 {
			t.Errorf("page uses #%s, which the sprite lacks", u[2])
		}
	}
	for _, want := range []string{"#bell", "#success", "#error", "#users", "#home"} {
		if !strings.Contains(page, want+`">`) {
			t.Errorf("page has no %s icon", want)
		}
	}
}

var activeItem = regexp.MustCompile(`<a href="([^"]+)" class="nav-item active[^"]*" aria-current="page">`)

// navMenu keeps one rendering per language, active item and kind of user;
// pages of different users, pages and languages must not get each other's.
func TestNavMenuPerLanguagePageAndUser(t *testing.T) {
	rep := &User{Name: "Rosa", Role: "rep", Sells: true}
	admin := &User{Name: "Ana", Role: "admin", Sells: true, Billing: true}
	cases := []struct {
		locale, nav string
		user        *User
		active      string
		label       string
		adminTools  bool
	}{
		{"es", "leads", rep, "/leads", "Potenciales", false},
		{"en", "leads", rep, "/leads", "Leads", false},
		{"es", "users", admin, "/admin/users", "Usuarios", true},
		{"es", "home", rep, "/", "Inicio", false},
		{"es", "leads", admin, "/leads", "Potenciales", true},
	}
	for round := 0; round < 2; round++ { // the second round is served from memory
		for _, c := range cases {
			page := render(t, pageCtx(c.locale, &Shell{User: c.user, Nav: c.nav}), Layout(templ.NopComponent))
			m := activeItem.FindAllStringSubmatch(page, -1)
			if len(m) != 1 || m[0][1] != c.active {
				t.Errorf("round %d %s %s as %s: active items %v, want %s", round, c.locale, c.nav, c.user.Role, m, c.active)
			}
			if !strings.Contains(page, "<span>"+c.label+"</span>") {
				t.Errorf("round %d %s %s: no label %q", round, c.locale, c.nav, c.label)
			}
			if got := strings.Contains(page, `href="/admin/jobs"`); got != c.adminTools {
				t.Errorf("round %d %s %s as %s: admin tools shown %v", round, c.locale, c.nav, c.user.Role, got)
			}
		}
	}
}
