package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// diskHash hashes the file as it is on disk, independently of the embed.
func diskHash(t *testing.T, name string) (string, []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:hashLen], data
}

func TestURL(t *testing.T) {
	tests := []struct {
		name string
		want *regexp.Regexp
	}{
		{"css/pulso.css", regexp.MustCompile(`^/static/css/pulso\.([0-9a-f]{10})\.css$`)},
		{"js/pulso.js", regexp.MustCompile(`^/static/js/pulso\.([0-9a-f]{10})\.js$`)},
		{"img/favicon.svg", regexp.MustCompile(`^/static/img/favicon\.([0-9a-f]{10})\.svg$`)},
		{"img/icons.svg", regexp.MustCompile(`^/static/img/icons\.([0-9a-f]{10})\.svg$`)},
		{"vendor/htmx/htmx.min.js", regexp.MustCompile(`^/static/vendor/htmx/htmx\.min\.([0-9a-f]{10})\.js$`)},
		{"vendor/htmx-ext-ws/ws.min.js", regexp.MustCompile(`^/static/vendor/htmx-ext-ws/ws\.min\.([0-9a-f]{10})\.js$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := URL(tt.name)
			m := tt.want.FindStringSubmatch(got)
			if m == nil {
				t.Fatalf("URL(%q) = %q, want match for %s", tt.name, got, tt.want)
			}
			if hash, _ := diskHash(t, tt.name); m[1] != hash {
				t.Errorf("URL(%q) carries hash %s, file on disk hashes to %s", tt.name, m[1], hash)
			}
			if again := URL(tt.name); again != got {
				t.Errorf("URL(%q) not stable: %q then %q", tt.name, got, again)
			}
		})
	}
}

func TestURLPanicsOnUnknownName(t *testing.T) {
	for _, name := range []string{"css/pulso.cs", "", "/css/pulso.css", "static/css/pulso.css", "css"} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("URL(%q) did not panic", name)
				}
				if msg, _ := r.(string); !strings.Contains(msg, name) {
					t.Errorf("panic %v does not name %q", r, name)
				}
			}()
			URL(name)
		})
	}
}

func TestLookupHashedName(t *testing.T) {
	tests := []struct {
		name, contentType string
	}{
		{"css/pulso.css", "text/css; charset=utf-8"},
		{"js/pulso.js", "text/javascript; charset=utf-8"},
		{"img/favicon.svg", "image/svg+xml"},
		{"img/icons.svg", "image/svg+xml"},
		{"vendor/htmx/htmx.min.js", "text/javascript; charset=utf-8"},
		{"vendor/htmx/LICENSE", "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hash, want := diskHash(t, tt.name)
			a, ok := Lookup(strings.TrimPrefix(URL(tt.name), "/static/"))
			if !ok {
				t.Fatalf("Lookup of the hashed name of %q failed", tt.name)
			}
			if !bytes.Equal(a.Data, want) {
				t.Errorf("Lookup(%q) returned %d bytes that differ from the file's %d", tt.name, len(a.Data), len(want))
			}
			if !a.Immutable {
				t.Error("hashed name not immutable")
			}
			if a.Name != tt.name {
				t.Errorf("Name = %q, want %q", a.Name, tt.name)
			}
			if a.ContentType != tt.contentType {
				t.Errorf("ContentType = %q, want %q", a.ContentType, tt.contentType)
			}
			if a.ETag != `"`+hash+`"` {
				t.Errorf("ETag = %s, want %q", a.ETag, hash)
			}
		})
	}
}

func TestLookupPlainNameIsNotImmutable(t *testing.T) {
	_, want := diskHash(t, "css/pulso.css")
	a, ok := Lookup("css/pulso.css")
	if !ok {
		t.Fatal("plain name does not resolve")
	}
	if a.Immutable {
		t.Error("plain name served as immutable: a deploy would leave browsers with stale bytes")
	}
	if !bytes.Equal(a.Data, want) {
		t.Error("plain name returns other bytes than the file")
	}
	hashed, _ := Lookup(strings.TrimPrefix(URL("css/pulso.css"), "/static/"))
	if a.ETag != hashed.ETag {
		t.Errorf("plain and hashed ETags differ: %s vs %s", a.ETag, hashed.ETag)
	}
}

func TestLookupRejectsOddPaths(t *testing.T) {
	hashed := strings.TrimPrefix(URL("css/pulso.css"), "/static/")
	for _, p := range []string{
		"",
		".",
		"/",
		"../go.mod",
		"../static/static.go",
		"static.go",
		"css",
		"css/",
		"vendor/htmx",
		"/css/pulso.css",
		"./css/pulso.css",
		"css/../css/pulso.css",
		"css//pulso.css",
		"CSS/pulso.css",
		"css/pulso.css/",
		"/" + hashed,
		hashed + "/",
		"css/pulso.0000000000.css",
		"css/pulso.css.map",
		"css%2Fpulso.css",
	} {
		if a, ok := Lookup(p); ok {
			t.Errorf("Lookup(%q) resolved to %q", p, a.Name)
		}
	}
}

func TestLookupDoesNotShareMutableFlag(t *testing.T) {
	// Lookup hands out copies: an immutable answer must not leak into the
	// plain-name answer for the same file.
	Lookup(strings.TrimPrefix(URL("js/pulso.js"), "/static/"))
	if a, _ := Lookup("js/pulso.js"); a.Immutable {
		t.Fatal("plain name became immutable after a hashed lookup")
	}
}

func TestEveryEmbeddedFileRoundTrips(t *testing.T) {
	n := 0
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		a, ok := Lookup(strings.TrimPrefix(URL(name), "/static/"))
		if !ok || a.Name != name || !a.Immutable {
			t.Errorf("%s: URL %s does not resolve back to it", name, URL(name))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("only %d embedded files; css, js, img and vendor should all be there", n)
	}
}

func TestHashedName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"css/pulso.css", "css/pulso.3f2a1b9c0d.css"},
		{"vendor/htmx/htmx.min.js", "vendor/htmx/htmx.min.3f2a1b9c0d.js"},
		{"vendor/VERSIONS", "vendor/VERSIONS.3f2a1b9c0d"},
		{"a.b/c", "a.b/c.3f2a1b9c0d"},
	}
	for _, tt := range tests {
		if got := hashedName(tt.name, "3f2a1b9c0d"); got != tt.want {
			t.Errorf("hashedName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestBuildRefusesAmbiguousNames(t *testing.T) {
	data := []byte("x")
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])[:hashLen]
	fsys := fstest.MapFS{
		"a.js":              {Data: data},
		"a." + hash + ".js": {Data: []byte("y")},
		"css/b.css":         {Data: []byte("z")},
	}
	_, err := build(fsys)
	if err == nil || !strings.Contains(err.Error(), "both a file and a hashed name") {
		t.Fatalf("build of a file named like another file's hashed name: err = %v", err)
	}
	delete(fsys, "a."+hash+".js")
	if _, err := build(fsys); err != nil {
		t.Fatalf("build without the clash: %v", err)
	}
}

// Every script of ours is loaded by some template: a merge once dropped
// dashboard.js from the layout, and the dashboard's charts silently
// stopped being drawn.
func TestEveryScriptIsLoaded(t *testing.T) {
	var templates strings.Builder
	err := fs.WalkDir(os.DirFS("../views"), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".templ") {
			return err
		}
		b, err := os.ReadFile("../views/" + path)
		templates.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := fs.Glob(os.DirFS("js"), "*.js")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in js/: %v", err)
	}
	for _, name := range scripts {
		if !strings.Contains(templates.String(), `static.URL("js/`+name+`")`) {
			t.Errorf("js/%s is loaded by no template", name)
		}
	}
}
