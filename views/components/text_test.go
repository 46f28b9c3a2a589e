package components

import (
	"context"
	"html"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"pulso/views/i18n"
)

func renderString(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestTextEscapesAsTempl(t *testing.T) {
	for _, s := range []string{"", "Aviso 29", `<script>alert("x")</script>`, "Tom & Jerry's", "ñandú € <>&'\"", "\x00"} {
		if got, want := renderString(t, Text(s)), html.EscapeString(s); got != want {
			t.Errorf("Text(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestCSRFField(t *testing.T) {
	if got, want := renderString(t, CSRF("FUf2soX_A5o5gxl-UI4CAZFSdu5wygQ3mQDkFVPDb2Y")), `<input type="hidden" name="_csrf" value="FUf2soX_A5o5gxl-UI4CAZFSdu5wygQ3mQDkFVPDb2Y">`; got != want {
		t.Errorf("CSRF = %s, want %s", got, want)
	}
	// A token is base64url; should that change, the field still cannot be broken out of.
	if got, want := renderString(t, CSRF(`a"><b`)), `<input type="hidden" name="_csrf" value="a&#34;&gt;&lt;b">`; got != want {
		t.Errorf("CSRF = %s, want %s", got, want)
	}
}

func TestSeverity(t *testing.T) {
	ctx := i18n.WithLocale(context.Background(), "es")
	for _, sev := range []string{"info", "warning", "urgent", `x"><script>`} {
		var b strings.Builder
		if err := Severity(sev).Render(ctx, &b); err != nil {
			t.Fatal(err)
		}
		want := `<span class="sev" data-sev="` + html.EscapeString(sev) + `">` + html.EscapeString(i18n.T(ctx, "severity."+sev)) + `</span>`
		if b.String() != want {
			t.Errorf("Severity(%q) = %s, want %s", sev, b.String(), want)
		}
	}
}
