// Package static embeds Pulso's front-end files and names each one after its
// content, so the server can tell browsers to cache them forever: a changed
// file gets a new URL, never a stale copy.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed css js img vendor
var files embed.FS

// hashLen hex characters of SHA-256 are plenty to tell versions of one file
// apart, and keep URLs short.
const hashLen = 10

// Asset is an embedded file as the server should send it.
type Asset struct {
	Name        string // plain name, e.g. "css/pulso.css"
	Data        []byte // shared with every caller: never modify it
	ContentType string
	// ETag is a strong entity tag ("<hash>") of Data, the same hash as in the URL.
	ETag string
	// Immutable is true when the asset was asked for by its hashed name, whose
	// bytes can never change. A plain name may serve new bytes after a deploy,
	// so it must be revalidated.
	Immutable bool
}

type index struct {
	byName   map[string]*Asset // "css/pulso.css"
	byHashed map[string]*Asset // "css/pulso.3f2a1b9c0d.css"
	hashed   map[string]string // plain name -> hashed name
}

// assets is built on first use; embedded files cannot change afterwards.
var assets = sync.OnceValue(func() *index {
	idx, err := build(files)
	if err != nil {
		panic(err) // the embedded tree is fixed at compile time: this is a build bug
	}
	return idx
})

func build(fsys fs.FS) (*index, error) {
	idx := &index{
		byName:   map[string]*Asset{},
		byHashed: map[string]*Asset{},
		hashed:   map[string]string{},
	}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		hash := hex.EncodeToString(sum[:])[:hashLen]
		a := &Asset{
			Name:        name,
			Data:        data,
			ContentType: contentType(name, data),
			ETag:        `"` + hash + `"`,
		}
		hn := hashedName(name, hash)
		if _, dup := idx.byHashed[hn]; dup {
			return fmt.Errorf("static: two files hash to the name %q", hn)
		}
		idx.byName[name] = a
		idx.byHashed[hn] = a
		idx.hashed[name] = hn
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: index embedded files: %w", err)
	}
	// A file literally named like another file's hashed name would make one
	// path mean two things; refuse to start rather than serve the wrong bytes.
	for hn := range idx.byHashed {
		if _, clash := idx.byName[hn]; clash {
			return nil, fmt.Errorf("static: %q is both a file and a hashed name", hn)
		}
	}
	return idx, nil
}

// hashedName inserts the hash before the last extension:
// "vendor/htmx/htmx.min.js" -> "vendor/htmx/htmx.min.<hash>.js"; a name
// without an extension gets it appended: "vendor/VERSIONS.<hash>".
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// Types are fixed here rather than taken from mime.TypeByExtension, whose
// answers depend on the host's mime tables.
var contentTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".map":   "application/json; charset=utf-8",
	".json":  "application/json; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".webp":  "image/webp",
	".avif":  "image/avif",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".txt":   "text/plain; charset=utf-8",
}

func contentType(name string, data []byte) string {
	if ct, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return ct
	}
	return http.DetectContentType(data) // LICENSE, VERSIONS: text/plain
}

// URL returns the cache-busting URL of an embedded file, for templates:
// URL("vendor/htmx/htmx.min.js") == "/static/vendor/htmx/htmx.min.<hash>.js".
// It panics on a name that is not embedded, so a typo in a template fails the
// first test that renders it instead of shipping a broken link.
func URL(name string) string {
	hn, ok := assets().hashed[name]
	if !ok {
		panic(fmt.Sprintf("static: no embedded file %q", name))
	}
	return "/static/" + hn
}

// Lookup resolves a path under /static/ (without that prefix). A hashed name
// gives an immutable Asset; the plain name also resolves, for hand-typed URLs
// and stale references, with Immutable false. Anything else, including
// directories and paths that try to leave the tree, is not found.
func Lookup(p string) (Asset, bool) {
	idx := assets()
	if a, ok := idx.byHashed[p]; ok {
		asset := *a
		asset.Immutable = true
		return asset, true
	}
	if a, ok := idx.byName[p]; ok {
		return *a, true
	}
	return Asset{}, false
}
