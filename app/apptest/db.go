// Package apptest is the test harness every area shares: an isolated,
// migrated PostgreSQL database per test, the real Fiber app on top of it,
// and a browser-like client that keeps cookies and sends CSRF tokens.
package apptest

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/apptest/testdb"
)

// DefaultTestDatabaseURL is the local server the machine and CI provide.
const DefaultTestDatabaseURL = testdb.DefaultTestDatabaseURL

// NewDB returns a pool on a fresh, fully migrated database that only this
// test uses (see testdb.NewDB).
func NewDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return testdb.NewDB(t)
}

// NewEmptyDB returns a fresh database with no schema at all, for tests of
// migration itself.
func NewEmptyDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return testdb.NewEmptyDB(t)
}

// URL returns the connection URL of a pool made by NewDB or NewEmptyDB.
func URL(pool *pgxpool.Pool) string { return testdb.URL(pool) }
