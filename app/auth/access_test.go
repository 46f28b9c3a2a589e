package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/auth"
	"pulso/app/config"
	"pulso/app/linktoken"
	"pulso/app/web"
	"pulso/queries"
)

// A session slides 14 days from its last use but ends 30 days after
// sign-in, however busy it is.
func TestSessionAbsoluteLifetime(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Acme")
	busy := env.User(org, "busy@acme.test", web.RoleRep)
	old := env.User(org, "old@acme.test", web.RoleRep)

	// Signed in 29 days ago and used all along: still good, but the touch
	// does not slide the expiry past day 30.
	c := env.LoginAs(busy)
	env.Exec(`UPDATE sessions SET created_at = now() - interval '29 days', last_seen_at = now() - interval '1 hour' WHERE user_id = $1`, busy.ID)
	if r := c.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("29-day-old session: status %d", r.Status)
	}
	if n := env.Count(`SELECT count(*) FROM sessions WHERE user_id = $1 AND last_seen_at > now() - interval '1 minute'`, busy.ID); n != 1 {
		t.Fatal("the request did not touch the session")
	}
	if n := env.Count(`SELECT count(*) FROM sessions WHERE user_id = $1 AND expires_at <= created_at + interval '30 days'`, busy.ID); n != 1 {
		var exp, created time.Time
		_ = env.DB.QueryRow(context.Background(), `SELECT expires_at, created_at FROM sessions WHERE user_id = $1`, busy.ID).Scan(&exp, &created)
		t.Errorf("touch slid the expiry to %s, more than 30 days after sign-in (%s)", exp, created)
	}

	// Past 30 days since sign-in, a session used a minute ago opens nothing.
	c2 := env.LoginAs(old)
	env.Exec(`UPDATE sessions SET created_at = now() - interval '30 days 1 minute', last_seen_at = now() - interval '1 minute' WHERE user_id = $1`, old.ID)
	r := c2.Get("/")
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2F" {
		t.Fatalf("31-day-old session: status %d, Location %q; want the login page", r.Status, r.Header.Get("Location"))
	}
	if c2.Cookie("pulso_session") != "" {
		t.Error("the cookie of a session past its lifetime was not cleared")
	}
}

func responseCookies(r apptest.Response) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		out[ck.Name] = ck
	}
	return out
}

// Served over https, the session and CSRF cookies carry the __Host- prefix:
// the browser then accepts them only Secure, for Path=/ and without Domain,
// so neither a sibling subdomain nor a plain-http response can plant or
// overwrite them. A cookie under the old plain name is not read.
func TestSecureCookiesUseHostPrefix(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, func(c *config.Config) { c.BaseURL, _ = url.Parse("https://pulso.example.test") })
	u := env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)

	c := env.Client()
	r := login(c, u.Email, apptest.Password)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("login: status %d", r.Status)
	}
	set := responseCookies(r)
	for _, name := range []string{"__Host-pulso_session", "__Host-pulso_csrf"} {
		ck := set[name]
		if ck == nil || ck.Value == "" {
			t.Fatalf("login set no %s cookie; Set-Cookie: %q", name, r.Header.Values("Set-Cookie"))
		}
		if !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s: Secure=%v Path=%q Domain=%q HttpOnly=%v SameSite=%v", name, ck.Secure, ck.Path, ck.Domain, ck.HttpOnly, ck.SameSite)
		}
	}
	for _, name := range []string{"pulso_session", "pulso_csrf"} {
		if ck := set[name]; ck != nil && ck.Value != "" {
			t.Errorf("login also set the plain-named %s cookie", name)
		}
	}
	session := set["__Host-pulso_session"].Value
	if r := c.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("GET / with the __Host- session: status %d", r.Status)
	}

	// The same token under the old name opens nothing.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: "pulso_session", Value: session})
	if r := env.Client().Do(req); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2F" {
		t.Errorf("session token under the plain name: status %d, Location %q; want the login page", r.Status, r.Header.Get("Location"))
	}

	// A form whose CSRF seed comes under the old name is refused; the same
	// seed under the __Host- name passes.
	token := c.CSRF()
	seed := c.Cookie("__Host-pulso_csrf")
	post := func(csrfName string) apptest.Response {
		req := httptest.NewRequest(http.MethodPost, "/account/locale", strings.NewReader(url.Values{"_csrf": {token}, "locale": {"en"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "__Host-pulso_session", Value: session})
		req.AddCookie(&http.Cookie{Name: csrfName, Value: seed})
		return env.Client().Do(req)
	}
	if r := post("pulso_csrf"); r.Status != http.StatusForbidden {
		t.Errorf("CSRF seed under the plain name: status %d, want 403", r.Status)
	}
	if r := post("__Host-pulso_csrf"); r.Status != http.StatusSeeOther {
		t.Errorf("CSRF seed under the __Host- name: status %d, want 303", r.Status)
	}

	// Sign-out clears the __Host- session cookie (a clearing cookie must
	// carry the same attributes or the browser ignores it).
	r = c.Post("/logout", nil)
	ck := responseCookies(r)["__Host-pulso_session"]
	if r.Status != http.StatusSeeOther || ck == nil || ck.Value != "" || !ck.Secure || ck.Path != "/" {
		t.Errorf("logout: status %d, session cookie %+v; want it cleared, Secure, Path=/", r.Status, ck)
	}
}

// Over plain http (make run on localhost) browsers refuse __Host- cookies,
// so the names stay plain and the cookies are not Secure.
func TestPlainCookiesOverHTTP(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
	c := env.Client()
	r := login(c, u.Email, apptest.Password)
	set := responseCookies(r)
	for _, name := range []string{"pulso_session", "pulso_csrf"} {
		ck := set[name]
		if ck == nil || ck.Value == "" {
			t.Fatalf("login set no %s cookie; Set-Cookie: %q", name, r.Header.Values("Set-Cookie"))
		}
		if ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly {
			t.Errorf("%s: Secure=%v Path=%q Domain=%q HttpOnly=%v", name, ck.Secure, ck.Path, ck.Domain, ck.HttpOnly)
		}
	}
	for name := range set {
		if strings.HasPrefix(name, "__Host-") {
			t.Errorf("plain http set %s", name)
		}
	}
	if r := c.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("GET /: status %d", r.Status)
	}
}

// A CSRF token is good for one session: lifted from another session (or
// from before sign-in) it is refused even with the same CSRF cookie.
func TestCSRFTokenBoundToSession(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.User(env.Org("Acme"), "ana@acme.test", web.RoleRep)
	c1, c2 := env.LoginAs(u), env.LoginAs(u)
	token1, seed1 := c1.CSRF(), c1.Cookie("pulso_csrf")
	s1, s2 := c1.Cookie("pulso_session"), c2.Cookie("pulso_session")
	anon := env.Client()
	anonToken, anonSeed := anon.CSRF(), anon.Cookie("pulso_csrf")

	post := func(path, session, seed, token string, form url.Values) apptest.Response {
		form.Set("_csrf", token)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if session != "" {
			req.AddCookie(&http.Cookie{Name: "pulso_session", Value: session})
		}
		req.AddCookie(&http.Cookie{Name: "pulso_csrf", Value: seed})
		return env.Client().Do(req)
	}
	locale := func() url.Values { return url.Values{"locale": {"en"}} }
	if r := post("/account/locale", s2, seed1, token1, locale()); r.Status != http.StatusForbidden {
		t.Errorf("session 1's token on session 2 with the same CSRF cookie: status %d, want 403", r.Status)
	}
	if r := post("/account/locale", s2, anonSeed, anonToken, locale()); r.Status != http.StatusForbidden {
		t.Errorf("a token from before sign-in, with its CSRF cookie, on a session: status %d, want 403", r.Status)
	}
	if r := post("/account/locale", s1, seed1, token1, locale()); r.Status != http.StatusSeeOther {
		t.Errorf("session 1's own token: status %d, want 303", r.Status)
	}
	// Signed out, the token of the sign-in form still works.
	if r := post("/login", "", anonSeed, anonToken, url.Values{"email": {u.Email}, "password": {apptest.Password}}); r.Status != http.StatusSeeOther {
		t.Errorf("sign-in with the anonymous token: status %d, want 303", r.Status)
	}
	// An expired session's cookie still binds the token, so the user gets
	// "sign in again" rather than "page expired".
	env.Exec(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, linktoken.Hash(s1))
	c1.HTMX = true
	var r apptest.Response
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		// Until the cut reaches this instance's session cache, the
		// session still works.
		req := httptest.NewRequest(http.MethodPost, "/account/locale", strings.NewReader(url.Values{"_csrf": {token1}, "locale": {"en"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r = c1.Do(req); r.Status != http.StatusNoContent {
			break
		}
	}
	if r.Status != http.StatusUnauthorized || r.Header.Get("HX-Redirect") != "/login" {
		t.Errorf("expired session posting its own token: status %d, HX-Redirect %q; want 401 to /login", r.Status, r.Header.Get("HX-Redirect"))
	}
}

// Setting a password ends every other session of that user: whoever held
// one with the old credentials is out.
func TestSettingPasswordEndsOtherSessions(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Acme")
	admin := env.LoginAs(env.User(org, "admin@acme.test", web.RoleAdmin))
	ctx := context.Background()

	link := invite(t, admin, "nueva@acme.test")
	var id int64
	if err := env.DB.QueryRow(ctx, `SELECT id FROM users WHERE email = 'nueva@acme.test'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	// A session the user held before, made as sign-in makes them (no route
	// gives a pending user one; a password reset would meet it).
	_, stale := auth.NewToken()
	if err := env.Q.CreateSession(ctx, queries.CreateSessionParams{TokenHash: stale, OrgID: org.ID, UserID: id, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	adminSessions := env.Count(`SELECT count(*) FROM sessions WHERE user_id <> $1`, id)

	c := env.Client()
	c.Get(link)
	r := c.Post(link, url.Values{"password": {"una contraseña larga"}, "password_confirm": {"una contraseña larga"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("accept: status %d", r.Status)
	}
	if n := env.Count(`SELECT count(*) FROM sessions WHERE token_hash = $1`, stale); n != 0 {
		t.Error("a session from before the password was set survives")
	}
	if n := env.Count(`SELECT count(*) FROM sessions WHERE user_id = $1`, id); n != 1 {
		t.Errorf("%d sessions for the user, want 1 (the one just started)", n)
	}
	if r := c.Get("/"); r.Status != http.StatusOK {
		t.Errorf("the session that set the password: GET / status %d", r.Status)
	}
	if n := env.Count(`SELECT count(*) FROM sessions WHERE user_id <> $1`, id); n != adminSessions {
		t.Errorf("other users' sessions: %d → %d", adminSessions, n)
	}
}
