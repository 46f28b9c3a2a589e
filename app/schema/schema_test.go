package schema_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/apptest"
	"pulso/app/schema"
	"pulso/queries/migrations"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestMigrateEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := apptest.NewEmptyDB(t)

	err := schema.Check(ctx, pool)
	if !errors.Is(err, schema.ErrOutOfDate) {
		t.Fatalf("Check on an empty database = %v, want ErrOutOfDate", err)
	}
	st, err := schema.Read(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if st.AppCurrent != 0 || st.AppTarget < 1 || st.RiverCurrent != 0 || st.RiverTarget < 1 || st.Current() {
		t.Fatalf("empty database status: %s", st)
	}
	// Reading the status must not have created anything a later Migrate trips on.
	if err := schema.Check(ctx, pool); !errors.Is(err, schema.ErrOutOfDate) {
		t.Fatalf("second Check = %v", err)
	}

	var log bytes.Buffer
	if err := schema.Migrate(ctx, pool, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "applied migration") || !strings.Contains(log.String(), "applied river migrations") {
		t.Errorf("first Migrate logged nothing applied:\n%s", log.String())
	}
	if err := schema.Check(ctx, pool); err != nil {
		t.Fatalf("Check after Migrate: %v", err)
	}
	after, err := schema.Read(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Current() || after.AppCurrent != st.AppTarget || after.RiverCurrent != st.RiverTarget {
		t.Fatalf("after Migrate: %s", after)
	}
	for _, table := range []string{"orgs", "users", "sessions", "invites", "login_failures", "live_events", "river_job"} {
		var ok bool
		if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s missing after Migrate (%v)", table, err)
		}
	}

	// Idempotent: a second run applies nothing and changes nothing.
	log.Reset()
	if err := schema.Migrate(ctx, pool, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if strings.Contains(log.String(), "applied") {
		t.Errorf("second Migrate applied something:\n%s", log.String())
	}
	again, err := schema.Read(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if again != after {
		t.Errorf("status changed on a no-op Migrate: %s → %s", after, again)
	}
	// The pool is still usable: Migrate must not close what it was given.
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("pool unusable after Migrate: %v", err)
	}
}

// Two instances started together with --migrate must not trip over each
// other: the advisory lock makes the second wait and then find nothing to do.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := apptest.URL(apptest.NewEmptyDB(t))

	const n = 3
	pools := make([]*pgxpool.Pool, n)
	for i := range pools {
		p, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		pools[i] = p
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range pools {
		wg.Go(func() { errs[i] = schema.Migrate(ctx, pools[i], quiet()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	if err := schema.Check(ctx, pools[0]); err != nil {
		t.Fatalf("Check after concurrent Migrate: %v", err)
	}
	var applied int
	if err := pools[0].QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	// Counted from the files, not the target version: branches leave gaps
	// in the numbering until they are merged.
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Errorf("%d app migrations recorded, want %d (one per migration, none twice)", applied, len(files))
	}
}

// Two concurrent migrators sharing one pool (serve --migrate and the dev
// command in one process) also work.
func TestMigrateConcurrentlyOnePool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := apptest.NewEmptyDB(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = schema.Migrate(ctx, pool, quiet()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	if err := schema.Check(ctx, pool); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateCancelled(t *testing.T) {
	t.Parallel()
	pool := apptest.NewEmptyDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := schema.Migrate(ctx, pool, quiet()); err == nil {
		t.Fatal("Migrate with a cancelled context succeeded")
	}
	// Nothing half-done blocks a later run.
	if err := schema.Migrate(context.Background(), pool, quiet()); err != nil {
		t.Fatal(err)
	}
	if err := schema.Check(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
}
