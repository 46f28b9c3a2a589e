package sendweb_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"pulso/app/invoices"
	"pulso/app/invoices/sends"
	"pulso/queries"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// sendJobs are the invoice_send jobs of a send: their scheduled minute and state.
func sendJobs(t *testing.T, w *world, sendID int64) []*rivertype.JobRow {
	t.Helper()
	rows, err := w.Env.DB.Query(context.Background(), `SELECT id FROM river_job WHERE kind = 'invoice_send' AND (args->>'send_id')::bigint = $1 ORDER BY id`, sendID)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	var jobs []*rivertype.JobRow
	for _, id := range ids {
		j, err := w.Env.Deps.Jobs.JobGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// worker runs invoice_send jobs as River would, with the clock at now.
func (w *world) worker(t *testing.T, now time.Time) *rivertest.Worker[jobargs.InvoiceSend, pgx.Tx] {
	return rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, river.Worker[jobargs.InvoiceSend](&workers.InvoiceSendWorker{
		DB: w.Env.DB, Links: w.Env.Deps.Cfg.LinkKeys(), BaseURL: "http://localhost:8080", Now: func() time.Time { return now }}))
}

// runJob works one existing job in a transaction rolled back afterwards
// (the worker's own writes go through the pool and stay).
func runJob(t *testing.T, tw *rivertest.Worker[jobargs.InvoiceSend, pgx.Tx], w *world, job *rivertype.JobRow) {
	t.Helper()
	runJobTo(t, tw, w, job, river.EventKindJobCompleted)
}

// runJobTo is runJob expecting the job to end as want.
func runJobTo(t *testing.T, tw *rivertest.Worker[jobargs.InvoiceSend, pgx.Tx], w *world, job *rivertype.JobRow, want river.EventKind) {
	t.Helper()
	ctx := context.Background()
	tx, err := w.Env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if r, err := tw.WorkJob(ctx, t, tx, job); err != nil || r.EventKind != want {
		t.Fatalf("invoice_send job: %v %v, want %s", r, err, want)
	}
}

func (w *world) emails(sendID int64) int {
	return w.Env.Count(`SELECT count(*) FROM emails WHERE org_id = $1 AND key = $2`, w.Org.ID, "invoice-send:"+strconv.FormatInt(sendID, 10))
}

// Scheduling from the fragment reads the date and time in the org's zone
// and inserts a River job scheduled for exactly that minute; the job does
// nothing before it, sends at it, and a second run sends nothing more.
func TestScheduleRunsAtItsMinute(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	madrid, _ := time.LoadLocation("Europe/Madrid")
	at := time.Now().In(madrid).Add(48 * time.Hour).Truncate(time.Minute)
	res := form(w.RepC, w.path(w.inv, ""), "to", customerEmail, "when", "later", "date", at.Format("2006-01-02"), "time", at.Format("15:04"))
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Envío programado para el "+at.Format("02/01/2006 15:04")) {
		t.Fatalf("schedule: %d %.600s", res.Status, res.Body)
	}
	s := w.lastSend(t, w.inv)
	if s.State != "scheduled" || !s.ScheduledAt.Equal(at) || s.EmailID != nil {
		t.Fatalf("scheduled row: %s at %v (want %v)", s.State, s.ScheduledAt, at)
	}
	if n := w.events(w.inv, "scheduled"); n != 1 {
		t.Errorf("%d scheduled events", n)
	}
	jobs := sendJobs(t, w, s.ID)
	if len(jobs) != 1 || jobs[0].State != rivertype.JobStateScheduled || !jobs[0].ScheduledAt.Equal(at) {
		t.Fatalf("jobs: %+v", jobs)
	}

	// A worker whose clock is a second behind the database's waits for
	// the minute instead of leaving the send to the sweep.
	runJobTo(t, w.worker(t, at.Add(-time.Second)), w, jobs[0], river.EventKindJobSnoozed)
	if s = w.send(t, s.ID); s.State != "scheduled" || w.emails(s.ID) != 0 {
		t.Fatalf("before its minute: %s, %d e-mails", s.State, w.emails(s.ID))
	}
	runJob(t, w.worker(t, at), w, jobs[0])
	if s = w.send(t, s.ID); s.State != "sent" || w.emails(s.ID) != 1 || s.TokenHash == nil {
		t.Fatalf("at its minute: %s, %d e-mails", s.State, w.emails(s.ID))
	}
	runJob(t, w.worker(t, at.Add(time.Minute)), w, jobs[0])
	if w.emails(s.ID) != 1 || w.events(w.inv, "sent") != 1 {
		t.Fatalf("a second run: %d e-mails, %d sent events", w.emails(s.ID), w.events(w.inv, "sent"))
	}
	// It ran: it can no longer be changed or cancelled.
	res = form(w.RepC, w.path(w.inv, "/"+strconv.FormatInt(s.ID, 10)+"/cancel"))
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "ya se hizo o se canceló") {
		t.Fatalf("cancel after sent: %d %.400s", res.Status, res.Body)
	}
	res = form(w.RepC, w.path(w.inv, "/"+strconv.FormatInt(s.ID, 10)+"/reschedule"), "to", customerEmail,
		"date", at.Add(24*time.Hour).Format("2006-01-02"), "time", "10:00")
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "ya se hizo o se canceló") {
		t.Fatalf("reschedule after sent: %d %.400s", res.Status, res.Body)
	}
	if s = w.send(t, s.ID); s.State != "sent" {
		t.Fatalf("state after refusals: %s", s.State)
	}
}

// A send scheduled before the invoice first went out, by a send now, goes
// out as a resend: its row and subject say so, decided when it goes.
func TestAScheduledSendAfterASendNowIsAResend(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	madrid, _ := time.LoadLocation("Europe/Madrid")
	at := time.Now().In(madrid).Add(48 * time.Hour).Truncate(time.Minute)
	if res := form(w.RepC, w.path(w.inv, ""), "to", customerEmail, "when", "later", "date", at.Format("2006-01-02"), "time", at.Format("15:04")); res.Status != http.StatusOK {
		t.Fatalf("schedule: %d %.400s", res.Status, res.Body)
	}
	later := w.lastSend(t, w.inv)
	if later.Resend {
		t.Fatal("the first send scheduled is a resend")
	}
	if res := form(w.RepC, w.path(w.inv, ""), "to", customerEmail, "when", "now"); res.Status != http.StatusOK {
		t.Fatalf("send now: %d %.400s", res.Status, res.Body)
	}
	jobs := sendJobs(t, w, later.ID)
	if len(jobs) != 1 {
		t.Fatalf("jobs: %+v", jobs)
	}
	runJob(t, w.worker(t, at), w, jobs[0])
	s := w.send(t, later.ID)
	var subject string
	if s.State != "sent" || s.EmailID == nil {
		t.Fatalf("scheduled send after its minute: %s", s.State)
	}
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT subject FROM emails WHERE id = $1`, *s.EmailID).Scan(&subject); err != nil || !s.Resend || !strings.Contains(subject, "(reenvío)") {
		t.Errorf("the scheduled send went out as resend %t, subject %q (%v)", s.Resend, subject, err)
	}
}

// A real River client runs the job when its minute comes: a send scheduled
// for a minute that has just passed (the rep scheduled it earlier) goes by
// itself, while one for tomorrow keeps waiting with its job.
func TestScheduledJobRunsInRiver(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	earlier := time.Now().Add(-3 * time.Minute)
	var due, later queries.InvoiceSend
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		in := sendsInput(w, customerEmail)
		in.Now = earlier
		if due, err = w.sender().Schedule(ctx, tx, in, time.Now().Add(-time.Minute)); err != nil {
			return err
		}
		later, err = w.sender().Schedule(ctx, tx, sendsInput(w, "otra@ebro.test"), time.Now().Add(24*time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	client, err := workers.NewClient(w.Env.DB, slog.New(slog.NewTextHandler(io.Discard, nil)),
		workers.Options{Work: true, Links: w.Env.Deps.Cfg.LinkKeys(), BaseURL: "http://localhost:8080"})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		_ = client.Stop(sctx)
	}()
	jobID := sendJobs(t, w, due.ID)[0].ID
	deadline := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case ev := <-events:
			if ev.Job.ID == jobID {
				if ev.Kind != river.EventKindJobCompleted {
					t.Fatalf("job %s: %v", ev.Kind, ev.Job.Errors)
				}
				done = true
			}
		case <-deadline:
			t.Fatal("the scheduled job never ran")
		}
	}
	if s := w.send(t, due.ID); s.State != "sent" || w.emails(due.ID) != 1 {
		t.Fatalf("due send: %s, %d e-mails", s.State, w.emails(due.ID))
	}
	if s := w.send(t, later.ID); s.State != "scheduled" || w.emails(later.ID) != 0 {
		t.Fatalf("tomorrow's send: %s", s.State)
	}
	if j := sendJobs(t, w, later.ID); len(j) != 1 || j[0].State != rivertype.JobStateScheduled {
		t.Fatalf("tomorrow's job: %+v", j)
	}
}

// A changed schedule is honoured: the old minute's job finds the row moved
// and does nothing, the new minute's sends (to the new address). A
// cancelled one never goes, and its job does nothing.
func TestRescheduleAndCancelHonoured(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	madrid, _ := time.LoadLocation("Europe/Madrid")
	first := time.Now().In(madrid).Add(2 * time.Hour).Truncate(time.Minute)
	moved := first.Add(26 * time.Hour)
	var s queries.InvoiceSend
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		in := sendsInput(w, customerEmail)
		in.ToName = "Marta (compras)"
		s, err = w.sender().Schedule(ctx, tx, in, first)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The fragment shows it with its change and cancel forms.
	res := w.RepC.Get(w.path(w.inv, ""))
	if !strings.Contains(res.Body, "Programado para el "+first.Format("02/01/2006 15:04")) || !strings.Contains(res.Body, `data-testid="cancel-send"`) {
		t.Fatalf("fragment: %.1200s", res.Body)
	}
	sid := strconv.FormatInt(s.ID, 10)
	// Another minute to the same address greets the same person.
	res = form(w.RepC, w.path(w.inv, "/"+sid+"/reschedule"), "to", customerEmail, "date", moved.Format("2006-01-02"), "time", first.Format("15:04"))
	if s = w.send(t, s.ID); res.Status != http.StatusOK || s.ToName != "Marta (compras)" {
		t.Fatalf("rescheduled to the same address: %d, greeting %q", res.Status, s.ToName)
	}
	// A bad address is refused with its field message and changes nothing.
	res = form(w.RepC, w.path(w.inv, "/"+sid+"/reschedule"), "to", "no es un correo", "date", moved.Format("2006-01-02"), "time", moved.Format("15:04"))
	if s = w.send(t, s.ID); !strings.Contains(res.Body, "Este e-mail no es válido") || s.ToAddress != customerEmail || s.ScheduledAt.Equal(moved) {
		t.Fatalf("rescheduled to a bad address: %d %.300s; now to %s at %v", res.Status, res.Body, s.ToAddress, s.ScheduledAt)
	}
	// Another address: the old recipient's name is not kept for it.
	res = form(w.RepC, w.path(w.inv, "/"+sid+"/reschedule"), "to", "pagos@ebro.test", "date", moved.Format("2006-01-02"), "time", moved.Format("15:04"))
	if res.Status != http.StatusOK {
		t.Fatalf("reschedule: %d %.500s", res.Status, res.Body)
	}
	if s = w.send(t, s.ID); !s.ScheduledAt.Equal(moved) || s.ToAddress != "pagos@ebro.test" || s.ToName != "Ferretería Ebro S.L." ||
		s.UpdatedBy == nil || *s.UpdatedBy != w.Rep.ID {
		t.Fatalf("after reschedule: %v to %s greeting %q", s.ScheduledAt, s.ToAddress, s.ToName)
	}
	jobs := sendJobs(t, w, s.ID)
	if len(jobs) != 3 || !jobs[0].ScheduledAt.Equal(first) || !jobs[2].ScheduledAt.Equal(moved) {
		t.Fatalf("jobs after reschedule: %d", len(jobs))
	}
	runJob(t, w.worker(t, first), w, jobs[0])
	if s = w.send(t, s.ID); s.State != "scheduled" || w.emails(s.ID) != 0 {
		t.Fatalf("the old minute's job sent it: %s", s.State)
	}
	runJob(t, w.worker(t, moved), w, jobs[2])
	var to string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT to_address FROM emails WHERE org_id = $1 AND key = $2`, w.Org.ID, "invoice-send:"+sid).Scan(&to); err != nil || to != "pagos@ebro.test" {
		t.Fatalf("moved send's e-mail to %q (%v)", to, err)
	}

	// Cancel.
	var c queries.InvoiceSend
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		c, err = w.sender().Schedule(ctx, tx, sendsInput(w, customerEmail), first)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res = form(w.ManagerC, w.path(w.inv, "/"+strconv.FormatInt(c.ID, 10)+"/cancel"))
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Envío cancelado") {
		t.Fatalf("cancel: %d %.400s", res.Status, res.Body)
	}
	runJob(t, w.worker(t, first), w, sendJobs(t, w, c.ID)[0])
	if c = w.send(t, c.ID); c.State != "cancelled" || c.CancelledBy == nil || *c.CancelledBy != w.Manager.ID || w.emails(c.ID) != 0 {
		t.Fatalf("cancelled send: %s, %d e-mails", c.State, w.emails(c.ID))
	}
}

// Two workers (a second `pulso work`, the sweep) reaching one due send at
// once send it once; the sweep alone catches a send whose job was lost.
func TestDueSendsOnceWithTwoWorkers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	earlier := time.Now().Add(-10 * time.Minute)
	at := time.Now().Add(-5 * time.Minute)
	schedule := func() queries.InvoiceSend {
		var s queries.InvoiceSend
		if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
			in := sendsInput(w, customerEmail)
			in.Now = earlier
			var err error
			s, err = w.sender().Schedule(ctx, tx, in, at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := schedule()
	var wg sync.WaitGroup
	results := make([]bool, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.tx(func(ctx context.Context, tx pgx.Tx) error {
				var err error
				results[i], err = w.sender().Due(ctx, tx, w.Org.ID, s.ID, time.Now())
				return err
			})
		}()
	}
	wg.Wait()
	sent := 0
	for i, ok := range results {
		if errs[i] != nil {
			t.Fatalf("worker %d: %v", i, errs[i])
		}
		if ok {
			sent++
		}
	}
	if sent != 1 || w.emails(s.ID) != 1 || w.events(w.inv, "sent") != 1 {
		t.Fatalf("%d workers sent, %d e-mails, %d sent events; want 1 each", sent, w.emails(s.ID), w.events(w.inv, "sent"))
	}

	// The job of this one is lost (a restore, a purge): the sweep sends it.
	lost := schedule()
	w.Env.Exec(`DELETE FROM river_job WHERE kind = 'invoice_send' AND (args->>'send_id')::bigint = $1`, lost.ID)
	sweep := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, river.Worker[jobargs.InvoiceSendSweep](&workers.InvoiceSendSweepWorker{
		DB: w.Env.DB, Links: w.Env.Deps.Cfg.LinkKeys(), BaseURL: "http://localhost:8080"}))
	ctx := context.Background()
	tx, err := w.Env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if r, err := sweep.Work(ctx, t, tx, jobargs.InvoiceSendSweep{}, nil); err != nil || r.EventKind != river.EventKindJobCompleted {
		t.Fatalf("sweep: %v %v", r, err)
	}
	if l := w.send(t, lost.ID); l.State != "sent" || w.emails(lost.ID) != 1 {
		t.Fatalf("lost job's send: %s", l.State)
	}
}

// Bad input gets field messages: a date in the past, a malformed date, a
// bad or empty address, a draft; a voided invoice's scheduled send fails
// at its minute instead of going out.
func TestBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	madrid, _ := time.LoadLocation("Europe/Madrid")
	past := time.Now().In(madrid).Add(-time.Hour)
	tomorrow := time.Now().In(madrid).Add(24 * time.Hour)
	for _, c := range []struct {
		name string
		kv   []string
		want string
	}{
		{"past", []string{"to", customerEmail, "when", "later", "date", past.Format("2006-01-02"), "time", past.Format("15:04")}, "Esa fecha y hora ya han pasado"},
		{"no time", []string{"to", customerEmail, "when", "later", "date", tomorrow.Format("2006-01-02")}, "Indique la fecha y la hora"},
		{"bad date", []string{"to", customerEmail, "when", "later", "date", "31/02/2027", "time", "10:00"}, "Indique la fecha y la hora"},
		{"bad e-mail", []string{"to", "compras en ebro", "when", "now"}, "Este e-mail no es válido"},
		{"bad e-mail later", []string{"to", "compras@", "when", "later", "date", tomorrow.Format("2006-01-02"), "time", "10:00"}, "Este e-mail no es válido"},
		{"no e-mail", []string{"to", "", "when", "now"}, "Indique el e-mail del cliente"},
	} {
		res := form(w.RepC, w.path(w.inv, ""), c.kv...)
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, c.want) || !strings.Contains(res.Body, `field-error`) {
			t.Errorf("%s: %d %.500s", c.name, res.Status, res.Body)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM invoice_sends`); n != 0 {
		t.Fatalf("bad input wrote %d sends", n)
	}
	// A draft cannot be sent: said on the fragment and refused on post.
	res := w.RepC.Get(w.path(w.draft, ""))
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "borrador no se puede enviar") || strings.Contains(res.Body, `data-testid="send-form"`) {
		t.Fatalf("draft fragment: %d %.500s", res.Status, res.Body)
	}
	res = form(w.RepC, w.path(w.draft, ""), "to", customerEmail, "when", "now")
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "borrador no se puede enviar") {
		t.Fatalf("draft send: %d %.500s", res.Status, res.Body)
	}
	err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := w.sender().SendNow(ctx, tx, w.Org.ID, w.draft.ID, nil, time.Now())
		return err
	})
	var bad invoices.Invalid
	if !errors.As(err, &bad) || bad["invoice"].ID != "invoices.sends.draft" {
		t.Fatalf("SendNow of a draft: %v", err)
	}

	// Voided after scheduling: the minute comes, nothing goes out.
	var s queries.InvoiceSend
	at := time.Now().Add(time.Hour)
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if s, err = w.sender().Schedule(ctx, tx, sendsInput(w, customerEmail), at); err != nil {
			return err
		}
		_, err = invoices.Void(ctx, tx, invoices.VoidInput{OrgID: w.Org.ID, InvoiceID: w.inv.ID, UserID: &w.Admin.ID, Reason: "Emitida por error", Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	runJob(t, w.worker(t, at), w, sendJobs(t, w, s.ID)[0])
	if s = w.send(t, s.ID); s.State != "failed" || s.Failure != sends.FailureVoided || w.emails(s.ID) != 0 {
		t.Fatalf("voided invoice's send: %s %q", s.State, s.Failure)
	}
	if res := w.RepC.Get(w.path(w.inv, "")); !strings.Contains(res.Body, "se anuló antes de la hora programada") || !strings.Contains(res.Body, "Una factura anulada no se envía") {
		t.Errorf("fragment after void: %.800s", res.Body)
	}
}

// The invoice's customer's scope decides who sees and sends: the owner rep
// and their manager may, another rep gets 404 for everything.
func TestScope(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var s queries.InvoiceSend
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		s, err = w.sender().Schedule(ctx, tx, sendsInput(w, customerEmail), time.Now().Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sid := "/" + strconv.FormatInt(s.ID, 10)
	for _, p := range []string{"", sid + "/cancel", sid + "/resend", sid + "/reschedule"} {
		var res = w.Rep2C.Get(w.path(w.inv, ""))
		if p != "" {
			res = form(w.Rep2C, w.path(w.inv, p), "to", customerEmail, "when", "now")
		}
		if res.Status != http.StatusNotFound {
			t.Errorf("another rep on %q: %d", p, res.Status)
		}
	}
	if res := form(w.Rep2C, w.path(w.inv, ""), "to", customerEmail, "when", "now"); res.Status != http.StatusNotFound {
		t.Errorf("another rep sending: %d", res.Status)
	}
	if res := w.ManagerC.Get(w.path(w.inv, "")); res.Status != http.StatusOK {
		t.Errorf("the owner's manager: %d", res.Status)
	}
	// A send of another invoice is not reachable through this one.
	other := w.issue(t, w.newDraft(t, "ordinary").ID)
	if res := form(w.RepC, w.path(other, sid+"/cancel")); res.Status != http.StatusNotFound {
		t.Errorf("send through another invoice: %d", res.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM invoice_sends WHERE state <> 'scheduled'`); n != 0 {
		t.Errorf("%d sends changed", n)
	}
}
