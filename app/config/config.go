// Package config reads Pulso's settings from the environment. Every variable
// is listed in one table here and in the README; nothing else reads os.Getenv.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"pulso/app/ident"
	"pulso/app/store/mercadolibre"
	"pulso/app/verifactu"
)

// Config is parsed once in cmd/pulso and passed down; there is no global.
type Config struct {
	DatabaseURL string // empty: the dev command finds or starts a local server
	Addr        string
	BaseURL     *url.URL
	Secret      []byte
	SMTPURL     string
	MailFrom    string // sender of every e-mail: "Name <address>"
	LogLevel    slog.Level
	LogFormat   string // text | json
	DataDir     string
	// Worker concurrency per River queue.
	WorkersDefault int
	WorkersEmail   int
	WorkersSync    int
	WorkersReports int
	// JobRescueAfter: a job still running this long is taken for abandoned
	// by a dead worker and retried.
	JobRescueAfter time.Duration
	// TrustedProxies may set X-Forwarded-For and X-Forwarded-Proto (read by
	// web.ClientIP and web.IsHTTPS); without them the client IP (login and
	// link throttles, audit trails) is the TCP peer.
	TrustedProxies []string
	// MetricsAddr is where `pulso serve` answers Prometheus's GET /metrics,
	// a listener of its own so the numbers are not on the public site;
	// empty: no metrics listener.
	MetricsAddr string
	// InboundSMTPAddr is where the inbound e-mail listener accepts mail for
	// the orgs' inbox addresses; empty: no listener (uploads still work).
	InboundSMTPAddr string
	// InboundDomain is the host part of every org's inbox address.
	InboundDomain string
	// InboundMaxBytes bounds one inbound message (SMTP or .eml upload).
	InboundMaxBytes int64
	// DocumentMaxBytes bounds one uploaded document.
	DocumentMaxBytes int64
	// SMTPRequireTLS refuses to send through an smtp:// server that does
	// not offer STARTTLS (the message waits, queued, with the reason).
	SMTPRequireTLS bool
	// InboundPerIPHour and InboundPerOrgHour cap the messages the inbound
	// listener accepts in an hour from one client IP and for one org,
	// counted in PostgreSQL so every instance sees the same count.
	InboundPerIPHour  int
	InboundPerOrgHour int
	// LiveMaxPerUser and LiveMaxPerOrg bound the live sockets one user and
	// one org may hold on this node, so one account cannot take its slots.
	LiveMaxPerUser int
	LiveMaxPerOrg  int
	// ClientLinkRate is how many requests a minute one IP may make to the
	// quote links (/q/...); 0 means 60. Tests that walk every route raise it.
	ClientLinkRate int
	// AEATURL replaces the AEAT's VERI*FACTU web service endpoint of the
	// environment invoices.Recording.Env names (the fake AEAT of the demo and
	// tests); empty: the AEAT's own.
	AEATURL string
	// PaymentsURL is the API base of the hosted-checkout provider plan
	// upgrades are paid through (app/checkout); empty: upgrades are
	// refused politely, "pago no disponible". PaymentsToken is its access
	// token and PaymentsWebhookSecret the key its webhooks are signed with.
	PaymentsURL           string
	PaymentsToken         string
	PaymentsWebhookSecret []byte

	// The SistemaInformatico every VERI*FACTU record names (RD 1007/2023,
	// Orden HAC/1177/2024) and the AEAT environment records go to.
	// VerifactuProducerName and VerifactuProducerNIF name who makes this
	// Pulso available (its declaración responsable); both empty: each
	// issuing org names itself, as a business running its own copy.
	// VerifactuInstallation tells this installation apart from the
	// producer's others.
	VerifactuProducerName string
	VerifactuProducerNIF  string
	VerifactuInstallation string
	// VerifactuProducerAddress is that producer's address, which its
	// declaración responsable states and is signed at.
	VerifactuProducerAddress string
	VerifactuEnv             verifactu.Environment

	// MercadoLibre is the store integration's app at Mercado Libre:
	// PULSO_ML_CLIENT_ID and PULSO_ML_CLIENT_SECRET (unset: sellers
	// cannot be connected), the hosts PULSO_ML_AUTH_URL and
	// PULSO_ML_API_URL (a fake store in tests and the demo).
	MLClientID, MLClientSecret string
	MLAuthURL, MLAPIURL        string
}

// MLRedirectPath is where Mercado Libre sends the admin back with the
// authorization code (registered as the app's redirect URI).
const MLRedirectPath = "/integraciones/mercadolibre/vuelta"

// MLNotifyPath is the app's notifications callback (topic orders_v2).
const MLNotifyPath = "/integraciones/mercadolibre/notificaciones"

// MercadoLibre is the store integration's app as its client takes it: the
// web handlers (connecting) and the sync workers use the same.
func (c Config) MercadoLibre() mercadolibre.Config {
	return mercadolibre.Config{AuthURL: c.MLAuthURL, APIURL: c.MLAPIURL, ClientID: c.MLClientID,
		ClientSecret: c.MLClientSecret, RedirectURI: c.MLRedirectURI()}
}

// PaymentsWebhookPath receives the payment provider's signed webhooks.
const PaymentsWebhookPath = "/webhooks/pagos"

// MLRedirectURI is the redirect URI registered in the Mercado Libre app.
func (c Config) MLRedirectURI() string {
	return strings.TrimSuffix(c.BaseURL.String(), "/") + MLRedirectPath
}

// SecureCookies reports whether cookies must carry the Secure flag: only when
// Pulso is served over https, or browsers on http://localhost drop them.
func (c Config) SecureCookies() bool { return c.BaseURL.Scheme == "https" }

// Origin is the scheme://host[:port] browsers send as Origin for our pages;
// only it may open a WebSocket.
func (c Config) Origin() string { return c.BaseURL.Scheme + "://" + c.BaseURL.Host }

// Var documents one environment variable; README's table mirrors Vars.
type Var struct {
	Name, Default, Help string
}

// Vars is the single list of settings.
var Vars = []Var{
	{"DATABASE_URL", "(unset: local server or private cluster, see README)", "PostgreSQL connection URL"},
	{"PULSO_ADDR", ":8080", "listen address for HTTP and WebSocket"},
	{"PULSO_BASE_URL", "http://localhost:8080", "public URL; https turns on Secure cookies and is the allowed WebSocket origin"},
	{"PULSO_SECRET", "(dev: generated once into $PULSO_DATA_DIR/secret)", "at least 32 bytes, the same on every node; signs CSRF tokens and derives every link token (quotes, feeds, forms, inboxes, invites), so changing it retires them all. Required when PULSO_BASE_URL is https"},
	{"SMTP_URL", "(unset: mail goes to the dev outbox)", "smtp://user:pass@host:587 for outgoing e-mail"},
	{"PULSO_SMTP_REQUIRE_TLS", "true", "with an smtp:// SMTP_URL, send only after STARTTLS; a server without it keeps mail queued with the reason (false: send in the clear when it is not offered)"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"LOG_FORMAT", "text", "text or json"},
	{"PULSO_DATA_DIR", "./.pulso", "local state of this node: dev secret, private PostgreSQL cluster (uploaded files live in PostgreSQL)"},
	{"PULSO_MAIL_FROM", "Pulso <no-reply@localhost>", "sender of outgoing e-mail; use an address your SMTP server may send as"},
	{"PULSO_WORKERS", "50", "River workers for the default queue"},
	{"PULSO_EMAIL_WORKERS", "5", "River workers for the email queue (concurrent SMTP conversations)"},
	{"PULSO_SYNC_WORKERS", "4", "River workers for the sync queue (e-commerce store orders, external APIs)"},
	{"PULSO_REPORTS_WORKERS", "2", "River workers for the reports queue (exports, heavy aggregates)"},
	{"PULSO_JOB_RESCUE_AFTER", "5m", "a job running this long is taken for abandoned (its worker died) and retried; jobs time out at half this, at most 1m, unless their kind says otherwise"},
	{"PULSO_TRUSTED_PROXIES", "(none)", "comma-separated IPs/CIDRs of reverse proxies allowed to set X-Forwarded-For and X-Forwarded-Proto; the client is the right-most address that is not one of them"},
	{"PULSO_METRICS_ADDR", "127.0.0.1:9090", "listen address of GET /metrics (Prometheus text), apart from the app; off: none"},
	{"PULSO_SMTP_INBOUND_ADDR", "(unset: no listener)", "listen address (e.g. :2525) of the SMTP server that receives mail for the orgs' inbox addresses and turns it into leads"},
	{"PULSO_INBOUND_DOMAIN", "(host of PULSO_BASE_URL)", "domain of the inbox addresses leads+<token>@<domain>; its MX must point at PULSO_SMTP_INBOUND_ADDR"},
	{"PULSO_INBOUND_MAX_MB", "25", "largest inbound e-mail accepted, in MB (SMTP and .eml uploads)"},
	{"PULSO_DOCUMENT_MAX_MB", "20", "largest document a user may upload, in MB"},
	{"PULSO_INBOUND_PER_IP_HOUR", "200", "inbound e-mails accepted per hour from one client IP (all orgs); more get a 4xx and are retried by the sender"},
	{"PULSO_INBOUND_PER_ORG_HOUR", "1000", "inbound e-mails accepted per hour for one org; more get a 4xx and are retried by the sender"},
	{"PULSO_LIVE_MAX_PER_USER", "10", "live sockets (open pages) one user may hold on one node; more are refused with close code 4429"},
	{"PULSO_LIVE_MAX_PER_ORG", "200", "live sockets one org may hold on one node; more are refused with close code 4429"},
	{"PULSO_AEAT_URL", "(unset: the AEAT's VERI*FACTU service)", "https URL that replaces the AEAT's VERI*FACTU web service endpoint (a test or fake service); records are sent there with the org's certificate"},
	{"PULSO_PAYMENTS_URL", "(unset: upgrades are not offered for payment)", "API base URL of the hosted-checkout payment provider plan upgrades are paid through (Mercado Pago's shape: https://api.mercadopago.com, or a fake); set with PULSO_PAYMENTS_TOKEN and PULSO_PAYMENTS_WEBHOOK_SECRET"},
	{"PULSO_PAYMENTS_TOKEN", "(unset)", "access token of that provider's account"},
	{"PULSO_PAYMENTS_WEBHOOK_SECRET", "(unset)", "secret the provider signs its webhooks to /webhooks/pagos with; without it every webhook is refused"},
	{"PULSO_VERIFACTU_PRODUCER_NAME", "(unset: each org names itself)", "name of who produces and makes this Pulso available, in every VERI*FACTU record's SistemaInformatico and the declaración responsable; set with PULSO_VERIFACTU_PRODUCER_NIF"},
	{"PULSO_VERIFACTU_PRODUCER_NIF", "(unset: each org's NIF)", "Spanish NIF of that producer"},
	{"PULSO_VERIFACTU_PRODUCER_ADDRESS", "(unset)", "postal address of that producer, stated on the declaración responsable, which is signed there"},
	{"PULSO_VERIFACTU_INSTALLATION", "1", "NumeroInstalacion of this installation in the VERI*FACTU records (up to 100 characters)"},
	{"PULSO_VERIFACTU_ENV", "test", "AEAT environment of the VERI*FACTU records and QR codes: test (pre-production) or production"},
	{"PULSO_ML_CLIENT_ID", "(unset: stores cannot be connected)", "APP_ID of Pulso's Mercado Libre app; its redirect URI is PULSO_BASE_URL + /integraciones/mercadolibre/vuelta and its notifications callback (topic orders_v2) PULSO_BASE_URL + /integraciones/mercadolibre/notificaciones"},
	{"PULSO_ML_CLIENT_SECRET", "(unset)", "secret key of that app"},
	{"PULSO_ML_AUTH_URL", "https://auth.mercadolibre.com.ar", "Mercado Libre's authorization host (the country's; `pulso dev` points it at a fake store)"},
	{"PULSO_ML_API_URL", "https://api.mercadolibre.com", "Mercado Libre's API host (token and orders)"},
}

// FromEnv builds a Config from getenv (os.Getenv in production, a map in
// tests) and validates it, naming the variable at fault.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL: get("DATABASE_URL", ""),
		Addr:        get("PULSO_ADDR", ":8080"),
		SMTPURL:     get("SMTP_URL", ""),
		MailFrom:    get("PULSO_MAIL_FROM", "Pulso <no-reply@localhost>"),
		LogFormat:   get("LOG_FORMAT", "text"),
		DataDir:     get("PULSO_DATA_DIR", ".pulso"),
	}
	var errs []error

	base, err := url.Parse(get("PULSO_BASE_URL", "http://localhost:8080"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		errs = append(errs, fmt.Errorf("PULSO_BASE_URL must be an absolute http(s) URL, got %q", getenv("PULSO_BASE_URL")))
	} else {
		base.Path = strings.TrimSuffix(base.Path, "/")
		c.BaseURL = base
	}

	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", getenv("LOG_LEVEL")))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be text or json, got %q", c.LogFormat))
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			errs = append(errs, fmt.Errorf("SMTP_URL must look like smtp://user:pass@host:587 or smtps://..., got a value that does not parse"))
		}
	}
	workers := func(name, def string) int {
		n, err := strconv.Atoi(get(name, def))
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, fmt.Errorf("%s must be a number from 1 to 1000, got %q", name, getenv(name)))
		}
		return n
	}
	c.WorkersDefault = workers("PULSO_WORKERS", "50")
	c.WorkersEmail = workers("PULSO_EMAIL_WORKERS", "5")
	c.WorkersSync = workers("PULSO_SYNC_WORKERS", "4")
	c.WorkersReports = workers("PULSO_REPORTS_WORKERS", "2")
	c.JobRescueAfter, err = time.ParseDuration(get("PULSO_JOB_RESCUE_AFTER", "5m"))
	if err != nil || c.JobRescueAfter < 2*time.Second || c.JobRescueAfter > 24*time.Hour {
		errs = append(errs, fmt.Errorf("PULSO_JOB_RESCUE_AFTER must be a duration from 2s to 24h, like 5m, got %q", getenv("PULSO_JOB_RESCUE_AFTER")))
	}
	c.MetricsAddr = get("PULSO_METRICS_ADDR", "127.0.0.1:9090")
	if c.MetricsAddr == "off" {
		c.MetricsAddr = ""
	} else if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		errs = append(errs, fmt.Errorf("PULSO_METRICS_ADDR must be host:port, :port or off, like 127.0.0.1:9090, got %q", c.MetricsAddr))
	}
	c.InboundSMTPAddr = get("PULSO_SMTP_INBOUND_ADDR", "")
	if c.InboundSMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.InboundSMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("PULSO_SMTP_INBOUND_ADDR must be host:port or :port, like :2525, got %q", c.InboundSMTPAddr))
		}
	}
	c.InboundDomain = strings.ToLower(get("PULSO_INBOUND_DOMAIN", ""))
	if c.InboundDomain != "" && !validDomain(c.InboundDomain) {
		errs = append(errs, fmt.Errorf("PULSO_INBOUND_DOMAIN must be a domain name like pulso.example.es, got %q", c.InboundDomain))
	} else if c.InboundDomain == "" && c.BaseURL != nil {
		// The public host is where mail for Pulso naturally goes.
		c.InboundDomain = strings.ToLower(c.BaseURL.Hostname())
	}
	megabytes := func(name, def string) int64 {
		n, err := strconv.Atoi(get(name, def))
		if err != nil || n < 1 || n > 1024 {
			errs = append(errs, fmt.Errorf("%s must be a number of megabytes from 1 to 1024, got %q", name, getenv(name)))
		}
		return int64(n) << 20
	}
	c.InboundMaxBytes = megabytes("PULSO_INBOUND_MAX_MB", "25")
	perHour := func(name, def string) int {
		n, err := strconv.Atoi(get(name, def))
		if err != nil || n < 1 || n > 1_000_000 {
			errs = append(errs, fmt.Errorf("%s must be a number of messages from 1 to 1000000, got %q", name, getenv(name)))
		}
		return n
	}
	c.InboundPerIPHour = perHour("PULSO_INBOUND_PER_IP_HOUR", "200")
	c.InboundPerOrgHour = perHour("PULSO_INBOUND_PER_ORG_HOUR", "1000")
	c.SMTPRequireTLS, err = strconv.ParseBool(get("PULSO_SMTP_REQUIRE_TLS", "true"))
	if err != nil {
		errs = append(errs, fmt.Errorf("PULSO_SMTP_REQUIRE_TLS must be true or false, got %q", getenv("PULSO_SMTP_REQUIRE_TLS")))
	}
	c.DocumentMaxBytes = megabytes("PULSO_DOCUMENT_MAX_MB", "20")
	sockets := func(name, def string) int {
		n, err := strconv.Atoi(get(name, def))
		if err != nil || n < 1 || n > 50_000 {
			errs = append(errs, fmt.Errorf("%s must be a number of sockets from 1 to 50000, got %q", name, getenv(name)))
		}
		return n
	}
	c.LiveMaxPerUser = sockets("PULSO_LIVE_MAX_PER_USER", "10")
	c.LiveMaxPerOrg = sockets("PULSO_LIVE_MAX_PER_ORG", "200")
	if c.LiveMaxPerUser > c.LiveMaxPerOrg {
		errs = append(errs, fmt.Errorf("PULSO_LIVE_MAX_PER_USER (%d) cannot exceed PULSO_LIVE_MAX_PER_ORG (%d)", c.LiveMaxPerUser, c.LiveMaxPerOrg))
	}
	errs = append(errs, c.verifactuFromEnv(get)...)
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		errs = append(errs, fmt.Errorf("PULSO_MAIL_FROM must be an address like \"Pulso <no-reply@example.es>\", got %q", c.MailFrom))
	}

	c.MLClientID, c.MLClientSecret = getenv("PULSO_ML_CLIENT_ID"), getenv("PULSO_ML_CLIENT_SECRET")
	c.MLAuthURL = get("PULSO_ML_AUTH_URL", "https://auth.mercadolibre.com.ar")
	c.MLAPIURL = get("PULSO_ML_API_URL", "https://api.mercadolibre.com")
	for _, v := range []struct{ name, val string }{{"PULSO_ML_AUTH_URL", c.MLAuthURL}, {"PULSO_ML_API_URL", c.MLAPIURL}} {
		if u, err := url.Parse(v.val); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s must be an absolute http(s) URL, got %q", v.name, v.val))
		}
	}

	if c.AEATURL = get("PULSO_AEAT_URL", ""); c.AEATURL != "" {
		if u, err := url.Parse(c.AEATURL); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("PULSO_AEAT_URL must be an https URL (the service needs client-certificate TLS), got %q", c.AEATURL))
		}
	}

	if c.PaymentsURL = strings.TrimRight(get("PULSO_PAYMENTS_URL", ""), "/"); c.PaymentsURL != "" {
		if u, err := url.Parse(c.PaymentsURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("PULSO_PAYMENTS_URL must be an absolute http(s) URL like https://api.mercadopago.com, got %q", c.PaymentsURL))
		}
	}
	c.PaymentsToken = get("PULSO_PAYMENTS_TOKEN", "")
	if s := get("PULSO_PAYMENTS_WEBHOOK_SECRET", ""); s != "" {
		c.PaymentsWebhookSecret = []byte(s)
	}

	for _, p := range strings.Split(getenv("PULSO_TRUSTED_PROXIES"), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := ParseProxy(p); err != nil {
			errs = append(errs, fmt.Errorf("PULSO_TRUSTED_PROXIES: %q is neither an IP nor a CIDR", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}

	if s := getenv("PULSO_SECRET"); s != "" {
		if len(s) < 32 {
			errs = append(errs, errors.New("PULSO_SECRET must be at least 32 characters"))
		}
		c.Secret = []byte(s)
	} else if c.BaseURL != nil && c.BaseURL.Scheme == "https" {
		errs = append(errs, errors.New("PULSO_SECRET must be set when PULSO_BASE_URL is https (a generated secret would differ between instances)"))
	}
	return c, errors.Join(errs...)
}

// verifactuFromEnv reads the VERI*FACTU settings and checks them as the
// AEAT would check the SistemaInformatico block they fill, so a bad value
// stops the start instead of the first invoice.
func (c *Config) verifactuFromEnv(get func(name, def string) string) []error {
	var errs []error
	c.VerifactuProducerName = get("PULSO_VERIFACTU_PRODUCER_NAME", "")
	c.VerifactuProducerNIF = strings.ToUpper(get("PULSO_VERIFACTU_PRODUCER_NIF", ""))
	c.VerifactuInstallation = get("PULSO_VERIFACTU_INSTALLATION", "1")
	c.VerifactuProducerAddress = get("PULSO_VERIFACTU_PRODUCER_ADDRESS", "")
	if a := c.VerifactuProducerAddress; a != "" && (c.VerifactuProducerNIF == "" || len(a) > 300) {
		errs = append(errs, errors.New("PULSO_VERIFACTU_PRODUCER_ADDRESS is the configured producer's address (with PULSO_VERIFACTU_PRODUCER_NIF), up to 300 characters"))
	}
	switch env := get("PULSO_VERIFACTU_ENV", "test"); env {
	case "test":
		c.VerifactuEnv = verifactu.Test
	case "production":
		c.VerifactuEnv = verifactu.Production
	default:
		errs = append(errs, fmt.Errorf("PULSO_VERIFACTU_ENV must be test or production, got %q", env))
	}
	name, nif := c.VerifactuProducerName, c.VerifactuProducerNIF
	switch {
	case (name == "") != (nif == ""):
		errs = append(errs, errors.New("PULSO_VERIFACTU_PRODUCER_NAME and PULSO_VERIFACTU_PRODUCER_NIF go together: set both or neither"))
		return errs
	case nif != "":
		if n, err := ident.NormalizeTaxID(nif, "ES"); err != nil || n != nif {
			errs = append(errs, fmt.Errorf("PULSO_VERIFACTU_PRODUCER_NIF must be a valid Spanish NIF like B12345674, got %q", nif))
			return errs
		}
	default:
		// Each org names itself; check the installation alone.
		name, nif = "-", "00000000T"
	}
	err := verifactu.Pulso(name, nif, "0", c.VerifactuInstallation, true).Validate()
	var fe *verifactu.FieldError
	if errors.As(err, &fe) {
		v := map[string]string{"SistemaInformatico.NombreRazon": "PULSO_VERIFACTU_PRODUCER_NAME", "SistemaInformatico.NIF": "PULSO_VERIFACTU_PRODUCER_NIF",
			"SistemaInformatico.NumeroInstalacion": "PULSO_VERIFACTU_INSTALLATION"}[fe.Field]
		if v == "" {
			v = fe.Field
		}
		errs = append(errs, fmt.Errorf("%s %s", v, fe.Reason))
	}
	return errs
}

// ParseProxy reads one PULSO_TRUSTED_PROXIES entry: an address (which
// stands for itself alone) or a CIDR range. IPv4-mapped IPv6 is taken as
// the IPv4 it is, as client addresses are.
func ParseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked(), nil
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// validDomain accepts host names as they appear after the @ of an address:
// dot-separated labels of letters, digits and hyphens.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// EnsureDevSecret loads the secret kept under DataDir, creating it on first
// use, so sessions' CSRF tokens survive restarts of `make run`.
func (c *Config) EnsureDevSecret() error {
	if len(c.Secret) > 0 {
		return nil
	}
	path := filepath.Join(c.DataDir, "secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		c.Secret = []byte(strings.TrimSpace(string(b)))
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return fmt.Errorf("create PULSO_DATA_DIR: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	secret := hex.EncodeToString(raw)
	// os.WriteFile's mode only applies to a new file; a short or corrupt one
	// left with wider permissions must be narrowed before the secret goes in.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		err = f.Chmod(0o600)
		if err == nil {
			_, err = f.WriteString(secret + "\n")
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("write dev secret: %w", err)
	}
	c.Secret = []byte(secret)
	return nil
}

// Logger builds the process logger from LOG_LEVEL and LOG_FORMAT.
func (c Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
