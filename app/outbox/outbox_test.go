package outbox_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"pulso/app/apptest"
	appmail "pulso/app/mail"
	"pulso/app/web"
	"pulso/queries"
	emailview "pulso/views/email"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// workOutbox works every pending send_email job with no SMTP server, as
// `make run` does.
func workOutbox(t *testing.T, env *apptest.Env) {
	t.Helper()
	ctx := context.Background()
	tw := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{},
		river.Worker[jobargs.SendEmail](&workers.SendEmailWorker{Q: env.Q}))
	rows, err := env.DB.Query(ctx, `SELECT id FROM river_job WHERE kind = 'send_email' AND state = 'available'`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 {
		t.Fatal("no send_email job to work")
	}
	for _, id := range ids {
		job, err := env.Deps.Jobs.JobGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := pgx.BeginFunc(ctx, env.DB, func(tx pgx.Tx) error {
			_, err := tw.WorkJob(ctx, t, tx, job)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

var linkRe = regexp.MustCompile(`http://localhost:8080/invite/[A-Za-z0-9_-]+`)

func TestOutbox(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	org, other := env.Org("Demo"), env.Org("Otra")
	admin := env.User(org, "admin@demo.test", web.RoleAdmin)
	rep := env.User(org, "rep@demo.test", web.RoleRep)
	otherAdmin := env.User(other, "admin@otra.test", web.RoleAdmin)

	ac := env.LoginAs(admin)
	if r := ac.Get("/admin/outbox"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Todavía no hay correos") {
		t.Fatalf("empty outbox: status %d", r.Status)
	}
	r := ac.Post("/admin/users", url.Values{"email": {"nueva@demo.test"}, "name": {"Nueva Persona"}, "role": {"rep"}})
	link := linkRe.FindString(r.Body)
	if link == "" {
		t.Fatalf("invite: status %d", r.Status)
	}
	workOutbox(t, env)
	var e queries.Email
	if err := env.DB.QueryRow(ctx, `SELECT id FROM emails WHERE org_id = $1`, org.ID).Scan(&e.ID); err != nil {
		t.Fatal(err)
	}
	e, err := env.Q.GetEmail(ctx, queries.GetEmailParams{OrgID: org.ID, ID: e.ID})
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != "outboxed" || e.SentAt == nil {
		t.Fatalf("without SMTP the invite is %s, want outboxed", e.Status)
	}
	path := "/admin/outbox/" + strconv.FormatInt(e.ID, 10)

	// The admin sees it listed, opens it and can follow the link.
	list := ac.Get("/admin/outbox")
	if list.Status != http.StatusOK {
		t.Fatalf("list: %d", list.Status)
	}
	for _, want := range []string{"Invitación a Demo en Pulso", "nueva@demo.test", "En bandeja (sin SMTP)", `href="` + path + `"`} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	show := ac.Get(path)
	if show.Status != http.StatusOK || !strings.Contains(show.Body, link) || !strings.Contains(show.Body, `src="`+path+`/html"`) {
		t.Errorf("show: status %d, link or frame missing\n%.2000s", show.Status, show.Body)
	}
	if show.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("an e-mail with a one-time link may be cached: %q", show.Header.Get("Cache-Control"))
	}
	html := ac.Get(path + "/html")
	if html.Status != http.StatusOK || !strings.Contains(html.Body, `href="`+link+`"`) {
		t.Errorf("html part: status %d", html.Status)
	}
	csp := html.Header.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'self'") {
		t.Errorf("html part CSP %q: want a sandboxed document that loads nothing", csp)
	}
	if strings.Contains(show.Header.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Error("the app page's CSP was loosened; only the frame's may allow inline styles")
	}

	// A rep may not see the outbox at all.
	rc := env.LoginAs(rep)
	for _, p := range []string{"/admin/outbox", path, path + "/html"} {
		if r := rc.Get(p); r.Status != http.StatusForbidden || strings.Contains(r.Body, "nueva@demo.test") {
			t.Errorf("rep GET %s: status %d, want 403", p, r.Status)
		}
	}

	// Another org's admin neither lists it nor opens it by id.
	oc := env.LoginAs(otherAdmin)
	if r := oc.Get("/admin/outbox"); r.Status != http.StatusOK || strings.Contains(r.Body, "nueva@demo.test") {
		t.Errorf("other org's list: status %d, leaks the e-mail: %v", r.Status, strings.Contains(r.Body, "nueva@demo.test"))
	}
	for _, p := range []string{path, path + "/html"} {
		if r := oc.Get(p); r.Status != http.StatusNotFound || strings.Contains(r.Body, link) {
			t.Errorf("other org's admin GET %s: status %d, want 404", p, r.Status)
		}
	}
	for _, p := range []string{"/admin/outbox/abc", "/admin/outbox/0", "/admin/outbox/-1", "/admin/outbox/99999999999999999999"} {
		if r := ac.Get(p); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, r.Status)
		}
	}
}

func TestOutboxPages(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	org := env.Org("Demo")
	admin := env.User(org, "admin@demo.test", web.RoleAdmin)
	err := pgx.BeginFunc(ctx, env.DB, func(tx pgx.Tx) error {
		for i := range 31 {
			_, err := appmail.Enqueue(ctx, tx, env.Deps.Jobs, appmail.Message{
				OrgID: org.ID, Key: fmt.Sprintf("page:%02d", i), To: fmt.Sprintf("p%02d@demo.test", i), Locale: "es",
				Template: appmail.Invite(emailview.Invite{Name: fmt.Sprintf("Persona %02d", i), OrgName: "Demo", Link: "http://x/invite/t"}),
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ac := env.LoginAs(admin)
	first := ac.Get("/admin/outbox")
	if n := strings.Count(first.Body, `<li class="row" id="email-`); n != 30 {
		t.Fatalf("first page shows %d e-mails, want 30", n)
	}
	if !strings.Contains(first.Body, "p30@demo.test") || strings.Contains(first.Body, "p00@demo.test") {
		t.Error("first page is not the newest 30")
	}
	more := regexp.MustCompile(`href="(/admin/outbox\?before=\d+)"`).FindStringSubmatch(first.Body)
	if more == nil {
		t.Fatal("no link to older e-mails")
	}
	second := ac.Get(more[1])
	if n := strings.Count(second.Body, `<li class="row" id="email-`); n != 1 || !strings.Contains(second.Body, "p00@demo.test") || strings.Contains(second.Body, "?before=") {
		t.Errorf("second page: %d e-mails", n)
	}
	if !strings.Contains(second.Body, "En cola") {
		t.Error("an unsent e-mail is not shown as queued")
	}
}
