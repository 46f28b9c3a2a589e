package devdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	dataDirName  = "pg"
	logFileName  = "pg.log"
	confFileName = "pulso.conf"

	// includeLine hooks pulso.conf into the cluster's own configuration, so
	// the settings devdb owns live in a file it may rewrite on every start
	// while postgresql.conf stays the developer's to edit.
	includeLine = "include_if_exists = '" + confFileName + "'"

	// pgCtlTimeout is what pg_ctl waits for start and stop, in seconds.
	pgCtlTimeout = "60"
)

// account is the unprivileged user that owns and runs the private cluster
// when we are root, because initdb and postgres refuse to run as root.
type account struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
}

// cluster is the private cluster: its data directory is <dir>/pg and its
// server log <dir>/pg.log.
type cluster struct {
	dir     string // absolute
	dataDir string
	logFile string
	bins    binaries
	owner   *account // nil when we run the tools as ourselves
}

// startPrivate starts the private cluster in <dir>/pg on 127.0.0.1:port,
// initialising it first if needed, and returns the URL of its pulso
// database. A cluster that is already running is reused as it is.
func startPrivate(ctx context.Context, dir string, port int, search binSearch, log *slog.Logger) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", err
	}
	c, err := openCluster(ctx, abs, search)
	if err != nil {
		return "", err
	}

	running, err := c.running(ctx)
	if err != nil {
		return "", err
	}
	if running {
		// The port comes from the running server, not the argument: the
		// cluster may have been started with another one, and a URL that
		// points at the wrong port would only fail later and obscurely.
		p, err := c.runningPort()
		if err != nil {
			return "", err
		}
		log.Info("reusing the running private PostgreSQL cluster", "data_dir", c.dataDir, "port", p)
		return c.finish(ctx, p, log)
	}
	if conn, err := connect(ctx, serverURL("127.0.0.1", port, "postgres"), probeTimeout); err == nil {
		// Most likely the private cluster of another checkout. Starting ours
		// would fail to bind the port, and that one serves just as well.
		conn.Close(ctx)
		log.Warn("another PostgreSQL already answers on the private port; using it instead of starting one",
			"port", port, "unused_data_dir", c.dataDir)
		return c.finish(ctx, port, log)
	}

	if err := c.prepare(); err != nil {
		return "", err
	}
	if !c.initialized() {
		log.Info("initialising private PostgreSQL cluster", "data_dir", c.dataDir, "initdb", c.bins.initdb)
		if err := c.initdb(ctx); err != nil {
			return "", err
		}
	}
	if err := c.writeConf(port); err != nil {
		return "", err
	}

	log.Info("starting private PostgreSQL cluster", "data_dir", c.dataDir, "port", port, "log", c.logFile)
	out, err := c.run(ctx, c.bins.pgCtl, "start", "-D", c.dataDir, "-l", c.logFile, "-w", "-t", pgCtlTimeout)
	if err != nil {
		return "", fmt.Errorf("start the private PostgreSQL cluster in %s: %v\n%s%s", c.dataDir, err, out, c.logTail())
	}
	return c.finish(ctx, port, log)
}

// stopPrivate is Stop with the binary search injectable.
func stopPrivate(ctx context.Context, dir string, search binSearch) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	dataDir := filepath.Join(abs, dataDirName)
	// Checked before openCluster, which as root may create a system user:
	// asking to stop nothing must not change the machine.
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err != nil {
		return fmt.Errorf("%w in %s: nothing to stop", ErrNoCluster, dataDir)
	}
	c, err := openCluster(ctx, abs, search)
	if err != nil {
		return err
	}
	running, err := c.running(ctx)
	if err != nil || !running {
		return err
	}
	out, err := c.run(ctx, c.bins.pgCtl, "stop", "-D", c.dataDir, "-m", "fast", "-w", "-t", pgCtlTimeout)
	if err != nil {
		// It may have stopped on its own between the two commands.
		if still, serr := c.running(ctx); serr == nil && !still {
			return nil
		}
		return fmt.Errorf("stop the private PostgreSQL cluster in %s: %v\n%s%s", c.dataDir, err, out, c.logTail())
	}
	return nil
}

// openCluster finds the tools and decides which user runs them.
func openCluster(ctx context.Context, dir string, search binSearch) (*cluster, error) {
	c := &cluster{
		dir:     dir,
		dataDir: filepath.Join(dir, dataDirName),
		logFile: filepath.Join(dir, logFileName),
	}
	var err error
	if c.bins, err = findBinaries(search); err != nil {
		return nil, err
	}

	fi, statErr := os.Stat(c.dataDir)
	if os.Geteuid() != 0 {
		if statErr == nil {
			if uid, _, err := fileOwner(fi); err == nil && int(uid) != os.Geteuid() {
				return nil, fmt.Errorf("the private PostgreSQL cluster in %s belongs to uid %d, not to you; "+
					"run as that user, or remove the directory to start a new cluster", c.dataDir, uid)
			}
		}
		return c, nil
	}

	// Keep running an existing cluster as whoever initialised it.
	if statErr == nil {
		if uid, gid, err := fileOwner(fi); err == nil && uid != 0 {
			c.owner = accountByID(uid, gid)
		}
	}
	if c.owner == nil {
		if c.owner, err = systemAccount(ctx); err != nil {
			return nil, err
		}
	}
	if err := checkTraversable(c.dir, c.owner); err != nil {
		return nil, err
	}
	return c, nil
}

// checkTraversable fails, naming the directory, when a cannot reach dir.
// Without it, initdb would fail later with a message about a path that
// does not name the directory at fault.
func checkTraversable(dir string, a *account) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if !searchable(fi, a) {
			return fmt.Errorf("the private PostgreSQL cluster must run as user %s because PostgreSQL refuses to run as root, "+
				"but directory %s (mode %v) is not traversable by that user; "+
				"allow it with `chmod o+x %s`, keep the project somewhere else, or set DATABASE_URL",
				a.name, d, fi.Mode().Perm(), d)
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

func searchable(fi fs.FileInfo, a *account) bool {
	uid, gid, err := fileOwner(fi)
	if err != nil {
		return true // cannot tell; let the tools report it
	}
	perm := fi.Mode().Perm()
	switch {
	case uid == a.uid:
		return perm&0o100 != 0
	case gid == a.gid || slices.Contains(a.groups, gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// prepare creates the data directory and log file and hands them to the
// owner, which has to happen as root, before initdb runs as the owner.
func (c *cluster) prepare() error {
	if err := os.Mkdir(c.dataDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	// Mkdir is subject to the umask and leaves existing directories alone,
	// and postgres refuses a data directory that others can read.
	if err := os.Chmod(c.dataDir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	if c.owner == nil {
		return nil
	}
	if err := c.chown(c.logFile); err != nil {
		return err
	}
	fi, err := os.Stat(c.dataDir)
	if err != nil {
		return err
	}
	if uid, _, err := fileOwner(fi); err == nil && uid == c.owner.uid {
		return nil
	}
	return filepath.WalkDir(c.dataDir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return c.chown(path)
	})
}

func (c *cluster) chown(path string) error {
	if c.owner == nil {
		return nil
	}
	return os.Lchown(path, int(c.owner.uid), int(c.owner.gid))
}

func (c *cluster) initialized() bool {
	_, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION"))
	return err == nil
}

func (c *cluster) initdb(ctx context.Context) error {
	args := []string{"-D", c.dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8"}
	if runtime.GOOS == "linux" {
		// The same locale as the Debian server CI tests against, and unlike
		// plain C it upper- and lower-cases ñ and á, which ILIKE searches
		// over Spanish names depend on. It is not on every macOS, where the
		// developer's own UTF-8 locale is used instead.
		args = append(args, "--locale=C.UTF-8")
	}
	out, err := c.run(ctx, c.bins.initdb, args...)
	if err != nil {
		return fmt.Errorf("initialise the private PostgreSQL cluster in %s: %v\n%s", c.dataDir, err, out)
	}
	return nil
}

// writeConf rewrites the settings devdb owns. They are rewritten on every
// start so a port change takes effect and so a cluster initialised by
// something else still ends up loopback-only.
func (c *cluster) writeConf(port int) error {
	mainConf := filepath.Join(c.dataDir, "postgresql.conf")
	data, err := os.ReadFile(mainConf)
	if err != nil {
		return err
	}
	if !bytes.Contains(data, []byte(includeLine)) {
		f, err := os.OpenFile(mainConf, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f, "\n# Settings managed by Pulso's devdb.\n%s\n", includeLine)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}

	conf := fmt.Sprintf(`# Written by Pulso's devdb on every start; edits here are lost.
# Loopback only: this cluster trusts every connection.
listen_addresses = '127.0.0.1'
port = %d
# No Unix socket: a socket path inside a deep checkout can exceed the
# 107-byte limit, and the shared socket directory belongs to the system server.
unix_socket_directories = ''
`, port)
	path := filepath.Join(c.dataDir, confFileName)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return err
	}
	return c.chown(path)
}

// running asks pg_ctl, which also notices a stale postmaster.pid left by a
// crash, so a dead cluster is started again rather than "reused".
func (c *cluster) running(ctx context.Context) (bool, error) {
	if !c.initialized() {
		return false, nil
	}
	out, err := c.run(ctx, c.bins.pgCtl, "status", "-D", c.dataDir)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 3: // documented: not running
		return false, nil
	default:
		return false, fmt.Errorf("check the private PostgreSQL cluster in %s: %v\n%s", c.dataDir, err, out)
	}
}

// runningPort reads the port from postmaster.pid, whose fourth line it is.
func (c *cluster) runningPort() (int, error) {
	data, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 4 {
		return 0, fmt.Errorf("%s/postmaster.pid has no port line", c.dataDir)
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return 0, fmt.Errorf("%s/postmaster.pid: port %q: %w", c.dataDir, lines[3], err)
	}
	return port, nil
}

// finish waits until the server takes connections and creates the database.
func (c *cluster) finish(ctx context.Context, port int, log *slog.Logger) (string, error) {
	conn, err := waitReady(ctx, serverURL("127.0.0.1", port, "postgres"), readyTimeout)
	if err != nil {
		return "", fmt.Errorf("private PostgreSQL cluster in %s on port %d: %w%s", c.dataDir, port, err, c.logTail())
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := createDatabase(ctx, conn, log); err != nil {
		return "", fmt.Errorf("private PostgreSQL cluster in %s: %w", c.dataDir, err)
	}
	return serverURL("127.0.0.1", port, DatabaseName), nil
}

func (c *cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	// The owner may not be able to enter our working directory, and initdb
	// and postgres complain when they cannot.
	cmd.Dir = c.dir
	cmd.SysProcAttr = sysProcAttr(c.owner)
	// pg_ctl start leaves a server behind; should it ever hold our output
	// pipe open, stop waiting for the pipe rather than hang.
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

// logTail returns the end of the server log, which is where the reason for
// a failed start is; pg_ctl itself only says "examine the log output".
func (c *cluster) logTail() string {
	data, err := os.ReadFile(c.logFile)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return "\nlast lines of " + c.logFile + ":\n" + strings.Join(lines, "\n")
}
