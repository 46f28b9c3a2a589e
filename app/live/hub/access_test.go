package hub_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"

	"pulso/app/apptest"
	"pulso/app/auth"
	"pulso/app/config"
	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/web"
	"pulso/queries"
)

// Close codes the browser acts on (static/js/pulso.js): the session ended or
// its rights changed (reload: the login page or the page as the new role),
// and too many sockets (stay offline, do not retry).
const (
	closeSessionEnded = 4001
	closeTooMany      = 4429
)

// closeCode reads until the server closes the socket and returns the close
// code; messages before it (events, pings) are skipped.
func closeCode(t *testing.T, c *websocket.Conn) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("socket not closed by the server: %v", err)
	}
}

// stillOpen proves sockets of reps are alive: an org-wide event (on the
// echo topic) reaches each.
func stillOpen(t *testing.T, env *apptest.Env, orgID int64, n int64, socks ...*websocket.Conn) {
	t.Helper()
	publish(t, env, live.Event{OrgID: orgID, Topic: "test", Entity: "x", EntityID: id(n), Kind: "alive"}, true)
	for i, c := range socks {
		if got := read(t, c); !strings.Contains(got, fmt.Sprintf(">alive:rep:%d<", n)) {
			t.Fatalf("socket %d got %q, want sentinel %d", i, got, n)
		}
	}
}

// A socket lives as long as its session. The user signs in and opens a
// socket on instance B; the session ends through instance A (or straight in
// the database); B closes the socket within a poll.
func TestSocketEndsWithItsSession(t *testing.T) {
	t.Parallel()
	envA := apptest.New(t)
	envB := apptest.NewOn(t, envA.DB)
	var renders atomic.Int64
	envB.Hub.Handle("test", echoTopic(&renders))
	addrB := envB.Serve()
	org := envA.Org("Org S.L.")
	admin := envA.LoginAs(envA.User(org, "admin@org.test", web.RoleAdmin))

	for i, tt := range []struct {
		name string
		end  func(t *testing.T, u queries.User, c *apptest.Client)
		// otherDevice: whether the user's other session survives.
		otherDevice bool
	}{
		{"logout", func(t *testing.T, _ queries.User, c *apptest.Client) {
			if r := c.Post("/logout", nil); r.Status != http.StatusSeeOther {
				t.Fatalf("logout: %d", r.Status)
			}
		}, true},
		{"deactivation", func(t *testing.T, u queries.User, _ *apptest.Client) {
			if r := admin.Post(fmt.Sprintf("/admin/users/%d/deactivate", u.ID), nil); r.Status != http.StatusSeeOther {
				t.Fatalf("deactivate: %d", r.Status)
			}
		}, false},
		// No route changes a role yet; whatever does will update this row.
		{"role change", func(t *testing.T, u queries.User, _ *apptest.Client) {
			envA.Exec(`UPDATE users SET role = 'manager' WHERE org_id = $1 AND id = $2`, u.OrgID, u.ID)
		}, false},
		{"expiry", func(t *testing.T, _ queries.User, c *apptest.Client) {
			envA.Exec(`UPDATE sessions SET expires_at = now() WHERE token_hash = sha256($1::bytea)`, c.Cookie("pulso_session"))
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := envA.User(org, fmt.Sprintf("rep%d@org.test", i), web.RoleRep)
			c, other := envA.LoginAs(u), envA.LoginAs(u)
			s := dial(t, c, addrB)
			otherS := dial(t, other, addrB)
			stillOpen(t, envB, org.ID, int64(100*i+1), s, otherS)

			tt.end(t, u, c)
			if code := closeCode(t, s); code != closeSessionEnded {
				t.Errorf("close code %d, want %d", code, closeSessionEnded)
			}
			if tt.otherDevice {
				stillOpen(t, envB, org.ID, int64(100*i+2), otherS)
				// And a socket cannot be opened on the ended session.
				if _, res, err := c.Dial(addrB, ""); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
					t.Errorf("socket on the ended session: err %v; want 401", err)
				}
			} else if code := closeCode(t, otherS); code != closeSessionEnded {
				t.Errorf("other device: close code %d, want %d", code, closeSessionEnded)
			}
		})
	}
}

// A session that simply runs out (no event announces it) closes its
// sockets at the next session check; a session extended meanwhile (by a
// request on another instance) keeps its socket.
func TestSocketClosedWhenSessionRunsOut(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	h := hub.New(env.DB, slog.New(slog.NewTextHandler(io.Discard, nil)), nil,
		hub.Config{Origin: env.Deps.Cfg.Origin(), SessionCheck: 50 * time.Millisecond})
	var renders atomic.Int64
	h.Handle("test", echoTopic(&renders))
	d := env.Deps
	d.Sessions = web.NewSessionCache()
	auth.WatchSessions(h, d)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = h.Run(ctx) }()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ws", auth.LoadSession(d), h.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })

	org := env.Org("Org S.L.")
	u := env.User(org, "rep@org.test", web.RoleRep)
	// Sessions made as sign-in makes them, but short: kept ends first and
	// is extended in the database before it runs out; ending is not.
	session := func(expires time.Duration) (*websocket.Conn, []byte) {
		token, hash := auth.NewToken()
		if err := env.Q.CreateSession(ctx, queries.CreateSessionParams{TokenHash: hash, OrgID: org.ID, UserID: u.ID, ExpiresAt: time.Now().Add(expires)}); err != nil {
			t.Fatal(err)
		}
		hd := http.Header{}
		hd.Set("Origin", env.Deps.Cfg.Origin())
		hd.Set("Cookie", "pulso_session="+token)
		c, _, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial("ws://"+ln.Addr().String()+"/ws", hd)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c, hash
	}
	kept, keptHash := session(time.Second)
	ending, _ := session(1500 * time.Millisecond)
	waitSockets(t, h, 2)
	env.Exec(`UPDATE sessions SET expires_at = now() + interval '1 hour' WHERE token_hash = $1`, keptHash)

	if code := closeCode(t, ending); code != closeSessionEnded {
		t.Errorf("close code %d, want %d", code, closeSessionEnded)
	}
	// Any check that found ending due also found kept due (it was due first).
	stillOpen(t, env, org.ID, 1, kept)
}

// One user, and one org, can hold only so many sockets on a node; the rest
// are closed with 4429 and do not count.
func TestSocketCaps(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, func(c *config.Config) { c.LiveMaxPerUser, c.LiveMaxPerOrg = 2, 3 })
	var renders atomic.Int64
	env.Hub.Handle("test", echoTopic(&renders))
	addr := env.Serve()
	org, other := env.Org("Org S.L."), env.Org("Otra S.A.")
	a := env.LoginAs(env.User(org, "a@org.test", web.RoleRep))
	b := env.LoginAs(env.User(org, "b@org.test", web.RoleRep))
	c := env.LoginAs(env.User(org, "c@org.test", web.RoleRep))
	o := env.LoginAs(env.User(other, "o@otra.test", web.RoleRep))

	a1 := dial(t, a, addr)
	dial(t, a, addr)
	waitSockets(t, env.Hub, 2)
	if code := closeCode(t, dial(t, a, addr)); code != closeTooMany {
		t.Errorf("third socket of one user: close code %d, want %d", code, closeTooMany)
	}
	dial(t, b, addr)
	waitSockets(t, env.Hub, 3)
	if code := closeCode(t, dial(t, c, addr)); code != closeTooMany {
		t.Errorf("fourth socket of one org: close code %d, want %d", code, closeTooMany)
	}
	// Another org is not affected by this one's sockets.
	dial(t, o, addr)
	dial(t, o, addr)
	waitSockets(t, env.Hub, 5)
	// A closed socket frees its slot.
	_ = a1.Close()
	waitSockets(t, env.Hub, 4)
	cs := dial(t, c, addr)
	waitSockets(t, env.Hub, 5)
	stillOpen(t, env, org.ID, 1, cs)
}
