package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app"
	"pulso/app/auth"
	"pulso/app/config"
	"pulso/app/inbound/senderauth/dnstest"
	"pulso/app/live/hub"
	"pulso/app/ops"
	"pulso/app/web"
	"pulso/queries"
	"pulso/workers"
)

// Password is the password of users made by Env.User.
const Password = "correct horse battery"

// Env is one test's world: its own database and the real app on it, with
// a live hub listening on that database.
type Env struct {
	T    testing.TB
	DB   *pgxpool.Pool
	Q    *queries.Queries
	App  *fiber.App
	Hub  *hub.Hub
	Deps web.Deps
	// DNS is what the app's sender checks see: empty (every name NXDOMAIN)
	// until a test publishes records.
	DNS *dnstest.Zone
	// Metrics is the app's registry; its Handler is the metrics listener's.
	Metrics *ops.Metrics
}

// Option adjusts the configuration before the app is built.
type Option func(*config.Config)

// New builds the app on a fresh database. Jobs are inserted, not worked:
// tests of workers run them explicitly.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	return NewOn(t, NewDB(t), opts...)
}

// NewOn builds the app, configured as New does, on a database the test
// already holds — for example one from NewEmptyDB, to see how the app
// behaves before `pulso migrate`.
func NewOn(t testing.TB, pool *pgxpool.Pool, opts ...Option) *Env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return NewLogging(t, pool, log, opts...)
}

// NewLogging is NewOn with the app logging to log, for tests of what the
// app writes there.
func NewLogging(t testing.TB, pool *pgxpool.Pool, log *slog.Logger, opts ...Option) *Env {
	t.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Secret = []byte("test-secret-test-secret-test-secret!")
	for _, o := range opts {
		o(&cfg)
	}
	jobs, err := workers.NewClient(pool, log, workers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	metrics := ops.NewMetrics()
	lh := hub.New(pool, log, metrics.Registry(), hub.Config{Origin: cfg.Origin(), MaxPerUser: cfg.LiveMaxPerUser, MaxPerOrg: cfg.LiveMaxPerOrg})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = lh.Run(ctx); close(done) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = lh.Shutdown(sctx)
		cancel()
		<-done
	})
	dns := dnstest.New()
	d := web.Deps{Cfg: cfg, DB: pool, Q: queries.New(pool), Jobs: jobs, Log: log, Sessions: web.NewSessionCache(), DNS: dns}
	return &Env{T: t, DB: pool, Q: d.Q, App: app.New(d, metrics, lh), Hub: lh, Deps: d, DNS: dns, Metrics: metrics}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Org creates an organisation (ES, EUR) named name.
func (e *Env) Org(name string) queries.Org {
	e.T.Helper()
	o, err := e.Q.CreateOrg(context.Background(), queries.CreateOrgParams{
		Name: name, Country: "ES", Currency: "EUR", TimeZone: "Europe/Madrid", TaxID: "B00000000",
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return o
}

// User creates an active user with Password.
func (e *Env) User(org queries.Org, email string, role web.Role) queries.User {
	e.T.Helper()
	hash, err := auth.HashPassword(Password)
	if err != nil {
		e.T.Fatal(err)
	}
	u, err := e.Q.CreateUser(context.Background(), queries.CreateUserParams{
		OrgID: org.ID, Email: email, Name: "User " + email, Role: string(role), Locale: "es", PasswordHash: &hash, Active: true,
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return u
}

// Response is what the app answered.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Client behaves like one browser: it keeps cookies and sends the CSRF token
// the last page carried, as forms and htmx do.
type Client struct {
	env     *Env
	cookies map[string]string
	csrf    string
	// HTMX makes requests look like htmx's (HX-Request: true).
	HTMX bool
}

// Client starts a browser with no cookies.
func (e *Env) Client() *Client { return &Client{env: e, cookies: map[string]string{}} }

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// Do sends req as this browser and records cookies and the CSRF token.
func (c *Client) Do(req *http.Request) Response {
	c.env.T.Helper()
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	if c.HTMX {
		req.Header.Set("HX-Request", "true")
	}
	res, err := c.env.App.Test(req, -1)
	if err != nil {
		c.env.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.env.T.Fatal(err)
	}
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" || (!ck.Expires.IsZero() && ck.Expires.Unix() <= 0) {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
		if ck.Name == auth.CSRFCookie(c.env.Deps.Cfg.SecureCookies()) {
			c.csrf = "" // a new seed makes the old token useless
		}
	}
	if m := csrfInput.FindStringSubmatch(string(b)); m != nil {
		c.csrf = m[1]
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// Get fetches path.
func (c *Client) Get(path string) Response {
	c.env.T.Helper()
	return c.Do(httptest.NewRequest(http.MethodGet, path, nil))
}

// Post submits a form with the current CSRF token (fetching a page first
// if this browser has none yet).
func (c *Client) Post(path string, form url.Values) Response {
	c.env.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("_csrf") {
		form.Set("_csrf", c.CSRF())
	}
	return c.PostRaw(path, form)
}

// PostRaw submits a form exactly as given (no CSRF token added).
func (c *Client) PostRaw(path string, form url.Values) Response {
	c.env.T.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// CSRF returns a valid token for this browser, loading a page for it when
// the last response did not carry one.
func (c *Client) CSRF() string {
	c.env.T.Helper()
	if c.csrf == "" {
		r := c.Get("/login")
		if r.Status == http.StatusSeeOther {
			c.Get("/account")
		}
	}
	if c.csrf == "" {
		c.env.T.Fatal("no CSRF token found on /login or /account")
	}
	return c.csrf
}

// Cookie returns a cookie's current value.
func (c *Client) Cookie(name string) string { return c.cookies[name] }

// On returns a client with c's cookies that talks to another Env's app,
// e.g. a second instance on the same database.
func (c *Client) On(env *Env) *Client {
	cookies := make(map[string]string, len(c.cookies))
	for k, v := range c.cookies {
		cookies[k] = v
	}
	return &Client{env: env, cookies: cookies, csrf: c.csrf}
}

// Login signs in and fails the test unless it worked.
func (c *Client) Login(email, password string) {
	c.env.T.Helper()
	r := c.Post("/login", url.Values{"email": {email}, "password": {password}})
	if r.Status != http.StatusSeeOther || c.cookies[auth.SessionCookie(c.env.Deps.Cfg.SecureCookies())] == "" {
		c.env.T.Fatalf("login as %s: status %d, body %.300s", email, r.Status, r.Body)
	}
}

// LoginAs creates a browser signed in as u.
func (e *Env) LoginAs(u queries.User) *Client {
	e.T.Helper()
	c := e.Client()
	c.Login(u.Email, Password)
	return c
}

// Count runs a SELECT count(*) (or any single-integer query) and returns it.
func (e *Env) Count(sql string, args ...any) int {
	e.T.Helper()
	var n int
	if err := e.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.T.Fatalf("%s: %v", sql, err)
	}
	return n
}

// Exec runs a statement, failing the test on error (to arrange state the
// app offers no route for, such as an expired session).
func (e *Env) Exec(sql string, args ...any) {
	e.T.Helper()
	if _, err := e.DB.Exec(context.Background(), sql, args...); err != nil {
		e.T.Fatalf("%s: %v", sql, err)
	}
}
