package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

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

// Strict-Transport-Security goes only to clients that came over https:
// over TLS to us, or through a trusted proxy that says so. A client cannot
// get it onto a plain-http deployment by writing X-Forwarded-Proto itself.
func TestHSTSOnlyOverHTTPS(t *testing.T) {
	t.Parallel()
	get := func(env *apptest.Env, proto string) string {
		req := httptest.NewRequest(http.MethodGet, "/login", nil)
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		return env.Client().Do(req).Header.Get("Strict-Transport-Security")
	}
	proxied := apptest.New(t, func(c *config.Config) { c.TrustedProxies = []string{"0.0.0.0"} })
	direct := apptest.New(t)
	for _, tc := range []struct {
		name  string
		env   *apptest.Env
		proto string
		want  bool
	}{
		{"plain http", direct, "", false},
		{"untrusted client claims https", direct, "https", false},
		{"trusted proxy says https", proxied, "https", true},
		{"trusted proxy says http", proxied, "http", false},
		{"trusted proxy, no header", proxied, "", false},
	} {
		if got := get(tc.env, tc.proto); (got != "") != tc.want || (tc.want && !strings.HasPrefix(got, "max-age=")) {
			t.Errorf("%s: Strict-Transport-Security %q, want it %v", tc.name, got, tc.want)
		}
	}

	// Over TLS straight to the app.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = direct.App.Listener(ln) }()
	t.Cleanup(func() { _ = direct.App.Shutdown() })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	res, err := client.Get("https://" + ln.Addr().String() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Errorf("over TLS: Strict-Transport-Security %q", got)
	}
}

// selfSigned makes a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
