package devdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPrivateClusterLifecycle(t *testing.T) {
	if _, err := findBinaries(defaultSearch()); err != nil {
		// CI promises PostgreSQL; there a missing server is a broken
		// machine, not a reason to quietly test less.
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no PostgreSQL server binaries: %v", err)
		}
		t.Skipf("no PostgreSQL server binaries: %v", err)
	}

	dir := filepath.Join(reachableTempDir(t), ".pulso")
	port := freePort(t)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	// Never leave a server behind, whatever fails below.
	t.Cleanup(func() {
		if err := Stop(dir); err != nil && !errors.Is(err, ErrNoCluster) {
			t.Errorf("cleanup: %v", err)
		}
	})

	url, err := startPrivate(t.Context(), dir, port, defaultSearch(), log)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/pulso?sslmode=disable", port); url != want {
		t.Errorf("url = %q, want %q", url, want)
	}
	selectOne(t, url)

	dataDir := filepath.Join(dir, "pg")
	fi, err := os.Stat(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("data dir mode = %v, want 0700", perm)
	}
	if os.Geteuid() == 0 {
		uid, _, err := fileOwner(fi)
		if err != nil {
			t.Fatal(err)
		}
		if uid == 0 {
			t.Error("data dir is owned by root; the cluster must run as an unprivileged user")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pg.log")); err != nil {
		t.Errorf("server log: %v", err)
	}

	// A second call, as the next `make run` would make, reuses the server.
	again, err := startPrivate(t.Context(), dir, port, defaultSearch(), log)
	if err != nil {
		t.Fatal(err)
	}
	if again != url {
		t.Errorf("second start returned %q, want %q", again, url)
	}
	selectOne(t, again)

	if err := Stop(dir); err != nil {
		t.Fatal(err)
	}
	if conn, err := connect(t.Context(), url, 2*time.Second); err == nil {
		conn.Close(t.Context())
		t.Fatal("server still answers after Stop")
	}
	if err := Stop(dir); err != nil {
		t.Errorf("Stop of a stopped cluster: %v", err)
	}

	// Starting again after a stop brings the same cluster back.
	url, err = startPrivate(t.Context(), dir, port, defaultSearch(), log)
	if err != nil {
		t.Fatal(err)
	}
	selectOne(t, url)
}

func TestStopWithoutCluster(t *testing.T) {
	err := Stop(t.TempDir())
	if !errors.Is(err, ErrNoCluster) {
		t.Fatalf("Stop of an empty dir = %v, want ErrNoCluster", err)
	}
	if !strings.Contains(err.Error(), "nothing to stop") {
		t.Errorf("message %q does not say there is nothing to stop", err)
	}
}

func TestMissingBinariesMessage(t *testing.T) {
	empty := t.TempDir()
	search := binSearch{path: empty, globs: []string{filepath.Join(empty, "*", "bin")}}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))

	_, err := startPrivate(t.Context(), t.TempDir(), freePort(t), search, log)
	if err == nil {
		t.Fatal("startPrivate succeeded without binaries")
	}
	for _, want := range []string{
		"no PostgreSQL server was found on localhost:5432",
		"initdb, pg_ctl",
		"sudo apt-get install postgresql",
		"brew install postgresql@16",
		"DATABASE_URL",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%s", want, err)
		}
	}
}

func TestFindBinariesPrefersPathThenHighestVersion(t *testing.T) {
	root := t.TempDir()
	install := func(dir string, names ...string) string {
		t.Helper()
		dir = filepath.Join(root, dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	install("lib/9.6/bin", "initdb", "pg_ctl")
	install("lib/10/bin", "initdb", "pg_ctl")
	fifteen := install("lib/15/bin", "initdb", "pg_ctl")
	install("lib/16/bin", "initdb") // half an install must not win
	onlyInitdb := install("path/a", "initdb")
	onPath := install("path/b", "initdb", "pg_ctl")
	glob := filepath.Join(root, "lib", "*", "bin")

	b, err := findBinaries(binSearch{globs: []string{glob}})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(fifteen, "pg_ctl"); b.pgCtl != want {
		t.Errorf("from globs got %s, want %s", b.pgCtl, want)
	}

	path := strings.Join([]string{onlyInitdb, onPath}, string(os.PathListSeparator))
	b, err = findBinaries(binSearch{path: path, globs: []string{glob}})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(onPath, "initdb"); b.initdb != want {
		t.Errorf("with PATH got %s, want %s", b.initdb, want)
	}
}

func TestUntraversableParentIsNamed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the cluster as another user")
	}
	if _, err := user.Lookup("postgres"); err != nil {
		// Without it the test would create pulso-pg on the machine.
		t.Skip("no postgres system user")
	}
	if _, err := findBinaries(defaultSearch()); err != nil {
		t.Skipf("no PostgreSQL server binaries: %v", err)
	}
	locked := filepath.Join(reachableTempDir(t), "locked")
	if err := os.Mkdir(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))

	_, err := startPrivate(t.Context(), filepath.Join(locked, ".pulso"), freePort(t), defaultSearch(), log)
	if err == nil {
		t.Fatal("startPrivate succeeded below a directory the server user cannot enter")
	}
	if !strings.Contains(err.Error(), "directory "+locked+" ") || !strings.Contains(err.Error(), "not traversable") {
		t.Errorf("message does not name %s as not traversable:\n%s", locked, err)
	}
}

// reachableTempDir returns a temporary directory the cluster's user can
// enter: as root the cluster runs as another user, and t.TempDir creates
// its directories with mode 0700.
func reachableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func selectOne(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var one int
	if err := conn.QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("select 1 = %d, %v", one, err)
	}
}
