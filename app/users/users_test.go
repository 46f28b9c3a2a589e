package users_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/web"
	"pulso/queries"
)

func id(n int64) string { return strconv.FormatInt(n, 10) }

var fieldError = regexp.MustCompile(`<p class="field-error" id="e-([a-z_]+)">([^<]*)</p>`)

// fieldErrors returns field → message as the page shows them.
func fieldErrors(body string) map[string]string {
	out := map[string]string{}
	for _, m := range fieldError.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

const (
	msgRequired = "Este campo es obligatorio."
	msgEmail    = "Escriba un correo válido, como nombre@empresa.es."
	msgTooLong  = "El texto es demasiado largo."
	msgBadChars = "El texto contiene caracteres no válidos."
	msgChoice   = "Elija una opción de la lista."
	msgTaken    = "Ya existe un usuario con este correo."
)

// world is the shared test world (org Demo) and a second org whose users
// Demo's admin must not reach.
type world struct {
	*apptest.World
	other                queries.Org
	otherAdmin, otherRep queries.User
}

func newWorld(t *testing.T) *world {
	w := &world{World: apptest.NewWorld(t, "Demo", "demo.test")}
	w.other = w.Env.Org("Otra")
	w.otherAdmin = w.Env.User(w.other, "admin@otra.test", web.RoleAdmin)
	w.otherRep = w.Env.User(w.other, "rep@otra.test", web.RoleRep)
	return w
}

func TestInviteValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	inactiveManager := w.Env.User(w.Org, "old-manager@demo.test", web.RoleManager)
	w.Env.Exec(`UPDATE users SET active = false WHERE id = $1`, inactiveManager.ID)
	before := w.Env.Count(`SELECT count(*) FROM users`)

	ok := url.Values{"email": {"nueva@demo.test"}, "name": {"Nueva"}, "role": {"rep"}}
	with := func(field, value string) url.Values {
		v := url.Values{}
		for k, vs := range ok {
			v[k] = append([]string(nil), vs...)
		}
		v.Set(field, value)
		return v
	}
	for _, tt := range []struct {
		name   string
		form   url.Values
		errors map[string]string
	}{
		{"empty email", with("email", ""), map[string]string{"email": msgRequired}},
		{"blank email", with("email", "   "), map[string]string{"email": msgRequired}},
		{"no domain dot", with("email", "a@b"), map[string]string{"email": msgEmail}},
		{"no TLD", with("email", "ana@empresa"), map[string]string{"email": msgEmail}},
		{"trailing dot", with("email", "ana@empresa."), map[string]string{"email": msgEmail}},
		{"no at", with("email", "ana.empresa.es"), map[string]string{"email": msgEmail}},
		{"display name", with("email", "Ana <ana@empresa.es>"), map[string]string{"email": msgEmail}},
		{"two addresses", with("email", "ana@empresa.es, bea@empresa.es"), map[string]string{"email": msgEmail}},
		{"too long email", with("email", strings.Repeat("a", 64)+"@"+strings.Repeat("b", 187)+".es"), map[string]string{"email": msgEmail}},
		{"empty name", with("name", ""), map[string]string{"name": msgRequired}},
		{"blank name", with("name", " \t "), map[string]string{"name": msgRequired}},
		{"too long name", with("name", strings.Repeat("ñ", 121)), map[string]string{"name": msgTooLong}},
		{"NUL in name", with("name", "Ana\x00Mar"), map[string]string{"name": msgBadChars}},
		{"invalid UTF-8 in name", with("name", "Ana\xffMar"), map[string]string{"name": msgBadChars}},
		{"line break in name", with("name", "Ana\nMar"), map[string]string{"name": msgBadChars}},
		{"NUL in email", with("email", "ana\x00@empresa.es"), map[string]string{"email": msgEmail}},
		{"bad role", with("role", "owner"), map[string]string{"role": msgChoice}},
		{"empty role", with("role", ""), map[string]string{"role": msgChoice}},
		{"role case", with("role", "Admin"), map[string]string{"role": msgChoice}},
		{"manager is a rep", with("manager_id", id(w.Rep.ID)), map[string]string{"manager_id": msgChoice}},
		{"manager of another org", with("manager_id", id(w.otherAdmin.ID)), map[string]string{"manager_id": msgChoice}},
		{"manager inactive", with("manager_id", id(inactiveManager.ID)), map[string]string{"manager_id": msgChoice}},
		{"manager unknown", with("manager_id", "999999999"), map[string]string{"manager_id": msgChoice}},
		{"manager not numeric", with("manager_id", "abc"), map[string]string{"manager_id": msgChoice}},
		{"manager negative", with("manager_id", "-1"), map[string]string{"manager_id": msgChoice}},
		{"manager zero", with("manager_id", "0"), map[string]string{"manager_id": msgChoice}},
		{"manager overflows", with("manager_id", "99999999999999999999"), map[string]string{"manager_id": msgChoice}},
		{"everything wrong", url.Values{"email": {"x"}, "name": {""}, "role": {"owner"}, "manager_id": {"abc"}},
			map[string]string{"email": msgEmail, "name": msgRequired, "role": msgChoice, "manager_id": msgChoice}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := w.AdminC.Post("/admin/users", tt.form)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422\n%.500s", r.Status, r.Body)
			}
			got := fieldErrors(r.Body)
			for field, msg := range tt.errors {
				if got[field] != msg {
					t.Errorf("%s: error %q, want %q", field, got[field], msg)
				}
			}
			if len(got) != len(tt.errors) {
				t.Errorf("errors shown %v, want only %v", got, tt.errors)
			}
			if strings.Contains(r.Body, "/invite/") {
				t.Error("a rejected invite shows a link")
			}
			if n := w.Env.Count(`SELECT count(*) FROM users`); n != before {
				t.Fatalf("users %d → %d: a rejected invite created a user", before, n)
			}
			if n := w.Env.Count(`SELECT count(*) FROM invites`); n != 0 {
				t.Fatal("a rejected invite created an invite")
			}
		})
	}

	// The form keeps what was typed.
	r := w.AdminC.Post("/admin/users", with("role", "owner"))
	if !strings.Contains(r.Body, `value="nueva@demo.test"`) || !strings.Contains(r.Body, `value="Nueva"`) {
		t.Error("the re-rendered form lost the typed values")
	}
}

func TestInviteCreates(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.AdminC.Post("/admin/users", url.Values{
		"email": {"  Nueva@Demo.TEST "}, "name": {" " + strings.Repeat("ñ", 120) + " "}, "role": {"rep"}, "manager_id": {id(w.Manager.ID)},
	})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "http://localhost:8080/invite/") {
		t.Fatalf("status %d\n%.800s", r.Status, r.Body)
	}
	var (
		name, role, locale string
		managerID          *int64
		active             bool
		hash               *string
	)
	err := w.Env.DB.QueryRow(context.Background(),
		`SELECT name, role, manager_id, locale, active, password_hash FROM users WHERE org_id = $1 AND email = 'nueva@demo.test'`,
		w.Org.ID).Scan(&name, &role, &managerID, &locale, &active, &hash)
	if err != nil {
		t.Fatal(err)
	}
	if name != strings.Repeat("ñ", 120) || role != "rep" || managerID == nil || *managerID != w.Manager.ID || active || hash != nil || locale != "es" {
		t.Errorf("created user: name %q role %q manager %v locale %q active %v hash %v", name, role, managerID, locale, active, hash != nil)
	}
	if n := w.Env.Count(`SELECT count(*) FROM invites i JOIN users u ON u.id = i.user_id WHERE u.email = 'nueva@demo.test' AND i.used_at IS NULL AND i.created_by = $1`, w.Admin.ID); n != 1 {
		t.Errorf("%d open invites, want 1", n)
	}
	// The list now shows the pending user.
	if list := w.AdminC.Get("/admin/users"); !strings.Contains(list.Body, "nueva@demo.test") || !strings.Contains(list.Body, "Invitación pendiente") {
		t.Error("the pending user is not on the list")
	}
}

func TestInviteDuplicateEmail(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, email := range []string{"rep@demo.test", "Rep@Demo.test", " REP@DEMO.TEST", "rep@otra.test", "Admin@Otra.Test"} {
		t.Run(email, func(t *testing.T) {
			before := w.Env.Count(`SELECT count(*) FROM users`)
			r := w.AdminC.Post("/admin/users", url.Values{"email": {email}, "name": {"Duplicada"}, "role": {"rep"}})
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.Status)
			}
			if got := fieldErrors(r.Body)["email"]; got != msgTaken {
				t.Errorf("email error %q, want %q", got, msgTaken)
			}
			if n := w.Env.Count(`SELECT count(*) FROM users`); n != before {
				t.Error("a duplicate invite created a user")
			}
			if n := w.Env.Count(`SELECT count(*) FROM users WHERE name = 'Duplicada'`); n != 0 {
				t.Error("a duplicate invite changed an existing user")
			}
		})
	}
}

func TestDeactivate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.Env
	repClient := env.LoginAs(w.Rep)
	repPhone := env.LoginAs(w.Rep)

	r := w.AdminC.Post("/admin/users/"+id(w.Rep.ID)+"/deactivate", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/users" {
		t.Fatalf("deactivate: status %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	if n := env.Count(`SELECT count(*) FROM users WHERE id = $1 AND active`, w.Rep.ID); n != 0 {
		t.Fatal("user still active")
	}
	if n := env.Count(`SELECT count(*) FROM sessions WHERE user_id = $1`, w.Rep.ID); n != 0 {
		t.Fatalf("%d sessions survive deactivation", n)
	}
	for _, c := range []*apptest.Client{repClient, repPhone} {
		if r := c.Get("/"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("deactivated user's browser: status %d, Location %q", r.Status, r.Header.Get("Location"))
		}
	}
	if r := env.Client().Post("/login", url.Values{"email": {w.Rep.Email}, "password": {apptest.Password}}); r.Status != http.StatusUnauthorized {
		t.Errorf("deactivated user signs in: status %d", r.Status)
	}
	list := w.AdminC.Get("/admin/users")
	if !strings.Contains(list.Body, "Usuario desactivado; sus sesiones se han cerrado.") || !strings.Contains(list.Body, "Desactivado") {
		t.Error("the list does not confirm the deactivation")
	}
	if n := env.Count(`SELECT count(*) FROM sessions WHERE user_id = $1`, w.Admin.ID); n != 1 {
		t.Error("deactivating someone else touched the admin's session")
	}

	// Activate brings them back (they have a password).
	r = w.AdminC.Post("/admin/users/"+id(w.Rep.ID)+"/activate", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("activate: status %d", r.Status)
	}
	if n := env.Count(`SELECT count(*) FROM users WHERE id = $1 AND active`, w.Rep.ID); n != 1 {
		t.Fatal("user not active after activate")
	}
	env.Client().Login(w.Rep.Email, apptest.Password)
}

func TestDeactivateRevokesInvites(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.AdminC.Post("/admin/users", url.Values{"email": {"nueva@demo.test"}, "name": {"Nueva"}, "role": {"rep"}})
	m := regexp.MustCompile(`http://localhost:8080(/invite/[A-Za-z0-9_-]+)`).FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no invite link: status %d", r.Status)
	}
	var uid int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'nueva@demo.test'`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if r := w.AdminC.Post("/admin/users/"+id(uid)+"/deactivate", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("deactivate pending user: status %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM invites WHERE user_id = $1 AND used_at IS NULL`, uid); n != 0 {
		t.Fatal("open invite survives deactivation")
	}
	c := w.Env.Client()
	if r := c.Get(m[1]); r.Status != http.StatusGone {
		t.Errorf("revoked link GET: status %d, want 410", r.Status)
	}
	if r := c.Post(m[1], url.Values{"password": {"una contraseña larga"}, "password_confirm": {"una contraseña larga"}}); r.Status != http.StatusGone {
		t.Errorf("revoked link POST: status %d, want 410", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM users WHERE id = $1 AND (active OR password_hash IS NOT NULL)`, uid); n != 0 {
		t.Error("a revoked link activated the user")
	}
	// Without a password, activation is refused: they need a new invite.
	if r := w.AdminC.Post("/admin/users/"+id(uid)+"/activate", nil); r.Status != http.StatusConflict {
		t.Errorf("activate a user without password: status %d, want 409", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM users WHERE id = $1 AND active`, uid); n != 0 {
		t.Error("a user without password was activated")
	}
}

func TestDeactivateRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)

	r := w.AdminC.Post("/admin/users/"+id(w.Admin.ID)+"/deactivate", nil)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "No puede desactivarse a sí mismo.") {
		t.Fatalf("self-deactivate: status %d\n%.500s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM users WHERE id = $1 AND active`, w.Admin.ID); n != 1 {
		t.Fatal("admin deactivated themself")
	}
	if r := w.AdminC.Get("/"); r.Status != http.StatusOK {
		t.Fatal("self-deactivate attempt ended the admin's session")
	}

	for _, tt := range []struct{ name, path string }{
		{"unknown id", "999999999"},
		{"not a number", "abc"},
		{"negative", "-1"},
		{"zero", "0"},
		{"overflow", "99999999999999999999"},
		{"other org's user", id(w.otherRep.ID)},
	} {
		for _, action := range []string{"deactivate", "activate", "invite"} {
			t.Run(tt.name+"/"+action, func(t *testing.T) {
				r := w.AdminC.Post("/admin/users/"+tt.path+"/"+action, nil)
				if r.Status != http.StatusNotFound {
					t.Errorf("status %d, want 404", r.Status)
				}
			})
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM users WHERE org_id = $1 AND active`, w.other.ID); n != 2 {
		t.Error("another org's users changed")
	}
}

func TestDeactivateHTMX(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.AdminC
	c.CSRF()
	c.HTMX = true
	r := c.Post("/admin/users/"+id(w.Rep.ID)+"/deactivate", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d\n%.500s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "<html") || strings.Contains(r.Body, "<!DOCTYPE") {
		t.Error("htmx deactivate returned a whole page")
	}
	if !strings.Contains(r.Body, `<section id="users-list"`) {
		t.Errorf("response is not the users-list fragment:\n%s", r.Body)
	}
	if strings.Contains(r.Body, `id="invite"`) {
		t.Error("fragment includes the invite form")
	}
	oob := regexp.MustCompile(`(?s)<div id="flash"[^>]*hx-swap-oob="innerHTML"[^>]*>.*Usuario desactivado; sus sesiones se han cerrado\..*?</div>`)
	if !oob.MatchString(r.Body) {
		t.Errorf("no out-of-band flash:\n%s", r.Body)
	}
	if !regexp.MustCompile(`(?s)id="user-` + id(w.Rep.ID) + `".*?Desactivado`).MatchString(r.Body) {
		t.Error("the fragment does not show the rep as deactivated")
	}
	if n := w.Env.Count(`SELECT count(*) FROM users WHERE id = $1 AND active`, w.Rep.ID); n != 0 {
		t.Error("user still active")
	}
	// The flash was shown now; it must not show again on the next page.
	c.HTMX = false
	if strings.Contains(c.Get("/admin/users").Body, "Usuario desactivado; sus sesiones") {
		t.Error("the flash shows a second time")
	}
}
