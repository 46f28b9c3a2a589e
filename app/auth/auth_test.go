package auth_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/auth"
	"pulso/app/config"
	"pulso/app/linktoken"
	"pulso/app/web"
)

const badCredentials = "Correo o contraseña incorrectos."

// setCookieNamed reports whether the response sets (not clears) a cookie.
func setCookieNamed(r apptest.Response, name string) bool {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name && c.Value != "" {
			return true
		}
	}
	return false
}

func login(c *apptest.Client, email, password string) apptest.Response {
	return c.Post("/login", url.Values{"email": {email}, "password": {password}})
}

func TestLoginSuccess(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Acme")
	u := env.User(org, "ana@acme.test", web.RoleRep)

	c := env.Client()
	r := login(c, "  Ana@Acme.TEST ", apptest.Password) // addresses are matched as typed by people
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("login: status %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	cookie := c.Cookie("pulso_session")
	if cookie == "" {
		t.Fatal("no session cookie after login")
	}
	home := c.Get("/")
	if home.Status != http.StatusOK || !strings.Contains(home.Body, "Hola, "+u.Name) {
		t.Fatalf("GET / after login: status %d, greeting missing:\n%.500s", home.Status, home.Body)
	}

	// Only a hash of the cookie is stored.
	if n := env.Count(`SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID); n != 1 {
		t.Fatalf("%d session rows, want 1", n)
	}
	sum := sha256.Sum256([]byte(cookie))
	if n := env.Count(`SELECT count(*) FROM sessions WHERE user_id = $1 AND token_hash = $2`, u.ID, sum[:]); n != 1 {
		t.Error("session row is not keyed by SHA-256 of the cookie")
	}
	if n := env.Count(`SELECT count(*) FROM sessions WHERE token_hash = $1 OR encode(token_hash, 'escape') = $2`, []byte(cookie), cookie); n != 0 {
		t.Error("the cookie value itself is stored in sessions")
	}
	if n := env.Count(`SELECT count(*) FROM login_failures`); n != 0 {
		t.Errorf("%d login failures recorded for a good login", n)
	}
}

func TestLoginRejected(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Acme")
	env.User(org, "ana@acme.test", web.RoleRep)
	inactive := env.User(org, "ex@acme.test", web.RoleRep)
	env.Exec(`UPDATE users SET active = false WHERE id = $1`, inactive.ID)
	pending := env.User(org, "pending@acme.test", web.RoleRep)
	env.Exec(`UPDATE users SET password_hash = NULL, active = false WHERE id = $1`, pending.ID)
	noPassActive := env.User(org, "nopass@acme.test", web.RoleRep)
	env.Exec(`UPDATE users SET password_hash = NULL WHERE id = $1`, noPassActive.ID)

	for _, tt := range []struct{ name, email, password, recorded string }{
		{"wrong password", "ana@acme.test", "wrong password!", ""},
		{"unknown user", "nobody@acme.test", apptest.Password, ""},
		{"inactive user", "ex@acme.test", apptest.Password, ""},
		{"pending invite", "pending@acme.test", apptest.Password, ""},
		{"pending invite, empty password", "pending@acme.test", "", ""},
		{"active without password", "nopass@acme.test", "", ""},
		{"empty email", "", apptest.Password, ""},
		{"empty both", "", "", ""},
		{"overlong password", "ana@acme.test", strings.Repeat("a", auth.MaxPasswordLen+1), ""},
		// Bytes PostgreSQL text cannot hold are bad credentials, not a 500.
		{"NUL in email", "ana@acme.test\x00", apptest.Password, "ana@acme.test\uFFFD"},
		{"NUL inside email", "a\x00na@acme.test", apptest.Password, "a\uFFFDna@acme.test"},
		{"invalid UTF-8 in email", "ana\xff@acme.test", apptest.Password, "ana\uFFFD@acme.test"},
		{"NUL in password", "ana@acme.test", "correct horse\x00battery", ""},
	} {
		if tt.recorded == "" {
			tt.recorded = tt.email
		}
		t.Run(tt.name, func(t *testing.T) {
			c := env.Client()
			before := env.Count(`SELECT count(*) FROM login_failures WHERE email = $1`, tt.recorded)
			r := login(c, tt.email, tt.password)
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", r.Status)
			}
			if !strings.Contains(r.Body, badCredentials) {
				t.Errorf("body lacks %q:\n%.800s", badCredentials, r.Body)
			}
			if setCookieNamed(r, "pulso_session") || c.Cookie("pulso_session") != "" {
				t.Error("a failed login set a session cookie")
			}
			if after := env.Count(`SELECT count(*) FROM login_failures WHERE email = $1`, tt.recorded); after != before+1 {
				t.Errorf("login_failures for %q: %d → %d, want one more", tt.recorded, before, after)
			}
			// The form keeps the address so people can fix a typo.
			if tt.email != "" && !strings.Contains(r.Body, `value="`+tt.recorded+`"`) {
				t.Errorf("form does not keep the e-mail %q", tt.email)
			}
		})
	}
	if n := env.Count(`SELECT count(*) FROM sessions`); n != 0 {
		t.Errorf("%d sessions after only failed logins", n)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Acme")
	env.User(org, "ana@acme.test", web.RoleRep)
	creds := func(token string) url.Values {
		v := url.Values{"email": {"ana@acme.test"}, "password": {apptest.Password}}
		if token != "" {
			v.Set("_csrf", token)
		}
		return v
	}
	htmxPost := func(c *apptest.Client, token string) apptest.Response {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(creds("").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", token)
		return c.Do(req)
	}
	other := env.Client()
	otherToken := other.CSRF()

	for _, tt := range []struct {
		name   string
		send   func(c *apptest.Client) apptest.Response
		status int
	}{
		{"form token", func(c *apptest.Client) apptest.Response { return c.PostRaw("/login", creds(c.CSRF())) }, http.StatusSeeOther},
		{"missing token", func(c *apptest.Client) apptest.Response { c.CSRF(); return c.PostRaw("/login", creds("")) }, http.StatusForbidden},
		{"wrong token", func(c *apptest.Client) apptest.Response { c.CSRF(); return c.PostRaw("/login", creds("wrong")) }, http.StatusForbidden},
		{"token of another browser", func(c *apptest.Client) apptest.Response { c.CSRF(); return c.PostRaw("/login", creds(otherToken)) }, http.StatusForbidden},
		{"truncated token", func(c *apptest.Client) apptest.Response {
			tok := c.CSRF()
			return c.PostRaw("/login", creds(tok[:len(tok)-1]))
		}, http.StatusForbidden},
		{"no csrf cookie at all", func(c *apptest.Client) apptest.Response { return c.PostRaw("/login", creds(otherToken)) }, http.StatusForbidden},
		{"htmx header", func(c *apptest.Client) apptest.Response {
			tok := c.CSRF()
			c.HTMX = true
			return htmxPost(c, tok)
		}, http.StatusNoContent},
		{"htmx wrong header", func(c *apptest.Client) apptest.Response { c.CSRF(); c.HTMX = true; return htmxPost(c, "wrong") }, http.StatusForbidden},
		{"htmx header of another browser", func(c *apptest.Client) apptest.Response {
			c.CSRF()
			c.HTMX = true
			return htmxPost(c, otherToken)
		}, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := env.Client()
			before := env.Count(`SELECT count(*) FROM sessions`)
			r := tt.send(c)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d; body %.300s", r.Status, tt.status, r.Body)
			}
			after := env.Count(`SELECT count(*) FROM sessions`)
			if tt.status == http.StatusForbidden {
				if after != before || c.Cookie("pulso_session") != "" {
					t.Error("a request refused for CSRF signed in anyway")
				}
				if c.HTMX {
					if r.Header.Get("HX-Retarget") != "#flash" {
						t.Errorf("htmx 403 not retargeted to #flash: %v", r.Header)
					}
				} else if !strings.Contains(r.Body, "La página ha caducado") {
					t.Errorf("403 body does not explain the expired page:\n%.500s", r.Body)
				}
				if c.Cookie("pulso_csrf") == "" {
					t.Error("after a 403 the browser has no CSRF cookie to retry with")
				}
				return
			}
			if after != before+1 || c.Cookie("pulso_session") == "" {
				t.Error("a request with the right token did not sign in")
			}
			if c.HTMX && r.Header.Get("HX-Redirect") != "/" {
				t.Errorf("htmx login: HX-Redirect %q, want /", r.Header.Get("HX-Redirect"))
			}
		})
	}

	// Sign-in renews the CSRF seed: a token read before login is useless after.
	t.Run("token from before login", func(t *testing.T) {
		c := env.Client()
		old := c.CSRF()
		oldSeed := c.Cookie("pulso_csrf")
		login(c, "ana@acme.test", apptest.Password)
		if c.Cookie("pulso_csrf") == oldSeed {
			t.Fatal("CSRF cookie not renewed at sign-in")
		}
		r := c.PostRaw("/account/locale", url.Values{"_csrf": {old}, "locale": {"en"}})
		if r.Status != http.StatusForbidden {
			t.Fatalf("pre-login token accepted: status %d", r.Status)
		}
		if r := c.Post("/logout", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("logout with the fresh token: status %d", r.Status)
		}
	})
}

func TestExpiredSession(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
	c := env.LoginAs(u)
	if r := c.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("fresh session: status %d", r.Status)
	}
	env.Exec(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, u.ID)

	htmx := env.Client()
	htmx.Login(u.Email, apptest.Password)
	env.Exec(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, u.ID)

	// Cutting a session short reaches the session cache through the live
	// outbox, within a poll.
	var r apptest.Response
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if r = c.Get("/"); r.Status != http.StatusOK {
			break
		}
	}
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2F" {
		t.Fatalf("expired session GET /: status %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	if c.Cookie("pulso_session") != "" {
		t.Error("expired session cookie not cleared")
	}
	if r := c.Get("/account"); r.Header.Get("Location") != "/login?next=%2Faccount" {
		t.Errorf("GET /account: Location %q", r.Header.Get("Location"))
	}

	htmx.HTMX = true
	r = htmx.Get("/")
	if r.Status != http.StatusUnauthorized || r.Header.Get("HX-Redirect") != "/login" {
		t.Fatalf("htmx with expired session: status %d, HX-Redirect %q", r.Status, r.Header.Get("HX-Redirect"))
	}
	if strings.Contains(r.Body, "<html") {
		t.Error("htmx 401 rendered a whole page")
	}
}

// loginFrom signs in as a client at ip behind the balancer (the test
// transport's 0.0.0.0, trusted in these tests).
func loginFrom(c *apptest.Client, email, password, ip string) apptest.Response {
	form := url.Values{"_csrf": {c.CSRF()}, "email": {email}, "password": {password}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	return c.Do(req)
}

func behindProxy(c *config.Config) { c.TrustedProxies = []string{"0.0.0.0"} }

// retryAfter reads a 429's Retry-After in seconds.
func retryAfter(t *testing.T, r apptest.Response) int {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", r.Status)
	}
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("429 with Retry-After %q", r.Header.Get("Retry-After"))
	}
	return n
}

// Login throttling counts failures per address AND client together: an
// attacker guessing ana's password from one place slows down only
// themselves, never ana elsewhere nor their neighbours behind the same
// address. After a few free failures, each further attempt of the pair
// waits longer (doubling, capped); a wait is not a lock.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()

	t.Run("per e-mail and client together", func(t *testing.T) {
		t.Parallel()
		env := apptest.New(t, behindProxy)
		org := env.Org("Acme")
		env.User(org, "ana@acme.test", web.RoleRep)
		env.User(org, "bea@acme.test", web.RoleRep)
		attacker := env.Client()
		for i := range 5 {
			if r := loginFrom(attacker, "ana@acme.test", "wrong password", "203.0.113.66"); r.Status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d, want 401", i+1, r.Status)
			}
		}
		// Case and spaces do not make a new address.
		for _, email := range []string{"ana@acme.test", " ANA@acme.test"} {
			r := loginFrom(attacker, email, apptest.Password, "203.0.113.66")
			if wait := retryAfter(t, r); wait > 60 {
				t.Errorf("first wait %d s", wait)
			}
			if !strings.Contains(r.Body, "Demasiados intentos fallidos") || !regexp.MustCompile(`dentro de \d+ segundos`).MatchString(r.Body) {
				t.Errorf("429 body does not say when to retry:\n%.800s", r.Body)
			}
			if attacker.Cookie("pulso_session") != "" {
				t.Fatal("throttled login signed in")
			}
		}
		// Being turned away is not a new failure.
		if n := env.Count(`SELECT count(*) FROM login_failures WHERE email = 'ana@acme.test'`); n != 5 {
			t.Errorf("%d failures recorded, want 5", n)
		}
		// Ana herself, elsewhere, is not held up.
		if r := loginFrom(env.Client(), "ana@acme.test", apptest.Password, "192.0.2.10"); r.Status != http.StatusSeeOther {
			t.Errorf("ana from another address: status %d, want 303", r.Status)
		}
		// Nor is anyone else at the attacker's address.
		if r := loginFrom(env.Client(), "bea@acme.test", apptest.Password, "203.0.113.66"); r.Status != http.StatusSeeOther {
			t.Errorf("bea from the attacker's address: status %d, want 303", r.Status)
		}
		// Ana's success elsewhere does not forgive the attacker's failures.
		if r := loginFrom(attacker, "ana@acme.test", "wrong again", "203.0.113.66"); r.Status != http.StatusTooManyRequests {
			t.Errorf("attacker after ana signed in elsewhere: status %d, want 429", r.Status)
		}
		// Failures older than the window stop counting.
		env.Exec(`UPDATE login_failures SET created_at = now() - interval '25 hours'`)
		loginFrom(env.Client(), "ana@acme.test", apptest.Password, "203.0.113.66")
		if r := loginFrom(env.Client(), "ana@acme.test", apptest.Password, "203.0.113.66"); r.Status != http.StatusSeeOther {
			t.Errorf("after the window: status %d, want 303", r.Status)
		}
	})

	t.Run("the pair's wait grows, capped", func(t *testing.T) {
		t.Parallel()
		env := apptest.New(t, behindProxy)
		env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
		c := env.Client()
		for range 5 {
			loginFrom(c, "ana@acme.test", "wrong password", "203.0.113.66")
		}
		prev := 0
		for round := range 4 {
			wait := retryAfter(t, loginFrom(c, "ana@acme.test", "wrong password", "203.0.113.66"))
			if wait <= prev {
				t.Fatalf("round %d: wait %d s after %d s; want it to grow", round+1, wait, prev)
			}
			prev = wait
			// Once the wait is over, the pair may try once more...
			env.Exec(`UPDATE login_failures SET created_at = created_at - make_interval(secs => $1)`, wait+1)
			if r := loginFrom(c, "ana@acme.test", "wrong password", "203.0.113.66"); r.Status != http.StatusUnauthorized {
				t.Fatalf("round %d: after waiting %d s: status %d, want 401", round+1, wait, r.Status)
			}
		}
		// ...and however many failures pile up, the wait stops growing.
		env.Exec(`INSERT INTO login_failures (email, ip) SELECT 'ana@acme.test', '203.0.113.66' FROM generate_series(1, 200)`)
		if wait := retryAfter(t, loginFrom(c, "ana@acme.test", apptest.Password, "203.0.113.66")); wait > 15*60 {
			t.Errorf("wait %d s after 200 failures; want at most 15 minutes", wait)
		} else if r := loginFrom(c, "ana@acme.test", apptest.Password, "203.0.113.66"); !strings.Contains(r.Body, "minutos") {
			t.Errorf("a long wait is not said in minutes:\n%.800s", r.Body)
		}
		// The right password, once the wait is over, signs in and clears the pair.
		env.Exec(`UPDATE login_failures SET created_at = created_at - interval '16 minutes'`)
		if r := loginFrom(c, "ana@acme.test", apptest.Password, "203.0.113.66"); r.Status != http.StatusSeeOther {
			t.Fatalf("after the capped wait: status %d, want 303", r.Status)
		}
		if n := env.Count(`SELECT count(*) FROM login_failures WHERE email = 'ana@acme.test'`); n != 0 {
			t.Errorf("%d failures left after a successful login", n)
		}
	})

	t.Run("success clears the pair's failures", func(t *testing.T) {
		t.Parallel()
		env := apptest.New(t)
		env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
		c := env.Client()
		for range 4 {
			login(c, "ana@acme.test", "wrong password")
		}
		c.Login("ana@acme.test", apptest.Password)
		if n := env.Count(`SELECT count(*) FROM login_failures WHERE email = 'ana@acme.test'`); n != 0 {
			t.Fatalf("%d failures left after a successful login", n)
		}
		d := env.Client()
		for range 4 {
			login(d, "ana@acme.test", "wrong password")
		}
		d.Login("ana@acme.test", apptest.Password) // would be the 9th in the window
	})

	// Without a trusted proxy everyone behind the balancer shares its
	// address: many people's failures there must not lock the others out.
	t.Run("a shared address is not locked", func(t *testing.T) {
		t.Parallel()
		env := apptest.New(t)
		env.User(env.Org("Acme"), "bea@acme.test", web.RoleRep)
		c := env.Client()
		for i := range 60 {
			login(c, fmt.Sprintf("typo%d@acme.test", i), "guess")
		}
		env.Client().Login("bea@acme.test", apptest.Password)
	})
}

func TestLoginRedirectStaysOnSite(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
	for _, tt := range []struct{ next, want string }{
		{"//evil.example", "/"},
		{"https://evil.example", "/"},
		{"/\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"", "/"},
		{"/account", "/account"},
		{"/admin/users?tab=1", "/admin/users?tab=1"},
	} {
		t.Run(tt.next, func(t *testing.T) {
			c := env.Client()
			form := c.Get("/login?next=" + url.QueryEscape(tt.next))
			if !strings.Contains(form.Body, `name="next" value="`+tt.want+`"`) {
				t.Errorf("login form carries a next other than %q", tt.want)
			}
			r := c.Post("/login", url.Values{"email": {"ana@acme.test"}, "password": {apptest.Password}, "next": {tt.next}})
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != tt.want {
				t.Fatalf("next=%q: status %d, Location %q, want %q", tt.next, r.Status, r.Header.Get("Location"), tt.want)
			}
			// Signed in, /login sends onwards with the same rule.
			r = c.Get("/login?next=" + url.QueryEscape(tt.next))
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != tt.want {
				t.Errorf("GET /login signed in, next=%q: status %d, Location %q", tt.next, r.Status, r.Header.Get("Location"))
			}
		})
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
	c := env.LoginAs(u)
	other := env.LoginAs(u) // a second device stays signed in
	old := c.Cookie("pulso_session")

	r := c.Post("/logout", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("logout: status %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	sum := sha256.Sum256([]byte(old))
	if n := env.Count(`SELECT count(*) FROM sessions WHERE token_hash = $1`, sum[:]); n != 0 {
		t.Fatal("session row survives logout")
	}
	if c.Cookie("pulso_session") != "" {
		t.Error("logout did not clear the session cookie")
	}
	if r := c.Get("/login"); !strings.Contains(r.Body, "Ha cerrado la sesión.") {
		t.Error("no sign-out message on the login page")
	}

	// Someone who kept a copy of the old cookie gets nothing with it.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: "pulso_session", Value: old})
	r = env.Client().Do(req)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2F" {
		t.Fatalf("old cookie after logout: status %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	if r := other.Get("/"); r.Status != http.StatusOK {
		t.Errorf("logout ended the other device's session too: status %d", r.Status)
	}
	// Logging out needs a session and a token.
	if r := env.Client().Post("/logout", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("logout without a session: status %d, want 401", r.Status)
	}
	if r := other.PostRaw("/logout", nil); r.Status != http.StatusForbidden {
		t.Errorf("logout without CSRF token: status %d, want 403", r.Status)
	}
	if r := other.Get("/"); r.Status != http.StatusOK {
		t.Error("a refused logout ended the session")
	}
}

var inviteLink = regexp.MustCompile(`value="(http://localhost:8080(/invite/[A-Za-z0-9_-]+))"`)

// invite has admin invite email as a rep and returns the link's path.
func invite(t *testing.T, admin *apptest.Client, email string) string {
	t.Helper()
	r := admin.Post("/admin/users", url.Values{"email": {email}, "name": {"Nueva Persona"}, "role": {"rep"}})
	if r.Status != http.StatusOK {
		t.Fatalf("invite %s: status %d\n%.800s", email, r.Status, r.Body)
	}
	m := inviteLink.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no invite link on the page:\n%s", r.Body)
	}
	return m[2]
}

func TestInvite(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Acme")
	admin := env.LoginAs(env.User(org, "admin@acme.test", web.RoleAdmin))
	ctx := context.Background()

	link := invite(t, admin, "nueva@acme.test")
	var id int64
	var active bool
	var hash *string
	if err := env.DB.QueryRow(ctx, `SELECT id, active, password_hash FROM users WHERE email = 'nueva@acme.test'`).Scan(&id, &active, &hash); err != nil {
		t.Fatal(err)
	}
	if active || hash != nil {
		t.Fatalf("invited user: active=%v, has password=%v; want pending", active, hash != nil)
	}
	token := strings.TrimPrefix(link, "/invite/")
	if n := env.Count(`SELECT count(*) FROM invites WHERE token_hash = $1`, linktoken.Hash(token)); n != 1 {
		t.Fatal("invite not stored under the token's hash")
	}

	c := env.Client()
	r := c.Get(link)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "nueva@acme.test") || !strings.Contains(r.Body, `name="password_confirm"`) {
		t.Fatalf("GET invite: status %d\n%.800s", r.Status, r.Body)
	}

	for _, tt := range []struct {
		name, password, confirm, field, msg string
	}{
		{"short", "corta", "corta", "password", "La contraseña debe tener al menos 10 caracteres."},
		{"empty", "", "", "password", "La contraseña debe tener al menos 10 caracteres."},
		{"nine runes", "ñññññññññ", "ñññññññññ", "password", "La contraseña debe tener al menos 10 caracteres."},
		{"too long", strings.Repeat("a", 129), strings.Repeat("a", 129), "password", "La contraseña no puede superar los 128 caracteres."},
		{"mismatch", "una contraseña larga", "otra contraseña larga", "password_confirm", "Las contraseñas no coinciden."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Post(link, url.Values{"password": {tt.password}, "password_confirm": {tt.confirm}})
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.Status)
			}
			if !strings.Contains(r.Body, `id="e-`+tt.field+`">`+tt.msg) {
				t.Errorf("no %q next to %s:\n%.1500s", tt.msg, tt.field, r.Body)
			}
			if strings.Contains(r.Body, tt.password) && tt.password != "" {
				t.Error("the page echoes the password back")
			}
			if n := env.Count(`SELECT count(*) FROM users WHERE id = $1 AND (active OR password_hash IS NOT NULL)`, id); n != 0 {
				t.Error("a rejected form changed the user")
			}
			if n := env.Count(`SELECT count(*) FROM invites WHERE user_id = $1 AND used_at IS NOT NULL`, id); n != 0 {
				t.Error("a rejected form spent the link")
			}
		})
	}

	r = c.Post(link, url.Values{"password": {"una contraseña larga"}, "password_confirm": {"una contraseña larga"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" || c.Cookie("pulso_session") == "" {
		t.Fatalf("accept: status %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	if home := c.Get("/"); home.Status != http.StatusOK || !strings.Contains(home.Body, "Hola, Nueva Persona") || !strings.Contains(home.Body, "Cuenta activada") {
		t.Fatalf("after accepting, GET /: status %d\n%.800s", home.Status, home.Body)
	}
	if err := env.DB.QueryRow(ctx, `SELECT active, password_hash FROM users WHERE id = $1`, id).Scan(&active, &hash); err != nil {
		t.Fatal(err)
	}
	if !active || hash == nil {
		t.Fatalf("after accepting: active=%v, has password=%v", active, hash != nil)
	}
	if ok, err := auth.VerifyPassword(*hash, "una contraseña larga"); !ok || err != nil {
		t.Fatalf("stored hash does not verify the chosen password: %v %v", ok, err)
	}
	env.Client().Login("nueva@acme.test", "una contraseña larga")

	// The link is spent.
	for _, r := range []apptest.Response{
		env.Client().Get(link),
		c.Get(link),
		c.Post(link, url.Values{"password": {"otra contraseña larga"}, "password_confirm": {"otra contraseña larga"}}),
	} {
		if r.Status != http.StatusGone || !strings.Contains(r.Body, "Este enlace ya no es válido") {
			t.Errorf("spent link: status %d, want 410\n%.500s", r.Status, r.Body)
		}
	}
	if err := env.DB.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if ok, _ := auth.VerifyPassword(*hash, "una contraseña larga"); !ok {
		t.Error("a spent link changed the password")
	}

	// Unknown tokens.
	for _, path := range []string{"/invite/nope", "/invite/" + strings.Repeat("A", 43)} {
		if r := env.Client().Get(path); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "Este enlace ya no es válido") {
			t.Errorf("GET %s: status %d, want 404", path, r.Status)
		}
		if r := env.Client().Post(path, url.Values{"password": {"una contraseña larga"}, "password_confirm": {"una contraseña larga"}}); r.Status != http.StatusNotFound {
			t.Errorf("POST %s: status %d, want 404", path, r.Status)
		}
	}

	// An expired link.
	expired := invite(t, admin, "tarde@acme.test")
	env.Exec(`UPDATE invites SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, linktoken.Hash(strings.TrimPrefix(expired, "/invite/")))
	if r := env.Client().Get(expired); r.Status != http.StatusGone {
		t.Errorf("expired link: status %d, want 410", r.Status)
	}
}

func TestReinviteInvalidatesOldLink(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Acme")
	admin := env.LoginAs(env.User(org, "admin@acme.test", web.RoleAdmin))
	old := invite(t, admin, "nueva@acme.test")
	var id int64
	if err := env.DB.QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'nueva@acme.test'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	r := admin.Post("/admin/users/"+itoa(id)+"/invite", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("reinvite: status %d", r.Status)
	}
	m := inviteLink.FindStringSubmatch(r.Body)
	if m == nil || m[2] == old {
		t.Fatalf("reinvite shows no new link")
	}
	if r := env.Client().Get(old); r.Status != http.StatusGone {
		t.Errorf("old link after reinvite: status %d, want 410", r.Status)
	}
	if r := env.Client().Get(m[2]); r.Status != http.StatusOK {
		t.Errorf("new link: status %d, want 200", r.Status)
	}
	// A user who already has a password needs no invite.
	admin2 := env.User(org, "otro@acme.test", web.RoleRep)
	if r := admin.Post("/admin/users/"+itoa(admin2.ID)+"/invite", nil); r.Status != http.StatusConflict {
		t.Errorf("reinvite of an active user: status %d, want 409", r.Status)
	}
}

func TestAdminOnly(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Acme")
	for _, role := range []web.Role{web.RoleRep, web.RoleManager, web.RoleAccountant} {
		t.Run(string(role), func(t *testing.T) {
			c := env.LoginAs(env.User(org, string(role)+"@acme.test", role))
			if r := c.Get("/admin/users"); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "No tiene permiso") {
				t.Errorf("GET /admin/users: status %d, want 403", r.Status)
			}
			email := "colado-" + string(role) + "@acme.test"
			r := c.Post("/admin/users", url.Values{"email": {email}, "name": {"Colado"}, "role": {"admin"}})
			if r.Status != http.StatusForbidden {
				t.Errorf("POST /admin/users: status %d, want 403", r.Status)
			}
			if n := env.Count(`SELECT count(*) FROM users WHERE email = $1`, email); n != 0 {
				t.Error("a non-admin created a user")
			}
			if strings.Contains(c.Get("/").Body, `href="/admin/users"`) {
				t.Error("non-admin navigation links to /admin/users")
			}
		})
	}
	r := env.Client().Get("/admin/users")
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fadmin%2Fusers" {
		t.Errorf("anonymous GET /admin/users: status %d, Location %q", r.Status, r.Header.Get("Location"))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A burst of parallel guesses must not get more verifications than the
// limit allows: the count and the record of an attempt cannot be far apart.
func TestLoginRateLimitParallelBurst(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
	const n = 20
	clients := make([]*apptest.Client, n)
	for i := range clients {
		clients[i] = env.Client()
		clients[i].CSRF()
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { statuses[i] = login(c, "ana@acme.test", "wrong guess "+strconv.Itoa(i)).Status })
	}
	wg.Wait()
	verified := 0
	for _, s := range statuses {
		switch s {
		case http.StatusUnauthorized:
			verified++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("status %d", s)
		}
	}
	if verified > 5 {
		t.Errorf("%d of %d parallel guesses were checked against the password; the limit is 5", verified, n)
	}
	// Each checked guess is one failure on record; turned-away ones are not
	// (a burst may even be turned away whole: it sees itself).
	if rows := env.Count(`SELECT count(*) FROM login_failures WHERE email = 'ana@acme.test'`); rows != verified {
		t.Errorf("%d failures recorded for %d checked guesses", rows, verified)
	}
	// Sequential guesses fill the rest of the allowance, and no more.
	c := env.Client()
	for i := verified; i < 5; i++ {
		if r := login(c, "ana@acme.test", "wrong guess"); r.Status != http.StatusUnauthorized {
			t.Fatalf("guess %d after the burst: status %d, want 401", i+1, r.Status)
		}
	}
	if r := login(c, "ana@acme.test", apptest.Password); r.Status != http.StatusTooManyRequests {
		t.Errorf("after 5 failures, the right password: status %d, want 429", r.Status)
	}
}

// Headers are whatever the client sent; a User-Agent PostgreSQL text cannot
// hold must not turn a good login into a 500.
func TestLoginOddUserAgent(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
	for _, ua := range []string{"Mozilla\x00/5.0", "Mozilla\xff/5.0", strings.Repeat("ñ", 400), ""} {
		c := env.Client()
		form := url.Values{"_csrf": {c.CSRF()}, "email": {u.Email}, "password": {apptest.Password}}
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", ua)
		if r := c.Do(req); r.Status != http.StatusSeeOther {
			t.Errorf("User-Agent %q: status %d, want 303", ua, r.Status)
		}
	}
	var n int
	if err := env.DB.QueryRow(context.Background(),
		`SELECT count(*) FROM sessions WHERE user_id = $1 AND octet_length(user_agent) <= 300 AND position(E'\uFFFD' in user_agent) = 0`, u.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("%d of 4 sessions stored with a clean, bounded user agent", n)
	}
}

// A password longer than MaxPasswordLen is refused before Argon2 sees it
// (hashing megabytes would burn CPU), while a login still spends one
// verification on the dummy hash, so the answer takes as long as any other
// refusal. Not parallel: it watches the hashing every test shares.
func TestLongPasswordIsNeverHashed(t *testing.T) {
	env := apptest.New(t)
	ana := env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
	long := strings.Repeat("contraseña larguísima ", 200)[:auth.MaxPasswordLen+1]
	var mu sync.Mutex
	var seen []string
	auth.WatchHashing(t, func(p string) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
	})
	reset := func() { mu.Lock(); seen = nil; mu.Unlock() }
	check := func(what string, wantHashes bool) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for _, p := range seen {
			if strings.Contains(p, "larguísima") {
				t.Errorf("%s: a %d-byte password reached Argon2", what, len(p))
			}
		}
		if wantHashes && len(seen) == 0 {
			t.Errorf("%s: no verification ran (the dummy hash keeps refusals equally slow)", what)
		}
	}

	for _, email := range []string{ana.Email, "nobody@acme.test"} {
		reset()
		if r := login(env.Client(), email, long); r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, badCredentials) {
			t.Errorf("login as %s with a long password: status %d", email, r.Status)
		}
		check("login as "+email, true)
	}

	// An invite refuses it with a message, and hashes nothing.
	link := invite(t, env.LoginAs(env.User(env.Org("Beta"), "admin@beta.test", web.RoleAdmin)), "nuevo@beta.test")
	reset()
	r := env.Client().Post(link, url.Values{"password": {long}, "password_confirm": {long}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("invite with a long password: status %d, want 422", r.Status)
	}
	check("invite", false)
}
