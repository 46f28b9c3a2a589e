// Package workers runs Pulso's background jobs: one file per job kind (its
// worker, which calls the area that owns the rule), plus the registration
// and periodic schedule here. The jobs' args live in workers/jobargs, which
// the areas enqueue with.
package workers

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"pulso/app/files"
	"pulso/app/inbound"
	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/linktoken"
	"pulso/app/mail"
	"pulso/app/sealed"
	"pulso/app/store"
	"pulso/app/store/mercadolibre"
	"pulso/app/verifactu/aeat"
	"pulso/app/verifactu/sending"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// Options configures a River client.
type Options struct {
	// Work makes the client run jobs. Without it the client only inserts
	// (web-only nodes started with serve --workers=false).
	Work           bool
	DefaultWorkers int
	// EmailWorkers is the email queue's concurrency; 0 means 5.
	EmailWorkers int
	// SyncWorkers and ReportsWorkers size those queues; 0 means 4 and 2.
	SyncWorkers, ReportsWorkers int
	// Mailer delivers e-mail; nil (or one without SMTP_URL) keeps messages
	// in the dev outbox instead.
	Mailer *mail.Mailer
	// RescueAfter is how long a job may stay running before River's rescuer
	// takes it for abandoned (its worker process died) and schedules a
	// retry; 0 means DefaultRescueAfter.
	RescueAfter time.Duration
	// InboundMaxBytes and DocumentMaxBytes bound a received e-mail and an
	// attachment kept as a document (PULSO_INBOUND_MAX_MB,
	// PULSO_DOCUMENT_MAX_MB).
	InboundMaxBytes, DocumentMaxBytes int64
	// BaseURL is PULSO_BASE_URL, for links in e-mails sent by jobs.
	BaseURL string
	// Links derives the secret links that stored e-mails keep redacted
	// (config.LinkKeys: the PULSO_SECRET every node shares).
	Links linktoken.Keys
	// Sealed opens the orgs' VERI*FACTU certificates (config.SealedKeys).
	Sealed sealed.Keys
	// AEAT configures the VERI*FACTU client: Endpoint is PULSO_AEAT_URL
	// (empty: the AEAT's service of invoices.Recording.Env); RootCAs is set
	// only for the demo's fake AEAT.
	AEAT aeat.Options
	// MercadoLibre is the store integration's app (client id and secret,
	// hosts); the store jobs only run for connected sellers.
	MercadoLibre mercadolibre.Config
}

// DefaultRescueAfter bounds how long a job of a killed worker waits before it
// is retried. River's own default is an hour.
const DefaultRescueAfter = 5 * time.Minute

// jobTimeout cancels a job's context unless its kind sets its own Timeout.
const jobTimeout = time.Minute

// timeouts returns River's JobTimeout and RescueStuckJobsAfter. A job must
// time out well before it can be rescued, or a slow but live job would be
// run a second time alongside itself; River requires at least equality, we
// keep the timeout to half the rescue window. Kinds that override Timeout
// are safe too: the rescuer waits out a kind's own timeout first.
func timeouts(rescueAfter time.Duration) (timeout, rescue time.Duration) {
	rescue = cmp.Or(rescueAfter, DefaultRescueAfter)
	return min(jobTimeout, rescue/2), rescue
}

// NewClient builds the process's River client with every worker registered.
func NewClient(pool *pgxpool.Pool, log *slog.Logger, opts Options) (*river.Client[pgx.Tx], error) {
	return river.NewClient(riverpgxv5.New(pool), ClientConfig(pool, log, opts))
}

// ClientConfig is Pulso's River configuration (the jobs benchmark measures
// exactly this).
func ClientConfig(pool *pgxpool.Pool, log *slog.Logger, opts Options) *river.Config {
	q := queries.New(pool)
	ws := river.NewWorkers()
	river.AddWorker(ws, &SessionCleanupWorker{Q: q})
	river.AddWorker(ws, &NotifyWorker{DB: pool})
	river.AddWorker(ws, &SendEmailWorker{Q: q, Mailer: opts.Mailer, Links: opts.Links})
	river.AddWorker(ws, &InboundEmailWorker{Processor: inbound.NewProcessor(pool, opts.InboundMaxBytes, opts.DocumentMaxBytes, log)})
	river.AddWorker(ws, &ImportWorker{DB: pool, Files: files.New(pool), BaseURL: opts.BaseURL, Log: log})
	river.AddWorker(ws, &TaskSLAWorker{DB: pool})
	river.AddWorker(ws, &SLASweepWorker{DB: pool})
	river.AddWorker(ws, &InvoiceSendWorker{DB: pool, Links: opts.Links, BaseURL: opts.BaseURL})
	river.AddWorker(ws, &InvoiceSendSweepWorker{DB: pool, Links: opts.Links, BaseURL: opts.BaseURL})
	river.AddWorker(ws, &VerifactuSendWorker{Sender: &sending.Sender{DB: pool, Certs: sending.Certificates{Keys: opts.Sealed},
		Env: invoices.Recording.Env, Client: opts.AEAT, Log: log}})
	river.AddWorker(ws, &VerifactuSweepWorker{DB: pool})
	river.AddWorker(ws, &RecurringInvoicesWorker{Runner: &recurring.Runner{DB: pool, Log: log,
		SendNow: sendIssued(opts.Links, opts.BaseURL, log)}})
	river.AddWorker(ws, &SummaryInvoicesWorker{DB: pool, Log: log})
	river.AddWorker(ws, &TargetCheckWorker{DB: pool})
	river.AddWorker(ws, &TargetPaceWorker{DB: pool})
	river.AddWorker(ws, &QuotaAlertWorker{DB: pool, BaseURL: opts.BaseURL})
	river.AddWorker(ws, &SubscriptionsWorker{DB: pool, BaseURL: opts.BaseURL, Log: log})
	st := &store.Store{DB: pool, ML: mercadolibre.New(opts.MercadoLibre), Keys: opts.Sealed, Log: log}
	river.AddWorker(ws, &StoreOrderWorker{Store: st})
	river.AddWorker(ws, &StoreCatchUpWorker{Store: st})
	river.AddWorker(ws, &StoreRetryBlockedWorker{Store: st})
	river.AddWorker(ws, &StoreSweepWorker{DB: pool})

	timeout, rescue := timeouts(opts.RescueAfter)
	cfg := &river.Config{
		Logger:               slog.New(quieter{log.Handler(), slog.LevelWarn}).With("component", "river"),
		Workers:              ws,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
		// River's default 100 ms between fetches caps a queue at MaxWorkers
		// jobs per 100 ms (BenchmarkJobs measured 99 jobs/s with 10
		// workers). New jobs still wake the client at once through River's
		// insert notifications; this only bounds how fast a backlog drains.
		FetchCooldown: 10 * time.Millisecond,
	}
	if opts.Work {
		cfg.Queues = map[string]river.QueueConfig{
			jobargs.QueueDefault: {MaxWorkers: max(opts.DefaultWorkers, 1)},
			jobargs.QueueEmail:   {MaxWorkers: cmp.Or(opts.EmailWorkers, 5)},
			jobargs.QueueSync:    {MaxWorkers: cmp.Or(opts.SyncWorkers, 4)},
			jobargs.QueueReports: {MaxWorkers: cmp.Or(opts.ReportsWorkers, 2)},
		}
		cfg.PeriodicJobs = periodicJobs()
	}
	return cfg
}

// periodic is the one place recurring work is scheduled: each pass runs
// on start and then every so often.
var periodic = []struct {
	every time.Duration
	args  river.JobArgs
}{
	{time.Hour, jobargs.SessionCleanup{}},
	// Deadlines have their own scheduled jobs; the sweep is the net
	// under them and finds deals idle past their stage's limit.
	{time.Minute, jobargs.SLASweep{}},
	// Scheduled invoice sends have their own jobs at their minute; the
	// sweep sends those whose job was lost.
	{time.Minute, jobargs.InvoiceSendSweep{}},
	// VERI*FACTU records are sent by a job enqueued when they are
	// written; the sweep is the net under it (an outage, a lost job).
	{time.Minute, jobargs.VerifactuSweep{}},
	// Recurring invoices: a period is due from midnight in its org's
	// zone; a minute's wait is nothing to an invoice dated that day.
	{time.Minute, jobargs.RecurringInvoices{}},
	// Sales targets falling behind pace: a matter of days, so hourly is
	// prompt; reaching one is checked at the win (TargetCheck).
	{time.Hour, jobargs.TargetPace{}},
	// Quota alerts have their own job from the issuing transaction;
	// the pass raises any left behind and ends subscription terms.
	{time.Minute, jobargs.Subscriptions{}},
	// Store orders arrive by notification; the catch-up is the net
	// under a lost one and under an outage of ours.
	{10 * time.Minute, jobargs.StoreSweep{}},
}

func periodicJobs() []*river.PeriodicJob {
	jobs := make([]*river.PeriodicJob, len(periodic))
	for i, p := range periodic {
		jobs[i] = river.NewPeriodicJob(river.PeriodicInterval(p.every),
			func() (river.JobArgs, *river.InsertOpts) { return p.args, nil },
			&river.PeriodicJobOpts{RunOnStart: true})
	}
	return jobs
}

// quieter passes on records at or above min only (unless the process logs
// at debug): River reports routine producer and leadership activity at info
// every few seconds, which would drown Pulso's own info lines.
type quieter struct {
	slog.Handler
	min slog.Level
}

func (q quieter) Enabled(ctx context.Context, l slog.Level) bool {
	return q.Handler.Enabled(ctx, l) && (l >= q.min || q.Handler.Enabled(ctx, slog.LevelDebug))
}

func (q quieter) WithAttrs(a []slog.Attr) slog.Handler { return quieter{q.Handler.WithAttrs(a), q.min} }

func (q quieter) WithGroup(n string) slog.Handler { return quieter{q.Handler.WithGroup(n), q.min} }
