// Command pulso is the whole of Pulso in one binary: the web app, the
// background workers, migrations and the demo seed. This file only wires
// things together; the logic lives in app/ and workers/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // org time zones must resolve on hosts without zoneinfo

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app"
	"pulso/app/config"
	"pulso/app/demo"
	"pulso/app/devdb"
	"pulso/app/inbound"
	"pulso/app/inbound/senderauth"
	"pulso/app/live/hub"
	"pulso/app/mail"
	"pulso/app/ops"
	"pulso/app/schema"
	"pulso/app/stats"
	"pulso/app/verifactu/aeat"
	"pulso/app/web"
	"pulso/queries"
	"pulso/workers"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `pulso — real-time sales workspace

Usage:
  pulso serve [--workers=true] [--migrate]   HTTP + WebSocket (+ workers unless --workers=false)
  pulso work                                 background workers only
  pulso migrate                              apply app and River migrations (idempotent)
  pulso seed --demo                          create the demo orgs and users (idempotent)
  pulso dev                                  find or start a local database, migrate, seed, serve
  pulso devdb stop                           stop the private dev PostgreSQL cluster
  pulso verifactu verify --org N             recompute the org's VERI*FACTU chains (exit 1 if one is broken)
  pulso stats rebuild [--org N]              recompute the dashboard and report rollups from scratch
  pulso version                              print the version

Configuration comes from environment variables; see README.md.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "pulso:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string) error {
	switch cmd {
	case "version", "--version", "-v":
		fmt.Println("pulso", buildVersion())
		return nil
	case "help", "--help", "-h":
		fmt.Print(usage)
		return nil
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := cfg.Logger()
	slog.SetDefault(log)
	// Every VERI*FACTU record names the program that made it.
	applyRecording(cfg)

	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	switch cmd {
	case "serve":
		withWorkers := fs.Bool("workers", true, "run River workers in this process")
		migrate := fs.Bool("migrate", false, "apply pending migrations before serving")
		if err := fs.Parse(args); err != nil {
			return err
		}
		return serve(ctx, cfg, log, *withWorkers, *migrate)
	case "work":
		if err := fs.Parse(args); err != nil {
			return err
		}
		return work(ctx, cfg, log)
	case "migrate":
		if err := fs.Parse(args); err != nil {
			return err
		}
		pool, err := connect(ctx, cfg)
		if err != nil {
			return err
		}
		defer pool.Close()
		if err := schema.Migrate(ctx, pool, log); err != nil {
			return err
		}
		log.Info("schema is current")
		return nil
	case "seed":
		demoFlag := fs.Bool("demo", false, "seed the demo organisations")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if !*demoFlag {
			return errors.New("seed: nothing to do; use `pulso seed --demo`")
		}
		// The demo's links are derived under the secret the server will use.
		if err := cfg.EnsureDevSecret(); err != nil {
			return err
		}
		pool, err := connect(ctx, cfg)
		if err != nil {
			return err
		}
		defer pool.Close()
		if err := schema.Check(ctx, pool); err != nil {
			return fmt.Errorf("%w: run `pulso migrate` first", err)
		}
		return demo.Seed(ctx, pool, cfg.LinkKeys(), log)
	case "dev":
		if err := fs.Parse(args); err != nil {
			return err
		}
		if err := cfg.EnsureDevSecret(); err != nil {
			return err
		}
		if cfg.DatabaseURL == "" {
			url, err := devdb.Ensure(ctx, cfg.DataDir, log)
			if err != nil {
				return err
			}
			cfg.DatabaseURL = url
		}
		pool, err := connect(ctx, cfg)
		if err != nil {
			return err
		}
		err = schema.Migrate(ctx, pool, log)
		if err == nil {
			err = demo.Seed(ctx, pool, cfg.LinkKeys(), log)
		}
		if err == nil {
			var link string
			if link, err = demo.LiveQuoteURL(ctx, pool, cfg.LinkKeys(), cfg.BaseURL.String()); link != "" {
				log.Info("demo: open this quote on a phone and sign it with a finger", "url", link)
			}
		}
		stopAEAT := func() {}
		if err == nil {
			stopAEAT, err = startDemoAEAT(ctx, pool, &cfg, log)
		}
		defer stopAEAT()
		stopStore := func() {}
		if err == nil {
			stopStore, err = startDemoStore(ctx, pool, &cfg, log)
		}
		defer stopStore()
		defer startDemoPayments(&cfg, log)()
		pool.Close()
		if err != nil {
			return err
		}
		log.Info("demo ready: sign in as admin@demo.test / " + demo.Password)
		return serve(ctx, cfg, log, true, false)
	case "verifactu":
		return verifactuCmd(ctx, cfg, args, os.Stdout)
	case "stats":
		if len(args) < 1 || args[0] != "rebuild" {
			return errors.New("usage: pulso stats rebuild [--org N]")
		}
		org := fs.Int64("org", 0, "only this org (default: every org)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		pool, err := connect(ctx, cfg)
		if err != nil {
			return err
		}
		defer pool.Close()
		if err := stats.Rebuild(ctx, pool, *org); err != nil {
			return err
		}
		log.Info("stats rebuilt", "org", *org)
		return nil
	case "devdb":
		if len(args) != 1 || args[0] != "stop" {
			return errors.New("usage: pulso devdb stop")
		}
		return devdb.Stop(cfg.DataDir)
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// defaultDatabaseURL is used by serve, work, migrate and seed when
// DATABASE_URL is unset: the local server `make run` also uses.
const defaultDatabaseURL = "postgres://postgres@localhost:5432/pulso?sslmode=disable"

// defaultPoolConns is the connection pool size when DATABASE_URL does not
// say (PostgreSQL's default max_connections is 100: room for a few processes).
const defaultPoolConns = 20

func connect(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	url := cfg.DatabaseURL
	if url == "" {
		url = defaultDatabaseURL
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL does not parse: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (max(4, CPUs)) starves a process that serves
		// pages and runs dozens of workers; set pool_max_conns in the URL
		// to override.
		pcfg.MaxConns = defaultPoolConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s@%s:%d/%s: %w", pcfg.ConnConfig.User, pcfg.ConnConfig.Host, pcfg.ConnConfig.Port, pcfg.ConnConfig.Database, err)
	}
	return pool, nil
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger, withWorkers, migrate bool) error {
	if err := cfg.EnsureDevSecret(); err != nil {
		return err
	}
	pool, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if migrate {
		if err := schema.Migrate(ctx, pool, log); err != nil {
			return err
		}
	} else if err := schema.Check(ctx, pool); err != nil {
		return fmt.Errorf("%w: run `pulso migrate` (or `make migrate`), or start with `pulso serve --migrate`", err)
	}

	jobs, err := newJobs(pool, cfg, log, withWorkers)
	if err != nil {
		return err
	}
	if withWorkers {
		if err := jobs.Start(ctx); err != nil {
			return err
		}
	}

	metrics := ops.NewMetrics()
	lh := hub.New(pool, log, metrics.Registry(), hub.Config{Origin: cfg.Origin(), MaxPerUser: cfg.LiveMaxPerUser, MaxPerOrg: cfg.LiveMaxPerOrg})
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHub()
	go func() { _ = lh.Run(hubCtx) }()
	fiberApp := app.New(web.Deps{Cfg: cfg, DB: pool, Q: queries.New(pool), Jobs: jobs, Log: log}, metrics, lh)

	errc := make(chan error, 3)
	// Metrics answer on an address of their own (loopback by default), not
	// on the public app.
	var metricsSrv *http.Server
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			stopWorkers(jobs, withWorkers, log)
			return fmt.Errorf("metrics listener (PULSO_METRICS_ADDR): %w", err)
		}
		metricsSrv = &http.Server{Handler: metrics.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := metricsSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics listener: %w", err)
			}
		}()
		log.Info("metrics listening", "addr", ln.Addr().String())
	}
	var smtpIn *inbound.SMTP
	if cfg.InboundSMTPAddr != "" {
		ln, err := net.Listen("tcp", cfg.InboundSMTPAddr)
		if err != nil {
			stopMetrics(metricsSrv)
			stopWorkers(jobs, withWorkers, log)
			return fmt.Errorf("inbound SMTP listener (PULSO_SMTP_INBOUND_ADDR): %w", err)
		}
		smtpIn = inbound.NewSMTP(pool, jobs, log, cfg, senderauth.System)
		go func() {
			if err := smtpIn.Serve(ln); err != nil {
				errc <- fmt.Errorf("inbound SMTP: %w", err)
			}
		}()
		log.Info("inbound SMTP listening", "addr", ln.Addr().String(), "domain", cfg.InboundDomain)
	}
	go func() { errc <- fiberApp.Listen(cfg.Addr) }()
	log.Info("pulso serving", "addr", cfg.Addr, "base_url", cfg.BaseURL.String(), "workers", withWorkers, "version", buildVersion())

	select {
	case err := <-errc:
		stopSMTP(smtpIn, log)
		stopMetrics(metricsSrv)
		stopWorkers(jobs, withWorkers, log)
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	// Mail first: a conversation cut before 250 is retried by the sender.
	stopSMTP(smtpIn, log)
	// Sockets first: they get 1001 (going away) after their queued messages,
	// and the browsers reconnect to another instance.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := lh.Shutdown(sctx); err != nil {
		log.Warn("live shutdown", "error", err)
	}
	cancel()
	if err := fiberApp.ShutdownWithTimeout(20 * time.Second); err != nil {
		log.Error("http shutdown", "error", err)
	}
	stopMetrics(metricsSrv)
	stopWorkers(jobs, withWorkers, log)
	return nil
}

// stopMetrics closes the metrics listener; a scrape cut short is retried
// by the scraper.
func stopMetrics(s *http.Server) {
	if s != nil {
		_ = s.Close()
	}
}

func stopSMTP(s *inbound.SMTP, log *slog.Logger) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		log.Warn("inbound SMTP shutdown", "error", err)
	}
}

func work(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	// E-mail jobs derive the links their messages keep redacted.
	if err := cfg.EnsureDevSecret(); err != nil {
		return err
	}
	pool, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := schema.Check(ctx, pool); err != nil {
		return fmt.Errorf("%w: run `pulso migrate` first", err)
	}
	jobs, err := newJobs(pool, cfg, log, true)
	if err != nil {
		return err
	}
	if err := jobs.Start(ctx); err != nil {
		return err
	}
	log.Info("pulso working", "version", buildVersion())
	<-ctx.Done()
	stopWorkers(jobs, true, log)
	return nil
}

// workerOptions configures the River client, with the mailer its e-mail
// jobs deliver through.
// newJobs builds the River client: working jobs when work is set, else
// only inserting them (web-only nodes).
func newJobs(pool *pgxpool.Pool, cfg config.Config, log *slog.Logger, work bool) (*river.Client[pgx.Tx], error) {
	opts, err := workerOptions(cfg, log, work)
	if err != nil {
		return nil, err
	}
	return workers.NewClient(pool, log, opts)
}

func workerOptions(cfg config.Config, log *slog.Logger, work bool) (workers.Options, error) {
	mailer, err := mail.NewMailer(cfg.SMTPURL, cfg.MailFrom)
	if err != nil {
		return workers.Options{}, fmt.Errorf("configuration: %w", err)
	}
	mailer.RequireTLS = cfg.SMTPRequireTLS
	if work && mailer.Outbox() {
		log.Warn("SMTP_URL is unset: e-mail is kept in the outbox at /admin/outbox, not sent")
	}
	keys, err := cfg.SealedKeys()
	if err != nil {
		return workers.Options{}, fmt.Errorf("configuration: %w", err)
	}
	return workers.Options{
		Sealed: keys, AEAT: aeat.Options{Endpoint: cfg.AEATURL, RootCAs: devRootCAs},
		Work: work, DefaultWorkers: cfg.WorkersDefault, EmailWorkers: cfg.WorkersEmail, Mailer: mailer,
		SyncWorkers: cfg.WorkersSync, ReportsWorkers: cfg.WorkersReports,
		RescueAfter: cfg.JobRescueAfter, BaseURL: cfg.BaseURL.String(), Links: cfg.LinkKeys(),
		InboundMaxBytes: cfg.InboundMaxBytes, DocumentMaxBytes: cfg.DocumentMaxBytes,
		MercadoLibre: cfg.MercadoLibre(),
	}, nil
}

// stopWorkers lets running jobs finish for a while, then cancels them; a
// cancelled job is retried later, and jobs are written to be retry-safe.
func stopWorkers(jobs *river.Client[pgx.Tx], started bool, log *slog.Logger) {
	if !started {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := jobs.Stop(ctx); err != nil {
		log.Warn("workers did not stop in time; cancelling running jobs", "error", err)
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = jobs.StopAndCancel(cctx)
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
	}
	return "dev"
}
