package app_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"pulso/app/apptest"
)

// lockedBuffer is a log sink safe for the app's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The access log names the route, not the path: a path can carry a token
// that opens something (a client's quote link), and logs travel further
// than the database does.
func TestAccessLogWritesRoutePatterns(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	env := apptest.NewLogging(t, apptest.NewDB(t), slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	const token = "SeCrEtToKeN0123456789abcdefGHIJ"
	c := env.Client()
	for _, path := range []string{"/q/" + token, "/q/" + token + "/pdf", "/q/" + token + "/no/such/page", "/agenda/feed/" + token + ".ics"} {
		if r := c.Get(path); r.Status != http.StatusNotFound {
			t.Fatalf("GET %s: %d", path, r.Status)
		}
	}
	out := logs.String()
	if strings.Contains(out, token) {
		t.Errorf("the token reached the log:\n%s", out)
	}
	for _, want := range []string{`"route":"/q/:token"`, `"route":"/q/:token/pdf"`, `"route":"unmatched"`, `"route":"/agenda/feed/:token.ics"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
