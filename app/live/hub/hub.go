// Package hub delivers live events to screens: each process runs ONE poller
// that drains the live_events outbox (written by package live), and the Hub
// fans each event out to the org's sockets whose users may see it, as HTML
// fragments with hx-swap-oob rendered once per audience. Every instance
// drains every event: that is the scale-out path.
package hub

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views"
	"pulso/views/i18n"
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
	Render  func(ctx context.Context, ev live.Event, aud Audience) ([]byte, error)
	PerUser bool
	// Owned: the topic's records have owners (the event's subject), so an
	// event without one is about an unowned record, not for the whole org.
	Owned bool
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
	// PollInterval is how often the outbox is read when it is idle; it
	// bounds the delay between a commit and the screens.
	PollInterval time.Duration
	// Origin is the only Origin allowed to open a socket (scheme://host[:port]).
	Origin string
	// MaxPerUser and MaxPerOrg cap the sockets of one user and of one org
	// in this process, so one account cannot take a node's slots; beyond
	// them a socket is closed with 4429.
	MaxPerUser int
	MaxPerOrg  int
	// SessionCheck is how often sockets whose session may have run out are
	// checked against the database (ended sessions announce themselves
	// sooner, through the principal events).
	SessionCheck time.Duration
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
	if c.PollInterval == 0 {
		c.PollInterval = 25 * time.Millisecond
	}
	if c.MaxPerUser == 0 {
		c.MaxPerUser = 10
	}
	if c.MaxPerOrg == 0 {
		c.MaxPerOrg = 200
	}
	if c.SessionCheck == 0 {
		c.SessionCheck = 30 * time.Second
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
	users   map[member]int // sockets per user, for Config.MaxPerUser
	count   int
	closing bool
	empty   chan struct{} // closed when closing and the last socket is gone

	// Session checks (sessions.go): checker is set by CheckSessions;
	// pending holds the users Recheck named, and recheck wakes the checker.
	checker SessionChecker
	pending map[member]struct{}
	recheck chan struct{}

	work chan *socket
	m    hubMetrics

	// Views (views.go): what pages may follow, how a subscriber's user is
	// found, and the queue of re-renders.
	views   map[string]View
	resolve PrincipalResolver
	pushes  *pusher

	observers []func(live.Event)
	// lastPoll is when the outbox was last read successfully (unix nanos).
	lastPoll atomic.Int64
	// kick asks the poller to poll now; polled is closed (and replaced)
	// after every successful poll, waking Sync.
	kick     chan struct{}
	polledMu sync.Mutex
	polled   chan struct{}
}

// Sync returns once this process has handled every event committed before
// the call (or ctx ends). A request that changed something calls it so the
// next request in this process sees the change in every in-process cache,
// whoever it concerns; other processes see it within a poll.
func (h *Hub) Sync(ctx context.Context) error {
	start := time.Now().UnixNano()
	select {
	case h.kick <- struct{}{}:
	default: // a poll is already requested
	}
	for {
		h.polledMu.Lock()
		ch := h.polled
		h.polledMu.Unlock()
		if h.lastPoll.Load() >= start {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (h *Hub) markPolled(started time.Time) {
	h.lastPoll.Store(started.UnixNano())
	h.polledMu.Lock()
	close(h.polled)
	h.polled = make(chan struct{})
	h.polledMu.Unlock()
}

// Observe registers f to see every event this process drains, whatever its
// topic and whoever is connected: in-process caches invalidate through it.
// f runs on the poller goroutine and must be quick.
func (h *Hub) Observe(f func(live.Event)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.observers = append(h.observers, f)
}

// Polling reports whether the outbox was read recently, i.e. whether what
// Observe promises is arriving (within a second, plus the poll interval).
func (h *Hub) Polling() bool {
	last := h.lastPoll.Load()
	return last != 0 && time.Since(time.Unix(0, last)) < time.Second+h.cfg.PollInterval
}

// New builds a hub; register topics with Handle, then start Run.
func New(db *pgxpool.Pool, log *slog.Logger, reg prometheus.Registerer, cfg Config) *Hub {
	cfg.defaults()
	h := &Hub{
		db: db, q: queries.New(db), log: log.With("component", "live"), cfg: cfg,
		topics:  map[string]Topic{},
		views:   map[string]View{},
		pushes:  newPusher(),
		orgs:    map[int64]map[*socket]struct{}{},
		users:   map[member]int{},
		pending: map[member]struct{}{},
		recheck: make(chan struct{}, 1),
		empty:   make(chan struct{}),
		// Each socket is scheduled at most once at a time, so a queue as
		// long as the socket limit never blocks the fan-out.
		work:   make(chan *socket, maxSockets),
		m:      newHubMetrics(reg),
		kick:   make(chan struct{}, 1),
		polled: make(chan struct{}),
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

// Run drains new events until ctx ends: one poller per process (never one
// per socket) reading the live_events outbox by id.
func (h *Hub) Run(ctx context.Context) error {
	for i := 0; i < h.cfg.Writers; i++ {
		go h.writer(ctx)
	}
	for i := 0; i < viewWorkers; i++ {
		go h.pushWorker(ctx)
	}
	go h.pinger(ctx)
	go h.sessionChecker(ctx)
	p := &poller{hub: h, gaps: map[int64]time.Time{}}
	for {
		id, err := h.q.MaxLiveEventID(ctx)
		if err == nil {
			p.maxSeen = id // start from now: screens load current state themselves
			break
		}
		h.log.Warn("live poller cannot start; retrying", "error", err)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil
		}
	}
	t := time.NewTicker(h.cfg.PollInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-t.C:
		case <-h.kick:
		case <-ctx.Done():
			return nil
		}
		// Events committed while the database was unreachable are still in
		// the table, so after an outage the poller simply catches up.
		for {
			n, err := p.poll(ctx)
			if err != nil {
				if !failing && ctx.Err() == nil {
					h.log.Warn("live poll failed", "error", err)
				}
				failing = true
				break
			}
			failing = false
			if n < pollBatch {
				break
			}
		}
	}
}

// pollBatch bounds one poll; a full batch is followed at once by another.
const pollBatch = 1000

// gapTTL is how long a skipped id is waited for. Identity values are taken
// in order at insert but become visible at commit, so a transaction that
// publishes early and commits late leaves a temporary gap; a rolled-back
// one leaves a permanent gap that expires here. Longer than any
// transaction that publishes events should run.
const gapTTL = 10 * time.Minute

// maxGaps stops a huge id jump (e.g. a mass rollback) from growing the gap
// set without bound; ids beyond it are not waited for.
const maxGaps = 10_000

type poller struct {
	hub     *Hub
	maxSeen int64
	gaps    map[int64]time.Time
}

func (p *poller) poll(ctx context.Context) (int, error) {
	gaps := make([]int64, 0, len(p.gaps))
	for id := range p.gaps {
		gaps = append(gaps, id)
	}
	started := time.Now()
	rows, err := p.hub.q.PollLiveEvents(ctx, queries.PollLiveEventsParams{After: p.maxSeen, Gaps: gaps, MaxRows: pollBatch})
	if err != nil {
		return 0, err
	}
	// Everything committed before started is seen once the batch is
	// handled (a full batch is followed at once by another).
	if len(rows) < pollBatch {
		defer p.hub.markPolled(started)
	}
	now := time.Now()
	p.hub.mu.RLock()
	observers := p.hub.observers
	p.hub.mu.RUnlock()
	for _, r := range rows {
		if r.ID > p.maxSeen {
			for id := p.maxSeen + 1; id < r.ID && len(p.gaps) < maxGaps; id++ {
				p.gaps[id] = now
			}
			p.maxSeen = r.ID
		} else {
			delete(p.gaps, r.ID)
		}
		p.hub.m.published.Inc()
		ev := live.Event{
			OrgID: r.OrgID, ID: r.ID, Topic: r.Topic, Entity: r.Entity, EntityID: r.EntityID, Kind: r.Kind,
			SubjectUserID: r.SubjectUserID, Payload: r.Payload, CreatedAt: r.CreatedAt,
		}
		for _, f := range observers {
			f(ev)
		}
		p.hub.dispatch(ctx, ev)
	}
	for id, since := range p.gaps {
		if now.Sub(since) > gapTTL {
			delete(p.gaps, id)
		}
	}
	return len(rows), nil
}

// dispatch renders ev once per audience and queues it to every socket of
// the org allowed to see it.
func (h *Hub) dispatch(ctx context.Context, ev live.Event) {
	start := time.Now()
	h.mu.RLock()
	t, ok := h.topics[ev.Topic]
	groups := map[Audience][]*socket{}
	if ok { // a topic with no renderer may still move followed views
		for s := range h.orgs[ev.OrgID] {
			if s.ending.Load() || !s.mayReceive(ev, t.Owned) {
				continue
			}
			aud := Audience{OrgID: ev.OrgID, Locale: s.locale, Role: s.role}
			if t.PerUser {
				aud.UserID = s.userID
			}
			groups[aud] = append(groups[aud], s)
		}
	}
	// Followed views start re-rendering now, on the view workers, while
	// the event is rendered and queued here.
	h.follow(ev, t.Owned)
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

// member names one user of one org.
type member struct{ org, user int64 }

// addResult says whether a socket joined the hub, and if not, why.
type addResult int

const (
	added addResult = iota
	// refusedGoingAway: this process is shutting down or full; the page
	// reconnects, through the balancer, to another.
	refusedGoingAway
	// refusedOverCap: the user or org holds as many sockets here as it may.
	refusedOverCap
)

// add registers s unless the process is shutting down or s would exceed a
// cap: the node's, its org's or its user's. The caps are checked and taken
// under one lock, so a burst of upgrades cannot overshoot them.
func (h *Hub) add(s *socket) addResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing || h.count >= maxSockets {
		return refusedGoingAway
	}
	uk := member{s.orgID, s.userID}
	if len(h.orgs[s.orgID]) >= h.cfg.MaxPerOrg || h.users[uk] >= h.cfg.MaxPerUser {
		return refusedOverCap
	}
	set := h.orgs[s.orgID]
	if set == nil {
		set = map[*socket]struct{}{}
		h.orgs[s.orgID] = set
	}
	set[s] = struct{}{}
	h.users[uk]++
	h.count++
	h.m.sockets.Inc()
	return added
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
	uk := member{s.orgID, s.userID}
	if h.users[uk]--; h.users[uk] <= 0 {
		delete(h.users, uk)
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

// RenderContext is the context a Topic renders views with: the audience's
// language, and a shell with no page chrome (socket messages carry none)
// that knows the audience's role, so a fragment offers the same buttons as
// the page it lands on.
func RenderContext(ctx context.Context, aud Audience) context.Context {
	u := &views.User{Role: string(aud.Role), Sells: aud.Role.In(web.Sales)}
	return views.WithShell(i18n.WithLocale(ctx, aud.Locale), &views.Shell{User: u})
}
