package capture_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/config"
)

// world is the shared test world with one web form, whose action the
// admin page's snippet gives.
type world struct {
	*apptest.World
	action string
}

var actionRE = regexp.MustCompile(`action=(?:"|&#34;|&quot;)http://localhost:8080(/f/[A-Za-z0-9_-]+)`)

func newWorld(t *testing.T, thankYou string) *world {
	t.Helper()
	// The tests speak for several client addresses through X-Forwarded-For
	// from the test transport's own address.
	w := &world{World: apptest.NewWorld(t, "Web S.L.", "web.test", func(c *config.Config) { c.TrustedProxies = []string{"0.0.0.0"} })}
	if r := w.AdminC.Post("/admin/forms", url.Values{"name": {"Contacto"}, "thank_you_url": {thankYou}}); r.Status != http.StatusSeeOther {
		t.Fatalf("create form: %d %.300s", r.Status, r.Body)
	}
	page := w.AdminC.Get("/admin/forms")
	m := actionRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no snippet with the form's action on the admin page")
	}
	w.action = m[1]
	return w
}

// post submits like a browser on another site: no cookies, no CSRF token.
func (w *world) post(t *testing.T, body, contentType, ip string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, w.action, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if strings.Contains(contentType, "json") {
		req.Header.Set("Accept", "application/json")
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	res, err := w.Env.App.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFormSubmissionCreatesLead(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "https://cliente.example/gracias")
	form := url.Values{"company": {"Óptica Norte"}, "name": {"Ana Ruiz"}, "email": {"Ana@OpticaNorte.example"}, "phone": {"600 112 233"},
		"message": {"Quiero presupuesto"}, "utm_source": {"google"}}
	res := w.post(t, form.Encode(), "application/x-www-form-urlencoded", "")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "https://cliente.example/gracias" {
		t.Fatalf("submit: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	var name, contact, email, phone, source, notes string
	err := w.Env.DB.QueryRow(context.Background(), `SELECT name, contact_name, email, phone, source, notes FROM leads WHERE org_id = $1`, w.Org.ID).
		Scan(&name, &contact, &email, &phone, &source, &notes)
	if err != nil {
		t.Fatal(err)
	}
	if name != "Óptica Norte" || contact != "Ana Ruiz" || email != "ana@opticanorte.example" || phone != "+34600112233" || source != "web_form" ||
		notes != "Quiero presupuesto\nutm_source: google" {
		t.Errorf("lead: %q %q %q %q %q %q", name, contact, email, phone, source, notes)
	}
	if n := w.Env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND topic = 'lead'`, w.Org.ID); n != 1 {
		t.Errorf("%d lead events, want 1", n)
	}
}

func TestJSONSubmissionAndCORS(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "")
	pre := httptest.NewRequest(http.MethodOptions, w.action, nil)
	pre.Header.Set("Origin", "https://cliente.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	if res, err := w.Env.App.Test(pre, -1); err != nil || res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %v %v", err, res)
	}
	res := w.post(t, `{"name":"Luis","email":"luis@example.org"}`, "application/json", "")
	if res.StatusCode != http.StatusCreated || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("json submit: %d", res.StatusCode)
	}
	bad := w.post(t, `{"name":"Luis","email":"luis@"}`, "application/json", "")
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Header.Get("Content-Type"), "problem+json") {
		t.Errorf("invalid e-mail: %d %s", bad.StatusCode, bad.Header.Get("Content-Type"))
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads`); n != 1 {
		t.Errorf("%d leads, want 1", n)
	}
}

func TestBadSubmissions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "")
	cases := []struct {
		name, body, ctype string
		status            int
	}{
		{"no contact", url.Values{"name": {"Sin datos"}}.Encode(), "application/x-www-form-urlencoded", http.StatusUnprocessableEntity},
		{"bad phone", url.Values{"name": {"X"}, "phone": {"12"}}.Encode(), "application/x-www-form-urlencoded", http.StatusUnprocessableEntity},
		{"broken json", `{"name":`, "application/json", http.StatusBadRequest},
		{"NUL byte", url.Values{"name": {"a\x00b"}, "email": {"a@b.example"}}.Encode(), "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"control character", url.Values{"name": {"a"}, "email": {"a@b.example"}, "message": {"hola\x1b[31m"}}.Encode(), "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"huge field", url.Values{"name": {strings.Repeat("x", 5000)}, "email": {"a@b.example"}}.Encode(), "application/x-www-form-urlencoded", http.StatusBadRequest},
	}
	for _, tc := range cases {
		if res := w.post(t, tc.body, tc.ctype, ""); res.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.status)
		}
	}
	// The honeypot looks like success and stores nothing.
	if res := w.post(t, url.Values{"name": {"Bot"}, "email": {"bot@spam.example"}, "website": {"http://spam"}}.Encode(), "application/x-www-form-urlencoded", ""); res.StatusCode != http.StatusOK {
		t.Errorf("honeypot: %d, want the thank-you page", res.StatusCode)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads`); n != 0 {
		t.Errorf("%d leads from bad submissions, want 0", n)
	}
	// Unknown token: 404, like any id that is not yours.
	req := httptest.NewRequest(http.MethodPost, "/f/not-a-token", strings.NewReader("email=a@b.example"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, _ := w.Env.App.Test(req, -1); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown token: %d", res.StatusCode)
	}
}

func TestRateLimitPerIPAndRotation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "")
	ok := url.Values{"name": {"Ana"}, "email": {"ana@example.org"}}.Encode()
	for i := 0; i < 20; i++ {
		if res := w.post(t, ok, "application/x-www-form-urlencoded", "203.0.113.7"); res.StatusCode != http.StatusOK {
			t.Fatalf("submission %d: %d", i+1, res.StatusCode)
		}
	}
	if res := w.post(t, ok, "application/x-www-form-urlencoded", "203.0.113.7"); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("21st submission from one address: %d", res.StatusCode)
	}
	if res := w.post(t, ok, "application/x-www-form-urlencoded", "198.51.100.9"); res.StatusCode != http.StatusOK {
		t.Errorf("another address: %d", res.StatusCode)
	}
	// Rotating the token cuts off the old snippet.
	old := w.action
	id := regexp.MustCompile(`/admin/forms/(\d+)/rotate`).FindStringSubmatch(w.AdminC.Get("/admin/forms").Body)
	if id == nil {
		t.Fatal("no rotate button")
	}
	if r := w.AdminC.Post("/admin/forms/"+id[1]+"/rotate", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("rotate: %d", r.Status)
	}
	if res := w.post(t, ok, "application/x-www-form-urlencoded", "192.0.2.1"); res.StatusCode != http.StatusNotFound {
		t.Errorf("old token after rotation: %d, want 404", res.StatusCode)
	}
	if newAction := actionRE.FindStringSubmatch(w.AdminC.Get("/admin/forms").Body); newAction == nil || newAction[1] == old {
		t.Errorf("snippet still shows the old token")
	}
}

func TestAdminFormsValidationAndRoles(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "")
	if r := w.AdminC.Post("/admin/forms", url.Values{"name": {""}, "thank_you_url": {"javascript:alert(1)"}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, "Escriba una dirección completa") {
		t.Errorf("bad form: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM lead_forms`); n != 1 {
		t.Errorf("%d forms, want 1", n)
	}
	if r := w.RepC.Get("/admin/forms"); r.Status != http.StatusForbidden {
		t.Errorf("rep on forms page: %d", r.Status)
	}
}

// Every submission counts against its address before its body is read, so
// refused bodies (malformed, too big) use up the allowance too.
func TestRefusedBodiesCountAgainstTheAddress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "")
	huge := url.Values{"name": {"Ana"}, "email": {"ana@example.org"}, "message": {strings.Repeat("x", 300<<10)}}.Encode()
	for i := 0; i < 10; i++ {
		if res := w.post(t, `{"name":`, "application/json", "203.0.113.8"); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("malformed %d: %d", i+1, res.StatusCode)
		}
		if res := w.post(t, huge, "application/x-www-form-urlencoded", "203.0.113.8"); res.StatusCode != http.StatusRequestEntityTooLarge && res.StatusCode != http.StatusBadRequest {
			t.Fatalf("too big %d: %d", i+1, res.StatusCode)
		}
	}
	ok := url.Values{"name": {"Ana"}, "email": {"ana@example.org"}}.Encode()
	if res := w.post(t, ok, "application/x-www-form-urlencoded", "203.0.113.8"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after 20 refused bodies: %d, want 429", res.StatusCode)
	}
	if res := w.post(t, ok, "application/x-www-form-urlencoded", "198.51.100.10"); res.StatusCode != http.StatusOK {
		t.Errorf("another address: %d", res.StatusCode)
	}
}
