package hub_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/auth"
	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/web"
	"pulso/queries"
	"pulso/workers"
)

// echoTopic renders "<div id=..>role:entity</div>" and counts renders.
func echoTopic(renders *atomic.Int64) hub.Topic {
	return hub.Topic{Render: func(_ context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		renders.Add(1)
		return fmt.Appendf(nil, `<div id="echo" hx-swap-oob="true">%s:%s:%d</div>`, ev.Kind, aud.Role, *ev.EntityID), nil
	}}
}

func publish(t *testing.T, env *apptest.Env, ev live.Event, commit bool) {
	t.Helper()
	errRollback := errors.New("rollback")
	err := live.BeginFunc(context.Background(), env.DB, func(ctx context.Context, tx pgx.Tx) error {
		if err := live.Publish(ctx, ev); err != nil {
			return err
		}
		if !commit {
			return errRollback
		}
		return nil
	})
	if err != nil && !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("reading socket: %v", err)
	}
	return string(b)
}

func dial(t *testing.T, c *apptest.Client, addr string) *websocket.Conn {
	t.Helper()
	conn, res, err := c.Dial(addr, "")
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func waitSockets(t *testing.T, h *hub.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.Sockets() != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d sockets, want %d", h.Sockets(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func id(n int64) *int64 { return &n }

func TestSocketNeedsSessionAndOwnOrigin(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	addr := env.Serve()
	org := env.Org("Org S.L.")
	u := env.User(org, "rep@org.test", web.RoleRep)

	anon := env.Client()
	if _, res, err := anon.Dial(addr, ""); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous socket: err %v, res %v; want 401", err, res)
	}
	c := env.LoginAs(u)
	for _, origin := range []string{"http://evil.example", "https://localhost:8080", "null"} {
		if _, res, err := c.Dial(addr, origin); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
			t.Errorf("origin %q: err %v; want 401", origin, err)
		}
	}
	dial(t, c, addr)
	waitSockets(t, env.Hub, 1)
}

// The audience rule, the rollback rule and render-once in one org: events
// about rep1 reach rep1, their manager and admins; never rep2, never
// another org; a rolled-back change reaches nobody.
func TestFanOutByAudience(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	addr := env.Serve()
	var renders atomic.Int64
	env.Hub.Handle("test", echoTopic(&renders))

	org := env.Org("Org S.L.")
	admin := env.User(org, "admin@org.test", web.RoleAdmin)
	admin2 := env.User(org, "admin2@org.test", web.RoleAdmin)
	manager := env.User(org, "manager@org.test", web.RoleManager)
	rep1 := env.User(org, "rep1@org.test", web.RoleRep)
	rep2 := env.User(org, "rep2@org.test", web.RoleRep)
	if _, err := env.DB.Exec(context.Background(), `UPDATE users SET manager_id = $1 WHERE id = $2`, manager.ID, rep1.ID); err != nil {
		t.Fatal(err)
	}
	other := env.Org("Otra S.A.")
	outsider := env.User(other, "admin@otra.test", web.RoleAdmin)

	socks := map[string]*websocket.Conn{}
	for name, u := range map[string]queries.User{"admin": admin, "admin2": admin2, "manager": manager, "rep1": rep1, "rep2": rep2, "outsider": outsider} {
		socks[name] = dial(t, env.LoginAs(u), addr)
	}
	waitSockets(t, env.Hub, len(socks))

	publish(t, env, live.Event{OrgID: org.ID, Topic: "test", Entity: "deal", EntityID: id(1), Kind: "rolledback", SubjectUserID: &rep1.ID}, false)
	renders.Store(0)
	publish(t, env, live.Event{OrgID: org.ID, Topic: "test", Entity: "deal", EntityID: id(2), Kind: "private", SubjectUserID: &rep1.ID}, true)
	// An org-wide event everyone in org receives: whoever was not meant to
	// get the private one sees this first.
	publish(t, env, live.Event{OrgID: org.ID, Topic: "test", Entity: "deal", EntityID: id(3), Kind: "orgwide"}, true)
	// And one for the other org, as a sentinel for the outsider.
	publish(t, env, live.Event{OrgID: other.ID, Topic: "test", Entity: "deal", EntityID: id(4), Kind: "otherorg"}, true)

	want := map[string][]string{
		"admin":    {"private:admin:2", "orgwide:admin:3"},
		"admin2":   {"private:admin:2", "orgwide:admin:3"},
		"manager":  {"private:manager:2", "orgwide:manager:3"},
		"rep1":     {"private:rep:2", "orgwide:rep:3"},
		"rep2":     {"orgwide:rep:3"},
		"outsider": {"otherorg:admin:4"},
	}
	for name, msgs := range want {
		for _, m := range msgs {
			got := read(t, socks[name])
			if !strings.Contains(got, ">"+m+"<") {
				t.Errorf("%s got %q, want %q", name, got, m)
			}
			if strings.Contains(got, "rolledback") {
				t.Errorf("%s received a rolled-back event", name)
			}
		}
	}
	// private: admin (2 sockets, one audience), manager, rep → 3 renders;
	// orgwide: admin, manager, rep → 3; otherorg: admin → 1.
	if got := renders.Load(); got != 7 {
		t.Errorf("rendered %d times, want 7 (once per audience, not per socket)", got)
	}
}

// Two app instances on one database both deliver every event.
func TestTwoInstancesDeliverEveryEvent(t *testing.T) {
	t.Parallel()
	env1 := apptest.New(t)
	env2 := apptest.NewOn(t, env1.DB)
	var r1, r2 atomic.Int64
	env1.Hub.Handle("test", echoTopic(&r1))
	env2.Hub.Handle("test", echoTopic(&r2))
	addr1, addr2 := env1.Serve(), env2.Serve()

	org := env1.Org("Org S.L.")
	u := env1.User(org, "rep@org.test", web.RoleRep)
	c := env1.LoginAs(u) // sessions live in PostgreSQL: valid on both instances
	s1, s2 := dial(t, c, addr1), dial(t, c, addr2)
	waitSockets(t, env1.Hub, 1)
	waitSockets(t, env2.Hub, 1)

	publish(t, env1, live.Event{OrgID: org.ID, Topic: "test", Entity: "deal", EntityID: id(7), Kind: "moved", SubjectUserID: &u.ID}, true)
	for i, s := range []*websocket.Conn{s1, s2} {
		if got := read(t, s); !strings.Contains(got, "moved:rep:7") {
			t.Errorf("instance %d got %q", i+1, got)
		}
	}
}

// A client that stops reading is dropped; the others keep receiving.
func TestSlowSocketIsDroppedOthersUnaffected(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := hub.New(env.DB, log, nil, hub.Config{QueueLen: 64, WriteTimeout: 300 * time.Millisecond, Origin: env.Deps.Cfg.Origin()})
	big := strings.Repeat("x", 256<<10)
	h.Handle("test", hub.Topic{Render: func(_ context.Context, ev live.Event, _ hub.Audience) ([]byte, error) {
		return fmt.Appendf(nil, `<div id="n%d">%s</div>`, *ev.EntityID, big), nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = h.Run(ctx) }()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(auth.LoadSession(env.Deps))
	app.Get("/ws", h.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	addr := ln.Addr().String()

	org := env.Org("Org S.L.")
	fast := dial(t, env.LoginAs(env.User(org, "fast@org.test", web.RoleAdmin)), addr)
	slow := dial(t, env.LoginAs(env.User(org, "slow@org.test", web.RoleAdmin)), addr)
	_ = slow // never read: its TCP buffers fill and writes time out
	waitSockets(t, h, 2)

	const n = 40
	got := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			_ = fast.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, b, err := fast.ReadMessage()
			if err != nil {
				got <- fmt.Errorf("fast client after %d messages: %w", i-1, err)
				return
			}
			if !strings.HasPrefix(string(b), fmt.Sprintf(`<div id="n%d">`, i)) {
				got <- fmt.Errorf("fast client message %d out of order: %.20s", i, b)
				return
			}
		}
		got <- nil
	}()
	for i := 1; i <= n; i++ {
		publish(t, env, live.Event{OrgID: org.ID, Topic: "test", Entity: "deal", EntityID: id(int64(i)), Kind: "x"}, true)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	waitSockets(t, h, 1)
}

// Shutdown closes sockets with 1001 so browsers reconnect elsewhere.
func TestShutdownSendsGoingAway(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	addr := env.Serve()
	org := env.Org("Org S.L.")
	s := dial(t, env.LoginAs(env.User(org, "rep@org.test", web.RoleRep)), addr)
	waitSockets(t, env.Hub, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := env.Hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := s.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("got %v, want close 1001", err)
	}
}

// An admin's notification reaches the recipient's bell (and, urgent, a
// toast) live; nobody else's screen shows it.
func TestNotificationReachesRecipientLive(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	addr := env.Serve()
	org := env.Org("Org S.L.")
	admin := env.User(org, "admin@org.test", web.RoleAdmin)
	rep := env.User(org, "rep@org.test", web.RoleRep)
	rep2 := env.User(org, "rep2@org.test", web.RoleRep)
	adminC := env.LoginAs(admin)
	repSock := dial(t, env.LoginAs(rep), addr)
	rep2Sock := dial(t, env.LoginAs(rep2), addr)
	adminSock := dial(t, adminC, addr)
	waitSockets(t, env.Hub, 3)

	jobs, err := workers.NewClient(env.DB, slog.New(slog.NewTextHandler(io.Discard, nil)), workers.Options{Work: true, DefaultWorkers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = jobs.Stop(context.Background()) }()

	res := adminC.Post("/admin/notify", url.Values{"user_id": {fmt.Sprint(rep.ID)}, "severity": {"urgent"}, "title": {"Llamar a Acme hoy"}, "body": {"Antes de las 18:00"}})
	if res.Status != http.StatusOK {
		t.Fatalf("send: %d %.300s", res.Status, res.Body)
	}
	got := read(t, repSock)
	for _, want := range []string{`id="bell"`, `hx-swap-oob="true"`, `data-testid="bell-count">1<`, "Llamar a Acme hoy", "Antes de las 18:00", `beforeend:#flash`} {
		if !strings.Contains(got, want) {
			t.Errorf("recipient's message lacks %q:\n%s", want, got)
		}
	}
	// The admin and rep2 got nothing for it: their first message is this
	// org-wide sentinel.
	var renders atomic.Int64
	env.Hub.Handle("test", echoTopic(&renders))
	publish(t, env, live.Event{OrgID: org.ID, Topic: "test", Entity: "x", EntityID: id(9), Kind: "sentinel"}, true)
	for name, s := range map[string]*websocket.Conn{"admin": adminSock, "rep2": rep2Sock, "rep": repSock} {
		if got := read(t, s); !strings.Contains(got, "sentinel") {
			t.Errorf("%s received %q before the sentinel", name, got)
		}
	}
	// Reading it marks it read and updates the bell on every tab.
	var nid int64
	if err := env.DB.QueryRow(ctx, `SELECT id FROM notifications WHERE user_id = $1`, rep.ID).Scan(&nid); err != nil {
		t.Fatal(err)
	}
	repC2 := env.LoginAs(rep)
	if r := repC2.Post(fmt.Sprintf("/notifications/%d/read", nid), nil); r.Status != http.StatusSeeOther {
		t.Fatalf("mark read: %d", r.Status)
	}
	if got := read(t, repSock); !strings.Contains(got, `id="bell"`) || strings.Contains(got, "bell-count") {
		t.Errorf("after read the bell should have no count: %s", got)
	}
}

// Ids are taken at insert but become visible at commit: an event from a
// transaction that commits after a later one is still delivered, and a
// rolled-back one does not hold anything up.
func TestLateCommitIsDelivered(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	addr := env.Serve()
	var renders atomic.Int64
	env.Hub.Handle("test", echoTopic(&renders))
	org := env.Org("Org S.L.")
	s := dial(t, env.LoginAs(env.User(org, "admin@org.test", web.RoleAdmin)), addr)
	waitSockets(t, env.Hub, 1)
	ctx := context.Background()

	slow, err := env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(ctx)
	// A writer that takes its id now and commits last (as any transaction
	// that inserts an event and then keeps working would).
	if _, err := queries.New(slow).InsertLiveEvent(ctx, queries.InsertLiveEventParams{OrgID: org.ID, Topic: "test", Entity: "deal",
		EntityID: id(1), Kind: "late", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	publish(t, env, live.Event{OrgID: org.ID, Topic: "test", Entity: "deal", EntityID: id(2), Kind: "rolledback"}, false)
	publish(t, env, live.Event{OrgID: org.ID, Topic: "test", Entity: "deal", EntityID: id(3), Kind: "early"}, true)
	if got := read(t, s); !strings.Contains(got, "early:admin:3") {
		t.Fatalf("first message %q, want the early commit", got)
	}
	time.Sleep(100 * time.Millisecond) // several polls with the gap open
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s); !strings.Contains(got, "late:admin:1") {
		t.Fatalf("second message %q, want the late commit", got)
	}
}

// A poll reads the events after the last one seen and the gaps it waits
// for, whatever the outbox holds: with an OR of the two, PostgreSQL's plan
// for the prepared statement walked the primary key from the oldest event
// on every 25 ms (24 ms a poll at 200,000 events). Counted in the blocks
// the transaction touched.
func TestPollReadsOnlyWhatIsNew(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Eventos S.L.")
	ctx := context.Background()
	env.Exec(`INSERT INTO live_events (org_id, topic, entity, kind) SELECT $1, 'lead', 'lead', 'created' FROM generate_series(1, 30000)`, org.ID)
	env.Exec(`ANALYZE live_events`)
	var last int64
	if err := env.DB.QueryRow(ctx, `SELECT max(id) FROM live_events`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	conn, err := env.DB.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for i := range 3 {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The plan for any parameters, which PostgreSQL may keep for a
		// prepared statement after its fifth run.
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
			t.Fatal(err)
		}
		// The backend's counts not yet flushed to the statistics, before
		// and after.
		const fetched = `SELECT sum(pg_stat_get_xact_blocks_fetched(oid)) FROM pg_class WHERE relname IN ('live_events', 'live_events_pkey')`
		var before, after int64
		if err := tx.QueryRow(ctx, fetched).Scan(&before); err != nil {
			t.Fatal(err)
		}
		rows, err := queries.New(tx).PollLiveEvents(ctx, queries.PollLiveEventsParams{After: last - 5, Gaps: []int64{last - 20, last - 9}, MaxRows: 100})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, fetched).Scan(&after); err != nil {
			t.Fatal(err)
		}
		blocks := after - before
		_ = tx.Rollback(ctx)
		if len(rows) != 7 || rows[0].ID != last-20 || rows[1].ID != last-9 || rows[6].ID != last {
			t.Fatalf("poll %d: %d events from %d", i, len(rows), rows[0].ID)
		}
		if blocks > 60 {
			t.Fatalf("poll %d read %d blocks of live_events for 7 events", i, blocks)
		}
	}
}
