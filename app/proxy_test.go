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

// The client IP throttles logins and goes into the audit trail, so only
// configured proxies may say who the client is, and only for themselves:
// each proxy appends the address it saw to X-Forwarded-For, so the entries
// left of the last proxy's are whatever the client wrote. The client is the
// right-most address that is not one of our proxies. app.Test connects from
// 0.0.0.0, which plays the balancer here.
func TestClientIPFromTrustedProxiesOnly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		trusted []string
		xff     []string // one X-Forwarded-For line each
		want    string
	}{
		{"no proxies configured: header ignored", nil, []string{"203.0.113.9, 10.1.2.3"}, "0.0.0.0"},
		{"peer is not among the proxies: header ignored", []string{"10.0.0.0/8"}, []string{"203.0.113.9"}, "0.0.0.0"},
		{"a spoofed entry left of the real one is ignored", []string{"0.0.0.0"}, []string{"198.51.100.7, 203.0.113.9"}, "203.0.113.9"},
		{"inner proxies are skipped from the right", []string{"0.0.0.0", "10.0.0.0/8"}, []string{"198.51.100.7, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"several header lines read as one list", []string{"0.0.0.0"}, []string{"198.51.100.7", "203.0.113.9"}, "203.0.113.9"},
		{"a port after the address", []string{"0.0.0.0"}, []string{"198.51.100.7, 203.0.113.9:4711"}, "203.0.113.9"},
		{"IPv6 with a port", []string{"0.0.0.0"}, []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"IPv4-mapped IPv6", []string{"0.0.0.0"}, []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"garbage where the proxy's entry should be: the proxy is the client", []string{"0.0.0.0"}, []string{"203.0.113.9, not-an-ip"}, "0.0.0.0"},
		{"only proxies: the left-most of them", []string{"0.0.0.0", "10.0.0.0/8"}, []string{"10.9.9.9, 10.1.2.3"}, "10.9.9.9"},
		{"empty header", []string{"0.0.0.0"}, []string{""}, "0.0.0.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := apptest.New(t, func(c *config.Config) { c.TrustedProxies = tc.trusted })
			c := env.Client()
			form := url.Values{"_csrf": {c.CSRF()}, "email": {"nobody@x.test"}, "password": {"wrong-password"}}
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
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
