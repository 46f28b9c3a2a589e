package apptest

import (
	"bytes"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
)

// File is one file of a multipart form.
type File struct {
	Field, Name string
	Data        []byte
}

// PostFiles submits a multipart form (as a browser's file upload, or htmx's
// hx-encoding="multipart/form-data") with the current CSRF token.
func (c *Client) PostFiles(path string, fields url.Values, files ...File) Response {
	c.env.T.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if fields == nil {
		fields = url.Values{}
	}
	// The token first, as every upload form puts it (CSRF reads a
	// streamed upload no further), then the fields in a stable order.
	token := fields.Get("_csrf")
	if token == "" {
		token = c.CSRF()
	}
	_ = w.WriteField("_csrf", token)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if k == "_csrf" {
			continue
		}
		for _, v := range fields[k] {
			_ = w.WriteField(k, v)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.Field, f.Name)
		if err != nil {
			c.env.T.Fatal(err)
		}
		_, _ = fw.Write(f.Data)
	}
	if err := w.Close(); err != nil {
		c.env.T.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.Do(req)
}
