package workers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"pulso/app/mail/mailtest"
	"pulso/app/web"
)

var inviteLinkRE = regexp.MustCompile(`http://localhost:8080/invite/([A-Za-z0-9_-]+)`)

// An invite's e-mail is stored with its link redacted; the send_email job
// puts the working link back in the message the SMTP server receives, and
// no table — the invite, the e-mail, the job — ever holds the token.
func TestInviteLinkOnlyOnTheWire(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t)
	admin := w.env.LoginAs(w.env.User(w.org, "admin@demo.test", web.RoleAdmin))
	r := admin.Post("/admin/users", url.Values{"email": {"nueva@demo.test"}, "name": {"Nueva Persona"}, "role": {"rep"}})
	m := inviteLinkRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("invite: status %d, no link shown", r.Status)
	}
	link, token := m[0], m[1]
	if held := w.env.Holding(token); len(held) > 0 {
		t.Errorf("the invite token is stored in %v", held)
	}
	var id int64
	if err := w.env.DB.QueryRow(context.Background(), `SELECT id FROM emails WHERE org_id = $1 AND template = 'invite'`, w.org.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if e := w.get(t, id); !strings.Contains(e.TextBody, "http://localhost:8080/invite/") || !strings.Contains(e.HtmlBody, "http://localhost:8080/invite/") {
		t.Errorf("the stored e-mail lost the link's place:\n%s", e.TextBody)
	}
	if _, err := work(t, w.worker, w.env, w.job(t, id)); err != nil {
		t.Fatal(err)
	}
	msgs := w.srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages reached the server", len(msgs))
	}
	got := mailtest.Parse(t, msgs[0].Data)
	if !strings.Contains(got.Text, link) || !strings.Contains(got.HTML, `href="`+link+`"`) {
		t.Errorf("the message on the wire lacks the working link %s:\n%s", link, got.Text)
	}
	if held := w.env.Holding(token); len(held) > 0 {
		t.Errorf("after sending, the invite token is stored in %v", held)
	}
	if r := w.env.Client().Get("/invite/" + token); r.Status != http.StatusOK || !strings.Contains(r.Body, "nueva@demo.test") {
		t.Errorf("the link the server received does not open the invite: %d", r.Status)
	}
}
