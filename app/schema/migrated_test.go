package schema_test

import (
	"context"
	"pulso/app/apptest"
	"pulso/queries/migrations"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// migrated is a database with the migrations up to version applied, and
// a provider to move it further (or back) the way `pulso migrate` does.
func migrated(t *testing.T, version int64) (*pgxpool.Pool, *goose.Provider) {
	t.Helper()
	pool := apptest.NewEmptyDB(t)
	p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	migrateTo(t, p, version)
	return pool, p
}

// migrateTo moves the database up or down to version.
func migrateTo(t *testing.T, p *goose.Provider, version int64) {
	t.Helper()
	ctx := context.Background()
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if version >= current {
		_, err = p.UpTo(ctx, version)
	} else {
		_, err = p.DownTo(ctx, version)
	}
	if err != nil {
		t.Fatal(err)
	}
}
