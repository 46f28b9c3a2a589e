// Package devdb gives `make run` a PostgreSQL database on a machine with no
// configuration. It prefers a server that already runs on localhost:5432 and
// trusts the postgres user (the common state right after installing
// PostgreSQL from a package), and otherwise runs a private cluster inside the
// project's .pulso directory, so nothing outside the checkout is changed.
//
// It is for development only: the private cluster trusts every local
// connection, and production always sets DATABASE_URL.
package devdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// DatabaseName is the database Ensure creates and returns a URL for.
	DatabaseName = "pulso"

	// PrivatePort is where the private cluster listens: far enough from 5432
	// to never collide with a system server, and fixed so the URL printed
	// by one run still works in the next.
	PrivatePort = 54329

	// probeTimeout is short because a missing local server answers with
	// "connection refused" at once; the timeout only matters for a
	// firewall that silently drops packets.
	probeTimeout = 2 * time.Second

	// readyTimeout bounds how long a started server may take to accept
	// connections; crash recovery after an unclean stop can take seconds.
	readyTimeout = 60 * time.Second

	// minServerVersion is the oldest PostgreSQL the app supports
	// (server_version_num format).
	minServerVersion = 150000
)

// ErrNoCluster is returned by Stop when dir holds no private cluster.
var ErrNoCluster = errors.New("no private PostgreSQL cluster")

// Ensure returns the URL of a development database named pulso, creating
// the database, and starting a private cluster in <dir>/pg, when needed.
// dir is normally ./.pulso. A private cluster keeps running after Ensure
// returns, so the next run reuses it; Stop shuts it down.
func Ensure(ctx context.Context, dir string, log *slog.Logger) (string, error) {
	if log == nil {
		log = slog.Default()
	}

	conn, err := connect(ctx, serverURL("localhost", 5432, "postgres"), probeTimeout)
	if err == nil {
		defer conn.Close(context.WithoutCancel(ctx))
		if err := createDatabase(ctx, conn, log); err != nil {
			return "", fmt.Errorf("PostgreSQL on localhost:5432: %w", err)
		}
		log.Info("using the PostgreSQL server on localhost:5432", "database", DatabaseName)
		return serverURL("localhost", 5432, DatabaseName), nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	// A server that wants a password, or no server at all: both are normal
	// on a developer machine, so this is not worth more than an info line.
	log.Info("no PostgreSQL on localhost:5432 accepts user postgres without a password; using a private cluster",
		"reason", err)

	return startPrivate(ctx, dir, PrivatePort, defaultSearch(), log)
}

// Stop shuts down the private cluster in <dir>/pg. A cluster that is
// already stopped is not an error; a dir without a cluster returns an
// error wrapping ErrNoCluster, so callers can tell the user there was
// nothing to stop.
func Stop(dir string) error {
	return stopPrivate(context.Background(), dir, defaultSearch())
}

// serverURL builds the URL of a server that trusts user postgres. sslmode
// is disabled because neither the local nor the private server has a
// certificate, and pgx would otherwise try TLS first on every connect.
func serverURL(host string, port int, database string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable",
		net.JoinHostPort(host, strconv.Itoa(port)), database)
}

func connect(ctx context.Context, url string, timeout time.Duration) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.ConnectTimeout = timeout
	return pgx.ConnectConfig(ctx, cfg)
}

// createDatabase creates DatabaseName through conn, which must be connected
// as a superuser to some other database of the same server.
func createDatabase(ctx context.Context, conn *pgx.Conn, log *slog.Logger) error {
	var version int
	var exists bool
	err := conn.QueryRow(ctx,
		`select current_setting('server_version_num')::int,
		        exists (select 1 from pg_database where datname = $1)`,
		DatabaseName).Scan(&version, &exists)
	if err != nil {
		return fmt.Errorf("look for database %s: %w", DatabaseName, err)
	}
	if version < minServerVersion {
		log.Warn("PostgreSQL server is older than Pulso supports; migrations may fail",
			"server_version_num", version, "minimum", minServerVersion)
	}
	if exists {
		return nil
	}

	// CREATE DATABASE takes no bind parameters; the name is a constant.
	_, err = conn.Exec(ctx, "create database "+DatabaseName)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" {
		// duplicate_database: a concurrent run created it first.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", DatabaseName, err)
	}
	log.Info("created database", "database", DatabaseName)
	return nil
}

// waitReady retries until the server accepts connections. pg_ctl -w already
// waits, but a cluster found running may still be starting up or
// recovering, and then refuses connections for a while.
func waitReady(ctx context.Context, url string, timeout time.Duration) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		conn, err := connect(ctx, url, probeTimeout)
		if err == nil {
			return conn, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("server did not accept connections within %s: %w", timeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
