package schema_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/auth"
	"pulso/app/linktoken"
	"pulso/app/mail"
	"pulso/app/schema"
	"pulso/queries"
)

// Migration 0031 on a database whose tokens were kept in clear: afterwards
// no table holds any of them, every one still opens what it opened (the
// migration cannot know PULSO_SECRET, so it keeps their digests), the
// pages that showed them say they cannot be shown again, a rotation gives
// a showable one, and stored e-mails have their links redacted.
func TestMigrationHashesExistingTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := migrated(t, 30)
	const (
		form   = "legacy-form-token-in-clear"
		feed   = "legacy-feed-token-in-clear-legacy-feed-token"
		inbox  = "legacyinboxtokenabcdef"
		quote  = "legacyquotetokenxyz123"
		invite = "legacy-invite-token-in-clear-legacy-invite"
	)
	hash, err := auth.HashPassword(apptest.Password)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`INSERT INTO orgs (name, country, currency, time_zone) VALUES ('Antigua S.L.', 'ES', 'EUR', 'Europe/Madrid')`,
		`INSERT INTO users (org_id, email, name, role, password_hash) SELECT id, 'admin@antigua.test', 'Ana Admin', 'admin', '` + hash + `' FROM orgs`,
		`INSERT INTO lead_forms (org_id, name, token) SELECT id, 'Contacto', '` + form + `' FROM orgs`,
		`INSERT INTO calendar_feeds (org_id, user_id, token) SELECT org_id, id, '` + feed + `' FROM users`,
		`INSERT INTO inbound_inboxes (org_id, token) SELECT id, '` + inbox + `' FROM orgs`,
		`INSERT INTO customers (org_id, legal_name, country) SELECT id, 'Cliente', 'ES' FROM orgs`,
		`INSERT INTO quotes (org_id, customer_id, owner_id) SELECT c.org_id, c.id, u.id FROM customers c JOIN users u ON u.org_id = c.org_id`,
		`INSERT INTO quote_versions (org_id, quote_id, n, valid_until, currency) SELECT org_id, id, 1, current_date + 30, 'EUR' FROM quotes`,
		`INSERT INTO quote_links (org_id, quote_id, version_n, token, token_hash, expires_at)
			SELECT org_id, id, 1, '` + quote + `', sha256('` + quote + `'::bytea), now() + interval '30 days' FROM quotes`,
		`INSERT INTO emails (org_id, key, to_address, subject, text_body, html_body, template, locale, status, sent_at)
			SELECT id, 'invite:1:x', 'nueva@antigua.test', 'Invitación', 'Abra http://localhost:8080/invite/` + invite + `',
			'<a href="http://localhost:8080/invite/` + invite + `">', 'invite', 'es', 'sent', now() FROM orgs`,
		`INSERT INTO emails (org_id, key, to_address, subject, text_body, template, locale)
			SELECT id, 'quote:1:v1', 'cliente@antigua.test', 'Presupuesto', 'Véalo en http://localhost:8080/q/` + quote + `', 'quote_sent', 'es' FROM orgs`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := schema.Migrate(ctx, pool, quiet()); err != nil {
		t.Fatal(err)
	}
	env := apptest.NewOn(t, pool)

	for _, token := range []string{form, feed, inbox, quote, invite} {
		if held := env.Holding(token); len(held) > 0 {
			t.Errorf("after the migration %s is still stored in %v", token, held)
		}
	}
	if n := env.Count(`SELECT count(*) FROM emails WHERE text_body LIKE '%/invite/' || $1 OR text_body LIKE '%/q/' || $1`, mail.Redacted); n != 2 {
		t.Errorf("%d stored e-mails with their links redacted, want 2", n)
	}

	// Every old token still opens what it opened.
	submit := func(token string) int {
		req := httptest.NewRequest(http.MethodPost, "/f/"+token, strings.NewReader("name=Ana&email=ana%40cliente.example"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := env.App.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode
	}
	if code := submit(form); code != http.StatusOK {
		t.Errorf("old form token: %d", code)
	}
	if r := env.Client().Get("/agenda/feed/" + feed + ".ics"); r.Status != http.StatusOK {
		t.Errorf("old feed token: %d", r.Status)
	}
	if _, err := env.Q.GetInboxByTokenHash(ctx, linktoken.Hash(inbox)); err != nil {
		t.Errorf("old inbox address: %v", err)
	}
	if _, err := env.Q.FindQuoteLink(ctx, linktoken.Hash(quote)); err != nil {
		t.Errorf("old quote link: %v", err)
	}

	// Where they were shown, the pages say why they are not.
	admin := env.LoginAs(queries.User{Email: "admin@antigua.test"})
	for path, want := range map[string]string{
		"/admin/forms": "Este formulario es anterior a la protección",
		"/admin/inbox": "Esta dirección es anterior a la protección",
		"/agenda":      "Su dirección es anterior a la protección",
	} {
		if r := admin.Get(path); r.Status != http.StatusOK || !strings.Contains(r.Body, want) {
			t.Errorf("%s: %d, without %q", path, r.Status, want)
		}
	}
	// A rotation makes a token the page shows, and retires the old one.
	id := regexp.MustCompile(`/admin/forms/(\d+)/rotate`).FindStringSubmatch(admin.Get("/admin/forms").Body)
	if id == nil {
		t.Fatal("no rotate button")
	}
	if r := admin.Post("/admin/forms/"+id[1]+"/rotate", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("rotate: %d", r.Status)
	}
	m := regexp.MustCompile(`/f/([A-Za-z0-9_-]+)`).FindStringSubmatch(admin.Get("/admin/forms").Body)
	if m == nil {
		t.Fatal("the rotated form shows no snippet")
	}
	if code := submit(m[1]); code != http.StatusOK {
		t.Errorf("rotated form token: %d", code)
	}
	if code := submit(form); code != http.StatusNotFound {
		t.Errorf("old form token after rotation: %d", code)
	}
}
