package components

import (
	"context"
	"io"
	"strings"

	"pulso/views/i18n"
)

// htmlText escapes as html.EscapeString (and so templ's `{ s }`) does, but
// writes to the page instead of building a string.
var htmlText = strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;")

// Text is s as HTML text: `@components.Text(it.Title)` writes what
// `{ it.Title }` does. templ passes every `{ expr }` through fmt.Sprint and
// builds the escaped copy as a new string; on the rows of a long list that
// was a visible share of a page's cost. Text writes straight to the page.
type Text string

// Render writes the escaped text.
func (s Text) Render(_ context.Context, w io.Writer) error {
	_, err := htmlText.WriteString(w, string(s))
	return err
}

// CSRF is the hidden token field every non-htmx form posts. It is written
// like Text, since a list may carry a form (and so a token) on every row.
type CSRF string

// Render writes the field.
func (token CSRF) Render(_ context.Context, w io.Writer) error {
	if _, err := io.WriteString(w, `<input type="hidden" name="_csrf" value="`); err != nil {
		return err
	}
	if _, err := htmlText.WriteString(w, string(token)); err != nil {
		return err
	}
	_, err := io.WriteString(w, `">`)
	return err
}

// Severity is the label of a notification or alert severity (info,
// warning, urgent): its colour comes from data-sev, and the word is always
// there, so colour is never the only signal. Written like Text: a list has
// one per row.
type Severity string

// Render writes the badge in the context's language.
func (sev Severity) Render(ctx context.Context, w io.Writer) error {
	if _, err := io.WriteString(w, `<span class="sev" data-sev="`); err != nil {
		return err
	}
	if _, err := htmlText.WriteString(w, string(sev)); err != nil {
		return err
	}
	if _, err := io.WriteString(w, `">`); err != nil {
		return err
	}
	if err := i18n.Label("severity."+sev).Render(ctx, w); err != nil {
		return err
	}
	_, err := io.WriteString(w, `</span>`)
	return err
}
