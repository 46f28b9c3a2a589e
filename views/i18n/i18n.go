// Package i18n holds Pulso's message catalogs (Spanish first, English) and
// looks messages up for the locale carried in the request context. Copy lives
// in the JSON catalogs, never in Go or templ code.
package i18n

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.json
var catalogs embed.FS

// Locales Pulso speaks; the first is the default.
var Locales = []string{"es", "en"}

// Default is the locale for visitors who have not chosen one.
const Default = "es"

var (
	bundleOnce sync.Once
	bundle     *goi18n.Bundle
	localizers map[string]*goi18n.Localizer
	// plain holds, per locale, every message that takes no template data,
	// resolved once: pages look up dozens of labels each, and go-i18n's
	// Localize (language matching, template execution) is far too slow to
	// run per label on every request.
	plain map[string]map[string]string
	// escaped is plain as HTML text, for Label.
	escaped map[string]map[string]string
	// fielded holds, per locale, the messages whose only template actions
	// are fields ({{.Count}}), split around them: In fills them in without
	// go-i18n's Localize (language matching, then text/template), which the
	// bell's label ("Avisos: 3 sin leer") paid on every page.
	fielded map[string]map[string]fieldMessage
)

// fieldMessage is a message cut at its fields: text[i] comes before
// names[i], and the last text ends it.
type fieldMessage struct {
	text, names []string
}

var fieldAction = regexp.MustCompile(`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// split cuts a message at its fields, or says no when it has any other
// template action.
func split(message string) (fieldMessage, bool) {
	var m fieldMessage
	last := 0
	for _, loc := range fieldAction.FindAllStringSubmatchIndex(message, -1) {
		m.text = append(m.text, message[last:loc[0]])
		m.names = append(m.names, message[loc[2]:loc[3]])
		last = loc[1]
	}
	m.text = append(m.text, message[last:])
	for _, t := range m.text {
		if strings.Contains(t, "{{") || strings.Contains(t, "}}") {
			return fieldMessage{}, false
		}
	}
	return m, len(m.names) > 0
}

// fill writes data into the message's fields. Only strings and integers,
// which text/template prints as they are: any other value (or a missing
// one) answers false, and go-i18n renders the message as it always did.
func (m fieldMessage) fill(data map[string]any) (string, bool) {
	var b strings.Builder
	for i, name := range m.names {
		b.WriteString(m.text[i])
		switch v := data[name].(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case json.Number:
			b.WriteString(string(v))
		default:
			return "", false
		}
	}
	b.WriteString(m.text[len(m.names)])
	return b.String(), true
}

func load() {
	bundle = goi18n.NewBundle(language.Spanish)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	localizers = map[string]*goi18n.Localizer{}
	for _, l := range Locales {
		// A broken catalog is a build defect: fail at start, not mid-request.
		bundle.MustParseMessageFileBytes(mustRead(l+".json"), l+".json")
		localizers[l] = goi18n.NewLocalizer(bundle, l, Default)
	}
	plain = map[string]map[string]string{}
	escaped = map[string]map[string]string{}
	fielded = map[string]map[string]fieldMessage{}
	for _, l := range Locales {
		var raw map[string]string
		if err := json.Unmarshal(mustRead(l+".json"), &raw); err != nil {
			panic(err)
		}
		plain[l] = map[string]string{}
		escaped[l] = map[string]string{}
		fielded[l] = map[string]fieldMessage{}
		for id, text := range raw {
			if strings.Contains(text, "{{") {
				if m, ok := split(text); ok {
					fielded[l][id] = m
				}
				continue
			}
			if s, err := localizers[l].Localize(&goi18n.LocalizeConfig{MessageID: id}); err == nil {
				plain[l][id] = s
				escaped[l][id] = html.EscapeString(s)
			}
		}
	}
}

func mustRead(name string) []byte {
	b, err := catalogs.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

type ctxKey struct{}

// Data decodes a message's data kept as JSON (a refusal stored on a row
// with its parameters). Numbers stay as written (json.Number): decoded as
// float64, a limit of 1,000,000 would print as 1e+06.
func Data(raw []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var data map[string]any
	if err := d.Decode(&data); err != nil {
		return nil, fmt.Errorf("i18n: message data: %w", err)
	}
	return data, nil
}

// WithLocale returns a context whose messages are in locale (es when unknown).
func WithLocale(ctx context.Context, locale string) context.Context {
	return context.WithValue(ctx, ctxKey{}, Normalize(locale))
}

// Locale returns the context's locale.
func Locale(ctx context.Context) string {
	if l, ok := ctx.Value(ctxKey{}).(string); ok {
		return l
	}
	return Default
}

// Normalize maps anything that is not a supported locale to the default.
func Normalize(locale string) string {
	for _, l := range Locales {
		if l == locale {
			return l
		}
	}
	return Default
}

// T returns message id in the context's locale. A missing id renders as the
// id itself, which the catalog tests catch before it reaches a user.
func T(ctx context.Context, id string) string {
	return Tf(ctx, id, nil)
}

// Tf is T with template data ({{.Name}} in the catalog).
func Tf(ctx context.Context, id string, data map[string]any) string {
	return In(Locale(ctx), id, data)
}

// In looks a message up in an explicit locale (e-mails, jobs).
func In(locale, id string, data map[string]any) string {
	bundleOnce.Do(load)
	if data == nil {
		if s, ok := plain[Normalize(locale)][id]; ok {
			return s
		}
	} else if m, ok := fielded[Normalize(locale)][id]; ok {
		if s, ok := m.fill(data); ok {
			return s
		}
	}
	s, err := localizers[Normalize(locale)].Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// Label is message id as a templ component (`@i18n.Label("nav.home")`):
// the same text as `{ i18n.T(ctx, "nav.home") }`, written straight from
// memory, escaped when the catalogs load. An expression in braces goes
// through fmt.Sprint and the HTML escaper on every render, and a page has
// dozens of labels, some on every row of a list.
type Label string

// Render writes the label in the context's locale.
func (id Label) Render(ctx context.Context, w io.Writer) error {
	bundleOnce.Do(load)
	locale := Locale(ctx)
	s, ok := escaped[locale][string(id)]
	if !ok {
		// A copy, so that id itself never escapes: an id built in the
		// template ("severity." + it.Severity) then stays on the stack.
		s = html.EscapeString(In(locale, strings.Clone(string(id)), nil))
	}
	_, err := io.WriteString(w, s)
	return err
}

// Has reports whether id exists in the default catalog.
func Has(id string) bool {
	bundleOnce.Do(load)
	_, err := localizers[Default].Localize(&goi18n.LocalizeConfig{MessageID: id})
	return err == nil
}

// IDs lists the message ids of a locale's catalog (for tests).
func IDs(locale string) ([]string, error) {
	var m map[string]any
	if err := json.Unmarshal(mustRead(locale+".json"), &m); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m))
	for k := range m {
		ids = append(ids, k)
	}
	return ids, nil
}
