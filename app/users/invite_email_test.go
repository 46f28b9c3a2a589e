package users_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"pulso/app/apptest"
	"pulso/app/mail"
	"pulso/app/mail/mailtest"
	"pulso/queries"
	"pulso/workers"
	"pulso/workers/jobargs"
)

var inviteLink = regexp.MustCompile(`http://localhost:8080/invite/[A-Za-z0-9_-]+`)

// deliver works every pending send_email job through a real SMTP
// conversation with srv, as the email queue's workers would.
func deliver(t *testing.T, env *apptest.Env, srv *mailtest.Server) {
	t.Helper()
	ctx := context.Background()
	m, err := mail.NewMailer(srv.URL(), "Pulso <no-reply@pulso.test>")
	if err != nil {
		t.Fatal(err)
	}
	tw := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{},
		river.Worker[jobargs.SendEmail](&workers.SendEmailWorker{Q: env.Q, Mailer: m, Links: env.Deps.Cfg.LinkKeys()}))
	rows, err := env.DB.Query(ctx, `SELECT id FROM river_job WHERE kind = 'send_email' AND state = 'available' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		job, err := env.Deps.Jobs.JobGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		err = pgx.BeginFunc(ctx, env.DB, func(tx pgx.Tx) error {
			res, err := tw.WorkJob(ctx, t, tx, job)
			if err == nil && res.EventKind != river.EventKindJobCompleted {
				t.Errorf("job %d: %s", id, res.EventKind)
			}
			return err
		})
		if err != nil {
			t.Fatalf("job %d: %v", id, err)
		}
	}
}

func TestInviteSendsEmail(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	srv := mailtest.NewServer(t, mailtest.Options{})

	r := w.AdminC.Post("/admin/users", url.Values{"email": {"nueva@demo.test"}, "name": {"Nueva Persona"}, "role": {"rep"}})
	link := inviteLink.FindString(r.Body)
	if r.Status != http.StatusOK || link == "" {
		t.Fatalf("invite: status %d, no link on the page (the admin still sees it)", r.Status)
	}

	// The e-mail and its job were written with the invite.
	tx, err := w.Env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	job := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, tx, &jobargs.SendEmail{}, &rivertest.RequireInsertedOpts{Queue: jobargs.QueueEmail})
	_ = tx.Rollback(ctx)
	e, err := w.Env.Q.GetEmail(ctx, queries.GetEmailParams{OrgID: w.Org.ID, ID: job.Args.EmailID})
	if err != nil {
		t.Fatalf("the job's e-mail: %v", err)
	}
	if job.Args.OrgID != w.Org.ID || e.ToAddress != "nueva@demo.test" || e.Template != "invite" || e.Status != "queued" || e.Locale != "es" {
		t.Errorf("e-mail row: %+v", e)
	}
	if e.Subject != "Invitación a Demo en Pulso" {
		t.Errorf("subject %q", e.Subject)
	}

	deliver(t, w.Env, srv)
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "nueva@demo.test" {
		t.Fatalf("server received %d messages (%v)", len(msgs), msgs)
	}
	p := mailtest.Parse(t, msgs[0].Data)
	if !strings.Contains(p.Text, link) || !strings.Contains(p.HTML, `href="`+link+`"`) {
		t.Errorf("the e-mail does not carry the invite link %s:\n%s", link, p.Text)
	}
	if !strings.Contains(p.Text, "Hola, Nueva Persona:") || !strings.Contains(p.Text, "User admin@demo.test le invita a unirse a Demo") {
		t.Errorf("text part:\n%s", p.Text)
	}
	if got, _ := w.Env.Q.GetEmail(ctx, queries.GetEmailParams{OrgID: w.Org.ID, ID: e.ID}); got.Status != "sent" {
		t.Errorf("status after delivery: %s", got.Status)
	}

	// The link in the e-mail works.
	c := w.Env.Client()
	if r := c.Get(strings.TrimPrefix(link, "http://localhost:8080")); r.Status != http.StatusOK {
		t.Errorf("link from the e-mail: status %d", r.Status)
	}
}

func TestInviteEmailInUsersLocale(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// An English-speaking admin's invitees start in English (the users
	// area gives them the inviter's language), and so does their e-mail.
	if _, err := w.Env.DB.Exec(context.Background(), `UPDATE users SET locale = 'en' WHERE id = $1`, w.Admin.ID); err != nil {
		t.Fatal(err)
	}
	r := w.AdminC.Post("/admin/users", url.Values{"email": {"new@demo.test"}, "name": {"New Person"}, "role": {"rep"}})
	if r.Status != http.StatusOK {
		t.Fatalf("invite: %d", r.Status)
	}
	var locale, subject, text string
	err := w.Env.DB.QueryRow(context.Background(),
		`SELECT e.locale, e.subject, e.text_body FROM emails e JOIN users u ON u.org_id = e.org_id AND u.email = e.to_address
		 WHERE u.email = 'new@demo.test' AND u.locale = 'en'`).Scan(&locale, &subject, &text)
	if err != nil {
		t.Fatal(err)
	}
	if locale != "en" || subject != "Your invitation to Demo on Pulso" || !strings.Contains(text, "Hello New Person,") {
		t.Errorf("locale %s, subject %q, text:\n%s", locale, subject, text)
	}
}

func TestReinviteSendsNewEmail(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	srv := mailtest.NewServer(t, mailtest.Options{})
	r := w.AdminC.Post("/admin/users", url.Values{"email": {"nueva@demo.test"}, "name": {"Nueva"}, "role": {"rep"}})
	first := inviteLink.FindString(r.Body)
	var uid int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'nueva@demo.test'`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	r = w.AdminC.Post("/admin/users/"+id(uid)+"/invite", nil)
	second := inviteLink.FindString(r.Body)
	if r.Status != http.StatusOK || second == "" || second == first {
		t.Fatalf("reinvite: status %d, link %q", r.Status, second)
	}
	if n := w.Env.Count(`SELECT count(*) FROM emails WHERE org_id = $1 AND template = 'invite'`, w.Org.ID); n != 2 {
		t.Errorf("%d invite e-mails, want 2 (one per link)", n)
	}
	deliver(t, w.Env, srv)
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("server received %d messages, want 2", len(msgs))
	}
	if p := mailtest.Parse(t, msgs[1].Data); !strings.Contains(p.Text, second) {
		t.Errorf("the second e-mail lacks the new link")
	}
	// Delivering again sends nothing more.
	deliver(t, w.Env, srv)
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("server received %d messages after a second pass, want 2", n)
	}
}

func TestInviteRefusedSendsNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, form := range []url.Values{
		{"email": {"rep@demo.test"}, "name": {"Duplicada"}, "role": {"rep"}},       // taken: the transaction rolls back
		{"email": {"ñandú@demo.test"}, "name": {"Sin ASCII"}, "role": {"rep"}},     // cannot be mailed (no SMTPUTF8)
		{"email": {"ok@demo.test"}, "name": {"Rol malo"}, "role": {"propietaria"}}, // invalid form
	} {
		if r := w.AdminC.Post("/admin/users", form); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d, want 422", form, r.Status)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM emails`) + w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'send_email'`); n != 0 {
		t.Errorf("refused invites left %d e-mails and jobs", n)
	}
}
