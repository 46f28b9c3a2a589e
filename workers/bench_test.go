package workers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/workers"
)

type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// BenchmarkJobs works the same batch of no-op jobs with Pulso's River
// configuration (workers.ClientConfig) and with the settings River's own benchmark
// (riverbench) uses for maximum throughput, each on a fresh database, and
// prints Pulso's jobs/s as a ratio of River's. Run with -benchtime=1x.
func BenchmarkJobs(b *testing.B) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	defaultWorkers := cfg.WorkersDefault
	n := 20_000
	if testing.Short() {
		n = 5_000
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := func(cfgFor func(*pgxpool.Pool) *river.Config) float64 {
		pool := apptest.NewDB(b)
		cfg := cfgFor(pool)
		river.AddWorker(cfg.Workers, noopWorker{})
		client, err := river.NewClient(riverpgxv5.New(pool), cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		params := make([]river.InsertManyParams, 0, n)
		for i := range n {
			params = append(params, river.InsertManyParams{Args: noopArgs{N: i}})
		}
		if _, err := client.InsertMany(ctx, params); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := client.Start(ctx); err != nil {
			b.Fatal(err)
		}
		// Count completions in the table: River's event subscription drops
		// events when its channel is full, which a fast client does.
		deadline := time.Now().Add(4 * time.Minute)
		for {
			var got int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&got); err != nil {
				b.Fatal(err)
			}
			if got >= n {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("worked only %d of %d jobs", got, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		_ = client.Stop(ctx)
		return float64(n) / elapsed.Seconds()
	}
	b.ResetTimer()
	var pulso, rb float64
	for i := 0; i < b.N; i++ {
		pulso = run(func(pool *pgxpool.Pool) *river.Config {
			cfg := workers.ClientConfig(pool, quiet, workers.Options{Work: true, DefaultWorkers: defaultWorkers})
			cfg.PeriodicJobs = nil // measure the queue, not the hourly cleanup
			return cfg
		})
		rb = run(func(*pgxpool.Pool) *river.Config {
			return &river.Config{
				Logger: quiet, Workers: river.NewWorkers(),
				FetchCooldown: 2 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond,
				Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2_000}},
			}
		})
	}
	ratio := pulso / rb
	b.ReportMetric(pulso, "jobs/s_pulso")
	b.ReportMetric(rb, "jobs/s_riverbench")
	b.ReportMetric(ratio, "ratio")
	fmt.Printf("SUMMARY %-12s ratio %.2f (no target; informs PULSO_WORKERS) — %.0f jobs/s with Pulso's settings (default queue, %d workers, 10 ms fetch cooldown) vs %.0f jobs/s with riverbench's (2000 workers, 2 ms cooldown, 20 ms poll), %d no-op jobs\n",
		"jobs", ratio, pulso, defaultWorkers, rb, n)
}
