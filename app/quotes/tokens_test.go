package quotes_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"pulso/app/mail"
	"pulso/app/mail/mailtest"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// A quote's client link is in the database only as what verifies it — not
// in quote_links, not in the stored e-mail, not in a job — yet the client
// opens it, the rep copies it again from the quote's page, and the e-mail
// that reaches the SMTP server carries it.
func TestQuoteLinkNotStored(t *testing.T) {
	w := newWorld(t)
	id := w.draft(t)
	w.lines(t, id, nil)
	token := w.send(t, id)
	if held := w.Env.Holding(token); len(held) > 0 {
		t.Errorf("the client token is stored in %v", held)
	}
	if r := w.Env.Client().Get("/q/" + token); r.Status != 200 || !strings.Contains(r.Body, "Taladro percutor") {
		t.Fatalf("client page: %d", r.Status)
	}
	if again := w.clientToken(t, id); again != token {
		t.Errorf("the quote page shows %s on the next visit, want %s", again, token)
	}

	// The e-mail keeps a placeholder where the token goes; the job puts the
	// link back on its way to the server.
	var text, html string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT text_body, html_body FROM emails WHERE template = 'quote_sent'`).Scan(&text, &html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "/q/") || !strings.Contains(html, "/q/") {
		t.Errorf("the stored e-mail lost the link's place:\n%s", text)
	}
	srv := deliverEmails(t, w)
	var got mailtest.Parsed
	for _, m := range srv.Messages() {
		if p := mailtest.Parse(t, m.Data); strings.Contains(p.Subject, "Presupuesto") {
			got = p
		}
	}
	link := "/q/" + token
	if !strings.Contains(got.Text, link) || !strings.Contains(got.HTML, `href="`+link+`"`) && !strings.Contains(got.HTML, link+`"`) {
		t.Errorf("the e-mail the server received lacks the working link %s:\n%s", link, got.Text)
	}
	if held := w.Env.Holding(token); len(held) > 0 {
		t.Errorf("after sending, the client token is stored in %v", held)
	}

	// A new version gets a new link, kept the same way; the old one leads to it.
	w.RepC.Post(fmt.Sprintf("/quotes/%d/revise", id), url.Values{})
	w.lines(t, id, nil)
	tok2 := w.send(t, id)
	if tok2 == token {
		t.Fatal("version 2 reuses the token")
	}
	if held := w.Env.Holding(tok2); len(held) > 0 {
		t.Errorf("version 2's token is stored in %v", held)
	}
	if r := w.Env.Client().Get("/q/" + token); r.Status != 303 || r.Header.Get("Location") != "/q/"+tok2 {
		t.Errorf("old link: %d %s", r.Status, r.Header.Get("Location"))
	}
}

// deliverEmails works every queued send_email job through a real SMTP
// conversation with a test server, and returns the server.
func deliverEmails(t *testing.T, w *world) *mailtest.Server {
	t.Helper()
	ctx := context.Background()
	srv := mailtest.NewServer(t, mailtest.Options{})
	m, err := mail.NewMailer(srv.URL(), "Pulso <no-reply@pulso.test>")
	if err != nil {
		t.Fatal(err)
	}
	m.Timeout = 10 * time.Second
	worker := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{},
		river.Worker[jobargs.SendEmail](&workers.SendEmailWorker{Q: w.Env.Q, Mailer: m, Links: w.Env.Deps.Cfg.LinkKeys()}))
	rows, err := w.Env.DB.Query(ctx, `SELECT id FROM river_job WHERE kind = 'send_email' AND state = 'available'`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) == 0 {
		t.Fatalf("no e-mail to send: %v", err)
	}
	for _, id := range ids {
		job, err := w.Env.Deps.Jobs.JobGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := pgx.BeginFunc(ctx, w.Env.DB, func(tx pgx.Tx) error {
			_, err := worker.WorkJob(ctx, t, tx, job)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}
