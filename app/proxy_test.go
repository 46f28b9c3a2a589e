package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/config"
)

// The client IP throttles logins, so only configured proxies may set it.
func TestClientIPFromTrustedProxiesOnly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		trusted []string
		want    string
	}{
		{"no proxies configured: header ignored", nil, "0.0.0.0"},
		{"peer is a trusted proxy: header used", []string{"0.0.0.0"}, "203.0.113.9"},
		{"peer is not among the proxies: header ignored", []string{"10.0.0.0/8"}, "0.0.0.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := apptest.New(t, func(c *config.Config) { c.TrustedProxies = tc.trusted })
			c := env.Client()
			form := url.Values{"_csrf": {c.CSRF()}, "email": {"nobody@x.test"}, "password": {"wrong-password"}}
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "203.0.113.9, 10.1.2.3")
			if r := c.Do(req); r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d", r.Status)
			}
			var ip string
			if err := env.DB.QueryRow(context.Background(), `SELECT ip FROM login_failures WHERE email = 'nobody@x.test'`).Scan(&ip); err != nil {
				t.Fatal(err)
			}
			if ip != tc.want {
				t.Errorf("recorded ip %q, want %q", ip, tc.want)
			}
		})
	}
}
