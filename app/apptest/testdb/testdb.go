// Package testdb gives a test its own migrated PostgreSQL database. It
// is apptest's database half without the app, so the packages the app is
// built from (app/stats, say) can test against a real database from an
// in-package test without an import cycle through the app.
package testdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // pgtestdb talks database/sql with the "pgx" driver
	"github.com/peterldowns/pgtestdb"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"pulso/app/schema"
	"pulso/queries/migrations"
)

// DefaultTestDatabaseURL is the local server the machine and CI provide.
const DefaultTestDatabaseURL = "postgres://postgres@localhost:5432/postgres?sslmode=disable"

// serverConfig reads TEST_DATABASE_URL into pgtestdb's terms.
func serverConfig(t testing.TB) pgtestdb.Config {
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		raw = DefaultTestDatabaseURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL does not parse: %v", err)
	}
	pw, _ := u.User.Password()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	opts := u.Query()
	if opts.Get("sslmode") == "" {
		opts.Set("sslmode", "disable")
	}
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       u.Hostname(),
		Port:       port,
		User:       u.User.Username(),
		Password:   pw,
		Database:   strings.TrimPrefix(u.Path, "/"),
		Options:    opts.Encode(),
	}
}

// migrator lets pgtestdb build one template database per schema version and
// clone it for every test. A clone is not free — about half a second of
// PostgreSQL's CPU for the schema's ≈ 970 relations (BENCHMARKS.md, test
// suite time) — but migrating from scratch takes far longer.
type migrator struct{}

// Hash changes whenever an app migration or River's migration set changes.
func (migrator) Hash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := migrations.FS.ReadFile(path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	rm, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "", err
	}
	for _, m := range rm.AllVersions() {
		h.Write([]byte(m.Name))
		h.Write([]byte(m.SQLUp))
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func (migrator) Migrate(ctx context.Context, _ *sql.DB, cfg pgtestdb.Config) error {
	pool, err := pgxpool.New(ctx, cfg.URL())
	if err != nil {
		return err
	}
	defer pool.Close()
	return schema.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// NewDB returns a pool on a fresh, fully migrated database that only this
// test uses; it is dropped when the test passes and kept (with its name in
// the log) when it fails.
func NewDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	cfg := pgtestdb.Custom(t, serverConfig(t), migrator{})
	return openPool(t, cfg.URL())
}

// NewEmptyDB returns a fresh database with no schema at all, for tests of
// migration itself.
func NewEmptyDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	cfg := pgtestdb.Custom(t, serverConfig(t), pgtestdb.NoopMigrator{})
	return openPool(t, cfg.URL())
}

// URL returns the connection URL of a pool made by NewDB or NewEmptyDB.
func URL(pool *pgxpool.Pool) string { return pool.Config().ConnString() }

func openPool(t testing.TB, url string) *pgxpool.Pool {
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
