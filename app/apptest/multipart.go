package apptest

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	if !fields.Has("_csrf") {
		fields.Set("_csrf", c.CSRF())
	}
	for k, vs := range fields {
		for _, v := range vs {
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
