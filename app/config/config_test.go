package config_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pulso/app/config"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "" || c.Addr != ":8080" || c.SMTPURL != "" || c.LogFormat != "text" ||
		c.LogLevel != slog.LevelInfo || c.DataDir != ".pulso" || c.WorkersDefault != 50 ||
		c.Secret != nil || len(c.TrustedProxies) != 0 {
		t.Errorf("defaults: %+v", c)
	}
	if c.BaseURL == nil || c.BaseURL.String() != "http://localhost:8080" {
		t.Errorf("BaseURL = %v", c.BaseURL)
	}
	if c.InboundSMTPAddr != "" || c.InboundDomain != "localhost" || c.InboundMaxBytes != 25<<20 || c.DocumentMaxBytes != 20<<20 {
		t.Errorf("inbound/document defaults: addr %q domain %q max %d doc %d", c.InboundSMTPAddr, c.InboundDomain, c.InboundMaxBytes, c.DocumentMaxBytes)
	}
	if !c.SMTPRequireTLS || c.InboundPerIPHour != 200 || c.InboundPerOrgHour != 1000 {
		t.Errorf("mail defaults: require TLS %v, per IP %d, per org %d", c.SMTPRequireTLS, c.InboundPerIPHour, c.InboundPerOrgHour)
	}
	if c.LiveMaxPerUser != 10 || c.LiveMaxPerOrg != 200 {
		t.Errorf("live socket caps: %d per user, %d per org; want 10 and 200", c.LiveMaxPerUser, c.LiveMaxPerOrg)
	}
	if c.SecureCookies() {
		t.Error("Secure cookies on plain http would be dropped by browsers")
	}
	// Metrics are for the host's own scraper unless opened up on purpose.
	if c.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("MetricsAddr = %q, want loopback", c.MetricsAddr)
	}
	if off, err := config.FromEnv(env(map[string]string{"PULSO_METRICS_ADDR": "off"})); err != nil || off.MetricsAddr != "" {
		t.Errorf("PULSO_METRICS_ADDR=off: %q (%v)", off.MetricsAddr, err)
	}
	if c.AEATURL != "" {
		t.Errorf("AEATURL = %q, want the AEAT's own", c.AEATURL)
	}
	if a, err := config.FromEnv(env(map[string]string{"PULSO_AEAT_URL": "https://127.0.0.1:8443/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"})); err != nil || a.AEATURL == "" {
		t.Errorf("PULSO_AEAT_URL: %q (%v)", a.AEATURL, err)
	}
	if _, err := config.FromEnv(env(map[string]string{"PULSO_AEAT_URL": "http://aeat.example"})); err == nil || !strings.Contains(err.Error(), "PULSO_AEAT_URL") {
		t.Errorf("PULSO_AEAT_URL over http: %v", err)
	}
	pay, err := config.FromEnv(env(map[string]string{"PULSO_PAYMENTS_URL": "https://api.mercadopago.com/", "PULSO_PAYMENTS_TOKEN": "APP_USR-1",
		"PULSO_PAYMENTS_WEBHOOK_SECRET": "whsec"}))
	if err != nil || pay.PaymentsURL != "https://api.mercadopago.com" || pay.PaymentsToken != "APP_USR-1" || string(pay.PaymentsWebhookSecret) != "whsec" {
		t.Errorf("payments: %q %q %q (%v)", pay.PaymentsURL, pay.PaymentsToken, pay.PaymentsWebhookSecret, err)
	}
	if _, err := config.FromEnv(env(map[string]string{"PULSO_PAYMENTS_URL": "api.mercadopago.com"})); err == nil || !strings.Contains(err.Error(), "PULSO_PAYMENTS_URL") {
		t.Errorf("PULSO_PAYMENTS_URL without a scheme: %v", err)
	}
	// Every variable FromEnv reads is documented in Vars (and so the README).
	documented := map[string]bool{}
	for _, v := range config.Vars {
		documented[v.Name] = true
	}
	_, _ = config.FromEnv(func(name string) string {
		if !documented[name] {
			t.Errorf("FromEnv reads %s, which Vars does not document", name)
		}
		return ""
	})
}

func TestValidSettings(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("s", 32)
	c, err := config.FromEnv(env(map[string]string{
		"DATABASE_URL":            "postgres://u@db/pulso",
		"PULSO_ADDR":              " 127.0.0.1:9000 ",
		"PULSO_BASE_URL":          "https://crm.example.es/pulso/",
		"PULSO_SECRET":            secret,
		"SMTP_URL":                "smtps://user:pass@mail.example.es:465",
		"LOG_LEVEL":               "DEBUG",
		"LOG_FORMAT":              "json",
		"PULSO_DATA_DIR":          "/var/lib/pulso",
		"PULSO_WORKERS":           "1000",
		"PULSO_TRUSTED_PROXIES":   "10.0.0.0/8, 192.168.1.1,,",
		"PULSO_SMTP_INBOUND_ADDR": ":2525",
		"PULSO_DOCUMENT_MAX_MB":   "5",
		"PULSO_LIVE_MAX_PER_USER": "3",
		"PULSO_LIVE_MAX_PER_ORG":  "40",
	}))
	if err != nil {
		t.Fatal(err)
	}
	// The inbox domain follows the public host unless set.
	if c.InboundSMTPAddr != ":2525" || c.InboundDomain != "crm.example.es" || c.DocumentMaxBytes != 5<<20 {
		t.Errorf("inbound: addr %q domain %q doc max %d", c.InboundSMTPAddr, c.InboundDomain, c.DocumentMaxBytes)
	}
	relaxed, err := config.FromEnv(env(map[string]string{"PULSO_SMTP_REQUIRE_TLS": "false", "PULSO_INBOUND_PER_IP_HOUR": "5", "PULSO_INBOUND_PER_ORG_HOUR": "7"}))
	if err != nil || relaxed.SMTPRequireTLS || relaxed.InboundPerIPHour != 5 || relaxed.InboundPerOrgHour != 7 {
		t.Errorf("mail settings: require TLS %v, per IP %d, per org %d (%v)", relaxed.SMTPRequireTLS, relaxed.InboundPerIPHour, relaxed.InboundPerOrgHour, err)
	}
	other, err := config.FromEnv(env(map[string]string{"PULSO_INBOUND_DOMAIN": "Correo.Example.ES", "PULSO_INBOUND_MAX_MB": "3"}))
	if err != nil || other.InboundDomain != "correo.example.es" || other.InboundMaxBytes != 3<<20 {
		t.Errorf("PULSO_INBOUND_DOMAIN: %q max %d (%v)", other.InboundDomain, other.InboundMaxBytes, err)
	}
	if c.Addr != "127.0.0.1:9000" || c.BaseURL.String() != "https://crm.example.es/pulso" || string(c.Secret) != secret ||
		c.LogLevel != slog.LevelDebug || c.LogFormat != "json" || c.WorkersDefault != 1000 || c.DataDir != "/var/lib/pulso" ||
		strings.Join(c.TrustedProxies, "|") != "10.0.0.0/8|192.168.1.1" {
		t.Errorf("parsed: %+v (base %v)", c, c.BaseURL)
	}
	if c.LiveMaxPerUser != 3 || c.LiveMaxPerOrg != 40 {
		t.Errorf("live socket caps: %d per user, %d per org", c.LiveMaxPerUser, c.LiveMaxPerOrg)
	}
	if !c.SecureCookies() {
		t.Error("https base URL must turn on Secure cookies")
	}
}

func TestInvalidSettings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, variable, value string
	}{
		{"ftp base URL", "PULSO_BASE_URL", "ftp://x"},
		{"base URL not a URL", "PULSO_BASE_URL", "not a url"},
		{"base URL without host", "PULSO_BASE_URL", "http://"},
		{"base URL relative", "PULSO_BASE_URL", "/pulso"},
		{"base URL bad escape", "PULSO_BASE_URL", "http://x/%zz"},
		{"log level", "LOG_LEVEL", "loud"},
		{"log format", "LOG_FORMAT", "xml"},
		{"smtp scheme", "SMTP_URL", "http://x"},
		{"smtp scheme with password", "SMTP_URL", "http://user:hunter2@x"},
		{"smtp no host", "SMTP_URL", "smtp://"},
		{"smtp not a URL", "SMTP_URL", "mail.example.es:25"},
		{"workers zero", "PULSO_WORKERS", "0"},
		{"workers negative", "PULSO_WORKERS", "-3"},
		{"workers not a number", "PULSO_WORKERS", "abc"},
		{"workers too many", "PULSO_WORKERS", "1001"},
		{"secret too short", "PULSO_SECRET", "short"},
		{"secret 31 bytes", "PULSO_SECRET", strings.Repeat("s", 31)},
		{"trusted proxy", "PULSO_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local"},
		{"inbound addr without port", "PULSO_SMTP_INBOUND_ADDR", "mail.example.es"},
		{"metrics addr without port", "PULSO_METRICS_ADDR", "localhost"},
		{"inbound domain with @", "PULSO_INBOUND_DOMAIN", "leads@example.es"},
		{"inbound domain empty label", "PULSO_INBOUND_DOMAIN", "example..es"},
		{"inbound domain hyphen", "PULSO_INBOUND_DOMAIN", "-example.es"},
		{"inbound max zero", "PULSO_INBOUND_MAX_MB", "0"},
		{"inbound max words", "PULSO_INBOUND_MAX_MB", "25MB"},
		{"document max too big", "PULSO_DOCUMENT_MAX_MB", "2048"},
		{"document max negative", "PULSO_DOCUMENT_MAX_MB", "-1"},
		{"require TLS not a boolean", "PULSO_SMTP_REQUIRE_TLS", "sometimes"},
		{"per IP cap zero", "PULSO_INBOUND_PER_IP_HOUR", "0"},
		{"per org cap words", "PULSO_INBOUND_PER_ORG_HOUR", "many"},
		{"sockets per user zero", "PULSO_LIVE_MAX_PER_USER", "0"},
		{"sockets per user words", "PULSO_LIVE_MAX_PER_USER", "ten"},
		{"sockets per org too many", "PULSO_LIVE_MAX_PER_ORG", "50001"},
		{"sockets per user above per org", "PULSO_LIVE_MAX_PER_USER", "300"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.FromEnv(env(map[string]string{tt.variable: tt.value}))
			if err == nil {
				t.Fatalf("%s=%q accepted", tt.variable, tt.value)
			}
			if !strings.Contains(err.Error(), tt.variable) {
				t.Errorf("error does not name %s: %v", tt.variable, err)
			}
			if tt.variable == "PULSO_SECRET" && strings.Contains(err.Error(), tt.value) {
				t.Errorf("error reveals the secret: %v", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error repeats SMTP_URL, which may hold a password: %v", err)
			}
		})
	}

	t.Run("https without secret", func(t *testing.T) {
		t.Parallel()
		_, err := config.FromEnv(env(map[string]string{"PULSO_BASE_URL": "https://crm.example.es"}))
		if err == nil || !strings.Contains(err.Error(), "PULSO_SECRET") {
			t.Fatalf("err = %v, want one naming PULSO_SECRET", err)
		}
	})
}

func TestAllErrorsReportedAtOnce(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"PULSO_BASE_URL":        "ftp://x",
		"LOG_LEVEL":             "loud",
		"LOG_FORMAT":            "xml",
		"SMTP_URL":              "http://x",
		"PULSO_WORKERS":         "abc",
		"PULSO_SECRET":          "short",
		"PULSO_TRUSTED_PROXIES": "nope",
	}
	_, err := config.FromEnv(env(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for name := range bad {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not mention %s:\n%v", name, err)
		}
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines != len(bad) {
		t.Errorf("%d error lines for %d bad variables:\n%v", lines, len(bad), err)
	}
}

func TestEnsureDevSecret(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "nested")
	c, err := config.FromEnv(env(map[string]string{"PULSO_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureDevSecret(); err != nil {
		t.Fatal(err)
	}
	if len(c.Secret) < 32 {
		t.Fatalf("secret of %d bytes", len(c.Secret))
	}
	path := filepath.Join(dir, "secret")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// A second start reuses it, so CSRF tokens survive a restart.
	again, _ := config.FromEnv(env(map[string]string{"PULSO_DATA_DIR": dir}))
	if err := again.EnsureDevSecret(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Secret, c.Secret) {
		t.Error("second call generated a new secret")
	}
	second, _ := os.ReadFile(path)
	if !bytes.Equal(first, second) {
		t.Error("second call rewrote the secret file")
	}

	// A configured secret wins and no file is written.
	other := filepath.Join(t.TempDir(), "other")
	set, err := config.FromEnv(env(map[string]string{"PULSO_DATA_DIR": other, "PULSO_SECRET": strings.Repeat("k", 40)}))
	if err != nil {
		t.Fatal(err)
	}
	if err := set.EnsureDevSecret(); err != nil {
		t.Fatal(err)
	}
	if string(set.Secret) != strings.Repeat("k", 40) {
		t.Error("EnsureDevSecret replaced a configured secret")
	}
	if _, err := os.Stat(filepath.Join(other, "secret")); !os.IsNotExist(err) {
		t.Errorf("a secret file was written although PULSO_SECRET is set: %v", err)
	}
}

func TestEnsureDevSecretReplacesTruncatedFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte("too short\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := config.FromEnv(env(map[string]string{"PULSO_DATA_DIR": dir}))
	if err := c.EnsureDevSecret(); err != nil {
		t.Fatal(err)
	}
	if len(c.Secret) < 32 || string(c.Secret) == "too short" {
		t.Fatalf("secret %q", c.Secret)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("rewritten secret file mode %v, want 0600", fi.Mode().Perm())
	}
}
