package main

// What the browser tests share: one Chromium, started on first use and
// stopped by TestMain after the last test.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

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

// stopShared ends what the tests shared.
func stopShared() {
	if chromeStop != nil {
		chromeStop()
	}
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
}
