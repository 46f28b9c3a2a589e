package views

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"pulso/views/i18n"
)

func pageTitle(ctx context.Context, title string) string {
	if title == "" {
		return "Pulso"
	}
	return i18n.T(ctx, title) + " · Pulso"
}

// csrfHeader makes every htmx request from the page carry the CSRF token.
// Tokens are base64url, which needs no escaping in JSON: the header is
// then put together rather than marshalled on every page.
func csrfHeader(token string) string {
	if strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=") == "" {
		return `{"X-CSRF-Token":"` + token + `"}`
	}
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

func initial(name string) string {
	r, _ := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "?"
	}
	return string(r)
}

func flashRole(kind string) string {
	if kind == "error" || kind == "warning" {
		return "alert"
	}
	return "status"
}

// htmxConfig keeps htmx inside the CSP (no eval, no injected styles) and lets
// it swap 422 forms and 4xx/5xx error messages, which the server retargets
// to the flash area.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},` +
	`{"code":"422","swap":true},{"code":"[45]..","swap":true,"error":true}]}`

// severityKind maps a notification severity to the one visual kind used
// everywhere (colour + icon): info, warning, error.
func severityKind(severity string) string {
	switch severity {
	case "urgent":
		return "error"
	case "warning":
		return "warning"
	}
	return "info"
}

// isAdminNav reports whether the active page is one of the admin tools (the
// phone's single "admin" item then shows as active).
func isAdminNav(nav string) bool {
	if nav == "admin" {
		return true
	}
	for _, tools := range [][]AdminTool{AdminTools, OperatorTools} {
		for _, t := range tools {
			if t.Key == nav {
				return true
			}
		}
	}
	return false
}

// navMenu is everything the navigation depends on: the language, the active
// item and what the user may see. The menu is the same on every page view
// with the same navMenu, and it was a third of the layout's rendering (a
// class list and a label per item), so each is rendered once and kept; there
// are a few dozen at most (languages × pages × kinds of user).
type navMenu struct {
	locale, active, role string
	bills, admin         bool
	operator             bool
}

var navMenus sync.Map // navMenu -> string

func (m navMenu) Render(ctx context.Context, w io.Writer) error {
	html, ok := navMenus.Load(m)
	if !ok {
		var b strings.Builder
		// nav reads the language from ctx, whose locale is m.locale.
		if err := nav(m).Render(ctx, &b); err != nil {
			return err
		}
		html, _ = navMenus.LoadOrStore(m, b.String())
	}
	_, err := io.WriteString(w, html.(string))
	return err
}
