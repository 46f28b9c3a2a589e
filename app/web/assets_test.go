package web

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"pulso/static"
)

func assetsApp() *fiber.App {
	app := fiber.New()
	app.Get("/static/*", Assets)
	return app
}

func get(t *testing.T, app *fiber.App, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(fiber.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func embedded(t *testing.T, url string) static.Asset {
	t.Helper()
	a, ok := static.Lookup(strings.TrimPrefix(url, "/static/"))
	if !ok {
		t.Fatalf("static.Lookup(%q) failed", url)
	}
	return a
}

func TestAssetsHashedURL(t *testing.T) {
	app := assetsApp()
	tests := []struct{ name, contentType string }{
		{"css/pulso.css", "text/css; charset=utf-8"},
		{"js/pulso.js", "text/javascript; charset=utf-8"},
		{"img/favicon.svg", "image/svg+xml"},
		{"img/icons.svg", "image/svg+xml"},
		{"vendor/htmx/htmx.min.js", "text/javascript; charset=utf-8"},
		{"vendor/htmx-ext-ws/ws.min.js", "text/javascript; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := static.URL(tt.name)
			want := embedded(t, url)
			resp, body := get(t, app, url)
			if resp.StatusCode != fiber.StatusOK {
				t.Fatalf("GET %s: status %d", url, resp.StatusCode)
			}
			if !bytes.Equal(body, want.Data) {
				t.Errorf("GET %s: body differs from the embedded file (%d vs %d bytes)", url, len(body), len(want.Data))
			}
			for header, value := range map[string]string{
				"Cache-Control": "public, max-age=31536000, immutable",
				"Content-Type":  tt.contentType,
				"ETag":          "W/" + want.ETag,
			} {
				if got := resp.Header.Get(header); got != value {
					t.Errorf("GET %s: %s = %q, want %q", url, header, got, value)
				}
			}
		})
	}
}

func TestAssetsIfNoneMatch(t *testing.T) {
	app := assetsApp()
	url := static.URL("vendor/htmx/htmx.min.js")
	etag := embedded(t, url).ETag
	for _, tt := range []struct {
		ifNoneMatch string
		status      int
	}{
		{etag, fiber.StatusNotModified},
		{"W/" + etag, fiber.StatusNotModified},
		{`"other", W/` + etag, fiber.StatusNotModified},
		{"*", fiber.StatusNotModified},
		{`"other"`, fiber.StatusOK},
		{`W/"other"`, fiber.StatusOK},
		{strings.Trim(etag, `"`), fiber.StatusOK}, // unquoted is not a tag
	} {
		t.Run(tt.ifNoneMatch, func(t *testing.T) {
			resp, body := get(t, app, url, "If-None-Match", tt.ifNoneMatch)
			if resp.StatusCode != tt.status {
				t.Fatalf("If-None-Match %s: status %d, want %d", tt.ifNoneMatch, resp.StatusCode, tt.status)
			}
			if tt.status == fiber.StatusNotModified {
				if len(body) != 0 {
					t.Errorf("304 with a %d-byte body", len(body))
				}
				if got := resp.Header.Get("ETag"); got != "W/"+etag {
					t.Errorf("304 ETag = %q, want W/%s", got, etag)
				}
				if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
					t.Errorf("304 Cache-Control = %q", got)
				}
			}
		})
	}
}

func TestAssetsPlainNameRevalidates(t *testing.T) {
	app := assetsApp()
	want := embedded(t, "css/pulso.css")
	resp, body := get(t, app, "/static/css/pulso.css")
	if resp.StatusCode != fiber.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/css; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if !bytes.Equal(body, want.Data) {
		t.Error("body differs from the embedded file")
	}
	resp, _ = get(t, app, "/static/css/pulso.css", "If-None-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != fiber.StatusNotModified {
		t.Errorf("revalidation with the served ETag: status %d, want 304", resp.StatusCode)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("304 Cache-Control = %q, want no-cache", got)
	}
}

func TestAssetsUnknown(t *testing.T) {
	app := assetsApp()
	for _, url := range []string{
		"/static/",
		"/static/nope.js",
		"/static/css",
		"/static/css/",
		"/static/css/pulso.0000000000.css",
		"/static/../go.mod",
		"/static/%2e%2e/go.mod",
		"/static/css%2Fpulso.css",
		"/static/static.go",
	} {
		resp, _ := get(t, app, url)
		if resp.StatusCode != fiber.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", url, resp.StatusCode)
		}
	}
}

func TestAssetsReturnsErrNotFound(t *testing.T) {
	// The app's error handler renders 404s; Assets must hand it the error
	// rather than write a page of its own.
	var got error
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		got = err
		return c.SendStatus(fiber.StatusTeapot)
	}})
	app.Get("/static/*", Assets)
	resp, _ := get(t, app, "/static/nope.js")
	if got != fiber.ErrNotFound || resp.StatusCode != fiber.StatusTeapot {
		t.Fatalf("error handler got %v (status %d), want fiber.ErrNotFound", got, resp.StatusCode)
	}
}

func TestAssetsHead(t *testing.T) {
	app := assetsApp()
	url := static.URL("js/pulso.js")
	resp, err := app.Test(httptest.NewRequest(fiber.MethodHead, url, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != fiber.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("HEAD %s: status %d, Cache-Control %q", url, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}
