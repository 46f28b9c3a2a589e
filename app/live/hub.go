package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"pulso/app/web"
	"pulso/queries"
)

// Audience is everything a rendered fragment may depend on. Sockets that
// share an Audience get the same bytes, rendered once.
type Audience struct {
	OrgID  int64
	Locale string
	Role   web.Role
	// UserID is set only for topics rendered per user (a user's own bell).
	UserID int64
}

// Topic renders one kind of event for an audience. Returning no bytes sends
// nothing to that audience.
type Topic struct {
	Render  func(ctx context.Context, ev Event, aud Audience) ([]byte, error)
	PerUser bool
}

// Config tunes the hub; zero values get defaults.
type Config struct {
	// QueueLen is how many messages may wait for one socket; a client that
	// falls this far behind is dropped (it resyncs when it reconnects).
	QueueLen     int
	WriteTimeout time.Duration
	PingInterval time.Duration
	// PongWait is how long a socket may stay silent (no pong) before it is
	// considered dead.
	PongWait time.Duration
	// Writers is the number of goroutines that write to sockets. Sockets
	// have no writer goroutine of their own: a socket with something to send
	// is scheduled onto this pool, which keeps per-socket memory small.
	Writers int
	// Origin is the only Origin allowed to open a socket (scheme://host[:port]).
	Origin string
}

func (c *Config) defaults() {
	if c.QueueLen == 0 {
		c.QueueLen = 64
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.PingInterval == 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PongWait == 0 {
		c.PongWait = 2*c.PingInterval + 10*time.Second
	}
	if c.Writers == 0 {
		c.Writers = 32
	}
}

// Hub fans events out to the sockets of this process.
type Hub struct {
	db     *pgxpool.Pool
	q      *queries.Queries
	log    *slog.Logger
	cfg    Config
	topics map[string]Topic

	mu      sync.RWMutex
	orgs    map[int64]map[*socket]struct{}
	count   int
	closing bool
	empty   chan struct{} // closed when closing and the last socket is gone

	work   chan *socket
	events chan Event
	m      hubMetrics
}

// NewHub builds a hub; register topics with Handle, then start Run.
func NewHub(db *pgxpool.Pool, log *slog.Logger, reg prometheus.Registerer, cfg Config) *Hub {
	cfg.defaults()
	h := &Hub{
		db: db, q: queries.New(db), log: log.With("component", "live"), cfg: cfg,
		topics: map[string]Topic{},
		orgs:   map[int64]map[*socket]struct{}{},
		empty:  make(chan struct{}),
		// Each socket is scheduled at most once at a time, so a queue as
		// long as the socket limit never blocks the fan-out.
		work:   make(chan *socket, maxSockets),
		events: make(chan Event, 1024),
		m:      newHubMetrics(reg),
	}
	return h
}

// maxSockets bounds the sockets of one process (the open-files limit is
// the real ceiling; beyond it upgrades are refused).
const maxSockets = 50_000

// Handle registers how a topic is rendered.
func (h *Hub) Handle(topic string, t Topic) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.topics[topic] = t
}

// Run listens for events until ctx ends: one LISTEN connection for the whole
// process, re-established after failures.
func (h *Hub) Run(ctx context.Context) error {
	for i := 0; i < h.cfg.Writers; i++ {
		go h.writer(ctx)
	}
	go h.pinger(ctx)
	go h.dispatcher(ctx)
	backoff := 200 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := h.listen(ctx, func() {
			if !first {
				// Events may have been missed while the listener was down:
				// make every client reconnect, which refreshes its fragments.
				h.restartSockets()
			}
			first = false
			backoff = 200 * time.Millisecond
		})
		if ctx.Err() != nil {
			return nil
		}
		h.log.Warn("live listener lost; reconnecting", "error", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

func (h *Hub) listen(ctx context.Context, ready func()) error {
	// A dedicated connection, not one from the pool: it is held forever.
	conn, err := pgx.ConnectConfig(ctx, h.db.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var ev Event
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
			h.log.Error("bad live event payload", "error", err)
			continue
		}
		h.m.published.Inc()
		select {
		case h.events <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (h *Hub) dispatcher(ctx context.Context) {
	for {
		select {
		case ev := <-h.events:
			h.dispatch(ctx, ev)
		case <-ctx.Done():
			return
		}
	}
}

// dispatch renders ev once per audience and queues it to every socket of
// the org allowed to see it.
func (h *Hub) dispatch(ctx context.Context, ev Event) {
	start := time.Now()
	h.mu.RLock()
	t, ok := h.topics[ev.Topic]
	if !ok {
		h.mu.RUnlock()
		return
	}
	groups := map[Audience][]*socket{}
	for s := range h.orgs[ev.OrgID] {
		if !s.mayReceive(ev) {
			continue
		}
		aud := Audience{OrgID: ev.OrgID, Locale: s.locale, Role: s.role}
		if t.PerUser {
			aud.UserID = s.userID
		}
		groups[aud] = append(groups[aud], s)
	}
	h.mu.RUnlock()
	for aud, sockets := range groups {
		html, err := t.Render(ctx, ev, aud)
		if err != nil {
			h.log.Error("render live event", "topic", ev.Topic, "org_id", ev.OrgID, "error", err)
			continue
		}
		if len(html) == 0 {
			continue
		}
		for _, s := range sockets {
			s.enqueue(message{op: opText, data: html})
		}
	}
	h.m.fanout.Observe(time.Since(start).Seconds())
	if !ev.CreatedAt.IsZero() {
		h.m.latency.Observe(time.Since(ev.CreatedAt).Seconds())
	}
}

func (h *Hub) add(s *socket) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing || h.count >= maxSockets {
		return false
	}
	set := h.orgs[s.orgID]
	if set == nil {
		set = map[*socket]struct{}{}
		h.orgs[s.orgID] = set
	}
	set[s] = struct{}{}
	h.count++
	h.m.sockets.Inc()
	return true
}

func (h *Hub) remove(s *socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.orgs[s.orgID]
	if _, ok := set[s]; !ok {
		return
	}
	delete(set, s)
	if len(set) == 0 {
		delete(h.orgs, s.orgID)
	}
	h.count--
	h.m.sockets.Dec()
	if h.closing && h.count == 0 {
		close(h.empty)
	}
}

func (h *Hub) all() []*socket {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*socket, 0, h.count)
	for _, set := range h.orgs {
		for s := range set {
			out = append(out, s)
		}
	}
	return out
}

func (h *Hub) pinger(ctx context.Context) {
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			for _, s := range h.all() {
				s.enqueue(message{op: opPing})
			}
		case <-ctx.Done():
			return
		}
	}
}

// restartSockets asks every client to reconnect (close code 1012, service
// restart); the page resyncs its fragments when it does.
func (h *Hub) restartSockets() {
	for _, s := range h.all() {
		s.enqueue(message{op: opClose, code: closeServiceRestart})
	}
}

// Shutdown closes every socket with 1001 (going away) after the messages
// already queued for it, and waits for them until ctx ends.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return nil
	}
	h.closing = true
	if h.count == 0 {
		close(h.empty)
	}
	h.mu.Unlock()
	for _, s := range h.all() {
		s.enqueue(message{op: opClose, code: closeGoingAway})
	}
	select {
	case <-h.empty:
		return nil
	case <-ctx.Done():
		for _, s := range h.all() {
			s.kill()
		}
		return errors.New("live: sockets still open at shutdown deadline")
	}
}

// Sockets reports how many sockets this process holds.
func (h *Hub) Sockets() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.count
}
