// Package email renders the bodies of outgoing e-mails: each message has a
// plain-text and an HTML version, both in the recipient's locale (the
// context's, set by the caller with i18n.WithLocale).
package email

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// text writes s and a line break, as it is: the text/plain part is not
// HTML, so nothing may be escaped (an "&" in a name or a link stays an "&").
// Lines end in "\n" here; app/mail writes them as CRLF on the wire.
func text(s string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, strings.ReplaceAll(s, "\r", "")+"\n")
		return err
	})
}

// paragraph is text followed by an empty line.
func paragraph(s string) templ.Component {
	return text(s + "\n")
}
