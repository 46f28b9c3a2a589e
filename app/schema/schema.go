// Package schema brings a database to the schema this binary expects: Pulso's
// own migrations (goose format, embedded from queries/migrations) and River's.
package schema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"pulso/queries/migrations"
)

// lockKey serialises concurrent migrators (two `serve --migrate` starting at
// once) on one advisory lock; the value is arbitrary but fixed forever.
const lockKey = 7_372_001_331

// Status says how far the database is from this binary's schema.
type Status struct {
	AppCurrent, AppTarget     int64
	RiverCurrent, RiverTarget int
}

// Current reports whether nothing remains to apply.
func (s Status) Current() bool {
	return s.AppCurrent == s.AppTarget && s.RiverCurrent == s.RiverTarget
}

// ErrOutOfDate is returned by Check when migrations are pending.
var ErrOutOfDate = errors.New("database schema is out of date")

func (s Status) String() string {
	return fmt.Sprintf("app schema %d/%d, river schema %d/%d", s.AppCurrent, s.AppTarget, s.RiverCurrent, s.RiverTarget)
}

func provider(pool *pgxpool.Pool) (*goose.Provider, error) {
	db := stdlib.OpenDBFromPool(pool)
	return goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithDisableGlobalRegistry(true))
}

func riverMigrator(pool *pgxpool.Pool) (*rivermigrate.Migrator[pgx.Tx], error) {
	return rivermigrate.New(riverpgxv5.New(pool), nil)
}

// Read returns the schema status without changing anything.
func Read(ctx context.Context, pool *pgxpool.Pool) (Status, error) {
	var st Status
	p, err := provider(pool)
	if err != nil {
		return st, err
	}
	defer p.Close()
	st.AppCurrent, st.AppTarget, err = p.GetVersions(ctx)
	if err != nil {
		return st, fmt.Errorf("read app schema version: %w", err)
	}
	rm, err := riverMigrator(pool)
	if err != nil {
		return st, err
	}
	existing, err := rm.ExistingVersions(ctx)
	if err != nil {
		return st, fmt.Errorf("read river schema version: %w", err)
	}
	if n := len(existing); n > 0 {
		st.RiverCurrent = existing[n-1].Version
	}
	all := rm.AllVersions()
	st.RiverTarget = all[len(all)-1].Version
	return st, nil
}

// Check returns ErrOutOfDate (wrapped with the versions) unless the database
// is fully migrated.
func Check(ctx context.Context, pool *pgxpool.Pool) error {
	st, err := Read(ctx, pool)
	if err != nil {
		return err
	}
	if !st.Current() {
		return fmt.Errorf("%w (%s)", ErrOutOfDate, st)
	}
	return nil
}

// Migrate applies every pending migration, app schema first (River's tables
// do not depend on ours, nor ours on River's). It is idempotent.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey)
	}()

	p, err := provider(pool)
	if err != nil {
		return err
	}
	defer p.Close()
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply app migrations: %w", err)
	}
	for _, r := range results {
		log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}

	rm, err := riverMigrator(pool)
	if err != nil {
		return err
	}
	res, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("apply river migrations: %w", err)
	}
	if len(res.Versions) > 0 {
		var vs []string
		for _, v := range res.Versions {
			vs = append(vs, fmt.Sprint(v.Version))
		}
		log.Info("applied river migrations", "versions", strings.Join(vs, ","))
	}
	return nil
}
