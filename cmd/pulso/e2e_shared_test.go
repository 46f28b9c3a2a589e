package main

// What the browser tests share: one Chromium and one `pulso serve` on one
// database holding several copies of the demo (worlds), each started on
// first use and stopped by TestMain after the last test.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/apptest"
	"pulso/app/checkout/checkoutfake"
	"pulso/app/config"
	"pulso/app/demo"
	"pulso/app/mail/mailtest"
	"pulso/app/store/mercadolibre/mlfake"
)

// e2eWorlds are the copies of the demo on the shared server, seeded in this
// order before it starts, so that its workers' first sweep raises all their
// start-up alerts, as at a fresh start, and the server settles before any
// test signs in. A test that changes what another reads, or makes
// notifications pop up on another's screens, works in a world of its own;
// tests that only look share "shared".
var e2eWorlds = []string{"shared", "duplicate", "convert", "capture", "import", "board", "tasks", "quote", "invoice-sends", "invoice", "invoice-flow", "dashboard", "plans"}

// world is one copy of the demo: its two orgs and their users, with every
// user's address tagged with the world's name (rep@demo.test is
// rep+board@demo.test in world "board") and the orgs' names too, since
// both are unique. People's names and the password are the demo's; the
// data is what the demo seeds for any org (drawn from the org's id).
type world struct {
	name  string
	orgID int64 // its Demo Ventas S.L. (the org of admin@demo.test)
}

// user is the address in this world of the demo user email.
func (w *world) user(email string) string {
	local, domain, _ := strings.Cut(email, "@")
	return local + "+" + w.name + "@" + domain
}

// seedWorld runs the demo seed, which finds its orgs and users by name and
// address: the tagged copies of earlier worlds are not found, so it makes
// a whole new copy, which is then tagged.
func seedWorld(ctx context.Context, pool *pgxpool.Pool, name string) (*world, error) {
	if err := demo.Seed(ctx, pool, e2eKeys, discardLogger()); err != nil {
		return nil, err
	}
	w := &world{name: name}
	tag := " [" + name + "]"
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET email = split_part(email, '@', 1) || '+' || $1 || '@' || split_part(email, '@', 2)
			WHERE org_id IN (SELECT id FROM orgs WHERE name NOT LIKE '% [%]')`, name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE orgs SET name = name || $1 WHERE name NOT LIKE '% [%]'`, tag); err != nil {
			return err
		}
		// The demo's invoice send goes two minutes after seeding, as a toast
		// on the owner's and manager's screens: here it would pop up over
		// whatever a test is tapping at that moment.
		if _, err := tx.Exec(ctx, `UPDATE invoice_sends SET state = 'cancelled', cancelled_at = now() WHERE state = 'scheduled'`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT org_id FROM users WHERE email = $1`, w.user("admin@demo.test")).Scan(&w.orgID)
	})
	if err != nil {
		return nil, fmt.Errorf("world %s: %w", name, err)
	}
	return w, nil
}

type sharedEnv struct {
	srv    *server
	smtp   *mailtest.Server     // SMTP_URL of srv
	store  *mlfake.Server       // the Mercado Libre srv's store integration talks to
	pay    *checkoutfake.Server // the payment provider srv's plan upgrades are paid through
	worlds map[string]*world
	timing string // how long its start took, step by step
}

var (
	sharedOnce sync.Once
	shared     *sharedEnv
	sharedErr  error
	sharedTB   = &fixtureTB{}
	timingOnce sync.Once // the first test to get the server logs how its start went

	roundsMu sync.Mutex
	rounds   = map[string]int{} // test name → calls of sharedWorld so far
)

// e2eRounds is how many times each test runs (go test -count): each round
// gets fresh copies of the worlds, since tests change theirs.
func e2eRounds() int {
	if f := flag.Lookup("test.count"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n > 1 {
			return n
		}
	}
	return 1
}

// worldName is the name of world name's copy for round r (0, 1, ...).
func worldName(name string, r int) string {
	if r == 0 {
		return name
	}
	return name + strconv.Itoa(r+1)
}

// sharedWorld returns the shared server (started on first use) and its
// world name, or the copy of it for this round of the test under -count. A
// test calls it once.
func sharedWorld(t *testing.T, name string) (*server, *world) {
	t.Helper()
	sharedOnce.Do(startSharedOnce)
	if sharedErr != nil {
		t.Fatalf("shared server: %v", sharedErr)
	}
	timingOnce.Do(func() { t.Logf("shared server: %s", shared.timing) })
	roundsMu.Lock()
	r := rounds[t.Name()]
	rounds[t.Name()]++
	roundsMu.Unlock()
	w := shared.worlds[worldName(name, r)]
	if w == nil {
		t.Fatalf("no world %q for round %d on the shared server (see e2eWorlds and e2eRounds)", name, r+1)
	}
	return shared.srv, w
}

// The shared server's Mercado Libre app and payment webhook secret.
const (
	e2eMLClient  = "5500000000000042"
	e2eMLSecret  = "e2e-ml-secret"
	e2ePaySecret = "e2e-payments-webhook-secret"
)

// sharedFakes are the fake Mercado Libre and payment provider of the
// shared server.
func sharedFakes(t *testing.T) (*mlfake.Server, *checkoutfake.Server) {
	t.Helper()
	if shared == nil {
		t.Fatal("sharedFakes before sharedWorld")
	}
	return shared.store, shared.pay
}

// sharedMail is the SMTP server the shared server sends through.
func sharedMail(t *testing.T) *mailtest.Server {
	t.Helper()
	if shared == nil {
		t.Fatal("sharedMail before sharedWorld")
	}
	return shared.smtp
}

func startSharedOnce() { shared, sharedErr = startShared() }

// e2eParallel is how many browser tests run at once unless -parallel says
// otherwise. They mostly wait (on Chromium, the server, a scheduled
// minute), so more than GOMAXPROCS of them keep two cores busy. Four is
// what was measured (BENCHMARKS.md, test suite time): the live checks then
// took 2–732 ms (the tightest allows 1 s); more at once was not tried.
const e2eParallel = 4

// e2eDefaults, called by TestMain after flag.Parse, raises -parallel to
// e2eParallel when it was not given, and when browser tests will run
// starts the shared server in the background: seeding its worlds takes a
// minute or more, which then overlaps the tests that run one at a time
// (they come first: parallel tests wait for them).
func e2eDefaults() {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(e2eParallel))
	}
	if findChromium() != "" && runsE2E() {
		go sharedOnce.Do(startSharedOnce)
	}
}

// runsE2E: no -run filter, or one that picks the browser tests as a whole
// (make e2e's 'E2E'). A narrower filter starts the shared server on first
// use, as without the head start.
func runsE2E() bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	re, err := regexp.Compile(f.Value.String())
	return err == nil && re.MatchString("TestE2E")
}

func startShared() (*sharedEnv, error) {
	e := &sharedEnv{worlds: map[string]*world{}}
	start := time.Now()
	step := func(what string) {
		e.timing += fmt.Sprintf("%s %v; ", what, time.Since(start).Round(time.Millisecond))
		start = time.Now()
	}
	err := sharedTB.do(func() {
		e.smtp = mailtest.NewServer(sharedTB, mailtest.Options{})
		pool := apptest.NewDB(sharedTB)
		ctx := context.Background()
		for r := range e2eRounds() {
			for _, name := range e2eWorlds {
				t0 := time.Now()
				w, err := seedWorld(ctx, pool, worldName(name, r))
				if err != nil {
					sharedTB.Fatal(err)
				}
				// Each world's seed, so a step that grows with the database
				// shows (migration 0048 was found this way).
				e.timing += fmt.Sprintf("%s %v, ", name, time.Since(t0).Round(time.Millisecond))
				e.worlds[w.name] = w
			}
		}
		step(fmt.Sprintf("database with %d worlds", len(e.worlds)))
		dataDir, err := os.MkdirTemp("", "pulso-e2e-data-")
		if err != nil {
			sharedTB.Fatal(err)
		}
		sharedTB.Cleanup(func() { _ = os.RemoveAll(dataDir) })
		// The test's SMTP server speaks plain SMTP on loopback, which the
		// binary would otherwise refuse (PULSO_SMTP_REQUIRE_TLS defaults on).
		e.srv = newServer(sharedTB, pool, dataDir, "SMTP_URL="+e.smtp.URL(), "PULSO_SMTP_REQUIRE_TLS=false")
		// The outside services, faked in this process: Mercado Libre (its
		// redirect and notifications are the server's) and the payment
		// provider (its webhooks signed with the server's secret).
		base := "http://" + e.srv.addr
		store, storeURL, closeStore := mlfake.Start()
		sharedTB.Cleanup(closeStore)
		store.AddApp(e2eMLClient, e2eMLSecret, base+config.MLRedirectPath)
		store.SetCallback(base + config.MLNotifyPath)
		e.store = store
		e.pay = checkoutfake.Start()
		sharedTB.Cleanup(e.pay.Close)
		e.pay.SetWebhook(base+config.PaymentsWebhookPath, []byte(e2ePaySecret))
		e.srv.env = append(e.srv.env, "PULSO_ML_CLIENT_ID="+e2eMLClient, "PULSO_ML_CLIENT_SECRET="+e2eMLSecret,
			"PULSO_ML_AUTH_URL="+storeURL, "PULSO_ML_API_URL="+storeURL,
			"PULSO_PAYMENTS_URL="+e.pay.URL(), "PULSO_PAYMENTS_TOKEN="+checkoutfake.Token, "PULSO_PAYMENTS_WEBHOOK_SECRET="+e2ePaySecret)
		if err := e.srv.start(sharedTB); err != nil {
			sharedTB.Fatal(err)
		}
		sharedTB.Cleanup(e.srv.stop)
		step("listening")
		if err := e.srv.settle(); err != nil {
			sharedTB.Fatal(err)
		}
		step("settled")
	})
	return e, err
}

var (
	chromeOnce sync.Once
	chromeCtx  context.Context // the browser's first tab; new tabs derive from it
	chromeErr  error
	chromeStop func()
)

// sharedChromium returns the context of the shared Chromium, starting it on
// first use. Like chromiumPath, it fails under CI=true when chromium is
// missing, and skips otherwise.
func sharedChromium(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	chromeOnce.Do(func() { chromeCtx, chromeErr = startChromium(path) })
	if chromeErr != nil {
		t.Fatalf("start chromium: %v", chromeErr)
	}
	return chromeCtx
}

func startChromium(path string) (context.Context, error) {
	// Our own profile directory, removed with retries: Chromium's helper
	// processes may still be writing it for a moment after the browser is
	// gone.
	profile, err := os.MkdirTemp("", "pulso-e2e-chromium-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		// The largest viewport the tests use; each tab emulates its own.
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	chromeStop = func() {
		cancelC()
		cancelA()
		for try := 0; ; try++ {
			err := os.RemoveAll(profile)
			if err == nil {
				return
			}
			if try == 20 {
				fmt.Fprintf(os.Stderr, "e2e: leaving the browser profile %s: %v\n", profile, err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The first Run starts the browser and binds it to ctx.
	if err := chromedp.Run(ctx); err != nil {
		chromeStop()
		chromeStop = nil
		return nil, err
	}
	return ctx, nil
}

// openTab opens a window of the shared Chromium (w×h) in a new browser
// context: its own cookies and storage, like a browser of its own. (New
// headless Chromium opens a tab in a new browser context only as a new
// window, which chromedp.WithNewBrowserContext does not ask for.) closeTab
// closes the window and disposes of the context.
func openTab(root context.Context, w, h int64) (ctx context.Context, closeTab func(), err error) {
	browser := chromedp.FromContext(root).Browser
	cdpCtx, cancel := context.WithTimeout(root, 15*time.Second)
	defer cancel()
	exec := cdp.WithExecutor(cdpCtx, browser)
	id, err := target.CreateBrowserContext().Do(exec)
	if err != nil {
		return nil, nil, err
	}
	dispose := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = target.DisposeBrowserContext(id).Do(cdp.WithExecutor(ctx, browser))
	}
	tab, err := target.CreateTarget("about:blank").WithBrowserContextID(id).WithNewWindow(true).WithWidth(w).WithHeight(h).Do(exec)
	if err != nil {
		dispose()
		return nil, nil, err
	}
	ctx, cancelTab := chromedp.NewContext(root, chromedp.WithTargetID(tab))
	closeTab = func() { cancelTab(); dispose() }
	// The first Run attaches to the tab and binds it to ctx; later runs use
	// derived contexts with deadlines, whose end must not close the tab.
	if err := chromedp.Run(ctx); err != nil {
		closeTab()
		return nil, nil, err
	}
	return ctx, closeTab, nil
}

// stopShared ends what the tests shared; failed keeps the shared database
// for a look, as apptest does for a failed test's own.
func stopShared(failed bool) {
	// A head start still seeding is waited for, so its cleanups are
	// registered before teardown runs them.
	sharedOnce.Do(func() {})
	if chromeStop != nil {
		chromeStop()
	}
	if failed {
		sharedTB.Fail()
	}
	sharedTB.teardown()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
}

// fixtureTB lets the helpers written for one test (apptest.NewDB,
// mailtest.NewServer, pulsoBinary) build what all of them share: cleanups
// run when TestMain calls teardown, and Fatal ends the setup in do with an
// error that every test needing it reports.
type fixtureTB struct {
	// Nil: it only supplies testing.TB's unexported method. A method not
	// defined below panics, and do turns that into an error too.
	testing.TB

	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

type fixtureFatal struct{ msg string }

func (f *fixtureTB) Helper()      {}
func (f *fixtureTB) Name() string { return "e2e-shared" }

func (f *fixtureTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fixtureTB) Log(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"e2e shared:"}, args...)...)
}
func (f *fixtureTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2e shared: "+format+"\n", args...)
}
func (f *fixtureTB) Error(args ...any) { f.Log(args...); f.Fail() }
func (f *fixtureTB) Errorf(format string, args ...any) {
	f.Logf(format, args...)
	f.Fail()
}
func (f *fixtureTB) Fatal(args ...any) { f.Fail(); panic(fixtureFatal{fmt.Sprint(args...)}) }
func (f *fixtureTB) Fatalf(format string, args ...any) {
	f.Fail()
	panic(fixtureFatal{fmt.Sprintf(format, args...)})
}
func (f *fixtureTB) FailNow() { f.Fatal("FailNow") }

func (f *fixtureTB) Fail() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = true
}

func (f *fixtureTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// do runs setup, returning its Fatal (or any panic) as an error.
func (f *fixtureTB) do(setup func()) (err error) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case fixtureFatal:
			err = errors.New(r.msg)
		default:
			f.Fail()
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	setup()
	return nil
}

// teardown runs the cleanups, last registered first.
func (f *fixtureTB) teardown() {
	f.mu.Lock()
	fns := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		if err := f.do(fns[i]); err != nil {
			fmt.Fprintf(os.Stderr, "e2e shared: cleanup: %v\n", err)
		}
	}
}
