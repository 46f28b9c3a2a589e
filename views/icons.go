package views

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sync"

	"pulso/static"
)

// icon draws one symbol of the sprite static/img/icons.svg. Severity kinds
// (info, success, warning, error) have one shape each everywhere, so colour
// is never the only signal; a name the sprite lacks draws "info".
//
// Icons used to be inline SVG, the same paths repeated in every nav item and
// flash of every page: bytes to render and gzip on each request. The sprite
// is one content-hashed file the browser caches for good, and each icon is a
// constant string written as is.
type icon string

func (name icon) Render(_ context.Context, w io.Writer) error {
	markup := icons()
	s, ok := markup[string(name)]
	if !ok {
		s = markup[defaultIcon]
	}
	_, err := io.WriteString(w, s)
	return err
}

const (
	spriteFile  = "img/icons.svg"
	defaultIcon = "info"
)

var symbolID = regexp.MustCompile(`<symbol id="([a-z0-9-]+)"`)

// icons is the markup of every symbol in the sprite, by name. The sprite is
// the one list of names: a symbol added there can be used at once.
var icons = sync.OnceValue(func() map[string]string {
	sprite, ok := static.Lookup(spriteFile)
	if !ok {
		panic("views: no " + spriteFile) // embedded at compile time: a build bug
	}
	url := static.URL(spriteFile)
	markup := map[string]string{}
	for _, m := range symbolID.FindAllSubmatch(sprite.Data, -1) {
		name := string(m[1])
		markup[name] = `<svg class="icon" width="20" height="20" aria-hidden="true"><use href="` + url + `#` + name + `"></use></svg>`
	}
	if _, ok := markup[defaultIcon]; !ok {
		panic(fmt.Sprintf("views: %s has no %q symbol", spriteFile, defaultIcon))
	}
	return markup
})
