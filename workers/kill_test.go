package workers_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"pulso/app/apptest"
	"pulso/queries"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// rescueAfter is the worker processes' PULSO_JOB_RESCUE_AFTER: short, so the
// test does not wait out the production window. Jobs then time out at half
// of it (3s), long after the test has killed the process.
const rescueAfter = "6s"

// TestKilledWorkerJobIsRetriedWithoutDuplicates runs real `pulso work`
// processes and kills one with SIGKILL in the middle of a notify job, at the
// two moments that matter:
//
//   - mid-transaction: the job's effect is not committed. The retry must
//     produce it, once.
//   - after the effect committed but before River recorded the job as done:
//     the retry runs the job again and must find the effect already there.
//
// Either way the job must not be lost: River's rescuer in the surviving
// process sees it stuck in "running" and schedules a retry. The test holds
// row locks the job needs, so it knows exactly where the job is when it
// pulls the trigger; nothing in the worker is instrumented for it.
func TestKilledWorkerJobIsRetriedWithoutDuplicates(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	t.Parallel()
	bin := buildPulso(t)

	t.Run("mid-transaction", func(t *testing.T) {
		t.Parallel()
		k := newKillWorld(t, bin)
		ctx := context.Background()

		// Hold the notification's natural key in an open transaction: the
		// job's INSERT ... ON CONFLICT must wait to learn whether it wins.
		hold, err := k.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = hold.Rollback(ctx) }()
		if _, err := queries.New(hold).CreateNotification(ctx, queries.CreateNotificationParams{
			OrgID: k.org.ID, UserID: k.user.ID, Severity: "info", Title: "held by the test", Key: k.key,
		}); err != nil {
			t.Fatal(err)
		}

		job := k.enqueue(t)
		first := k.start(t, "first")
		k.waitBlocked(t, hold, job.ID)
		first.kill(t)
		if j := k.job(t, job.ID); j.State != rivertype.JobStateRunning {
			t.Fatalf("after the kill the job is %s, want still running (the test did not catch it mid-job)", j.State)
		}
		// The dead worker's transaction never committed; letting the key go
		// leaves nothing behind from its attempt.
		if err := hold.Rollback(ctx); err != nil {
			t.Fatal(err)
		}

		k.start(t, "second")
		k.assertRetriedOnce(t, job.ID)
	})

	t.Run("after-commit", func(t *testing.T) {
		t.Parallel()
		k := newKillWorld(t, bin)
		ctx := context.Background()

		hold, err := k.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = hold.Rollback(ctx) }()
		if _, err := queries.New(hold).CreateNotification(ctx, queries.CreateNotificationParams{
			OrgID: k.org.ID, UserID: k.user.ID, Severity: "info", Title: "held by the test", Key: k.key,
		}); err != nil {
			t.Fatal(err)
		}
		job := k.enqueue(t)
		first := k.start(t, "first")
		k.waitBlocked(t, hold, job.ID)

		// Lock the job's row, so River's completer cannot record the job as
		// done; then let the job's own transaction through to commit. This
		// is hand SQL on River's table because a row lock is the point.
		done, err := k.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = done.Rollback(ctx) }()
		if _, err := done.Exec(ctx, `SELECT 1 FROM river_job WHERE id = $1 FOR UPDATE`, job.ID); err != nil {
			t.Fatal(err)
		}
		if err := hold.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		k.waitBlocked(t, done, job.ID)
		if n := k.notifications(t); n != 1 {
			t.Fatalf("%d notifications while the completion waits, want the job's effect committed once", n)
		}
		first.kill(t)
		// PostgreSQL would still run the completion the dead process had
		// already sent once the lock goes; end its connection first, as if
		// the process had died a moment before sending it.
		if _, err := k.pool.Exec(ctx,
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, backendPID(t, done)); err != nil {
			t.Fatal(err)
		}
		k.waitUnblocked(t, done)
		if err := done.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if j := k.job(t, job.ID); j.State != rivertype.JobStateRunning {
			t.Fatalf("after the kill the job is %s, want still running", j.State)
		}

		k.start(t, "second")
		k.assertRetriedOnce(t, job.ID)
	})
}

// TestRescueWindowsAreValid: River refuses a client whose rescue window is
// shorter than its job timeout; every window config accepts must build.
func TestRescueWindowsAreValid(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	// The client is only built, never started: the pool never connects.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, d := range []time.Duration{0, 2 * time.Second, 6 * time.Second, workers.DefaultRescueAfter, 24 * time.Hour} {
		if _, err := workers.NewClient(pool, log, workers.Options{Work: true, RescueAfter: d}); err != nil {
			t.Errorf("RescueAfter %s: %v", d, err)
		}
	}
}

// buildPulso compiles the real binary once for the subtests.
func buildPulso(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "pulso")
	out, err := exec.Command(goBin, "build", "-o", bin, "pulso/cmd/pulso").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type killWorld struct {
	bin  string
	pool *pgxpool.Pool
	jobs *river.Client[pgx.Tx]
	org  queries.Org
	user queries.User
	key  string
}

func newKillWorld(t *testing.T, bin string) *killWorld {
	t.Helper()
	ctx := context.Background()
	pool := apptest.NewDB(t)
	q := queries.New(pool)
	org, err := q.CreateOrg(ctx, queries.CreateOrgParams{
		Name: "Kill S.L.", Country: "ES", Currency: "EUR", TimeZone: "Europe/Madrid", TaxID: "B00000000",
	})
	if err != nil {
		t.Fatal(err)
	}
	user, err := q.CreateUser(ctx, queries.CreateUserParams{OrgID: org.ID, Email: "kill@kill.test", Name: "Kill", Role: "rep", Locale: "es", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := workers.NewClient(pool, slog.New(slog.DiscardHandler), workers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &killWorld{bin: bin, pool: pool, jobs: jobs, org: org, user: user, key: "kill-test"}
}

func (k *killWorld) enqueue(t *testing.T) *rivertype.JobRow {
	t.Helper()
	res, err := k.jobs.Insert(context.Background(), jobargs.Notify{
		OrgID: k.org.ID, UserID: k.user.ID, Severity: "urgent", Title: "Pedido bloqueado", Key: k.key,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Job
}

func (k *killWorld) job(t *testing.T, id int64) *rivertype.JobRow {
	t.Helper()
	j, err := k.jobs.JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs `pulso work` on the test's database. Its log is shown if the
// test fails.
func (k *killWorld) start(t *testing.T, name string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(k.bin, "work")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+apptest.URL(k.pool),
		"PULSO_DATA_DIR="+t.TempDir(),
		"LOG_LEVEL=debug",
		"PULSO_JOB_RESCUE_AFTER="+rescueAfter,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- log of the %s worker ---\n%s", name, tail(string(b), 60))
		}
	})
	return p
}

// kill ends the process with SIGKILL: no shutdown, no deferred cleanup.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s worker did not die", p.name)
	}
}

func backendPID(t *testing.T, tx pgx.Tx) int32 {
	t.Helper()
	var pid int32
	if err := tx.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// blockedBy counts the backends waiting on a lock that tx holds.
func (k *killWorld) blockedBy(t *testing.T, pid int32) int {
	t.Helper()
	var n int
	if err := k.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitBlocked waits until the job is running and one of the worker's
// statements waits on a lock tx holds: the job is caught where the test
// wants it.
func (k *killWorld) waitBlocked(t *testing.T, tx pgx.Tx, jobID int64) {
	t.Helper()
	pid := backendPID(t, tx)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if k.job(t, jobID).State == rivertype.JobStateRunning && k.blockedBy(t, pid) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d never blocked on the test's lock (state %s)", jobID, k.job(t, jobID).State)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (k *killWorld) waitUnblocked(t *testing.T, tx pgx.Tx) {
	t.Helper()
	pid := backendPID(t, tx)
	deadline := time.Now().Add(10 * time.Second)
	for k.blockedBy(t, pid) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the dead worker's connection still waits on the test's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (k *killWorld) notifications(t *testing.T) int {
	t.Helper()
	var n int
	if err := k.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM notifications WHERE org_id = $1 AND user_id = $2 AND key = $3`, k.org.ID, k.user.ID, k.key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// assertRetriedOnce waits for the job to complete in the second process and
// checks that the killed attempt is on record and the effect exists once.
func (k *killWorld) assertRetriedOnce(t *testing.T, jobID int64) {
	t.Helper()
	ctx := context.Background()
	// Leadership of the killed process must lapse (River's leader TTL is
	// about 15s) before the survivor's rescuer runs.
	deadline := time.Now().Add(50 * time.Second)
	var j *rivertype.JobRow
	for {
		j = k.job(t, jobID)
		if j.FinalizedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is still %s after %d attempts; the killed attempt was never rescued", jobID, j.State, j.Attempt)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if j.State != rivertype.JobStateCompleted {
		t.Fatalf("job ended %s, want completed; errors %+v", j.State, j.Errors)
	}
	if j.Attempt != 2 || len(j.AttemptedBy) != 2 || j.AttemptedBy[0] == j.AttemptedBy[1] {
		t.Errorf("attempt %d by %v, want 2 attempts by two different processes", j.Attempt, j.AttemptedBy)
	}
	if !slices.ContainsFunc(j.Errors, func(e rivertype.AttemptError) bool { return e.Attempt == 1 && strings.Contains(e.Error, "rescued") }) {
		t.Errorf("the killed attempt is not on record as rescued: %+v", j.Errors)
	}

	if n := k.notifications(t); n != 1 {
		t.Errorf("%d notifications for the key, want exactly 1", n)
	}
	var events int
	if err := k.pool.QueryRow(ctx, `
		SELECT count(*) FROM live_events e JOIN notifications n ON n.org_id = e.org_id AND n.id = e.entity_id
		WHERE e.org_id = $1 AND e.entity = 'notification' AND n.key = $2`, k.org.ID, k.key).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 1 {
		t.Errorf("%d live events for the notification, want exactly 1", events)
	}
	var all int
	if err := k.pool.QueryRow(ctx, `SELECT count(*) FROM live_events WHERE org_id = $1`, k.org.ID).Scan(&all); err != nil {
		t.Fatal(err)
	}
	if all != 1 {
		t.Errorf("%d live events in the org, want 1", all)
	}
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
